import type { Readable } from 'node:stream';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database, Media } from '../db/schema.js';
import type { Principal } from '../http/access-control.js';
import type { MediaRepository } from '../repositories/media.repository.js';
import type { BlobStore, ByteRange } from '../storage/blob-store.js';
import { BlobIntegrityError } from '../storage/segmented-aead.js';
import type { AnalysisArtifactsService } from './analysis-artifacts.service.js';
import type { AuditLogService } from './audit-log.service.js';
import { AppError, notFound } from './errors.js';
import type { ClientInfo } from './session.service.js';
import { auditActorOf } from './user.service.js';
import { createMediaShredder, type MediaShredder } from './media-shredder.js';

export interface StoredMediaServiceDeps {
  db: Kysely<Database>;
  media: MediaRepository;
  blobStore: BlobStore;
  /** Artifacts of the media's analyses (face crops, residual maps) show its content: shredded with it. */
  artifacts: Pick<AnalysisArtifactsService, 'shredForMedia'>;
  audit: AuditLogService;
  log: Logger;
  /** The one deletion path; built from the deps above when not given. */
  shredder?: MediaShredder;
}

/** One stored file, found and checked, ready to stream. */
export interface MediaContent {
  media: Media;
  sizeBytes: number;
  /** Decrypted bytes of `range` (all by default); a failed authentication is a stream error, never an end. */
  read(range?: ByteRange): Promise<Readable>;
}

/** Reading stored media back, and deleting it (crypto-shredding, audited). */
export function createStoredMediaService(deps: StoredMediaServiceDeps) {
  const { media, blobStore, log } = deps;
  const shredder = deps.shredder ?? createMediaShredder(deps);

  async function findStored(orgId: string, id: string): Promise<Media> {
    const found = await media.findById(orgId, id);
    if (!found || found.status !== 'stored') throw notFound('media');
    return found;
  }

  return {
    async openContent(orgId: string, id: string): Promise<MediaContent> {
      const found = await findStored(orgId, id);
      // The size comes from the stored header and length: a cut or damaged file fails here, before any byte.
      const sizeBytes = await blobStore.size(found.blob_key).catch((error: unknown) => {
        if (!(error instanceof BlobIntegrityError)) throw error;
        log.error(
          { mediaId: found.id, blobKey: found.blob_key, err: error },
          'stored blob failed its size check',
        );
        throw blobIntegrityError();
      });
      if (sizeBytes === null) {
        log.error({ mediaId: found.id, blobKey: found.blob_key }, 'stored media has no blob');
        throw notFound('media content');
      }
      if (sizeBytes !== Number(found.size_bytes)) {
        log.error(
          { mediaId: found.id, blobKey: found.blob_key, sizeBytes, recorded: Number(found.size_bytes) },
          'stored blob size differs from the size recorded at upload',
        );
        throw blobIntegrityError();
      }
      return { media: found, sizeBytes, read: (range) => blobStore.read(found.blob_key, range) };
    },

    /**
     * Crypto-shreds the media and its analyses' artifacts, tombstones the row, writes the shred ledger and
     * `media.delete` (media-shredder.ts). 409 `legal-hold` while it is held. A queued analysis later fails
     * `media-missing`; the reports stay, their artifacts answer 404.
     */
    async delete(principal: Principal, id: string, client: ClientInfo): Promise<void> {
      const outcome = await shredder.shred({
        orgId: principal.orgId,
        mediaId: id,
        reason: 'user-deletion',
        actor: auditActorOf(principal),
        ip: client.ip,
        userAgent: client.userAgent,
      });
      // Absent: never stored here, or another request deleted it first (that one answered 204 and audited).
      if (outcome.status === 'absent') throw notFound('media');
      if (outcome.status === 'held') throw legalHoldRefusal();
    },
  };
}

/** Every deletion path refuses held media; the hold must be released first. */
export const legalHoldRefusal = () =>
  new AppError(
    409,
    'legal-hold',
    'Media is on legal hold',
    'the media is on legal hold and cannot be deleted; an admin must release the hold first',
  );

export const blobIntegrityError = () =>
  new AppError(
    500,
    'blob-integrity',
    'Stored file failed its integrity check',
    'the stored file is damaged or was tampered with; it was not served',
  );

export type StoredMediaService = ReturnType<typeof createStoredMediaService>;
