import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { BullmqJobQueue } from '../../src/queue/bullmq.job-queue.js';
import { EmbeddedJobQueue } from '../../src/queue/embedded.job-queue.js';
import type { JobQueue } from '../../src/queue/job-queue.js';
import { jobDefinitions, type JobDefinition, type JobDefinitions } from '../../src/queue/job-table.js';
import {
  databaseImplementations,
  describeEachImplementation,
  testLogger,
  type TestDatabase,
} from '../helpers/databases.js';
import { deleteRedisKeys, redisImplementation, uniqueRedisPrefix } from '../helpers/redis.js';
import {
  openAnalysisWorld,
  seedAnalysis,
  untilAborted,
  type AnalysisWorld,
  type PipelineScript,
} from './fixtures/analysis-world.js';
import { waitFor } from './wait-for.js';
import { anchorJobDefinitions, unexpectedAnchorJobs } from '../helpers/anchor-jobs.js';

const maxAttempts = jobDefinitions['analysis.run'].attempts;
const definitionsWith = (overrides: Partial<JobDefinition>): JobDefinitions => ({
  'analysis.run': {
    ...jobDefinitions['analysis.run'],
    backoff: { type: 'fixed', delayMs: 100 },
    timeoutMs: 10_000,
    ...overrides,
  },
  ...anchorJobDefinitions,
});

interface Target {
  name: string;
  skipReason?: string;
  /** A queue over the backend; the analyses live in `database` either way. */
  queue(database: TestDatabase, definitions: JobDefinitions): JobQueue;
  dispose(): Promise<void>;
}

const pglite = databaseImplementations().find((implementation) => implementation.name === 'pglite')!;
const redis = redisImplementation();
const redisPrefixes: string[] = [];

const targets: (Target & { database: typeof pglite })[] = [
  ...databaseImplementations().map((database) => ({
    name: `embedded queue on ${database.name}`,
    skipReason: database.skipReason,
    database,
    queue: (opened: TestDatabase, definitions: JobDefinitions) =>
      new EmbeddedJobQueue({ db: opened.db, log: testLogger(), definitions, pollIntervalMs: 50 }),
    dispose: async () => {},
  })),
  {
    name: 'BullMQ on redis (analyses on pglite)',
    skipReason: redis.skipReason,
    database: pglite,
    queue: (_opened: TestDatabase, definitions: JobDefinitions) => {
      const prefix = uniqueRedisPrefix('failure-paths');
      redisPrefixes.push(prefix);
      return new BullmqJobQueue({
        redisUrl: redis.url,
        prefix,
        log: testLogger(),
        definitions,
        lockDurationMs: 3_000,
        stalledIntervalMs: 1_000,
      });
    },
    dispose: async () => {
      for (const prefix of redisPrefixes.splice(0)) await deleteRedisKeys(redis.url, prefix);
    },
  },
];

describeEachImplementation('every analysis ends after its last attempt', targets, (target) => {
  let database: TestDatabase;
  let dataDir: string;
  const masterKeyHex = randomBytes(32).toString('hex');
  const open: { queue: JobQueue; world: AnalysisWorld }[] = [];

  async function runAnalysis(definitions: JobDefinitions, script: PipelineScript) {
    const log = testLogger();
    const seeded = await seedAnalysis({ db: database.db, dataDir, masterKeyHex, log });
    const queue = target.queue(database, definitions);
    // The reconciler's clock runs a minute ahead: every analysis counts as stale to it right away.
    const world = openAnalysisWorld({
      db: database.db,
      queue,
      dataDir,
      masterKeyHex,
      script,
      log,
      now: () => new Date(Date.now() + 60_000),
    });
    open.push({ queue, world });
    await queue.startWorkers(
      { 'analysis.run': world.service.run, ...unexpectedAnchorJobs },
      { concurrency: 1, onJobExhausted: { 'analysis.run': world.service.onJobExhausted } },
    );
    await queue.enqueue('analysis.run', seeded, { jobId: seeded.analysisId });
    await waitFor(
      'the analysis to end',
      async () => (await world.analysis(seeded.analysisId)).status === 'failed',
      30_000,
    );
    await waitFor(
      'its job to leave the queue',
      async () => !(await queue.isPending('analysis.run', seeded.analysisId)),
    );
    return { ...seeded, queue, world };
  }

  /** The reconciler, run after the end, must not bring the analysis back. */
  async function expectNotRevived(run: { analysisId: string; queue: JobQueue; world: AnalysisWorld }) {
    const before = await run.world.analysis(run.analysisId);
    expect(await run.world.service.reconcile(0)).toBe(0);
    expect(await run.queue.isPending('analysis.run', run.analysisId)).toBe(false);
    expect(await run.world.analysis(run.analysisId)).toMatchObject({
      status: 'failed',
      error_code: before.error_code,
      attempts: before.attempts,
    });
  }

  beforeAll(async () => {
    database = await target.database.open();
    dataDir = await mkdtemp(join(tmpdir(), 'guardian-failure-paths-'));
  });

  afterEach(async () => {
    for (const { queue, world } of open.splice(0)) {
      await queue.close();
      await world.close();
    }
  });

  afterAll(async () => {
    await target.dispose();
    await database?.destroy();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('fails with analysis-failed when the pipeline throws on every attempt', async () => {
    const seen: number[] = [];
    const run = await runAnalysis(definitionsWith({}), async (_request, attempts) => {
      seen.push(attempts);
      throw new Error(`decoder crashed on attempt ${attempts}`);
    });
    expect(seen).toEqual([1, 2, 3]);
    const analysis = await run.world.analysis(run.analysisId);
    expect(analysis).toMatchObject({
      status: 'failed',
      error_code: 'analysis-failed',
      error_detail: `decoder crashed on attempt ${maxAttempts}`,
      attempts: maxAttempts,
      report: null,
    });
    await expectNotRevived(run);
  });

  it('fails with analysis-timeout when every attempt runs past a 300 ms job timeout', async () => {
    let started = 0;
    const run = await runAnalysis(definitionsWith({ timeoutMs: 300 }), async (request) => {
      started += 1;
      return untilAborted(request.signal);
    });
    expect(started).toBe(maxAttempts);
    expect(await run.world.analysis(run.analysisId)).toMatchObject({
      status: 'failed',
      error_code: 'analysis-timeout',
      error_detail: 'analysis.run timed out after 300 ms',
      attempts: maxAttempts,
    });
    await expectNotRevived(run);
  });

  it('retries a timed-out attempt and completes when a later one finishes in time', async () => {
    const log = testLogger();
    const seeded = await seedAnalysis({ db: database.db, dataDir, masterKeyHex, log });
    const queue = target.queue(database, definitionsWith({ timeoutMs: 300 }));
    const world = openAnalysisWorld({
      db: database.db,
      queue,
      dataDir,
      masterKeyHex,
      log,
      script: async (request, attempts) => {
        if (attempts === 1) return untilAborted(request.signal);
        return { band: 'not_analyzable', reasons: ['scripted'] } as never;
      },
    });
    open.push({ queue, world });
    await queue.startWorkers(
      { 'analysis.run': world.service.run, ...unexpectedAnchorJobs },
      { concurrency: 1 },
    );
    await queue.enqueue('analysis.run', seeded, { jobId: seeded.analysisId });
    await waitFor(
      'the analysis to finish',
      async () => (await world.analysis(seeded.analysisId)).status === 'done',
    );
    expect(await world.analysis(seeded.analysisId)).toMatchObject({ attempts: 2, error_code: null });
  });
});
