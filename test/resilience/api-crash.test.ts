import { mkdtempSync, readFileSync, rmSync, utimesSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseImplementations, type TestDatabase } from '../helpers/databases.js';
import { runGuardian, type RunningGuardian } from '../helpers/guardian-process.js';
import { generateClip } from '../helpers/media-fixtures.js';
import { allChildren, killQuietly } from '../helpers/process-tree.js';
import { deleteRedisKeys, redisImplementation, uniqueRedisPrefix } from '../helpers/redis.js';
import { storedFiles, uploadMultipart } from '../e2e/upload-flow.js';
import { createAnalystKey, seconds, until, guardianStarter, stopStarted } from './crash-fixtures.js';
import { reportFigure } from './figures.js';

// Short form in `npm test`; `npm run test:resilience` sets RESILIENCE=full: more kills, more traffic.
const full = process.env.RESILIENCE === 'full';
const crashes = full ? 3 : 1;
const fastUploaders = full ? 4 : 2;
const slowUploads = full ? 3 : 1;
// A refused connection must be seen at once, never hang: far below any client's patience.
const downtimeAnswerLimitMs = 2_000;
const readyTargetMs = 30_000;
const segmentBytes = 64 * 1024;
const suite = 'api-crash';

const postgres = databaseImplementations().find((implementation) => implementation.name === 'postgres');
const redis = redisImplementation();
const skipReason = postgres?.skipReason ?? redis.skipReason;
if (skipReason && process.env.CI === 'true') throw new Error(`CI needs this suite: ${skipReason}`);

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * A multipart upload whose client sends the first half of the file and then nothing more: in flight at the
 * kill. Resolves with the response (it should get none) or the error the cut connection gave.
 */
