import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { noCacheInvalidation, type CacheInvalidation } from '../cache/read-cache.js';
import type { Database, Media, ShredReason } from '../db/schema.js';
import {
  createRetentionRepository,
  legalHoldOf,
  type LegalHoldRecord,
  type RetentionRepository,
} from '../repositories/retention.repository.js';
import { createMediaRepository, type MediaRepository } from '../repositories/media.repository.js';
import type { BlobStore } from '../storage/blob-store.js';
import { artifactBlobKey, type AnalysisArtifactsService } from './analysis-artifacts.service.js';
import type { AuditActor } from './audit-log.js';
import type { AuditLogService } from './audit-log.service.js';

export type ShredOutcome =
  | { status: 'shredded'; media: Media; blobKeys: string[] }
  /** On legal hold: nothing was touched. */
  | { status: 'held'; hold: LegalHoldRecord }
  /** Not stored in this organisation (never was, or already a tombstone): nothing to do. */
  | { status: 'absent' };

export interface ShredRequest {
  orgId: string;
  mediaId: string;
  reason: ShredReason;
  actor: AuditActor;
  ip?: string | null;
  userAgent?: string | null;
  /** Added to the `media.delete` audit entry (e.g. the retention period, the erased user). */
  details?: Record<string, string | number | boolean | null>;
}

export interface MediaShredderDeps {
  db: Kysely<Database>;
  blobStore: BlobStore;
  /** Shreds artifacts an analysis saved while the deletion ran (it saw the media still stored). */
  artifacts: Pick<AnalysisArtifactsService, 'shredForMedia'>;
  audit: AuditLogService;
  log: Logger;
  media?: MediaRepository;
  retention?: RetentionRepository;
  now?: () => Date;
  /** Bumped once the deletion commits: the media list drops it, the report shows no hold. Absent: no cache. */
  cache?: CacheInvalidation;
}

/**
 * The one way media is deleted (user DELETE, retention job, erasure request). In one transaction holding the
 * row lock: refuse if held, destroy the data keys and ciphertext of the media blob and of each of its
 * analyses' artifact blobs, tombstone the row, write a shred-ledger row per blob and the `media.delete` audit
 * entry. A crash after the blobs went but before the commit leaves the row `stored` and unheld: the next run
 * (a retry, the retention job) finds it and finishes; deleting an absent blob is a no-op.
 */
export function createMediaShredder(deps: MediaShredderDeps) {
  const { db, blobStore, log } = deps;
  const media = deps.media ?? createMediaRepository({ db });
  const retention = deps.retention ?? createRetentionRepository({ db });
  const now = deps.now ?? (() => new Date());
  const cache = deps.cache ?? noCacheInvalidation;

  return {
    async shred(request: ShredRequest): Promise<ShredOutcome> {
      const { orgId, mediaId } = request;
      const outcome = await db.transaction().execute(async (trx): Promise<ShredOutcome> => {
        const row = await retention.lockMedia(trx, orgId, mediaId);
        if (!row || row.status !== 'stored') return { status: 'absent' };
        const hold = legalHoldOf(row);
        if (hold) return { status: 'held', hold };
        const analysisIds = await trx
          .selectFrom('analyses')
          .select('id')
          .where('org_id', '=', orgId)
          .where('media_id', '=', mediaId)
          .execute();
        const blobKeys = [row.blob_key, ...analysisIds.map(({ id }) => artifactBlobKey(id))];
        for (const key of blobKeys) await blobStore.delete(key);
        const marked = await media.markDeleted(trx, orgId, mediaId);
        if (!marked) throw new Error(`media ${mediaId} left the stored state under its row lock`);
        const at = now();
        await retention.recordShredded(
          trx,
          blobKeys.map((blobKey) => ({ blobKey, orgId, reason: request.reason, at })),
        );
        await deps.audit.append(
          {
            orgId,
            actor: request.actor,
            action: 'media.delete',
            outcome: 'success',
            target: { type: 'media', id: mediaId },
            ip: request.ip ?? null,
            userAgent: request.userAgent ?? null,
            details: {
              sha256: marked.sha256,
              sizeBytes: Number(marked.size_bytes),
              mimeType: marked.mime_type,
              reason: request.reason,
              blobsShredded: blobKeys.length,
              ...request.details,
            },
          },
          trx,
        );
        return { status: 'shredded', media: marked, blobKeys };
      });
      if (outcome.status !== 'shredded') return outcome;
      await cache.invalidate(orgId);
      // Again now the row says deleted: an analysis that saved artifacts meanwhile saw the media still stored.
      await deps.artifacts
        .shredForMedia(orgId, mediaId)
        .catch((error: unknown) => log.error({ err: error, mediaId }, 'artifacts not shredded'));
      log.info({ mediaId, orgId, reason: request.reason }, 'media deleted and its blobs shredded');
      return outcome;
    },
  };
}

export type MediaShredder = ReturnType<typeof createMediaShredder>;
