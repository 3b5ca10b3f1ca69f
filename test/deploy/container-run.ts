// Runs the container image's start step on this host, the way the image runs it: deploy/container/start.sh
// from an app directory, with DATA_DIR the only writable path (a private mount namespace whose every mount is
// read-only, /tmp included). Shared by test/deploy/container-start.test.ts and `npm run test:container`.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const readOnlyRootScript = fileURLToPath(new URL('./read-only-root.sh', import.meta.url));

/** True where this process may make a mount namespace and remount in it (root, util-linux unshare). */
export function canIsolateMounts(): boolean {
  const probe = spawnSync('unshare', ['-m', '--propagation', 'private', 'true'], { stdio: 'ignore' });
  return probe.status === 0;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

export interface Sandbox {
  root: string;
  dataDir: string;
  secretsDir: string;
  cleanup(): Promise<void>;
}

/** A temp dir with an empty DATA_DIR and secret files made by the compose helper (deploy/compose/make-secrets.sh). */
export async function makeSandbox(): Promise<Sandbox> {
  const root = await mkdtemp(join(tmpdir(), 'guardian-container-'));
  const dataDir = join(root, 'data');
  const secretsDir = join(root, 'secrets');
  await mkdir(dataDir, { mode: 0o700 });
  const made = spawnSync('sh', [join(repoRoot, 'deploy/compose/make-secrets.sh'), secretsDir], {
    encoding: 'utf8',
  });
  if (made.status !== 0) throw new Error(`make-secrets.sh failed: ${made.stderr}`);
  return { root, dataDir, secretsDir, cleanup: () => rm(root, { recursive: true, force: true }) };
}

export interface RunningApp {
  child: ChildProcess;
  output(): string;
  /** SIGTERM, then the exit code (SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<number | null>;
}

/** Starts `start.sh ...args` from appDir with DATA_DIR as the only writable path (or plainly, when isolate is false). */
/** The environment both container tests start `serve` with: production rules, secrets as files, a free metrics port. */
export function productionServeEnv(secretsDir: string, port: number): Record<string, string> {
  return {
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'warn',
    MASTER_KEY_FILE: join(secretsDir, 'master_key'),
    LOG_SIGNING_KEY_FILE: join(secretsDir, 'log_signing_key.pem'),
    // A free port, so a server already on the default 9464 (npm start, another test) cannot collide.
    METRICS_PORT: '0',
  };
}

export function startApp(options: {
  appDir: string;
  dataDir: string;
  env: Record<string, string>;
  args: string[];
  isolate: boolean;
}): RunningApp {
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    APP_DIR: options.appDir,
    DATA_DIR: options.dataDir,
    ...options.env,
  };
  const startScript = join(options.appDir, 'deploy/container/start.sh');
  const child = options.isolate
    ? spawn('unshare', ['-m', '--propagation', 'private', 'sh', readOnlyRootScript, ...options.args], {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      })
    : spawn('sh', [startScript, ...options.args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: Buffer) => {
    // Bounded: a server that logs forever must not grow the test's memory.
    if (output.length < 1_000_000) output += chunk.toString('utf8');
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return {
    child,
    output: () => output,
    async stop(graceMs = 15_000) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** Polls GET url until it answers 200; throws with the app's output when the app exits or time runs out. */
export async function waitFor200(url: string, app: RunningApp, timeoutMs: number): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    if (app.child.exitCode !== null || app.child.signalCode !== null) {
      throw new Error(`the app exited (${app.child.exitCode ?? app.child.signalCode}):\n${app.output()}`);
    }
    const status = await fetch(url, { signal: AbortSignal.timeout(2_000) }).then(
      (response) => response.status,
      () => 0,
    );
    if (status === 200) return performance.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms:\n${app.output()}`);
}

/** Runs the image's HEALTHCHECK command (node deploy/container/healthcheck.mjs) from appDir; its exit code. */
export function runHealthcheck(appDir: string, port: number): number | null {
  return spawnSync(process.execPath, [join(appDir, 'deploy/container/healthcheck.mjs')], {
    env: { PATH: process.env.PATH ?? '', PORT: String(port) },
    stdio: 'ignore',
    timeout: 10_000,
  }).status;
}

/**
 * Files under `dir` modified after `marker` was written, skipping `except` (the data dir). `find -newer`, so it
 * also catches writes where the read-only mounts could not be made.
 */
export function filesChangedSince(dir: string, marker: string, except: string[]): string[] {
  const prune = except.flatMap((path) => ['-path', path, '-prune', '-o']);
  const found = spawnSync('find', [dir, ...prune, '-newer', marker, '-print'], {
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
  });
  if (found.status !== 0) throw new Error(`find failed: ${found.stderr}`);
  return found.stdout.split('\n').filter((line) => line !== '' && line !== dir && line !== `${dir}/`);
}

export async function writeMarker(path: string): Promise<void> {
  await writeFile(path, '');
  // find -newer compares modification times: the next write must land on a later tick than the marker.
  await new Promise((resolve) => setTimeout(resolve, 20));
}