function stalledMultipart(baseUrl: string, key: string, bytes: Buffer): Promise<Response | Error> {
  const boundary = `crash${Date.now().toString(16)}`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="stalled.mp4"\r\n` +
      'Content-Type: video/mp4\r\n\r\n',
  );
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(head);
      controller.enqueue(bytes.subarray(0, Math.floor(bytes.length / 2)));
      // Never closed: the server dies with this request half read.
    },
  });
  return fetch(`${baseUrl}/api/v1/media`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': `multipart/form-data; boundary=${boundary}` },
    body,
    duplex: 'half',
  } as RequestInit).catch((error: unknown) => error as Error);
}

const tusHeaders = (key: string) => ({ authorization: `Bearer ${key}`, 'Tus-Resumable': '1.0.0' });

async function tusCreate(baseUrl: string, key: string, length: number): Promise<string> {
  const created = await fetch(`${baseUrl}/api/v1/uploads`, {
    method: 'POST',
    headers: {
      ...tusHeaders(key),
      'Upload-Length': String(length),
      'Upload-Metadata': `filename ${Buffer.from('resumed.mp4').toString('base64')}`,
    },
  });
  expect(created.status).toBe(201);
  return (created.headers.get('location') ?? '').split('/').at(-1) ?? '';
}

function tusPatch(baseUrl: string, key: string, id: string, offset: number, chunk: Buffer) {
  return fetch(`${baseUrl}/api/v1/uploads/${id}`, {
    method: 'PATCH',
    headers: {
      ...tusHeaders(key),
      'Upload-Offset': String(offset),
      'Content-Type': 'application/offset+octet-stream',
    },
    body: chunk,
  });
}

describe.skipIf(skipReason !== undefined)(
  `guardian serve killed with kill -9 during uploads, ${crashes} time(s) (scaled mode)`,
  () => {
    let dir = '';
    const prefix = uniqueRedisPrefix('api-crash');
    const env: NodeJS.ProcessEnv = {
      MASTER_KEY: 'ef'.repeat(32),
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: prefix,
      // The reconciler re-enqueues an analysis committed just before a kill whose job never reached Redis.
      RECONCILE_INTERVAL_SECONDS: '2',
      LIFECYCLE_INTERVAL_SECONDS: '0',
    };
    const started: RunningGuardian[] = [];
    let database: TestDatabase | undefined;
    let sql: pg.Client | undefined;
    let server: RunningGuardian;
    let baseUrl = '';
    let key = '';
    let clip = '';
    let bigClip: Buffer;

    const start = guardianStarter(env, started);

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'guardian-api-crash-'));
      env.DATA_DIR = join(dir, 'data');
      // A fixed port: clients come back to the same address after the restart.
      env.PORT = String(await freePort());
      database = await postgres!.open();
      await database.close();
      env.DATABASE_URL = database.settings.databaseUrl;
      sql = new pg.Client({ connectionString: env.DATABASE_URL });
      await sql.connect();
      let bigClipPath: string;
      [clip, bigClipPath, server, key] = await Promise.all([
        generateClip(dir, { seconds: 1, size: '160x120', fps: 10, name: 'small' }),
        // Several 64 KiB segments: a tus upload cut after the first can resume from a whole segment.
        generateClip(dir, { seconds: 2, size: '480x360', fps: 25, gop: 25, crf: 8, name: 'resumable' }),
        start('serve', { WORKER_CONCURRENCY: '0' }),
        createAnalystKey(env),
        start('worker', { PORT: '0' }),
      ]);
      baseUrl = server.url ?? '';
      bigClip = readFileSync(bigClipPath);
      expect(bigClip.length).toBeGreaterThan(3 * segmentBytes);
    }, 180_000);

    afterAll(async () => {
      await stopStarted(started);
      await sql?.end();
      await database?.destroy();
      if (!skipReason) await deleteRedisKeys(redis.url, prefix);
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it(
      'ends every 201 with one done analysis, resumes tus uploads after a restart, and leaves no orphans',
      async () => {
        const accepted: string[] = [];
        const otherAnswers: number[] = [];
        let cut = 0;

        for (let crash = 1; crash <= crashes; crash += 1) {
          // Steady multipart traffic: at the kill some uploads are mid-body, some mid-registration.
          let stop = false;
          const uploader = async () => {
            while (!stop) {
              const response = await uploadMultipart(baseUrl, key, clip).catch(() => null);
              if (!response) cut += 1;
              else if (response.status === 201)
                accepted.push(((await response.json()) as { analysisId: string }).analysisId);
              else otherAnswers.push(response.status);
            }
          };
          const traffic = Promise.all(Array.from({ length: fastUploaders }, uploader));
          const stalled = Array.from({ length: slowUploads }, () => stalledMultipart(baseUrl, key, bigClip));
          // A tus upload two segments in (and half of a third, which the server drops) when the server dies.
          const tusId = await tusCreate(baseUrl, key, bigClip.length);
          const firstPart = await tusPatch(baseUrl, key, tusId, 0, bigClip.subarray(0, 2.5 * segmentBytes));
          expect(firstPart.status).toBe(204);
          await until('uploads accepted before the kill', Date.now() + 30_000, async () =>
            accepted.length >= crash * 2 ? true : undefined,
          );

          const children = allChildren(server.process.pid ?? 0);
          server.process.kill('SIGKILL');
          expect(await server.stop()).toBeNull();
          for (const pid of children) killQuietly(pid);
          stop = true;
          await traffic;
          // The half-sent uploads learn that their connection is gone; none of them got an answer.
          for (const outcome of await Promise.all(stalled)) expect(outcome).toBeInstanceOf(Error);
          cut += slowUploads;

          // Down: a request fails at once (connection refused), it does not hang.
          const probeStarted = performance.now();
          const refused = await fetch(`${baseUrl}/readyz`).catch((error: Error) => error);
          const downtimeMs = Math.round(performance.now() - probeStarted);
          expect(refused).toBeInstanceOf(Error);
          expect(String((refused as Error).cause)).toMatch(/ECONNREFUSED/);
          expect(downtimeMs).toBeLessThan(downtimeAnswerLimitMs);
          const downUpload = await uploadMultipart(baseUrl, key, clip).catch((error: Error) => error);
          expect(downUpload).toBeInstanceOf(Error);

          const restartedAt = performance.now();
          server = await start('serve', { WORKER_CONCURRENCY: '0' });
          const servingMs = Math.round(performance.now() - restartedAt);
          await until('readiness after the restart', Date.now() + 60_000, async () => {
            const ready = await fetch(`${baseUrl}/readyz`).catch(() => null);
            return ready?.status === 200 ? true : undefined;
          });
          const readyMs = Math.round(performance.now() - restartedAt);
          expect(server.url).toBe(baseUrl);

          // The tus upload resumes where the dead server's disk says it stood: whole segments only.
          const head = await fetch(`${baseUrl}/api/v1/uploads/${tusId}`, {
            method: 'HEAD',
            headers: tusHeaders(key),
          });
          expect(head.status).toBe(200);
          const offset = Number(head.headers.get('upload-offset'));
          expect(offset).toBe(2 * segmentBytes);
          const rest = await tusPatch(baseUrl, key, tusId, offset, bigClip.subarray(offset));
          expect(rest.status, await rest.clone().text()).toBe(204);
          const tusAnalysis = rest.headers.get('guardian-analysis-id') ?? '';
          expect(tusAnalysis).toMatch(/^[0-9a-f-]{36}$/);
          accepted.push(tusAnalysis);

          reportFigure({
            suite,
            measure: `crash ${crash}: request while the server is down`,
            value: `connection refused in ${downtimeMs} ms`,
            target: `fails fast (< ${downtimeAnswerLimitMs / 1000} s), never hangs`,
            met: true,
          });
          reportFigure({
            suite,
            measure: `crash ${crash}: restart → /readyz 200`,
            value: `${seconds(readyMs)} (serving after ${seconds(servingMs)})`,
            target: `≤ ${seconds(readyTargetMs)}`,
            met: readyMs <= readyTargetMs,
          });
          reportFigure({
            suite,
            measure: `crash ${crash}: tus upload cut at 2.5 segments`,
            value: `resumed at offset ${offset} after the restart, finished 204`,
            target: 'resumes from the last whole segment',
            met: true,
          });
        }

        // Every analysis ends: those of 201s, and those of uploads committed just before a kill whose answer
        // was lost (the client may retry them; they are not orphans).
        const deadline = Date.now() + (full ? 300_000 : 120_000);
        const rows = await until('every analysis to end', deadline, async () => {
          const { rows } = await sql!.query<{ id: string; media_id: string; status: string }>(
            'select id, media_id, status from analyses',
          );
          return rows.every((row) => row.status === 'done' || row.status === 'failed') ? rows : undefined;
        });
        const { rows: media } = await sql!.query<{ id: string; blob_key: string; status: string }>(
          'select id, blob_key, status from media',
        );
        expect(otherAnswers).toEqual([]);
        const ids = new Set(rows.map((row) => row.id));
        expect(accepted.filter((id) => !ids.has(id))).toEqual([]);
        expect(new Set(accepted).size).toBe(accepted.length);
        // One analysis per media, and every one done.
        expect(rows).toHaveLength(media.length);
        expect(new Set(rows.map((row) => row.media_id)).size).toBe(media.length);
        const notDone = rows.filter((row) => row.status !== 'done');
        expect(notDone, JSON.stringify(notDone)).toEqual([]);

        // On disk: every media row has its blob; no row points at a missing one.
        const files = storedFiles(env.DATA_DIR!).map((path) => relative(env.DATA_DIR!, path));
        const mediaBlobs = new Set(
          files.flatMap((path) => /^blobs\/[^/]+\/(media-[0-9a-f-]{36})\.sagb$/.exec(path)?.[1] ?? []),
        );
        expect(media.filter((row) => !mediaBlobs.has(row.blob_key))).toEqual([]);
        // A kill between a blob's rename into place and its media row's commit leaves the blob with no row, and a
        // kill mid-write leaves a blobs/.tmp/*.part file: housekeeping deletes both once they are an hour old.
        const rowKeys = new Set(media.map((row) => row.blob_key));
        const orphanBlobs = [...mediaBlobs].filter((key) => !rowKeys.has(key));
        const tempFiles = files.filter((path) =>
          /^blobs\/\.tmp\/media-[0-9a-f-]{36}\.[0-9a-f]{16}\.part$/.test(path),
        );
        // Artifacts are blobs of their analyses; upload receipts answer GET /api/v1/uploads/:id for a while.
        const unexpected = files.filter(
          (path) =>
            !/^blobs\/[^/.][^/]*\/[a-z0-9-]+\.sagb$/.test(path) &&
            !/^uploads\/[^/]+\.receipt\.json$/.test(path) &&
            !tempFiles.includes(path),
        );
        const unanswered = media.length - accepted.length;
        reportFigure({
          suite,
          measure: `uploads over ${crashes} crash(es)`,
          value:
            `${accepted.length} got 201/204 and ended with one done analysis each; ${cut} cut mid-flight; ` +
            `${unanswered} committed without their answer (one done analysis each)`,
          target: 'every 201 ends with exactly one done analysis',
          met: true,
        });
        expect(unexpected).toEqual([]);
        // An hour passes (the sweep spares younger files: writes still in progress), then housekeeping runs.
        const hourAgo = new Date(Date.now() - 3_700_000);
        const leftovers = [...orphanBlobs.map((key) => `blobs/${key.slice(0, 2)}/${key}.sagb`), ...tempFiles];
        for (const path of leftovers) utimesSync(join(env.DATA_DIR!, path), hourAgo, hourAgo);
        const housekeeping = await runGuardian(['housekeeping', 'run'], env);
        expect(housekeeping.code, housekeeping.stderr).toBe(0);
        const remaining = storedFiles(env.DATA_DIR!).map((path) => relative(env.DATA_DIR!, path));
        const swept = leftovers.filter((path) => !remaining.includes(path)).length;
        reportFigure({
          suite,
          measure: 'left behind by cut uploads',
          value: `${orphanBlobs.length} media blob(s) without a row and ${tempFiles.length} temp file(s); ${swept} deleted by housekeeping an hour on`,
          target: 'nothing once housekeeping runs',
          met: swept === leftovers.length,
        });
        expect(remaining.filter((path) => leftovers.includes(path))).toEqual([]);
        // Nothing a row refers to went with them.
        for (const row of media)
          expect(remaining).toContain(`blobs/${row.blob_key.slice(0, 2)}/${row.blob_key}.sagb`);
      },
      full ? 600_000 : 150_000,
    );
  },
);
