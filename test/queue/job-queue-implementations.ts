import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { BullmqJobQueue } from '../../src/queue/bullmq.job-queue.js';
import { EmbeddedJobQueue } from '../../src/queue/embedded.job-queue.js';
import type { JobQueue } from '../../src/queue/job-queue.js';
import type { JobDefinitions, JobName } from '../../src/queue/job-table.js';
import { databaseImplementations, testLogger, type DatabaseImplementation } from '../helpers/databases.js';
import { deleteRedisKeys, redisImplementation, uniqueRedisPrefix } from '../helpers/redis.js';

/** One backing store shared by several queue instances, as separate processes would share it. */
export interface QueueFixture {
  createQueue(definitions: JobDefinitions): JobQueue;
  progressOf(name: JobName, jobId: string): Promise<unknown>;
  /** Closes this test's queues and starts the next test on an empty store. */
  reset(): Promise<void>;
  dispose(): Promise<void>;
}

export interface QueueImplementation {
  name: string;
  skipReason?: string;
  setup(): Promise<QueueFixture>;
}

export function queueImplementations(): QueueImplementation[] {
  const redis = redisImplementation();
  return [
    ...databaseImplementations().map((database) => ({
      name: `embedded queue on ${database.name}`,
      skipReason: database.skipReason,
      setup: () => embeddedFixture(database),
    })),
    { name: 'BullMQ on redis', skipReason: redis.skipReason, setup: async () => bullmqFixture(redis.url) },
  ];
}

async function embeddedFixture(implementation: DatabaseImplementation): Promise<QueueFixture> {
  const database = await implementation.open();
  const queues: JobQueue[] = [];
  const closeQueues = async () => {
    await Promise.all(queues.splice(0).map((queue) => queue.close()));
  };
  return {
    createQueue(definitions) {
      const queue = new EmbeddedJobQueue({
        db: database.db,
        log: testLogger(),
        definitions,
        pollIntervalMs: 50,
        lockDurationMs: 3_000,
      });
      queues.push(queue);
      return queue;
    },
    async progressOf(name, jobId) {
      const row = await database.db
        .selectFrom('jobs')
        .select('progress')
        .where('name', '=', name)
        .where('dedupe_key', '=', jobId)
        .orderBy('created_at', 'desc')
        .executeTakeFirst();
      return row?.progress;
    },
    async reset() {
      await closeQueues();
      await database.db.deleteFrom('jobs').execute();
    },
    async dispose() {
      await closeQueues();
      await database.destroy();
    },
  };
}

function bullmqFixture(redisUrl: string): QueueFixture {
  const queues: JobQueue[] = [];
  const usedPrefixes: string[] = [];
  let prefix = uniqueRedisPrefix('queue');
  const closeQueues = async () => {
    await Promise.all(queues.splice(0).map((queue) => queue.close()));
  };
  return {
    createQueue(definitions) {
      usedPrefixes.push(prefix);
      const queue = new BullmqJobQueue({
        redisUrl,
        log: testLogger(),
        prefix,
        definitions,
        lockDurationMs: 3_000,
        stalledIntervalMs: 1_000,
      });
      queues.push(queue);
      return queue;
    },
    async progressOf(name, jobId) {
      const connection = new Redis(redisUrl);
      const inspector = new Queue(name, { connection, prefix });
      try {
        return (await inspector.getJob(jobId))?.progress;
      } finally {
        await inspector.close();
        await connection.quit();
      }
    },
    async reset() {
      await closeQueues();
      prefix = uniqueRedisPrefix('queue');
    },
    async dispose() {
      await closeQueues();
      for (const used of new Set(usedPrefixes)) await deleteRedisKeys(redisUrl, used);
    },
  };
}
