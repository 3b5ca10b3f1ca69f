import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../db/schema.js';
import { EmbeddedJobStore } from '../queue/embedded-job-store.js';
import { purgeExpiredThrottleRows } from '../repositories/database.throttle-store.js';
import type { BlobStore } from '../storage/blob-store.js';
import { sweepOrphanBlobs } from './orphan-blobs.js';

export interface HousekeepingSettings {
  /** SESSION_IDLE_MINUTES: a session unused this long no longer authenticates. */
  sessionIdleMinutes: number;
  /** Delivered outbox messages are kept this long (their bodies are emptied at delivery already). */
  outboxSentRetentionDays: number;
  /** Embedded queue rows: finished jobs kept this long (debugging), failed ones longer. */
  jobDoneRetentionDays: number;
  jobFailedRetentionDays: number;
}

export interface HousekeepingResult {
  sessions: number;
  oneTimeTokens: number;
  outboxMessages: number;
  jobs: number;
  loginThrottle: number;
  /** Blobs no row refers to (a crash between a blob landing and its row committing), deleted. */
  orphanBlobs: number;
  /** Temp files of interrupted writes, deleted. */
  tempFiles: number;
}

/** The blob side of housekeeping: orphans and temp files younger than this are writes still in progress. */
export interface HousekeepingBlobs {
  store: BlobStore;
  sweepTempFiles(olderThanSeconds: number): Promise<number>;
  log: Logger;
}

// Far longer than any upload takes between its blob landing and its row committing (probe included).
const blobGraceSeconds = 3600;

const dayMs = 86_400_000;

/**
 * Deletes rows that no longer do anything: sessions that cannot authenticate any more (revoked, idle or past
 * their absolute end), one-time tokens that were used or expired, delivered mail past its keep period,
 * finished and failed embedded-queue jobs past theirs, expired login-throttle rows; then blobs no row refers
 * to and temp files of interrupted writes, older than an hour. Idempotent; the clock is injected so each
 * cutoff is exact and testable.
 */
export function createHousekeepingService(deps: {
  db: Kysely<Database>;
  settings: HousekeepingSettings;
  now: () => Date;
  blobs: HousekeepingBlobs;
}) {
  const { db, settings } = deps;
  const jobs = new EmbeddedJobStore(db);
  const deleted = (result: { numDeletedRows: bigint }) => Number(result.numDeletedRows);

  return {
    async run(): Promise<HousekeepingResult> {
      const at = deps.now();
      const ago = (ms: number) => new Date(at.getTime() - ms);
      const sessions = await db
        .deleteFrom('sessions')
        .where((eb) =>
          eb.or([
            eb('revoked_at', 'is not', null),
            eb('absolute_expires_at', '<=', at),
            eb('last_seen_at', '<=', ago(settings.sessionIdleMinutes * 60_000)),
          ]),
        )
        .executeTakeFirst();
      const oneTimeTokens = await db
        .deleteFrom('one_time_tokens')
        .where((eb) => eb.or([eb('used_at', 'is not', null), eb('expires_at', '<=', at)]))
        .executeTakeFirst();
      const outboxMessages = await db
        .deleteFrom('outbox_messages')
        .where('sent_at', 'is not', null)
        .where('sent_at', '<=', ago(settings.outboxSentRetentionDays * dayMs))
        .executeTakeFirst();
      const prunedJobs = await jobs.pruneFinished({
        doneBefore: ago(settings.jobDoneRetentionDays * dayMs),
        failedBefore: ago(settings.jobFailedRetentionDays * dayMs),
      });
      return {
        sessions: deleted(sessions),
        oneTimeTokens: deleted(oneTimeTokens),
        outboxMessages: deleted(outboxMessages),
        jobs: prunedJobs,
        loginThrottle: await purgeExpiredThrottleRows(db, at),
        orphanBlobs: (
          await sweepOrphanBlobs({
            db,
            blobStore: deps.blobs.store,
            olderThan: ago(blobGraceSeconds * 1000),
            log: deps.blobs.log,
          })
        ).deleted,
        tempFiles: await deps.blobs.sweepTempFiles(blobGraceSeconds),
      };
    },
  };
}

export type HousekeepingService = ReturnType<typeof createHousekeepingService>;
