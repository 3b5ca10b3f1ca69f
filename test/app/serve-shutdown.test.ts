import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { openDatabase } from '../../src/db/database.js';
import { hashApiKey } from '../../src/services/api-key.service.js';
import { testLogger } from '../helpers/databases.js';
import { runGuardian, startGuardian, type RunningGuardian } from '../helpers/guardian-process.js';
import { uploadMultipart } from '../e2e/upload-flow.js';

// ffmpeg, a server start and CLI runs: slow on a loaded machine, still bounded.
const setupTimeoutMs = 180_000;

const clipCount = 3;

interface ProgressEvent {
  type: string;
  analysisId: string;
  status: string;
  progress: number;
}

/** Progress events of the key's organisation; `next` resolves with the first that matches (30 s at most). */
async function openEvents(baseUrl: string, key: string) {
  const socket = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/api/v1/events`, {
    headers: { authorization: `Bearer ${key}` },
  });
  const received: ProgressEvent[] = [];
  const waiters = new Set<() => void>();
  socket.on('message', (data: WebSocket.RawData) => {
    received.push(JSON.parse(data.toString()) as ProgressEvent);
    for (const wake of waiters) wake();
  });
  socket.on('error', () => {});
  const next = (match: (event: ProgressEvent) => boolean) =>
    new Promise<ProgressEvent>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no matching event in 30 s: ${JSON.stringify(received)}`));
      }, 30_000);
      const check = () => {
        const found = received.find(match);
        if (!found) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve(found);
      };
      waiters.add(check);
      check();
    });
  await next((event) => event.type === 'subscribed');
  return { next, close: () => socket.terminate() };
}

describe('guardian serve (embedded) on SIGTERM', () => {
  const dir = mkdtempSync(join(tmpdir(), 'guardian-app-shutdown-'));
  const dataDir = join(dir, 'data');
  const env = { DATA_DIR: dataDir, PORT: '0' };
  const clip = join(dir, 'clip.mp4');
  let server: RunningGuardian | undefined;
  let key: string;
  let apiKeyOutput: { stdout: string; stderr: string };

  beforeAll(async () => {
    execFileSync('ffmpeg', [
      ...['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25:duration=20'],
      ...['-c:v', 'libx264', '-preset', 'veryfast', '-g', '50', '-pix_fmt', 'yuv420p', '-y', clip],
    ]);
    server = await startGuardian('serve', env);
    const org = await runGuardian(['org', 'create', 'Shutdown Desk'], env);
    expect(org.code, org.stderr).toBe(0);
    const created = await runGuardian(
      ['apikey', 'create', '--org', 'Shutdown Desk', '--name', 'drain test', '--role', 'analyst'],
      env,
    );
    expect(created.code, created.stderr).toBe(0);
    apiKeyOutput = created;
    key = created.stdout.trimEnd().split('\n').at(-1) ?? '';
  }, setupTimeoutMs);

  afterAll(async () => {
    if (server && server.process.exitCode === null && server.process.signalCode === null) {
      server.process.kill('SIGKILL');
      await server.stop();
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints a new API key alone on the last stdout line, and nowhere else', () => {
    expect(key).toMatch(/^sag_[A-Za-z0-9_-]{43}$/);
    expect(apiKeyOutput.stdout.split(key)).toHaveLength(2);
    expect(apiKeyOutput.stderr).not.toContain(key);
  });

  it('finishes the running analysis, removes admin.sock and db.lock and exits 0', async () => {
    const baseUrl = server?.url ?? '';
    expect(existsSync(join(dataDir, 'admin.sock'))).toBe(true);
    expect(existsSync(join(dataDir, 'db.lock'))).toBe(true);
    const events = await openEvents(baseUrl, key);
    const analysisIds: string[] = [];
    for (let index = 0; index < clipCount; index += 1) {
      const response = await uploadMultipart(baseUrl, key, clip, `clip-${index}.mp4`);
      const body = (await response.json()) as { analysisId: string };
      expect(response.status, JSON.stringify(body)).toBe(201);
      analysisIds.push(body.analysisId);
    }

    // SIGTERM while an analysis is early in its run (probe or first detector).
    const inFlight = await events
      .next(
        (event) => event.type === 'analysis.progress' && event.status === 'running' && event.progress < 0.5,
      )
      .finally(() => events.close());
    expect(analysisIds).toContain(inFlight.analysisId);
    // The drain takes as long as the analysis; a server that never exits is killed and fails here.
    const killTimer = setTimeout(() => server?.process.kill('SIGKILL'), 45_000);
    const code = await server?.stop('SIGTERM').finally(() => clearTimeout(killTimer));
    expect(code, server?.logs()).toBe(0);
    expect(server?.logs()).toContain('"msg":"stopped"');
    expect(existsSync(join(dataDir, 'admin.sock'))).toBe(false);
    expect(existsSync(join(dataDir, 'db.lock'))).toBe(false);

    const database = await openDatabase({ dataDir, poolMax: 1, log: testLogger() });
    try {
      const rows = await database.db.selectFrom('analyses').select(['id', 'status', 'report']).execute();
      expect(rows.find((row) => row.id === inFlight.analysisId)).toMatchObject({
        status: 'done',
        report: expect.anything(),
      });
      // Nothing is left half-done: a job the server did not start stays queued for the next start.
      for (const row of rows) expect(['done', 'queued'], row.id).toContain(row.status);
    } finally {
      await database.close();
    }
  }, 90_000);

  it('stored the API key only as its hash (read from the database after the server stopped)', async () => {
    expect(server?.process.exitCode).toBe(0);
    const database = await openDatabase({ dataDir, poolMax: 1, log: testLogger() });
    try {
      const keys = await database.db.selectFrom('api_keys').selectAll().execute();
      expect(keys).toHaveLength(1);
      expect(keys[0]?.key_hash).toBe(hashApiKey(key));
      expect(keys[0]?.key_hash).not.toBe(key);
      const tables = await sql<{ table_name: string }>`
        select table_name from information_schema.tables
        where table_schema = 'public' and table_type = 'BASE TABLE'
      `.execute(database.db);
      expect(tables.rows.map((table) => table.table_name)).toContain('api_keys');
      for (const { table_name: table } of tables.rows) {
        const rows = await sql<{ row: string }>`select t::text as row from ${sql.table(table)} t`.execute(
          database.db,
        );
        for (const { row } of rows.rows) expect(row, `a row of ${table}`).not.toContain(key.slice(4));
      }
    } finally {
      await database.close();
    }
  });
});
