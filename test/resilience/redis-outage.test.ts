import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseImplementations, type TestDatabase } from '../helpers/databases.js';
import { runGuardian, startGuardian, type RunningGuardian } from '../helpers/guardian-process.js';
import { generateClip } from '../helpers/media-fixtures.js';
import { storedFiles, uploadMultipart, waitForAnalysis } from '../e2e/upload-flow.js';
import { reportFigure } from './figures.js';
import { expectServiceUnavailable, timed } from './outage-checks.js';
import { localRedisUnavailable, startLocalRedis, type LocalRedis } from './local-redis.js';

// Short form in `npm test`; `npm run test:resilience` sets RESILIENCE=full: more cycles, uploads and readers.
const full = process.env.RESILIENCE === 'full';
const cycles = full ? 3 : 1;
const uploadsPerPhase = full ? 4 : 1;
// Full form only: clients reading the media list throughout, outages included (kept under the rate limit).
const readers = full ? 2 : 0;
// An outage answer must come back, not hang: far below the client's own patience.
const answerLimitMs = 10_000;
const shutdownTimeoutMs = 10_000;
const suite = 'redis-outage';

const postgres = databaseImplementations().find((implementation) => implementation.name === 'postgres');
const skipReason = localRedisUnavailable ?? postgres?.skipReason ?? null;
if (skipReason && process.env.CI === 'true') throw new Error(`CI needs this suite: ${skipReason}`);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** An organisation and one API key of the given role, through the CLI (straight to PostgreSQL). */
async function createKey(env: NodeJS.ProcessEnv, org: string, role: string): Promise<string> {
  const created = await runGuardian(['org', 'create', org], env);
  expect(created.code, created.stderr).toBe(0);
  const result = await runGuardian(
    ['apikey', 'create', '--org', org, '--name', 'outage', '--role', role],
    env,
  );
  expect(result.code, result.stderr).toBe(0);
  return result.stdout.trim().split('\n').at(-1) ?? '';
}

