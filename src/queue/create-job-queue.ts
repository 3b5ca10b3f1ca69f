import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../db/schema.js';
import { BullmqJobQueue } from './bullmq.job-queue.js';
import { EmbeddedJobQueue } from './embedded.job-queue.js';
import type { JobQueue } from './job-queue.js';
import type { FinishedJobRetention } from './job-table.js';

/** REDIS_URL set: BullMQ (workers scale out across processes); unset: the durable table in the database. */
export function createJobQueue(deps: {
  redisUrl?: string;
  redisKeyPrefix: string;
  db: Kysely<Database>;
  /** QUEUE_LOCK_MS: both queues take a dead worker's job over this long after its last renewal. */
  lockDurationMs: number;
  /** QUEUE_STALLED_INTERVAL_MS: BullMQ only (the embedded queue looks for lapsed locks on every poll). */
  stalledIntervalMs: number;
  /** JOB_DONE_RETENTION_DAYS / JOB_FAILED_RETENTION_DAYS; the queues' defaults (1 and 7 days) when absent. */
  keepFinished?: FinishedJobRetention;
  log: Logger;
}): JobQueue {
  const log = deps.log.child({ component: 'job-queue' });
  return deps.redisUrl
    ? new BullmqJobQueue({
        redisUrl: deps.redisUrl,
        prefix: deps.redisKeyPrefix,
        lockDurationMs: deps.lockDurationMs,
        stalledIntervalMs: deps.stalledIntervalMs,
        ...(deps.keepFinished ? { keepFinished: deps.keepFinished } : {}),
        log,
      })
    : new EmbeddedJobQueue({
        db: deps.db,
        lockDurationMs: deps.lockDurationMs,
        ...(deps.keepFinished ? { keepFinished: deps.keepFinished } : {}),
        log,
      });
}
