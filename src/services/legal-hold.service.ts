import type { Kysely } from 'kysely';
import { noCacheInvalidation, type CacheInvalidation } from '../cache/read-cache.js';
import type { Database } from '../db/schema.js';
import type { Principal } from '../http/access-control.js';
import {
  legalHoldOf,
  type LegalHoldRecord,
  type RetentionRepository,
} from '../repositories/retention.repository.js';
import type { BlobStore } from '../storage/blob-store.js';
import type { AuditLogService } from './audit-log.service.js';
import { AppError, notFound } from './errors.js';
import type { ClientInfo } from './session.service.js';
import { auditActorOf } from './user.service.js';

const auditReasonChars = 256;

/**
 * Legal holds on media: while one is set, the shredder refuses every deletion (user DELETE, retention job,
 * erasure request). Setting, replacing and releasing a hold are audited with the reason before and after.
 */
export function createLegalHoldService(deps: {
  db: Kysely<Database>;
  retention: RetentionRepository;
  blobStore: Pick<BlobStore, 'size'>;
  audit: AuditLogService;
  now: () => Date;
  /** Bumped once a hold is set or released: the media list and the report show it. Absent: no cache. */
  cache?: CacheInvalidation;
}) {
  const { db, retention, audit } = deps;
  const cache = deps.cache ?? noCacheInvalidation;

  const event = (principal: Principal, mediaId: string, client: ClientInfo) => ({
    orgId: principal.orgId,
    actor: auditActorOf(principal),
    outcome: 'success' as const,
    target: { type: 'media', id: mediaId },
    ip: client.ip,
    userAgent: client.userAgent,
  });

  return {
    /** The hold on media of this organisation, for reports; null when not held. */
    forMedia: (orgId: string, mediaId: string) => retention.findHold(orgId, mediaId),

    /** Sets or replaces the hold; 404 unless the media is stored in the caller's organisation. */
    async set(principal: Principal, mediaId: string, reason: string, client: ClientInfo) {
      const hold = await db.transaction().execute(async (trx): Promise<LegalHoldRecord> => {
        const row = await retention.lockMedia(trx, principal.orgId, mediaId);
        if (!row || row.status !== 'stored') throw notFound('media');
        // A deletion that crashed after shredding left the row stored: a hold would protect nothing.
        if ((await deps.blobStore.size(row.blob_key)) === null)
          throw new AppError(
            409,
            'media-content-gone',
            'Stored file already gone',
            'the stored file was already shredded by an interrupted deletion; delete the media to finish it',
          );
        const before = legalHoldOf(row);
        const actor = auditActorOf(principal);
        const hold = { reason, at: deps.now(), by: `${actor.type}:${actor.id ?? ''}` };
        await retention.setHold(trx, principal.orgId, mediaId, hold);
        await audit.append(
          {
            ...event(principal, mediaId, client),
            action: 'media.legal-hold.set',
            details: {
              before: before ? before.reason.slice(0, auditReasonChars) : null,
              after: reason.slice(0, auditReasonChars),
            },
          },
          trx,
        );
        return hold;
      });
      await cache.invalidate(principal.orgId);
      return hold;
    },

    /** Releases the hold (audited); a media without one is left as it is, unaudited. */
    async release(principal: Principal, mediaId: string, client: ClientInfo): Promise<void> {
      await db.transaction().execute(async (trx) => {
        const row = await retention.lockMedia(trx, principal.orgId, mediaId);
        if (!row || row.status !== 'stored') throw notFound('media');
        const before = legalHoldOf(row);
        if (!before) return;
        await retention.clearHold(trx, principal.orgId, mediaId);
        await audit.append(
          {
            ...event(principal, mediaId, client),
            action: 'media.legal-hold.release',
            details: { before: before.reason.slice(0, auditReasonChars), heldSince: before.at.toISOString() },
          },
          trx,
        );
      });
      await cache.invalidate(principal.orgId);
    },
  };
}

export type LegalHoldService = ReturnType<typeof createLegalHoldService>;
