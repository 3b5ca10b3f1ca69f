import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../db/schema.js';
import { BullmqJobQueue } from './bullmq.job-queue.js';
import { EmbeddedJobQueue } from './embedded.job-queue.js';
import type { JobQueue } from './job-queue.js';

/** REDIS_URL set: BullMQ (workers scale out across processes); unset: the durable table in the database. */
export function createJobQueue(deps: {
  redisUrl?: string;
  redisKeyPrefix: string;
  db: Kysely<Database>;
  log: Logger;
}): JobQueue {
  const log = deps.log.child({ component: 'job-queue' });
  return deps.redisUrl
    ? new BullmqJobQueue({ redisUrl: deps.redisUrl, prefix: deps.redisKeyPrefix, log })
    : new EmbeddedJobQueue({ db: deps.db, log });
}
