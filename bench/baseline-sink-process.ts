import { mkdtempSync, openAsBlob, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './bench-settings.js';
import type { Cleanup } from './cleanup.js';
import { startServerProcess, type ServerProcess } from './server-process.js';

/** Starts baseline-sink-server.ts in a child process writing into a fresh temp dir (deleted on stop). */
export async function startBaselineSink(cleanup: Cleanup): Promise<ServerProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'guardian-bench-sink-'));
  const removeDir = cleanup.add(() => rmSync(dir, { recursive: true, force: true }));
  try {
    const server = await startServerProcess({
      args: ['--import', 'tsx', 'bench/baseline-sink-server.ts', dir],
      cwd: repoRoot,
      env: process.env,
      cleanup,
      urlFromLine: (line) => (JSON.parse(line) as { url?: string }).url ?? null,
      startTimeoutMs: 30_000,
      stopTimeoutMs: 10_000,
    });
    return {
      ...server,
      stop: async () => {
        await server.stop();
        removeDir();
      },
    };
  } catch (error) {
    removeDir();
    throw error;
  }
}

/** POSTs the file as the raw body, streamed from disk by fetch; timed until the sink's 201 (after fsync). */
export async function postToSink(url: string, path: string, timeoutMs: number): Promise<number> {
  const body = await openAsBlob(path);
  const started = performance.now();
  const response = await fetch(url, { method: 'POST', body, signal: AbortSignal.timeout(timeoutMs) });
  const text = await response.text();
  const elapsedMs = performance.now() - started;
  if (response.status !== 201) throw new Error(`baseline sink answered ${response.status}: ${text}`);
  return elapsedMs;
}
