import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { BullmqJobQueue } from '../../src/queue/bullmq.job-queue.js';
import { EmbeddedJobQueue } from '../../src/queue/embedded.job-queue.js';
import type { JobQueue } from '../../src/queue/job-queue.js';
import { jobDefinitions } from '../../src/queue/job-table.js';
import {
  databaseImplementations,
  describeEachImplementation,
  testLogger,
  type TestDatabase,
} from '../helpers/databases.js';
import { deleteRedisKeys, redisImplementation, uniqueRedisPrefix } from '../helpers/redis.js';
import { openAnalysisWorld, seedAnalysis, type AnalysisWorld } from './fixtures/analysis-world.js';
import { faultJobDefinitions, hangingStage } from './fixtures/fault-settings.js';
import { waitFor } from './wait-for.js';

const testTimeoutMs = 90_000;
const maxAttempts = jobDefinitions['analysis.run'].attempts;
const repositoryRoot = fileURLToPath(new URL('../..', import.meta.url));
const workerScript = fileURLToPath(new URL('./fixtures/analysis-worker.ts', import.meta.url));

const postgres = databaseImplementations().find((implementation) => implementation.name === 'postgres');
const redis = redisImplementation();

interface Backend {
  name: string;
  skipReason?: string;
  /** The test's own handle on the queue (enqueue, isPending), and what the worker processes need. */
  open(database: TestDatabase): { queue: JobQueue; env: Record<string, string>; dispose(): Promise<void> };
}

// Several processes share the store, so the embedded queue runs on PostgreSQL here (PGlite is one process).
const backends: Backend[] = [
  {
    name: 'embedded queue on postgres',
    skipReason: postgres?.skipReason,
    open: (database) => ({
      queue: new EmbeddedJobQueue({ db: database.db, log: testLogger(), definitions: faultJobDefinitions }),
      env: { FAULT_QUEUE: 'embedded' },
      dispose: async () => {},
    }),
  },
  {
    name: 'BullMQ on redis (analyses on postgres)',
    skipReason: postgres?.skipReason ?? redis.skipReason,
    open: () => {
      const prefix = uniqueRedisPrefix('analysis-kill');
      return {
        queue: new BullmqJobQueue({
          redisUrl: redis.url,
          prefix,
          log: testLogger(),
          definitions: faultJobDefinitions,
        }),
        env: { FAULT_QUEUE: 'bullmq', REDIS_URL: redis.url, FAULT_PREFIX: prefix },
        dispose: () => deleteRedisKeys(redis.url, prefix),
      };
    },
  },
];

describeEachImplementation(
  'kill -9 of the worker running an analysis’s last attempt',
  backends,
  (backend) => {
    const children: ChildProcess[] = [];
    const cleanups: (() => Promise<void>)[] = [];

    afterEach(async () => {
      for (const child of children.splice(0)) {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    async function startWorker(name: string, env: Record<string, string>): Promise<ChildProcess> {
      const child = spawn(process.execPath, ['--import', 'tsx', workerScript], {
        cwd: repositoryRoot,
        env: { ...process.env, ...env, FAULT_WORKER: name },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(child);
      let stderr = '';
      child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      let ready = false;
      child.stdout?.on('data', (chunk: Buffer) => (ready ||= chunk.toString().includes('ready')));
      await waitFor(
        `${name} to start`,
        () => {
          if (child.exitCode !== null)
            throw new Error(`${name} exited with ${child.exitCode}: ${stderr.slice(-2_000)}`);
          return ready;
        },
        30_000,
      );
      return child;
    }

    it(
      'ends the analysis failed with worker-lost, and the reconciler does not revive it',
      async () => {
        const database = await postgres!.open();
        cleanups.push(() => database.destroy());
        const dataDir = await mkdtemp(join(tmpdir(), 'guardian-analysis-kill-'));
        cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
        const masterKeyHex = randomBytes(32).toString('hex');
        const log = testLogger();
        const { queue, env, dispose } = backend.open(database);
        cleanups.push(async () => {
          await queue.close();
          await dispose();
        });
        // The test process's view: the same service, with a reconciler clock a minute ahead (everything is stale).
        const world: AnalysisWorld = openAnalysisWorld({
          db: database.db,
          queue,
          dataDir,
          masterKeyHex,
          log,
          script: () => Promise.reject(new Error('the test process runs no analysis')),
          now: () => new Date(Date.now() + 60_000),
        });
        cleanups.push(() => world.close());
        const seeded = await seedAnalysis({ db: database.db, dataDir, masterKeyHex, log });
        const workerEnv = {
          ...env,
          DATABASE_URL: database.settings.databaseUrl ?? '',
          FAULT_DATA_DIR: dataDir,
          FAULT_MASTER_KEY: masterKeyHex,
        };
        await queue.enqueue('analysis.run', seeded, { jobId: seeded.analysisId });

        // Attempts 1 and 2 throw; attempt 3 hangs: that is where the worker dies.
        const doomed = await startWorker('worker-1', workerEnv);
        await waitFor(
          'the last attempt to be running',
          async () => {
            const analysis = await world.analysis(seeded.analysisId);
            return analysis.attempts === maxAttempts && analysis.stage === hangingStage;
          },
          40_000,
        );
        doomed.kill('SIGKILL');
        await once(doomed, 'exit');
        expect(await world.analysis(seeded.analysisId)).toMatchObject({ status: 'running' });

        const survivor = await startWorker('worker-2', workerEnv);
        await waitFor(
          'the analysis to end',
          async () => (await world.analysis(seeded.analysisId)).status !== 'running',
          30_000,
        );
        const ended = await world.analysis(seeded.analysisId);
        expect(ended).toMatchObject({ status: 'failed', error_code: 'worker-lost', report: null });
        expect(ended.error_detail).toMatch(/crashed or was killed/);
        await waitFor(
          'the job to leave the queue',
          async () => !(await queue.isPending('analysis.run', seeded.analysisId)),
        );

        expect(await world.service.reconcile(0)).toBe(0);
        expect(await queue.isPending('analysis.run', seeded.analysisId)).toBe(false);
        expect(await world.analysis(seeded.analysisId)).toMatchObject({
          status: 'failed',
          error_code: 'worker-lost',
        });

        survivor.kill('SIGTERM');
        await once(survivor, 'exit');
      },
      testTimeoutMs,
    );
  },
);