describe.skipIf(skipReason !== null)('Redis killed (kill -9) under scaled mode, then restarted', () => {
  let redis: LocalRedis;
  let database: TestDatabase;
  let server: RunningGuardian;
  let dir: string;
  let dataDir: string;
  let clip: string;
  let key: string;
  let readerKey: string;
  let baseUrl: string;
  const accepted: string[] = [];
  const reads = { answered: 0, statuses: new Map<number, number>(), slowestMs: 0 };
  let reading = false;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'guardian-redis-outage-'));
    dataDir = join(dir, 'data');
    [redis, database, clip] = await Promise.all([
      startLocalRedis(),
      postgres!.open(),
      generateClip(dir, { seconds: 1, size: '160x120', fps: 10, name: 'outage-clip' }),
    ]);
    const env = {
      DATA_DIR: dataDir,
      PORT: '0',
      DATABASE_URL: database.settings.databaseUrl,
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: 'guardian-outage',
      WORKER_CONCURRENCY: '1',
      RECONCILE_INTERVAL_SECONDS: '2',
      LIFECYCLE_INTERVAL_SECONDS: '0',
      SHUTDOWN_TIMEOUT_MS: String(shutdownTimeoutMs),
    };
    [server, key, readerKey] = await Promise.all([
      startGuardian('serve', env),
      createKey(env, 'Newsroom', 'analyst'),
      full ? createKey(env, 'Readers', 'viewer') : Promise.resolve(''),
    ]);
    baseUrl = server.url!;
  }, 180_000);

  afterAll(async () => {
    reading = false;
    await server?.stop('SIGKILL');
    await redis?.destroy();
    await database?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const uploadAccepted = async () => {
    const response = await uploadMultipart(baseUrl, key, clip);
    expect(response.status, await response.clone().text()).toBe(201);
    accepted.push(((await response.json()) as { analysisId: string }).analysisId);
  };
  const uploadPhase = () => Promise.all(Array.from({ length: uploadsPerPhase }, () => uploadAccepted()));

  /** Polls /readyz until it answers `status`; returns how long that took. */
  const readinessBecomes = async (status: number, limitMs: number) => {
    const started = performance.now();
    for (;;) {
      if ((await fetch(`${baseUrl}/readyz`)).status === status)
        return Math.round(performance.now() - started);
      expect(performance.now() - started, `/readyz ${status} within ${limitMs} ms`).toBeLessThan(limitMs);
      await sleep(50);
    }
  };

  const readLoop = async () => {
    while (reading) {
      const read = await timed(() =>
        fetch(`${baseUrl}/api/v1/media`, { headers: { authorization: `Bearer ${readerKey}` } }),
      );
      await read.response.arrayBuffer();
      reads.answered += 1;
      reads.statuses.set(read.response.status, (reads.statuses.get(read.response.status) ?? 0) + 1);
      reads.slowestMs = Math.max(reads.slowestMs, read.ms);
      await sleep(400);
    }
  };

  it(
    'keeps /livez 200, reports Redis in /readyz, refuses uploads 503 at once, and serves again once it is back',
    async () => {
      reading = true;
      const readerLoops = Array.from({ length: readers }, () => readLoop());
      for (let cycle = 1; cycle <= cycles; cycle += 1) {
        await uploadPhase();
        const filesBefore = storedFiles(dataDir).length;
        await redis.kill9();
        const detectedMs = await readinessBecomes(503, answerLimitMs);

        const upload = await timed(() => uploadMultipart(baseUrl, key, clip));
        await expectServiceUnavailable(upload, answerLimitMs, /ECONNREFUSED|at .+\.js|redis:\/\//);
        expect(storedFiles(dataDir), 'a refused upload leaves no blob').toHaveLength(filesBefore);

        const liveness = await timed(() => fetch(`${baseUrl}/livez`));
        expect(liveness.response.status).toBe(200);
        expect(liveness.ms).toBeLessThan(answerLimitMs);
        const readiness = await timed(() => fetch(`${baseUrl}/readyz`));
        expect(readiness.response.status).toBe(503);
        expect(await readiness.response.json()).toMatchObject({
          code: 'not-ready',
          checks: { database: 'ok', storage: 'ok', queue: 'failing', redis: 'failing' },
        });
        expect(readiness.ms).toBeLessThan(answerLimitMs);
        // The list comes from PostgreSQL: the read cache steps aside while Redis is down.
        const list = await timed(() =>
          fetch(`${baseUrl}/api/v1/media`, { headers: { authorization: `Bearer ${key}` } }),
        );
        expect(list.response.status).toBe(200);
        expect(list.ms).toBeLessThan(answerLimitMs);

        // The sign-in throttle keeps its counters in Redis and fails closed: no unthrottled password guessing.
        const login = await timed(() =>
          fetch(`${baseUrl}/api/v1/auth/login`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ email: 'nobody@example.org', password: 'not-the-password-1' }),
          }),
        );
        expect(login.response.status).toBe(503);
        expect(await login.response.json()).toMatchObject({ code: 'service-unavailable' });
        expect(login.ms).toBeLessThan(answerLimitMs);

        await redis.start();
        const recoveryMs = await readinessBecomes(200, 30_000);
        const figures = [
          ['outage seen by /readyz after the kill', `${detectedMs} ms`, `within ${answerLimitMs / 1000} s`],
          [
            'upload during outage',
            `${upload.response.status} in ${upload.ms} ms`,
            '503 problem+json, ≤ 10 s',
          ],
          ['/livez during outage', `${liveness.response.status} in ${liveness.ms} ms`, '200, ≤ 10 s'],
          [
            '/readyz during outage',
            `${readiness.response.status} in ${readiness.ms} ms`,
            '503 naming redis, ≤ 10 s',
          ],
          ['media list during outage', `${list.response.status} in ${list.ms} ms`, 'answered, ≤ 10 s'],
          [
            'sign-in during outage',
            `${login.response.status} in ${login.ms} ms`,
            '503 (fails closed), ≤ 10 s',
          ],
          ['readiness back after restart', `${recoveryMs} ms`, '≤ 30 s'],
        ] as const;
        for (const [measure, value, target] of figures)
          reportFigure({ suite, measure: `cycle ${cycle}: ${measure}`, value, target, met: true });
        await uploadPhase();
      }
      reading = false;
      await Promise.all(readerLoops);
      if (readers > 0) {
        const statuses = [...reads.statuses].map(([status, count]) => `${count}×${status}`).join(', ');
        reportFigure({
          suite,
          measure: `media list reads by ${readers} clients throughout`,
          value: `${statuses}; slowest ${reads.slowestMs} ms`,
          target: 'every one 200, ≤ 10 s',
          met: true,
        });
        expect([...reads.statuses.keys()]).toEqual([200]);
        expect(reads.slowestMs).toBeLessThan(answerLimitMs);
      }
    },
    full ? 600_000 : 120_000,
  );

  it(
    'ends every upload that got a 201 with exactly one finished analysis, and keeps nothing of the refused ones',
    async () => {
      const started = performance.now();
      for (const analysisId of accepted) {
        const analysis = await waitForAnalysis(baseUrl, key, analysisId, 120_000);
        expect(analysis.status).toBe('done');
      }
      const { rows } = await sql<{ media: number; analyses: number; done: number }>`
        select count(distinct m.id)::int as media, count(a.id)::int as analyses,
               count(a.id) filter (where a.status = 'done')::int as done
          from media m left join analyses a on a.media_id = m.id`.execute(database.db);
      expect(rows[0]).toEqual({ media: accepted.length, analyses: accepted.length, done: accepted.length });
      expect(storedFiles(dataDir)).toHaveLength(accepted.length);
      reportFigure({
        suite,
        measure: 'analyses of 201 uploads',
        value: `${accepted.length} of ${accepted.length} done, one each (last after ${Math.round(performance.now() - started)} ms)`,
        target: 'all done, exactly one each',
        met: true,
      });
    },
    full ? 600_000 : 180_000,
  );

  it('stops on SIGTERM within its drain timeout while Redis is down', async () => {
    await redis.kill9();
    await readinessBecomes(503, answerLimitMs);
    const started = performance.now();
    // A hung shutdown is reported as such (and killed in afterAll), not left to the test's timeout.
    const code = await Promise.race([
      server.stop('SIGTERM'),
      sleep(3 * shutdownTimeoutMs).then(() => 'hung'),
    ]);
    const stopMs = Math.round(performance.now() - started);
    reportFigure({
      suite,
      measure: 'SIGTERM during outage',
      value: `exit ${code} after ${stopMs} ms`,
      target: `exit 0 within SHUTDOWN_TIMEOUT_MS (${shutdownTimeoutMs / 1000} s)`,
      met: code === 0 && stopMs <= shutdownTimeoutMs,
    });
    expect(code, server.logs().slice(-2_000)).toBe(0);
    expect(stopMs).toBeLessThanOrEqual(shutdownTimeoutMs);
  }, 60_000);
});
