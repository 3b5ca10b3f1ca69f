import type { Readable } from 'node:stream';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database, Media } from '../db/schema.js';
import type { Principal } from '../http/access-control.js';
import type { MediaRepository } from '../repositories/media.repository.js';
import type { BlobStore, ByteRange } from '../storage/blob-store.js';
import type { AnalysisArtifactsService } from './analysis-artifacts.service.js';
import type { AuditLogService } from './audit-log.service.js';
import { AppError, notFound } from './errors.js';
import type { ClientInfo } from './session.service.js';
import { auditActorOf } from './user.service.js';

export interface StoredMediaServiceDeps {
  db: Kysely<Database>;
  media: MediaRepository;
  blobStore: BlobStore;
  /** Artifacts of the media's analyses (face crops, residual maps) show its content: shredded with it. */
  artifacts: Pick<AnalysisArtifactsService, 'shredForMedia'>;
  audit: AuditLogService;
  log: Logger;
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

  async function findStored(orgId: string, id: string): Promise<Media> {
    const found = await media.findById(orgId, id);
    if (!found || found.status !== 'stored') throw notFound('media');
    return found;
  }

  return {
    async openContent(orgId: string, id: string): Promise<MediaContent> {
      const found = await findStored(orgId, id);
      const sizeBytes = await blobStore.size(found.blob_key);
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
     * Shreds the blob first (its wrapped data key goes with it) and its analyses' artifacts, then marks the
     * row deleted and appends `media.delete` in one transaction: a failure after the shredding leaves the row
     * `stored`, so a retry finishes the job instead of leaving an orphaned blob. A queued analysis later fails
     * `media-missing`; the reports stay, their artifacts answer 404.
     */
    async delete(principal: Principal, id: string, client: ClientInfo): Promise<void> {
      const found = await findStored(principal.orgId, id);
      await blobStore.delete(found.blob_key);
      await deps.artifacts.shredForMedia(principal.orgId, id);
      const marked = await deps.db.transaction().execute(async (trx) => {
        const row = await media.markDeleted(trx, principal.orgId, id);
        if (!row) return null;
        await deps.audit.append(
          {
            orgId: principal.orgId,
            actor: auditActorOf(principal),
            action: 'media.delete',
            outcome: 'success',
            target: { type: 'media', id: row.id },
            ip: client.ip,
            userAgent: client.userAgent,
            details: { sha256: row.sha256, sizeBytes: Number(row.size_bytes), mimeType: row.mime_type },
          },
          trx,
        );
        return row;
      });
      // Another request deleted it in the meantime: that one answered 204 and wrote the audit event.
      if (!marked) throw notFound('media');
      // Again now the row says deleted: an analysis that saved artifacts meanwhile saw the media still stored.
      await deps.artifacts
        .shredForMedia(principal.orgId, id)
        .catch((error: unknown) => log.error({ err: error, mediaId: id }, 'artifacts not shredded'));
      log.info({ mediaId: id, orgId: principal.orgId }, 'media deleted and its blob shredded');
    },
  };
}

export const blobIntegrityError = () =>
  new AppError(
    500,
    'blob-integrity',
    'Stored file failed its integrity check',
    'the stored file is damaged or was tampered with; it was not served',
  );

export type StoredMediaService = ReturnType<typeof createStoredMediaService>;
