import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  databaseImplementations,
  describeEachImplementation,
  type TestDatabase,
} from '../helpers/databases.js';
import { startGuardian, type RunningGuardian } from '../helpers/guardian-process.js';
import { deleteRedisKeys, redisImplementation, uniqueRedisPrefix } from '../helpers/redis.js';
import { createOrgsAndKeys, uploadMultipart, type Keys } from './upload-flow.js';

// ffmpeg, a server start and CLI runs: slow on a loaded machine, still bounded.
const setupTimeoutMs = 180_000;

const execFileAsync = promisify(execFile);
const clipCount = 6;
const testTimeoutMs = 120_000;
const postgres = databaseImplementations().find((implementation) => implementation.name === 'postgres');
const redis = redisImplementation();
const scaled = {
  name: 'PostgreSQL + Redis, an API-only server and workers',
  ...(postgres?.skipReason || redis.skipReason
    ? { skipReason: postgres?.skipReason ?? redis.skipReason }
    : {}),
};

interface AnalysisState {
  id: string;
  status: string;
  progress: number;
  attempts: number;
}

/** Pids of the process's children (ffmpeg/ffprobe of a worker): a SIGKILLed worker cannot reap them. */
function childPids(pid: number): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .map((line) => Number(line.trim()))
      .filter((child) => child > 0);
  } catch {
    return []; // ps exits 1 when there are none
  }
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** SIGTERM and wait for the exit code; SIGKILL when it does not stop in time (the code is then null). */
async function stopWithin(child: RunningGuardian, timeoutMs: number): Promise<number | null> {
  const timer = setTimeout(() => child.process.kill('SIGKILL'), timeoutMs);
  try {
    return await child.stop();
  } finally {
    clearTimeout(timer);
  }
}

