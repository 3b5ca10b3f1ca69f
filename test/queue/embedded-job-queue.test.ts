import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { EmbeddedJobQueue } from '../../src/queue/embedded.job-queue.js';
import type { JobContext, JobDefinitions, JobPayloads } from '../../src/queue/job-table.js';
import {
  databaseImplementations,
  describeEachImplementation,
  testLogger,
  type TestDatabase,
} from '../helpers/databases.js';
import { waitFor } from './wait-for.js';
import { anchorJobDefinitions, unexpectedAnchorJobs } from '../helpers/anchor-jobs.js';

const definitions: JobDefinitions = {
  'analysis.run': { attempts: 2, backoff: { type: 'fixed', delayMs: 50 }, timeoutMs: 10_000, concurrency: 1 },
  ...anchorJobDefinitions,
};
const newPayload = (): JobPayloads['analysis.run'] => ({ analysisId: randomUUID(), orgId: randomUUID() });

describeEachImplementation('embedded job queue', databaseImplementations(), (implementation) => {
  let database: TestDatabase;
  const queues: EmbeddedJobQueue[] = [];
  const createQueue = (workerId?: string) => {
    const queue = new EmbeddedJobQueue({
      db: database.db,
      log: testLogger(),
      definitions,
      pollIntervalMs: 50,
      workerId,
    });
    queues.push(queue);
    return queue;
  };
  const jobRow = (jobId: string) =>
    database.db.selectFrom('jobs').selectAll().where('dedupe_key', '=', jobId).executeTakeFirstOrThrow();

  beforeAll(async () => {
    database = await implementation.open();
  });

  afterEach(async () => {
    await Promise.all(queues.splice(0).map((queue) => queue.close()));
    await database.db.deleteFrom('jobs').execute();
  });

  afterAll(async () => {
    await database?.destroy();
  });

  it('keeps enqueued jobs across a close and reopen of the database', async () => {
    const payload = newPayload();
    await createQueue().enqueue('analysis.run', payload, { jobId: payload.analysisId });
    await Promise.all(queues.splice(0).map((queue) => queue.close()));
    await database.close();
    database = await database.reopen();
    const seen: string[] = [];
    await createQueue().startWorkers(
      { 'analysis.run': async (received) => void seen.push(received.analysisId), ...unexpectedAnchorJobs },
      {
        concurrency: 1,
      },
    );
    await waitFor('the job from before the restart', () => seen.length === 1);
    expect(seen).toEqual([payload.analysisId]);
  });

  it('enqueues inside the caller transaction: no job when it rolls back', async () => {
    const queue = createQueue();
    const [kept, dropped] = [newPayload(), newPayload()];
    await database.db
      .transaction()
      .execute((trx) => queue.enqueue('analysis.run', kept, { jobId: kept.analysisId, transaction: trx }));
    await database.db
      .transaction()
      .execute(async (trx) => {
        await queue.enqueue('analysis.run', dropped, { jobId: dropped.analysisId, transaction: trx });
        throw new Error('roll back');
      })
      .catch(() => undefined);
    expect(await queue.isPending('analysis.run', kept.analysisId)).toBe(true);
    expect(await queue.isPending('analysis.run', dropped.analysisId)).toBe(false);
  });

  it('takes over a job whose worker stopped heartbeating, counting the lost attempt', async () => {
    const payload = newPayload();
    await createQueue().enqueue('analysis.run', payload, { jobId: payload.analysisId });
    // What a kill -9 leaves behind: an active row whose lock has lapsed.
    await database.db
      .updateTable('jobs')
      .set({
        status: 'active',
        attempts: 1,
        locked_by: 'dead-worker',
        locked_until: sql<Date>`now() - interval '1 second'`,
      })
      .where('dedupe_key', '=', payload.analysisId)
      .execute();
    expect(await createQueue().isPending('analysis.run', payload.analysisId)).toBe(true);
    const contexts: JobContext[] = [];
    await createQueue('rescuer').startWorkers(
      { 'analysis.run': async (_p, context) => void contexts.push(context), ...unexpectedAnchorJobs },
      {
        concurrency: 1,
      },
    );
    await waitFor('the takeover', async () => (await jobRow(payload.analysisId)).status === 'done');
    expect(contexts.map((context) => context.attempt)).toEqual([2]);
  });

  it('fails a job whose worker died during its final attempt instead of running it again', async () => {
    const payload = newPayload();
    await createQueue().enqueue('analysis.run', payload, { jobId: payload.analysisId });
    await database.db
      .updateTable('jobs')
      .set({
        status: 'active',
        attempts: 2,
        locked_by: 'dead-worker',
        locked_until: sql<Date>`now() - interval '1 second'`,
      })
      .where('dedupe_key', '=', payload.analysisId)
      .execute();
    let runs = 0;
    const exhausted: unknown[] = [];
    await createQueue().startWorkers(
      { 'analysis.run': async () => void (runs += 1), ...unexpectedAnchorJobs },
      {
        concurrency: 1,
        onJobExhausted: {
          'analysis.run': async (received, exhaustion) => void exhausted.push({ received, exhaustion }),
        },
      },
    );
    await waitFor('the job to fail', async () => (await jobRow(payload.analysisId)).status === 'failed');
    expect(runs).toBe(0);
    expect((await jobRow(payload.analysisId)).last_error).toMatch(/worker lost/);
    await waitFor('the exhaustion', () => exhausted.length === 1);
    expect(exhausted).toEqual([
      {
        received: payload,
        exhaustion: {
          jobId: payload.analysisId,
          attempts: 2,
          cause: 'worker-lost',
          error: 'worker lost during the final attempt',
        },
      },
    ]);
  });

  it('stores the last error of a failed job', async () => {
    const payload = newPayload();
    const queue = createQueue();
    await queue.enqueue('analysis.run', payload, { jobId: payload.analysisId });
    await queue.startWorkers(
      {
        'analysis.run': async () => {
          throw new Error('x'.repeat(10_000));
        },
        ...unexpectedAnchorJobs,
      },
      { concurrency: 1 },
    );
    await waitFor('the job to fail', async () => (await jobRow(payload.analysisId)).status === 'failed');
    const failed = await jobRow(payload.analysisId);
    expect(failed).toMatchObject({ attempts: 2, locked_by: null, locked_until: null });
    expect(failed.last_error).toMatch(/^Error: x+$/);
    expect(failed.last_error?.length).toBe(2_000);
  });
});
