import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { sql } from 'kysely';
import { afterEach, expect, it } from 'vitest';
import { BullmqJobQueue } from '../../src/queue/bullmq.job-queue.js';
import { EmbeddedJobQueue } from '../../src/queue/embedded.job-queue.js';
import type { JobQueue } from '../../src/queue/job-queue.js';
import {
  databaseImplementations,
  describeEachImplementation,
  testLogger,
  type TestDatabase,
} from '../helpers/databases.js';
import { deleteRedisKeys, redisImplementation, uniqueRedisPrefix } from '../helpers/redis.js';
import { faultJobDefinitions } from './fixtures/fault-settings.js';
import { waitFor } from './wait-for.js';

const jobCount = 20;
const testTimeoutMs = 60_000;
const repositoryRoot = fileURLToPath(new URL('../..', import.meta.url));
const workerScript = fileURLToPath(new URL('./fixtures/fault-worker.ts', import.meta.url));

/** What the test needs from a queue backend shared by several worker processes. */
interface FaultTarget {
  /** Environment for the spawned worker processes. */
  env: Record<string, string>;
  queue: JobQueue;
  /** job id → number of result rows. */
  results(): Promise<Map<string, number>>;
  /** job id → workers that started it (a job interrupted by the kill is started twice). */
  starts(): Promise<Map<string, string[]>>;
  dispose(): Promise<void>;
}

interface FaultImplementation {
  name: string;
  skipReason?: string;
  open(): Promise<FaultTarget>;
}

const postgres = databaseImplementations().find((implementation) => implementation.name === 'postgres');
const redis = redisImplementation();

// PGlite is one process per data directory, so the multi-process embedded case runs on PostgreSQL only.
const implementations: FaultImplementation[] = [
  { name: 'embedded queue on postgres', skipReason: postgres?.skipReason, open: openEmbeddedTarget },
  { name: 'BullMQ on redis', skipReason: redis.skipReason, open: async () => openBullmqTarget(redis.url) },
];

async function openEmbeddedTarget(): Promise<FaultTarget> {
  if (!postgres) throw new Error('no postgres implementation');
  const database: TestDatabase = await postgres.open();
  await sql`create table fault_results (job_id text primary key, worker text not null)`.execute(database.db);
  await sql`create table fault_starts (job_id text not null, worker text not null)`.execute(database.db);
  const queue = new EmbeddedJobQueue({
    db: database.db,
    log: testLogger(),
    definitions: faultJobDefinitions,
  });
  return {
    env: { FAULT_QUEUE: 'embedded', DATABASE_URL: database.settings.databaseUrl ?? '' },
    queue,
    async results() {
      const { rows } = await sql<{ job_id: string; n: number }>`
        select job_id, count(*) as n from fault_results group by job_id
      `.execute(database.db);
      return new Map(rows.map((row) => [row.job_id, row.n]));
    },
    async starts() {
      const { rows } = await sql<{
        job_id: string;
        worker: string;
      }>`select job_id, worker from fault_starts`.execute(database.db);
      return groupWorkers(rows.map((row) => [row.job_id, row.worker]));
    },
    async dispose() {
      await queue.close();
      await database.destroy();
    },
  };
}

function openBullmqTarget(redisUrl: string): FaultTarget {
  const prefix = uniqueRedisPrefix('fault');
  const queue = new BullmqJobQueue({ redisUrl, log: testLogger(), prefix, definitions: faultJobDefinitions });
  const inspector = new Redis(redisUrl);
  return {
    env: { FAULT_QUEUE: 'bullmq', REDIS_URL: redisUrl, FAULT_PREFIX: prefix },
    queue,
    async results() {
      const results = await inspector.hkeys(`${prefix}:fault:results`);
      // A hash holds a key once: HSETNX is the idempotent write, so each present job counts one result.
      return new Map(results.map((jobId) => [jobId, 1]));
    },
    async starts() {
      const entries = await inspector.lrange(`${prefix}:fault:starts`, 0, -1);
      return groupWorkers(entries.map((entry) => entry.split(' ') as [string, string]));
    },
    async dispose() {
      await queue.close();
      await inspector.quit();
      await deleteRedisKeys(redisUrl, prefix);
    },
  };
}

function groupWorkers(pairs: [string, string][]): Map<string, string[]> {
  const grouped = new Map<string, string[]>();
  for (const [jobId, worker] of pairs) grouped.set(jobId, [...(grouped.get(jobId) ?? []), worker]);
  return grouped;
}

describeEachImplementation('kill -9 of a worker process mid-batch', implementations, (implementation) => {
  const children: ChildProcess[] = [];
  let target: FaultTarget | undefined;

  afterEach(async () => {
    for (const child of children.splice(0)) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    await target?.dispose();
    target = undefined;
  });

  async function startWorker(name: string): Promise<ChildProcess> {
    const child = spawn(process.execPath, ['--import', 'tsx', workerScript], {
      cwd: repositoryRoot,
      env: { ...process.env, ...target!.env, FAULT_WORKER: name },
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
    'loses no job and leaves exactly one result per job',
    async () => {
      target = await implementation.open();
      const jobIds = Array.from({ length: jobCount }, () => randomUUID());
      for (const jobId of jobIds) {
        await target.queue.enqueue('analysis.run', { analysisId: jobId, orgId: 'fault' }, { jobId });
      }

      const doomed = await startWorker('worker-1');
      // Kill while worker-1 is inside a handler: a job it started has no result yet.
      await waitFor(
        'worker-1 to be mid-job after a few results',
        async () => {
          const results = await target!.results();
          const starts = await target!.starts();
          return (
            results.size >= 4 &&
            [...starts].some(([jobId, workers]) => workers.includes('worker-1') && !results.has(jobId))
          );
        },
        20_000,
      );
      doomed.kill('SIGKILL');
      await once(doomed, 'exit');
      const resultsAtKill = (await target.results()).size;
      expect(resultsAtKill).toBeLessThan(jobCount);

      const survivor = await startWorker('worker-2');
      await waitFor(
        'every job to have a result',
        async () => (await target!.results()).size === jobCount,
        40_000,
      );

      const results = await target.results();
      expect([...results.keys()].sort()).toEqual([...jobIds].sort());
      expect([...results.values()].every((count) => count === 1)).toBe(true);
      const starts = await target.starts();
      const interrupted = [...starts.values()].filter(
        (workers) => workers.includes('worker-1') && workers.includes('worker-2'),
      );
      expect(interrupted.length).toBeGreaterThan(0);
      for (const jobId of jobIds) {
        await waitFor(
          `${jobId} to leave the queue`,
          async () => !(await target!.queue.isPending('analysis.run', jobId)),
        );
      }

      survivor.kill('SIGTERM');
      await once(survivor, 'exit');
    },
    testTimeoutMs,
  );
});
