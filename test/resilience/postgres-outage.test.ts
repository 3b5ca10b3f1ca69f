import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startGuardian, type RunningGuardian } from '../helpers/guardian-process.js';
import { generateClip } from '../helpers/media-fixtures.js';
import { deleteRedisKeys, redisImplementation, uniqueRedisPrefix } from '../helpers/redis.js';
import { createOrgsAndKeys, uploadMultipart, waitForAnalysis } from '../e2e/upload-flow.js';
import { reportFigure } from './figures.js';
import { expectServiceUnavailable, timed } from './outage-checks.js';
import { localPostgresUnavailable, startLocalPostgres, type LocalPostgres } from './local-postgres.js';

// Short form in `npm test`; `npm run test:resilience` sets RESILIENCE=full: more cycles, more uploads.
const full = process.env.RESILIENCE === 'full';
const cycles = full ? 3 : 1;
const uploadsPerPhase = full ? 6 : 2;
// Uploads still in flight when PostgreSQL dies: each must end 201 (and be analysed) or 503, never hang or 500.
const inFlightAtCrash = full ? 8 : 3;
// An outage answer must come back, not hang: far below the client's own patience.
const answerLimitMs = 10_000;

const redis = redisImplementation();
const skipReason = localPostgresUnavailable ?? redis.skipReason;
if (skipReason && process.env.CI === 'true') throw new Error(`CI needs this suite: ${skipReason}`);

