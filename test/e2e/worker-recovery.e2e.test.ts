import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  databaseImplementations,
  describeEachImplementation,
  type TestDatabase,
} from '../helpers/databases.js';
import { startGuardian, type RunningGuardian } from '../helpers/guardian-process.js';
import { generateClip } from '../helpers/media-fixtures.js';
import { allChildren, killQuietly, mediaToolChildren } from '../helpers/process-tree.js';
import { deleteRedisKeys, redisImplementation, uniqueRedisPrefix } from '../helpers/redis.js';
import { until } from '../resilience/crash-fixtures.js';
import { createOrgsAndKeys, uploadMultipart, type Keys } from './upload-flow.js';

// Settings an operator could run with: a worker that dies is replaced within lock + stalled interval.
const queueSettings = { QUEUE_LOCK_MS: '8000', QUEUE_STALLED_INTERVAL_MS: '4000' };
// What the issue demands of recovery after kill -9 in scaled mode; the figure itself is printed.
const recoveryLimitMs = 15_000;
const setupTimeoutMs = 180_000;
const testTimeoutMs = 150_000;

const postgres = databaseImplementations().find((implementation) => implementation.name === 'postgres');
const redis = redisImplementation();
const scaledModes = [
  {
    name: 'BullMQ (PostgreSQL + Redis)',
    redis: true,
    skipReason: postgres?.skipReason ?? redis.skipReason,
  },
  { name: 'embedded queue on PostgreSQL', redis: false, skipReason: postgres?.skipReason },
  // CI time: both modes run in `npm run test:resilience` (RESILIENCE=full). In `npm test`,
  // test/resilience/worker-crashes.test.ts kills a BullMQ worker mid-analysis the same way (requeue, attempt 2,
  // done) and test/queue/kill-worker.fault.test.ts keeps the embedded queue's recovery after kill -9.
].filter(() => process.env.RESILIENCE === 'full');
if (scaledModes.length === 0) it.skip('runs under RESILIENCE=full (npm run test:resilience)', () => {});

interface AnalysisState {
  status: string;
  progress: number;
  attempts: number;
}

describeEachImplementation('recovery after kill -9 of a worker in scaled mode', scaledModes, (mode) => {
  let dir = '';
  const prefix = uniqueRedisPrefix('recovery');
  const env: NodeJS.ProcessEnv = {
    PORT: '0',
    MASTER_KEY: 'ab'.repeat(32),
    REDIS_KEY_PREFIX: prefix,
    ...queueSettings,
    ...(mode.redis ? { REDIS_URL: redis.url } : {}),
  };
  const children: RunningGuardian[] = [];
  const orphans: number[] = [];
  let database: TestDatabase | undefined;
  let sql: pg.Client | undefined;
  let server: RunningGuardian;
  let keys: Keys;
  let clip = '';

  const start = async (command: 'serve' | 'worker', extra: NodeJS.ProcessEnv = {}) => {
    const child = await startGuardian(command, { ...env, ...extra });
    children.push(child);
    return child;
  };

  const analysis = async (): Promise<AnalysisState | undefined> =>
    (await sql!.query<AnalysisState>('select status, progress, attempts from analyses')).rows[0];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'guardian-e2e-recovery-'));
    env.DATA_DIR = join(dir, 'data');
    database = await postgres!.open();
    await database.close();
    env.DATABASE_URL = database.settings.databaseUrl;
    sql = new pg.Client({ connectionString: env.DATABASE_URL });
    await sql.connect();
    // Long enough to be killed mid-analysis on a fast machine.
    clip = await generateClip(dir, { seconds: 20, size: '640x360', fps: 25, gop: 50 });
    server = await start('serve', { WORKER_CONCURRENCY: '0' });
    keys = await createOrgsAndKeys(env);
  }, setupTimeoutMs);

  afterAll(async () => {
    for (const child of children) {
      if (child.process.exitCode === null && child.process.signalCode === null) {
        const timer = setTimeout(() => child.process.kill('SIGKILL'), 20_000);
        await child.stop();
        clearTimeout(timer);
      }
    }
    for (const pid of orphans) killQuietly(pid);
    await sql?.end();
    await database?.destroy();
    if (mode.redis && !redis.skipReason) await deleteRedisKeys(redis.url, prefix);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(
    `hands the analysis to the other worker within ${recoveryLimitMs / 1000} s and finishes it there`,
    async () => {
      const deadline = Date.now() + testTimeoutMs - 10_000;
      // Both workers are up before the upload: recovery is measured from the kill, not from a start-up.
      const workers = [await start('worker'), await start('worker')];
      const response = await uploadMultipart(server.url ?? '', keys.analyst, clip);
      expect(response.status).toBe(201);

      // The worker with ffmpeg/ffprobe children is the one running the analysis. Not "any child": under tsx
      // every worker keeps an esbuild child, so that picked the first worker even when the second had the job.
      const doomed = await until('a worker to be mid-analysis', deadline, async () => {
        const state = await analysis();
        if (state?.status !== 'running' || state.progress >= 0.5) return undefined;
        const busy = workers.filter((worker) => mediaToolChildren(worker.process.pid ?? 0).length > 0);
        return busy.length === 1 ? busy[0] : undefined;
      });
      orphans.push(...allChildren(doomed.process.pid ?? 0));
      const before = await analysis();
      expect(before).toMatchObject({ status: 'running', attempts: 1 });
      doomed.process.kill('SIGKILL');
      const killedAt = Date.now();
      expect(await doomed.stop()).toBeNull();

      await until('the other worker to take the analysis over', deadline, async () => {
        const state = await analysis();
        return state && state.attempts >= 2 ? state : undefined;
      });
      const recoveryMs = Date.now() - killedAt;
      console.log(
        `[worker-recovery] ${mode.name}: kill -9 → analysis running on the other worker in ${(recoveryMs / 1000).toFixed(1)} s ` +
          `(QUEUE_LOCK_MS=${queueSettings.QUEUE_LOCK_MS}, QUEUE_STALLED_INTERVAL_MS=${queueSettings.QUEUE_STALLED_INTERVAL_MS})`,
      );
      expect(recoveryMs).toBeLessThanOrEqual(recoveryLimitMs);

      const finished = await until('the analysis to finish', deadline, async () => {
        const state = await analysis();
        return state && state.status !== 'running' && state.status !== 'queued' ? state : undefined;
      });
      expect(finished).toMatchObject({ status: 'done', attempts: 2 });
    },
    testTimeoutMs,
  );
});
