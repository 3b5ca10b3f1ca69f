import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './bench-settings.js';
import type { Cleanup } from './cleanup.js';
import { runProcess, type ProcessResult } from './processes.js';
import { startServerProcess, type ServerProcess } from './server-process.js';

// The built CLI, as `npm start` runs it (run.ts rebuilds dist/ first, so it is never stale): tsx would add its
// own memory and start-up time to every figure.
const cliArgs = ['bin/guardian.js'];
const servingMessage = 'SecureAI Guardian is serving';

export interface PlatformOptions {
  cleanup: Cleanup;
  /** Analysis workers in the server; 0 keeps uploads from starting analyses (pure upload timing). */
  workerConcurrency: number;
  maxUploadBytes: number;
  /** An existing DATA_DIR to start on (kept on stop); unset: a fresh one, deleted on stop. */
  dataDir?: string;
  /** PostgreSQL for scaled mode; unset: the embedded database in DATA_DIR. */
  databaseUrl?: string;
  /** Redis for scaled mode (BullMQ, pub/sub, the read cache) under its own key prefix; unset: none. */
  redis?: { url: string; keyPrefix: string };
  onSpawn?: (pid: number) => void;
}

export interface PlatformProcess extends ServerProcess {
  /** Environment for `guardian` CLI calls against this server (its DATA_DIR and admin socket). */
  env: NodeJS.ProcessEnv;
}

/** The caller's environment minus anything that would take the platform out of embedded mode. */
export function embeddedEnv(): NodeJS.ProcessEnv {
  return { ...process.env, DATABASE_URL: undefined, REDIS_URL: undefined, MASTER_KEY: undefined };
}

/** Starts `guardian serve` (embedded defaults unless databaseUrl is given) on a free loopback port. */
export async function startPlatform(options: PlatformOptions): Promise<PlatformProcess> {
  const { cleanup } = options;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'guardian-bench-'));
  const removeDataDir = options.dataDir
    ? () => undefined
    : cleanup.add(() => rmSync(dataDir, { recursive: true, force: true }));
  const env: NodeJS.ProcessEnv = {
    ...embeddedEnv(),
    ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl } : {}),
    ...(options.redis ? { REDIS_URL: options.redis.url, REDIS_KEY_PREFIX: options.redis.keyPrefix } : {}),
    NODE_ENV: 'development',
    HOST: '127.0.0.1',
    PORT: '0',
    METRICS_PORT: '0',
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
      // A first start without the install-time database template runs initdb: minutes on a loaded machine.
      startTimeoutMs: 180_000,
      stopTimeoutMs: 20_000,
      ...(options.onSpawn ? { onSpawn: options.onSpawn } : {}),
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

/** Runs one `guardian` CLI command (the built one) to completion. */
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