describe.skipIf(skipReason !== undefined && skipReason !== null)(
  'PostgreSQL stopped with -m immediate under scaled mode, then restarted',
  () => {
    let database: LocalPostgres;
    let server: RunningGuardian;
    let dir: string;
    let clip: string;
    let key: string;
    let baseUrl: string;
    const prefix = uniqueRedisPrefix('pg-outage');
    const accepted: string[] = [];

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'guardian-pg-outage-'));
      database = await startLocalPostgres();
      clip = await generateClip(dir, { seconds: 1, size: '160x120', fps: 10, name: 'outage-clip' });
      const env = {
        DATA_DIR: join(dir, 'data'),
        PORT: '0',
        DATABASE_URL: database.url,
        REDIS_URL: redis.url,
        REDIS_KEY_PREFIX: prefix,
        WORKER_CONCURRENCY: '1',
        RECONCILE_INTERVAL_SECONDS: '2',
        LIFECYCLE_INTERVAL_SECONDS: '0',
      };
      server = await startGuardian('serve', env);
      baseUrl = server.url!;
      key = (await createOrgsAndKeys(env)).analyst;
    }, 180_000);

    // A failure's cause is usually in the server's log (it may be alive but no longer listening).
    beforeEach(({ onTestFailed }) =>
      onTestFailed(() => {
        if (server) console.log(`server log (${describeProcess(server)}):\n${server.logs().slice(-6000)}`);
      }),
    );

    afterAll(async () => {
      await server?.stop();
      database?.destroy();
      await deleteRedisKeys(redis.url, prefix);
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    const uploadAccepted = async () => {
      const response = await uploadMultipart(baseUrl, key, clip);
      expect(response.status, await response.clone().text()).toBe(201);
      accepted.push(((await response.json()) as { analysisId: string }).analysisId);
    };

    it(
      'answers 503 problem+json while it is down, reports it in /readyz, and serves again once it is back',
      async () => {
        for (let cycle = 1; cycle <= cycles; cycle += 1) {
          for (let i = 0; i < uploadsPerPhase; i += 1) await uploadAccepted();
          const racing = Array.from({ length: inFlightAtCrash }, () =>
            timed(() => uploadMultipart(baseUrl, key, clip)),
          );
          // Mid-request: the clip's bytes are sent in a few ms, the upload's work takes longer.
          await new Promise((resolve) => setTimeout(resolve, 40));
          await database.stopImmediate();
          const raced = await Promise.all(racing);
          for (const { response, ms } of raced) {
            expect([201, 503], await response.clone().text()).toContain(response.status);
            expect(ms).toBeLessThan(answerLimitMs);
            if (response.status === 201)
              accepted.push(((await response.json()) as { analysisId: string }).analysisId);
            else expect(await response.json()).toMatchObject({ code: 'service-unavailable' });
          }
          const racedAccepted = raced.filter(({ response }) => response.status === 201).length;

          const upload = await timed(() => uploadMultipart(baseUrl, key, clip));
          await expectServiceUnavailable(upload, answerLimitMs, /ECONNREFUSED|at .+\.js|postgres:\/\//);

          const readiness = await timed(() => fetch(`${baseUrl}/readyz`));
          expect(readiness.response.status).toBe(503);
          expect(await readiness.response.json()).toMatchObject({ checks: { database: 'failing' } });
          expect(readiness.ms).toBeLessThan(answerLimitMs);
          const list = await fetch(`${baseUrl}/api/v1/analyses`, {
            headers: { authorization: `Bearer ${key}` },
          });
          expect(list.status).toBe(503);

          const restarted = performance.now();
          database.start();
          for (;;) {
            if ((await fetch(`${baseUrl}/readyz`)).status === 200) break;
            expect(performance.now() - restarted, 'readiness back within 30 s').toBeLessThan(30_000);
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
          const recoveryMs = Math.round(performance.now() - restarted);
          const suite = 'postgres-outage';
          reportFigure({
            suite,
            measure: `cycle ${cycle}: uploads in flight at the crash`,
            value: `${racedAccepted} × 201, ${inFlightAtCrash - racedAccepted} × 503, slowest ${Math.max(...raced.map(({ ms }) => ms))} ms`,
            target: `each 201 or 503 within ${answerLimitMs / 1000} s`,
            met: true,
          });
          reportFigure({
            suite,
            measure: `cycle ${cycle}: upload during outage`,
            value: `${upload.response.status} in ${upload.ms} ms`,
            target: `503 within ${answerLimitMs / 1000} s`,
            met: true,
          });
          reportFigure({
            suite,
            measure: `cycle ${cycle}: /readyz during outage`,
            value: `${readiness.response.status} in ${readiness.ms} ms`,
            target: `503 within ${answerLimitMs / 1000} s`,
            met: true,
          });
          reportFigure({
            suite,
            measure: `cycle ${cycle}: readiness back after restart`,
            value: `${recoveryMs} ms`,
            target: '≤ 30 s',
            met: recoveryMs <= 30_000,
          });
          for (let i = 0; i < uploadsPerPhase; i += 1) await uploadAccepted();
        }
      },
      full ? 600_000 : 120_000,
    );

    it(
      'ends every upload that got a 201 with exactly one finished analysis, and keeps nothing of the refused ones',
      async () => {
        for (const analysisId of accepted) {
          const analysis = await waitForAnalysis(baseUrl, key, analysisId, 120_000);
          expect(analysis.status).toBe('done');
        }
        const sql = new pg.Client({ connectionString: database.url });
        await sql.connect();
        try {
          const { rows } = await sql.query<{ media: number; analyses: number; done: number }>(
            `select count(distinct m.id)::int as media, count(a.id)::int as analyses,
                    count(a.id) filter (where a.status = 'done')::int as done
               from media m left join analyses a on a.media_id = m.id`,
          );
          expect(rows[0]).toEqual({
            media: accepted.length,
            analyses: accepted.length,
            done: accepted.length,
          });
        } finally {
          await sql.end();
        }
      },
      full ? 600_000 : 180_000,
    );
  },
);

function describeProcess(server: RunningGuardian): string {
  const { exitCode, signalCode } = server.process;
  if (exitCode !== null) return `exited with ${exitCode}`;
  return signalCode !== null ? `killed by ${signalCode}` : 'still running';
}
