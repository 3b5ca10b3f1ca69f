import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Cleanup } from './cleanup.js';

export interface ProcessResult {
  code: number | null;
  stdout: string;
  stderr: string;
  elapsedMs: number;
}

export interface RunOptions {
  cleanup: Cleanup;
  timeoutMs: number;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Called once the child exists, e.g. to start sampling its memory. */
  onSpawn?: (child: ChildProcess) => void;
}

// Output kept per stream: enough for a report on stdout and an error's tail, bounded for chatty children.
const maxCapturedChars = 4 * 1024 * 1024;

/** Runs a command to completion with a hard timeout; rejects on a non-zero exit, naming the stderr tail. */
export function runProcess(command: string, args: string[], options: RunOptions): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const release = options.cleanup.add(() => killIfRunning(child));
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout = appendBounded(stdout, chunk)));
    child.stderr.on('data', (chunk: Buffer) => (stderr = appendBounded(stderr, chunk)));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killIfRunning(child);
    }, options.timeoutMs);
    options.onSpawn?.(child);
    child.on('error', (error) => {
      clearTimeout(timer);
      release();
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      release();
      const elapsedMs = performance.now() - started;
      const name = [command, ...args].join(' ');
      if (timedOut) reject(new Error(`${name} timed out after ${options.timeoutMs} ms:\n${tail(stderr)}`));
      else if (code !== 0) reject(new Error(`${name} exited with ${code}:\n${tail(stderr)}`));
      else resolve({ code, stdout, stderr, elapsedMs });
    });
  });
}

export function killIfRunning(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (child.exitCode === null && child.signalCode === null) child.kill(signal);
}

function appendBounded(text: string, chunk: Buffer): string {
  const next = text + chunk.toString();
  return next.length > maxCapturedChars ? next.slice(-maxCapturedChars) : next;
}

export function tail(text: string, lines = 20): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** The error with a server's recent log appended; waits a moment so the server's own error line is in it. */
export async function withServerLog(error: unknown, logTail: () => string): Promise<Error> {
  await sleep(300);
  const message = error instanceof Error ? error.message : String(error);
  return new Error(`${message}\nserver log (tail):\n${logTail()}`, { cause: error });
}
