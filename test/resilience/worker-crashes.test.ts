import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseImplementations, type TestDatabase } from '../helpers/databases.js';
import type { RunningGuardian } from '../helpers/guardian-process.js';
import { generateClip } from '../helpers/media-fixtures.js';
import { allChildren, killQuietly, mediaToolChildren } from '../helpers/process-tree.js';
import { deleteRedisKeys, redisImplementation, uniqueRedisPrefix } from '../helpers/redis.js';
import { uploadMultipart } from '../e2e/upload-flow.js';
import { createAnalystKey, seconds, until, guardianStarter, isAlive, stopStarted } from './crash-fixtures.js';
import { reportFigure } from './figures.js';

// Short form in `npm test`; `npm run test:resilience` sets RESILIENCE=full: the 50 analyses, 3 kills.
const full = process.env.RESILIENCE === 'full';
const uploadCount = full ? 50 : 3;
const killCount = full ? 3 : 1;
const uploadConcurrency = 4;
// Short, as an operator wanting fast recovery would set them; the lock is still renewed every 2 s.
const lockMs = 4_000;
const stalledIntervalMs = 2_000;
// Worst case: the lock lapses lockMs after its last renewal and one stalled check later the job waits again.
const requeueTargetMs = lockMs + stalledIntervalMs + 1_000;
// Running again also needs a free worker: the survivor first finishes the analysis it has (~7 s here).
const recoveryTargetMs = 30_000;
// Generous "it recovers at all" limit for the assertion; the figure is held against the target above.
const recoveryLimitMs = 120_000;
const suite = 'worker-crashes';

const postgres = databaseImplementations().find((implementation) => implementation.name === 'postgres');
const redis = redisImplementation();
const skipReason = postgres?.skipReason ?? redis.skipReason;
if (skipReason && process.env.CI === 'true') throw new Error(`CI needs this suite: ${skipReason}`);

interface AnalysisRow {
  id: string;
  media_id: string;
  status: string;
  attempts: number;
  progress: number;
  error_code: string | null;
}

