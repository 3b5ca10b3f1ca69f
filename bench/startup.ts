import { spawn } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { repoRoot } from './bench-settings.js';
import type { Cleanup } from './cleanup.js';
import type { GeneratedMedia } from './media.js';
import { embeddedEnv } from './platform-process.js';
import { killIfRunning, runProcess } from './processes.js';
import { childrenOf, commandLine, executable } from './rss.js';

/** Wall-clock milliseconds over several runs. */
export interface Timings {
  minMs: number;
  medianMs: number;
  samplesMs: number[];
}

export interface StartupFigures {
  runs: number;
  /** `node -e 0`: what Node itself costs on this machine at this moment, the floor under every CLI figure. */
  nodeBaseline: Timings;
  /** `node bin/guardian.js help`, spawn → exit. */
  help: Timings;
  /** `guardian analyze --json STILL`, spawn → the first child process (ffprobe) opening the file. */
  analyzeStartup: Timings;
  /** The same runs, spawn → exit with the report printed. */
  analyzeTotal: Timings;
  still: { path: string; bytes: number };
}

const runTimeoutMs = 60_000;
// Fine enough to time a start-up of a few hundred milliseconds to within a few.
const childPollMs = 2;

/** CLI start-up, the three commands interleaved so that each run of them meets the same machine load. */
export async function measureStartup(
  still: GeneratedMedia,
  runs: number,
  cleanup: Cleanup,
): Promise<StartupFigures> {
  const env = embeddedEnv();
  const node: number[] = [];
  const help: number[] = [];
  const analyzeStartup: number[] = [];
  const analyzeTotal: number[] = [];
  for (let run = 0; run < runs; run += 1) {
    node.push(
      (await runProcess(process.execPath, ['-e', '0'], { cleanup, timeoutMs: runTimeoutMs })).elapsedMs,
    );
    const helped = await runProcess(process.execPath, ['bin/guardian.js', 'help'], {
      cleanup,
      cwd: repoRoot,
      env,
      timeoutMs: runTimeoutMs,
    });
    if (!helped.stdout.startsWith('usage: guardian'))
      throw new Error(`guardian help printed:\n${helped.stdout}`);
    help.push(helped.elapsedMs);
    const analyzed = await timeAnalyze(still.path, env, cleanup);
    analyzeStartup.push(analyzed.startupMs);
    analyzeTotal.push(analyzed.totalMs);
  }
  return {
    runs,
    nodeBaseline: timings(node),
    help: timings(help),
    analyzeStartup: timings(analyzeStartup),
    analyzeTotal: timings(analyzeTotal),
    still: { path: still.path, bytes: still.bytes },
  };
}

/** Runs analyze --json, watching its children for the first one that names the file. */
async function timeAnalyze(
  path: string,
  env: NodeJS.ProcessEnv,
  cleanup: Cleanup,
): Promise<{ startupMs: number; totalMs: number }> {
  const started = performance.now();
  const child = spawn(process.execPath, ['bin/guardian.js', 'analyze', '--json', path], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const release = cleanup.add(() => killIfRunning(child));
  const timer = setTimeout(() => killIfRunning(child), runTimeoutMs);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
  let ended = false;
  void exited.then(() => (ended = true));
  let startupMs: number | null = null;
  // Until it execs, a forked child still runs node with the parent's command line (which names the file).
  const node = realpathSync(process.execPath);
  const opensFile = (pid: number) => commandLine(pid).includes(path) && executable(pid) !== node;
  while (!ended && startupMs === null && child.pid) {
    if (childrenOf(child.pid).some(opensFile)) {
      startupMs = performance.now() - started;
    } else {
      await sleep(childPollMs);
    }
  }
  const code = await exited;
  const totalMs = performance.now() - started;
  clearTimeout(timer);
  release();
  if (code !== 0) throw new Error(`guardian analyze exited with ${code}:\n${stderr.slice(-2000)}`);
  if (!('band' in (JSON.parse(stdout) as object))) throw new Error('guardian analyze printed no report');
  if (startupMs === null) throw new Error('guardian analyze never started a tool on the file');
  return { startupMs, totalMs };
}

function timings(samplesMs: number[]): Timings {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const middle = sorted.length / 2;
  const median = Number.isInteger(middle)
    ? ((sorted[middle - 1] ?? Number.NaN) + (sorted[middle] ?? Number.NaN)) / 2
    : (sorted[Math.floor(middle)] ?? Number.NaN);
  return { minMs: sorted[0] ?? Number.NaN, medianMs: median, samplesMs };
}
