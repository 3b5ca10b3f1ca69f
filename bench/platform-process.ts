import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './bench-settings.js';
import type { Cleanup } from './cleanup.js';
import { runProcess, type ProcessResult } from './processes.js';
import { startServerProcess, type ServerProcess } from './server-process.js';

// Run from source (like the e2e tests) so the bench never measures a stale dist/.
const cliArgs = ['--import', 'tsx', 'test/support/guardian-cli.ts'];
const servingMessage = 'SecureAI Guardian is serving';

export interface PlatformOptions {
  cleanup: Cleanup;
  /** Analysis workers in the server; 0 keeps uploads from starting analyses (pure upload timing). */
  workerConcurrency: number;
  maxUploadBytes: number;
}

export interface PlatformProcess extends ServerProcess {
  /** Environment for `guardian` CLI calls against this server (its DATA_DIR and admin socket). */
  env: NodeJS.ProcessEnv;
}

/** The caller's environment minus anything that would take the platform out of embedded mode. */
export function embeddedEnv(): NodeJS.ProcessEnv {
  return { ...process.env, DATABASE_URL: undefined, REDIS_URL: undefined, MASTER_KEY: undefined };
}

/** Starts `guardian serve` on embedded defaults in a fresh DATA_DIR (deleted on stop) on a free loopback port. */
export async function startPlatform(options: PlatformOptions): Promise<PlatformProcess> {
  const { cleanup } = options;
  const dataDir = mkdtempSync(join(tmpdir(), 'guardian-bench-'));
  const removeDataDir = cleanup.add(() => rmSync(dataDir, { recursive: true, force: true }));
  const env: NodeJS.ProcessEnv = {
    ...embeddedEnv(),
    NODE_ENV: 'development',
    HOST: '127.0.0.1',
    PORT: '0',
    DATA_DIR: dataDir,
    LOG_LEVEL: 'info',
    MAX_UPLOAD_BYTES: String(options.maxUploadBytes),
    WORKER_CONCURRENCY: String(options.workerConcurrency),
    // A job still running at the end of a scenario is handed back rather than awaited.
    SHUTDOWN_TIMEOUT_MS: '2000',
  };
  try {
    const server = await startServerProcess({
      args: [...cliArgs, 'serve'],
      cwd: repoRoot,
      env,
      cleanup,
      urlFromLine: servingUrl,
      startTimeoutMs: 60_000,
      stopTimeoutMs: 20_000,
    });
    return {
      ...server,
      env,
      stop: async () => {
        await server.stop();
        removeDataDir();
      },
    };
  } catch (error) {
    removeDataDir();
    throw error;
  }
}

/** Creates an organisation and an analyst API key through the CLI (the server's admin socket); returns the key. */
export async function createApiKey(platform: PlatformProcess, cleanup: Cleanup): Promise<string> {
  const org = 'Bench';
  await runGuardian(['org', 'create', org], platform.env, cleanup);
  const created = await runGuardian(
    ['apikey', 'create', '--org', org, '--name', 'bench'],
    platform.env,
    cleanup,
  );
  // The key is printed once, alone on the last line.
  const key = created.stdout.trim().split('\n').at(-1)?.trim() ?? '';
  if (!key) throw new Error(`apikey create printed no key:\n${created.stdout}${created.stderr}`);
  return key;
}

/** Runs one `guardian` CLI command from source to completion. */
export function runGuardian(
  args: string[],
  env: NodeJS.ProcessEnv,
  cleanup: Cleanup,
  extra: { timeoutMs?: number; onSpawn?: (pid: number) => void } = {},
): Promise<ProcessResult> {
  return runProcess(process.execPath, [...cliArgs, ...args], {
    cleanup,
    cwd: repoRoot,
    env,
    timeoutMs: extra.timeoutMs ?? 60_000,
    onSpawn: (child) => {
      if (child.pid) extra.onSpawn?.(child.pid);
    },
  });
}

function servingUrl(line: string): string | null {
  if (!line.startsWith('{')) return null;
  try {
    const entry = JSON.parse(line) as { msg?: unknown; url?: unknown };
    return entry.msg === servingMessage && typeof entry.url === 'string' ? entry.url : null;
  } catch {
    return null;
  }
}
