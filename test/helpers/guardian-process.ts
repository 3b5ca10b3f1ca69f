import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const cliEntry = fileURLToPath(new URL('../support/guardian-cli.ts', import.meta.url));
const builtCliEntry = fileURLToPath(new URL('../support/guardian-cli-built.mjs', import.meta.url));
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** True when dist/ was built after the newest change under src/ (`bin/guardian.js` runs dist/). */
export function builtCliIsFresh(): boolean {
  const built = statSync(join(repoRoot, 'dist/cli/main.js'), { throwIfNoEntry: false });
  const newest = readdirSync(join(repoRoot, 'src'), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .reduce((latest, entry) => Math.max(latest, statSync(join(entry.parentPath, entry.name)).mtimeMs), 0);
  return built !== undefined && built.mtimeMs >= newest;
}

// Decided once per test process: dist/ as `npm ci` built it when fresh, else the sources through tsx.
let runBuilt: boolean | undefined;

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cliArgs(args: string[]): string[] {
  runBuilt ??= builtCliIsFresh();
  return runBuilt ? [builtCliEntry, ...args] : ['--import', 'tsx', cliEntry, ...args];
}

/** Runs `guardian ARGS` to completion. */
export function runGuardian(
  args: string[],
  env: NodeJS.ProcessEnv,
  options: { input?: string; timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, cliArgs(args), {
      cwd: repoRoot,
      // Parallel test processes must not fight over the default metrics port 9464.
      env: { ...process.env, METRICS_PORT: '0', ...env },
      stdio: 'pipe',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 90_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

export interface RunningGuardian {
  process: ChildProcess;
  /** Base URL once the server logged that it is serving (null for workers). */
  url: string | null;
  /** Its `/metrics` URL as logged (null when METRICS_PORT is off). */
  metricsUrl: string | null;
  logs(): string;
  /** SIGTERM, then wait for exit; returns the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `guardian serve` or `guardian worker` and waits until it says it is up. */
export function startGuardian(
  command: 'serve' | 'worker',
  env: NodeJS.ProcessEnv,
  timeoutMs = 60_000,
): Promise<RunningGuardian> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, cliArgs([command]), {
      cwd: repoRoot,
      env: { ...process.env, LOG_LEVEL: 'info', METRICS_PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let settled = false;
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    const running: RunningGuardian = {
      process: child,
      url: null,
      metricsUrl: null,
      logs: () => output,
      stop: async (signal = 'SIGTERM') => {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
        return exited;
      },
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      if (!settled) reject(new Error(`guardian ${command} did not start in ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (settled) return;
      for (const line of output.split('\n').slice(0, -1)) {
        if (!line.startsWith('{')) continue;
        const entry = JSON.parse(line) as { msg?: string; url?: string; metrics?: string };
        if (entry.msg === 'SecureAI Guardian is serving' || entry.msg === 'worker started') {
          settled = true;
          clearTimeout(timer);
          running.url = entry.url ?? null;
          running.metricsUrl = entry.metrics?.startsWith('http') ? entry.metrics : null;
          resolve(running);
          return;
        }
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (!settled) {
        settled = true;
        reject(new Error(`guardian ${command} exited with ${code}:\n${output}`));
      }
    });
  });
}