async function until<T>(what: string, deadline: number, probe: () => Promise<T | undefined>): Promise<T> {
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

// CI time: this runs in `npm run test:resilience` (RESILIENCE=full); test/resilience/worker-crashes.test.ts
// keeps a worker's kill -9 mid-analysis in scaled mode (re-run, one done analysis per upload) in `npm test`.
const modes = process.env.RESILIENCE === 'full' ? [scaled] : [];
if (modes.length === 0) it.skip('runs under RESILIENCE=full (npm run test:resilience)', () => {});

describeEachImplementation('a worker killed with SIGKILL mid-analysis', modes, () => {
  // Made in beforeAll: a skipped suite (no services) must leave nothing behind.
  let dir = '';
  const prefix = uniqueRedisPrefix('kill-worker');
  const env: NodeJS.ProcessEnv = {
    PORT: '0',
    MASTER_KEY: 'ef'.repeat(32),
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: prefix,
    RECONCILE_INTERVAL_SECONDS: '2',
    // The killed worker's job is re-run within about 15 s instead of up to a minute (the defaults).
    QUEUE_LOCK_MS: '10000',
    QUEUE_STALLED_INTERVAL_MS: '5000',
  };
  const children: RunningGuardian[] = [];
  const orphans: number[] = [];
  const clips: string[] = [];
  let database: TestDatabase | undefined;
  let sql: pg.Client | undefined;
  let server: RunningGuardian;
  let keys: Keys;

  const start = async (command: 'serve' | 'worker', extra: NodeJS.ProcessEnv = {}) => {
    const child = await startGuardian(command, { ...env, ...extra });
    children.push(child);
    return child;
  };

  const analyses = async (): Promise<AnalysisState[]> =>
    (
      await sql!.query<AnalysisState>(
        'select id, status, progress, attempts from analyses order by created_at',
      )
    ).rows;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'guardian-e2e-kill-worker-'));
    env.DATA_DIR = join(dir, 'data');
    database = await postgres!.open();
    await database.close();
    env.DATABASE_URL = database.settings.databaseUrl;
    sql = new pg.Client({ connectionString: env.DATABASE_URL });
    await sql.connect();

    // One 20 s encode; the others are remuxes with their own title, so every upload is a distinct file.
    const base = join(dir, 'clip-0.mp4');
    await execFileAsync('ffmpeg', [
      ...['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25:duration=20'],
      ...['-c:v', 'libx264', '-preset', 'veryfast', '-g', '50', '-pix_fmt', 'yuv420p', '-y', base],
    ]);
    clips.push(base);
    for (let index = 1; index < clipCount; index += 1) {
      const copy = join(dir, `clip-${index}.mp4`);
      await execFileAsync('ffmpeg', [
        '-v',
        'error',
        '-i',
        base,
        '-c',
        'copy',
        '-metadata',
        `title=clip ${index}`,
        '-y',
        copy,
      ]);
      clips.push(copy);
    }

    // The API process runs no analysis: only the workers do.
    server = await start('serve', { WORKER_CONCURRENCY: '0' });
    keys = await createOrgsAndKeys(env);
  }, setupTimeoutMs);

  afterAll(async () => {
    const codes = await Promise.all(
      children
        .filter((child) => child.process.exitCode === null && child.process.signalCode === null)
        .map((child) => stopWithin(child, 20_000)),
    );
    for (const pid of orphans) killQuietly(pid);
    await sql?.end();
    await database?.destroy();
    if (!redis.skipReason) await deleteRedisKeys(redis.url, prefix);
    if (dir) rmSync(dir, { recursive: true, force: true });
    expect(codes).toEqual(codes.map(() => 0));
  });

  it(
    'finishes every analysis on a second worker, one analyses row and one report per media',
    async () => {
      const deadline = Date.now() + testTimeoutMs - 10_000;
      const doomed = await start('worker');
      const uploaded: { id: string; analysisId: string }[] = [];
      for (const clip of clips) {
        const response = await uploadMultipart(server.url ?? '', keys.analyst, clip);
        const body = (await response.json()) as { id: string; analysisId: string };
        expect(response.status, JSON.stringify(body)).toBe(201);
        uploaded.push(body);
      }

      // Early in its run (probe or the first detector), so the kill lands before it can finish.
      await until('an analysis to be running', deadline, async () =>
        (await analyses()).find((analysis) => analysis.status === 'running' && analysis.progress < 0.5),
      );
      orphans.push(...childPids(doomed.process.pid ?? 0));
      doomed.process.kill('SIGKILL');
      expect(await doomed.stop()).toBeNull();
      expect(doomed.process.signalCode).toBe('SIGKILL');
      const interrupted = (await analyses()).filter((analysis) => analysis.status === 'running');
      expect(interrupted.length).toBeGreaterThan(0);

      await start('worker');
      let last: AnalysisState[] = [];
      const finished = await until('every analysis to finish', deadline, async () => {
        const states = (last = await analyses());
        const settled =
          states.length === clipCount &&
          states.every((state) => state.status !== 'queued' && state.status !== 'running');
        return settled ? states : undefined;
      }).catch((error: Error) => {
        throw new Error(`${error.message}; analyses: ${JSON.stringify(last)}`);
      });
      expect(finished.map((state) => state.status)).toEqual(Array(clipCount).fill('done'));
      // The analyses the kill interrupted ran again: their attempts count both runs.
      for (const analysis of interrupted) {
        expect(finished.find((state) => state.id === analysis.id)?.attempts).toBeGreaterThanOrEqual(2);
      }

      const { rows } = await sql!.query<{ media_id: string; analyses: string; reports: string }>(`
        select m.id as media_id, count(a.id) as analyses, count(a.report) as reports
        from media m left join analyses a on a.media_id = m.id
        group by m.id
      `);
      expect(rows.map((row) => row.media_id).sort()).toEqual(uploaded.map((media) => media.id).sort());
      for (const row of rows)
        expect([Number(row.analyses), Number(row.reports)], row.media_id).toEqual([1, 1]);
      const { rows: reports } = await sql!.query<{ id: string; band: string; report_band: string }>(
        `select id, band, report->>'band' as report_band from analyses`,
      );
      for (const report of reports) expect(report.report_band, report.id).toBe(report.band);
      expect(reports.map((report) => report.id).sort()).toEqual(
        uploaded.map((media) => media.analysisId).sort(),
      );
    },
    testTimeoutMs,
  );
});