describe.skipIf(skipReason !== undefined)(
  `kill -9 of a worker mid-analysis, ${killCount} time(s) during ${uploadCount} analyses (scaled mode)`,
  () => {
    let dir = '';
    const prefix = uniqueRedisPrefix('worker-crashes');
    const env: NodeJS.ProcessEnv = {
      PORT: '0',
      MASTER_KEY: 'cd'.repeat(32),
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: prefix,
      QUEUE_LOCK_MS: String(lockMs),
      QUEUE_STALLED_INTERVAL_MS: String(stalledIntervalMs),
      LIFECYCLE_INTERVAL_SECONDS: '0',
    };
    const started: RunningGuardian[] = [];
    const orphans: number[] = [];
    let database: TestDatabase | undefined;
    let sql: pg.Client | undefined;
    let server: RunningGuardian;
    let key = '';
    let clip = '';
    let workers: RunningGuardian[] = [];
    let connection: Redis | undefined;
    let queue: Queue;

    const start = guardianStarter(env, started);
    const analyses = async () =>
      (
        await sql!.query<AnalysisRow>(
          'select id, media_id, status, attempts, progress, error_code from analyses order by created_at',
        )
      ).rows;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'guardian-worker-crashes-'));
      env.DATA_DIR = join(dir, 'data');
      database = await postgres!.open();
      await database.close();
      env.DATABASE_URL = database.settings.databaseUrl;
      sql = new pg.Client({ connectionString: env.DATABASE_URL });
      await sql.connect();
      connection = new Redis(redis.url, { maxRetriesPerRequest: 3 });
      queue = new Queue('analysis.run', { connection, prefix });
      // Long enough to be caught mid-analysis, short enough for 50 of them.
      const clipOptions = full
        ? { seconds: 4, size: '320x240', fps: 25, gop: 50 }
        : { seconds: 2, size: '160x120', fps: 25, gop: 25 };
      // Workers start with the server: recovery is measured from a kill, never from a start-up.
      [clip, server, key, ...workers] = await Promise.all([
        generateClip(dir, { ...clipOptions, name: 'crash-clip' }),
        start('serve', { WORKER_CONCURRENCY: '0' }),
        createAnalystKey(env),
        start('worker'),
        start('worker'),
      ]);
    }, 180_000);

    afterAll(async () => {
      await stopStarted(started);
      for (const pid of orphans) killQuietly(pid);
      await queue?.close();
      await connection?.quit();
      await sql?.end();
      await database?.destroy();
      if (!skipReason) await deleteRedisKeys(redis.url, prefix);
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it(
      'ends every accepted upload with exactly one done analysis, re-running each interrupted one elsewhere',
      async () => {
        const deadline = Date.now() + (full ? 540_000 : 170_000);
        const firstUploadAt = Date.now();
        const accepted: string[] = [];
        const refused: number[] = [];
        let next = 0;
        const uploader = async () => {
          while (next < uploadCount) {
            next += 1;
            const response = await uploadMultipart(server.url ?? '', key, clip);
            if (response.status !== 201) {
              refused.push(response.status);
              continue;
            }
            accepted.push(((await response.json()) as { analysisId: string }).analysisId);
          }
        };
        const uploading = Promise.all(Array.from({ length: uploadConcurrency }, uploader));

        const kills: { analysisId: string; recoveryMs: number; progress: number }[] = [];
        const replacements: Promise<RunningGuardian>[] = [];
        // A kill that lands just after the doomed worker's job finished interrupts nothing: it is tried again.
        let missedKills = 0;
        while (kills.length < killCount) {
          const kill = kills.length + 1;
          // Spread over the run: the first as soon as possible, the others once their share of analyses is done.
          const doneBefore = Math.floor(((kill - 1) * uploadCount) / killCount);
          const { doomed, held } = await until(`kill ${kill}: a worker mid-analysis`, deadline, async () => {
            const rows = await analyses();
            if (rows.filter((row) => row.status === 'done').length < doneBefore) return undefined;
            const running = rows.filter((row) => row.status === 'running');
            // Only first attempts: a re-run killed again would test the attempt limit, not recovery.
            if (running.length === 0 || running.some((row) => row.attempts !== 1)) return undefined;
            const runningIds = new Set(running.map((row) => row.id));
            const active = await queue.getActive();
            for (const worker of workers) {
              if (!isAlive(worker) || mediaToolChildren(worker.process.pid ?? 0).length === 0) continue;
              // The worker names itself host:pid on every job it takes (processedBy).
              const jobs = active.filter(
                (job) => job.processedBy?.endsWith(`:${worker.process.pid}`) && runningIds.has(job.id ?? ''),
              );
              if (jobs.length > 0) return { doomed: worker, held: jobs };
            }
            return undefined;
          });
          const children = allChildren(doomed.process.pid ?? 0);
          doomed.process.kill('SIGKILL');
          const killedAt = Date.now();
          // A SIGKILLed worker cannot reap its ffmpeg/ffprobe: they are the suite's to end.
          orphans.push(...children);
          for (const pid of children) killQuietly(pid);
          expect(await doomed.stop()).toBeNull();
          workers.splice(workers.indexOf(doomed), 1);
          replacements.push(start('worker').then((worker) => (workers.push(worker), worker)));
          const states = await Promise.all(
            held.map(async (job) => (await queue.getJob(job.id ?? ''))?.getState()),
          );
          if (!states.includes('active')) {
            missedKills += 1;
            expect(missedKills, 'kills that landed after their job had finished').toBeLessThan(3);
            continue;
          }

          // Back in the queue: BullMQ's stalled checker counts the job it takes from a dead worker.
          const requeued = await until(`kill ${kill}: its job back in the queue`, deadline, async () => {
            const jobs = await Promise.all(held.map((job) => queue.getJob(job.id ?? '')));
            return jobs.some((job, index) => (job?.stalledCounter ?? 0) > held[index]!.stalledCounter)
              ? Date.now() - killedAt
              : undefined;
          });
          // The interrupted analysis is the one of those running at the kill whose attempt count goes up.
          const resumed = await until(`kill ${kill}: its analysis running again`, deadline, async () => {
            const rows = await analyses();
            return rows.find((row) => held.some((job) => job.id === row.id) && row.attempts > 1);
          });
          const recoveryMs = Date.now() - killedAt;
          kills.push({ analysisId: resumed.id, recoveryMs, progress: resumed.progress });
          reportFigure({
            suite,
            measure: `kill ${kill}: kill -9 → job back in the queue`,
            value: seconds(requeued),
            target: `≤ ${seconds(requeueTargetMs)} (QUEUE_LOCK_MS ${lockMs} + QUEUE_STALLED_INTERVAL_MS ${stalledIntervalMs} + 1 s)`,
            met: requeued <= requeueTargetMs,
          });
          reportFigure({
            suite,
            measure: `kill ${kill}: kill -9 → analysis running again on another worker`,
            value: `${seconds(recoveryMs)} (killed at ${Math.round(resumed.progress * 100)}%)`,
            target: `≤ ${seconds(recoveryTargetMs)} (requeue, then a free worker)`,
            met: recoveryMs <= recoveryTargetMs,
          });
          expect(recoveryMs).toBeLessThan(recoveryLimitMs);
          await Promise.all(replacements);
        }

        await uploading;
        expect(refused).toEqual([]);
        expect(accepted).toHaveLength(uploadCount);
        const settled = await until('every analysis to end', deadline, async () => {
          const rows = await analyses();
          const ended = rows.every((row) => row.status !== 'queued' && row.status !== 'running');
          return rows.length >= uploadCount && ended ? rows : undefined;
        });
        const elapsedMs = Date.now() - firstUploadAt;

        // Exactly one analysis per accepted upload, all done: no duplicate, none failed, none left running.
        expect(settled.map((row) => row.id).sort()).toEqual([...accepted].sort());
        expect(new Set(settled.map((row) => row.media_id)).size).toBe(uploadCount);
        const notDone = settled.filter((row) => row.status !== 'done');
        expect(notDone, JSON.stringify(notDone)).toEqual([]);
        // Each interrupted analysis ran again (attempt 2) and finished; an attempt count never passes the limit.
        const byId = new Map(settled.map((row) => [row.id, row]));
        for (const kill of kills) expect(byId.get(kill.analysisId)?.attempts).toBeGreaterThanOrEqual(2);
        expect(Math.max(...settled.map((row) => row.attempts))).toBeLessThanOrEqual(3);
        const reRuns = settled.filter((row) => row.attempts > 1).length;
        expect(reRuns).toBeGreaterThanOrEqual(killCount);

        // The queue agrees: every job completed, none failed (the stalled limit) or still active.
        // The queue marks a job completed just after its handler wrote the analysis: wait for the last one.
        const counts = await until('the queue to settle', deadline, async () => {
          const found = await queue.getJobCounts('completed', 'failed', 'active', 'waiting', 'delayed');
          return found.active === 0 && found.waiting === 0 ? found : undefined;
        });
        expect(counts).toEqual({ completed: uploadCount, failed: 0, active: 0, waiting: 0, delayed: 0 });

        const { rows: timing } = await sql!.query<{ mean: number; max: number }>(
          `select avg(extract(epoch from finished_at - started_at))::float as mean,
                  max(extract(epoch from finished_at - started_at))::float as max
             from analyses where attempts = 1`,
        );
        const perMinute = (uploadCount / elapsedMs) * 60_000;
        reportFigure({
          suite,
          measure: `analyses done (exactly one each) of ${uploadCount} accepted uploads`,
          value: `${settled.length} done, ${reRuns} with attempts > 1 (${killCount} killed), 0 failed, 0 left running`,
          target: 'every 201 ends with exactly one done analysis',
          met: true,
        });
        reportFigure({
          suite,
          measure: `throughput, 2 workers × concurrency 1, ${killCount} kill(s)`,
          value:
            `${perMinute.toFixed(1)} analyses/min (${uploadCount} in ${seconds(elapsedMs)}; ` +
            `one analysis ${timing[0]!.mean.toFixed(1)} s mean, ${timing[0]!.max.toFixed(1)} s max)`,
          target: 'measured (no target in the issue)',
          met: true,
        });
      },
      full ? 600_000 : 180_000,
    );
  },
);
