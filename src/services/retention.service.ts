import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../db/schema.js';
import type { Principal } from '../http/access-control.js';
import type { RetentionPolicyRecord, RetentionRepository } from '../repositories/retention.repository.js';
import type { AuditLogService } from './audit-log.service.js';
import { notFound } from './errors.js';
import type { MediaShredder } from './media-shredder.js';
import type { ClientInfo } from './session.service.js';
import { auditActorOf } from './user.service.js';

export const retentionDaysBounds = { min: 1, max: 36_500 } as const;

export interface RetentionRunResult {
  /** Media crypto-shredded in this run. */
  shredded: number;
  /** Media that turned out held or already gone when its row was locked (a race with an admin). */
  skipped: number;
  /** True when the run stopped at its limit with expired media left: a follow-up run takes the rest. */
  more: boolean;
}

/**
 * The organisation's retention policy and the pass that applies it. Only media has a retention period:
 * reports (analyses) are kept, because their signed statements are in the transparency log, and audit
 * entries are never pruned, because the hash chain must verify from its first entry (docs/privacy.md).
 */
export function createRetentionService(deps: {
  db: Kysely<Database>;
  retention: RetentionRepository;
  shredder: MediaShredder;
  audit: AuditLogService;
  now: () => Date;
  log: Logger;
  /** Media looked up per query, and shredded per run at most (a follow-up job takes the rest). */
  batchSize?: number;
  maxPerRun?: number;
}) {
  const { retention, audit, log } = deps;
  const batchSize = deps.batchSize ?? 100;
  const maxPerRun = deps.maxPerRun ?? 2_000;

  return {
    async getPolicy(orgId: string): Promise<RetentionPolicyRecord> {
      const policy = await retention.getPolicy(orgId);
      if (!policy) throw notFound('organisation');
      return policy;
    },

    /** Audited with the value before and after; takes effect at the next retention run. */
    async setPolicy(
      principal: Principal,
      mediaRetentionDays: number | null,
      client: ClientInfo,
    ): Promise<RetentionPolicyRecord> {
      return deps.db.transaction().execute(async (trx) => {
        const changed = await retention.setPolicy(trx, principal.orgId, mediaRetentionDays, deps.now());
        if (!changed) throw notFound('organisation');
        await audit.append(
          {
            orgId: principal.orgId,
            actor: auditActorOf(principal),
            action: 'organisation.retention-policy.update',
            outcome: 'success',
            target: { type: 'organisation', id: principal.orgId },
            ip: client.ip,
            userAgent: client.userAgent,
            details: {
              mediaRetentionDaysBefore: changed.before.mediaRetentionDays,
              mediaRetentionDaysAfter: changed.after.mediaRetentionDays,
            },
          },
          trx,
        );
        return changed.after;
      });
    },

    /**
     * Crypto-shreds every stored, unheld media past its organisation's period (oldest first), each with a
     * ledger row and a `media.delete` entry by the system actor. Safe to re-run at any point: what is done is
     * no longer found, what was interrupted is found again.
     */
    async run(options: { signal?: AbortSignal } = {}): Promise<RetentionRunResult> {
      let shredded = 0;
      let skipped = 0;
      const passed = new Set<string>();
      while (shredded + skipped < maxPerRun) {
        options.signal?.throwIfAborted();
        const due = (await retention.findExpired(deps.now(), batchSize)).filter(
          (media) => !passed.has(media.id),
        );
        if (due.length === 0) return { shredded, skipped, more: false };
        for (const media of due) {
          options.signal?.throwIfAborted();
          passed.add(media.id);
          const outcome = await deps.shredder.shred({
            orgId: media.orgId,
            mediaId: media.id,
            reason: 'retention',
            actor: { type: 'system', id: null },
            details: { retentionDays: media.retentionDays },
          });
          if (outcome.status === 'shredded') shredded += 1;
          else skipped += 1;
        }
      }
      log.info({ shredded, skipped }, 'retention run reached its limit; a follow-up run takes the rest');
      return { shredded, skipped, more: true };
    },
  };
}

export type RetentionService = ReturnType<typeof createRetentionService>;
