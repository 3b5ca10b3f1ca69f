import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Cleanup } from './cleanup.js';
import { killIfRunning, tail } from './processes.js';

export interface ServerProcess {
  url: string;
  pid: number;
  /** The last lines of its stdout and stderr. */
  logTail(): string;
  /** Everything it logged (up to the last 64 KiB). */
  logText(): string;
  /** SIGTERM, wait for exit (SIGKILL after stopTimeoutMs). */
  stop(): Promise<void>;
}

export interface ServerProcessOptions {
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  cleanup: Cleanup;
  /** Recognises the stdout line announcing the server is up and returns its base URL. */
  urlFromLine(line: string): string | null;
  startTimeoutMs: number;
  stopTimeoutMs: number;
  /** Called as soon as the child exists, e.g. to watch its memory through start-up. */
  onSpawn?: (pid: number) => void;
}

const maxLogChars = 64 * 1024;

/** Spawns a Node server child and resolves once it announces its URL; killed on failure or interruption. */
export async function startServerProcess(options: ServerProcessOptions): Promise<ServerProcess> {
  const child = spawn(process.execPath, options.args, {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const killChild = options.cleanup.add(() => killIfRunning(child));
  if (child.pid) options.onSpawn?.(child.pid);
  // Lines, dropped from the front beyond maxLogChars: a server logging every request under load (P4) must
  // not cost this process a 64 KiB copy per line.
  const lines: string[] = [];
  let chars = 0;
  const remember = (line: string) => {
    lines.push(line);
    chars += line.length + 1;
    while (chars > maxLogChars && lines.length > 1) chars -= (lines.shift()?.length ?? 0) + 1;
  };
  const logText = () => lines.join('\n') + (lines.length > 0 ? '\n' : '');
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const stop = async () => {
    killIfRunning(child, 'SIGTERM');
    const timer = setTimeout(() => killIfRunning(child), options.stopTimeoutMs);
    await exited;
    clearTimeout(timer);
    killChild();
  };
  createInterface({ input: child.stderr }).on('line', remember);
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`server did not start in ${options.startTimeoutMs} ms:\n${tail(logText())}`)),
        options.startTimeoutMs,
      );
      child.once('error', reject);
      child.once('close', (code) => reject(new Error(`server exited with ${code}:\n${tail(logText())}`)));
      createInterface({ input: child.stdout }).on('line', (line) => {
        remember(line);
        const url = options.urlFromLine(line);
        if (!url) return;
        clearTimeout(timer);
        resolve(url);
      });
    });
    if (!child.pid) throw new Error('server child has no pid');
    return { url, pid: child.pid, logTail: () => tail(logText()), logText, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
