import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BullmqJobQueue } from '../../src/queue/bullmq.job-queue.js';
import type { JobHandlers } from '../../src/queue/job-table.js';
import { unexpectedAnchorJobs } from '../helpers/anchor-jobs.js';
import { testLogger } from '../helpers/databases.js';
import { localRedisUnavailable, startLocalRedis, type LocalRedis } from '../resilience/local-redis.js';
import { waitFor } from './wait-for.js';

if (localRedisUnavailable && process.env.CI === 'true') throw new Error(`CI needs: ${localRedisUnavailable}`);

/** How the work ended and how long it took; 'hung' past 10 s (the work is left behind). */
const elapsed = async (work: () => Promise<unknown>) => {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    work().then(
      () => 'resolved',
      (error: unknown) => (error instanceof Error ? error.message : String(error)),
    ),
    new Promise<string>((resolve) => (timer = setTimeout(() => resolve('hung'), 10_000))),
  ]);
  clearTimeout(timer);
  return { outcome, ms: performance.now() - started };
};

describe.skipIf(localRedisUnavailable !== null)('BullMQ queue while its Redis is killed', () => {
  let redis: LocalRedis;

  beforeAll(async () => {
    redis = await startLocalRedis();
  });

  afterAll(() => redis?.destroy());

  it('fails fast while Redis is down, stops its workers within bounds, and works again once Redis is back', async () => {
    const queue = new BullmqJobQueue({ redisUrl: redis.url, log: testLogger(), prefix: 'outage' });
    const ran: string[] = [];
    await queue.startWorkers(
      {
        'analysis.run': async ({ analysisId }) => void ran.push(analysisId),
        ...unexpectedAnchorJobs,
      } as JobHandlers,
      { concurrency: 1 },
    );
    const job = (id = randomUUID()) =>
      queue.enqueue('analysis.run', { analysisId: id, orgId: 'org' }, { jobId: id }).then(() => id);
    const first = await job();
    await waitFor('first job', () => ran.includes(first));
    expect(queue.reachable()).toBe(true);
    await queue.checkHealth();

    await redis.kill9();
    await waitFor('the queue to see the outage', () => !queue.reachable());
    // Refused by ioredis at once, not held for reconnect attempts (which grow to 2 s apart in a long outage).
    const enqueue = await elapsed(() => job());
    expect(enqueue.outcome).toMatch(/enableOfflineQueue options is false/);
    expect(enqueue.ms).toBeLessThan(250);
    const health = await elapsed(() => queue.checkHealth());
    expect(health.outcome).toMatch(/^Redis connection is/);
    expect(health.ms).toBeLessThan(100);

    await redis.start();
    await waitFor('the queue to reconnect', () => queue.reachable());
    const second = await job();
    await waitFor('a job enqueued after the restart', () => ran.includes(second));

    await redis.kill9();
    await waitFor('the queue to see the second outage', () => !queue.reachable());
    // A graceful BullMQ close waits for Redis for ever; these must end on their own.
    const stopped = await elapsed(() => queue.stopWorkers(1_000));
    expect(stopped).toMatchObject({ outcome: 'resolved' });
    expect(stopped.ms).toBeLessThan(3_000);
    const closed = await elapsed(() => queue.close());
    expect(closed).toMatchObject({ outcome: 'resolved' });
    expect(closed.ms).toBeLessThan(2_000);
  }, 60_000);
});
