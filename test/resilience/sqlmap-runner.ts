import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InjectionTarget } from './sqlmap-targets.js';

/** Why sqlmap cannot run here, or null when Debian's sqlmap is installed. */
export const sqlmapUnavailable: string | null =
  spawnSync('sqlmap', ['--version'], { encoding: 'utf8' }).status === 0 ? null : 'sqlmap is not installed';

export interface SqlmapSettings {
  level: number;
  risk: number;
  /** Kills sqlmap past this (its own --timeout and --retries bound each request). */
  processTimeoutMs: number;
  /** `--randomize`: a parameter whose value changes on every request (the login email, past the throttle). */
  randomize?: string;
  /** `--technique` (default: all of BEUSTQ). */
  technique?: string;
}

export interface SqlmapResult {
  target: InjectionTarget;
  /** Injection points sqlmap confirmed (`Parameter: …` in its log), empty when none. */
  injectable: string[];
  /** Places a heuristic flagged that sqlmap then dropped as false positives or unexploitable. */
  suspected: string[];
  /** sqlmap's log of the confirmed points (technique, title, payload), empty when none. */
  evidence: string;
  /** Places sqlmap tested and found not injectable. */
  clean: string[];
  /** Places it started testing. */
  tested: string[];
  /** HTTP requests sent, and how many got each status (from sqlmap's traffic file). */
  requests: number;
  statuses: Record<string, number>;
  /** Answers 429 `rate-limited` (the HTTP rate limit) and `too-many-attempts` (the sign-in throttle). */
  rateLimited: number;
  throttled: number;
  durationMs: number;
  /** Why the run proves nothing (sqlmap failed, was killed, or did not test every marked place); null if sound. */
  fault: string | null;
  output: string;
}

/** Runs Debian's sqlmap against one target in a throwaway output directory and reads its verdict. */
export async function runSqlmap(target: InjectionTarget, settings: SqlmapSettings): Promise<SqlmapResult> {
  const outputDir = mkdtempSync(join(tmpdir(), 'guardian-sqlmap-'));
  const traffic = join(outputDir, 'traffic.txt');
  const args = [
    '-u',
    target.url,
    '--method',
    target.method,
    ...target.headers.flatMap(([name, value]) => ['-H', `${name}: ${value}`]),
    ...(target.body !== undefined ? ['--data', target.body] : []),
    ...(settings.randomize ? ['--randomize', settings.randomize] : []),
    ...(settings.technique ? [`--technique=${settings.technique}`] : []),
    '--batch',
    `--level=${settings.level}`,
    `--risk=${settings.risk}`,
    // Both storage modes are PostgreSQL (PGlite is PostgreSQL compiled to WASM); generic payloads still run.
    '--dbms=PostgreSQL',
    '--flush-session',
    '--output-dir',
    outputDir,
    '-t',
    traffic,
    '--timeout=10',
    '--retries=1',
    '--disable-coloring',
    // The session cookie stays the one we sign in with; a cookie the server sets is not a place to inject.
    '--drop-set-cookie',
    '--skip-waf',
    // Writes use fresh ids (nothing real is deleted), so their baseline is a 404, and a public route's normal
    // answer may be 401/403 (a wrong password, an unsigned link): sqlmap stops at those unless told.
    '--ignore-code=401,403,404',
  ];
  const started = performance.now();
  try {
    const { code, output, killed } = await run('sqlmap', args, settings.processTimeoutMs);
    const durationMs = Math.round(performance.now() - started);
    const log = readLogs(outputDir);
    // `Parameter: JSON #1* ((custom) POST)` in the log, `parameter 'JSON #1*' appears to be …` on stdout.
    // Only what sqlmap confirmed counts: its log holds identified points, and "is vulnerable" follows a
    // confirmation. "appears to be … injectable" is a heuristic it may still reject as a false positive.
    const named = [
      ...[...log.matchAll(/^Parameter: (.+)$/gm)].map((m) =>
        m[1]!.replace(/ \((?:[^()]|\([^()]*\))*\)\s*$/, ''),
      ),
      ...[...output.matchAll(/parameter '([^']+)' is vulnerable/g)].map((m) => m[1]!),
    ];
    const injectable = [...new Set(named.map((name) => name.trim()))];
    const suspected = [
      ...new Set([...output.matchAll(/parameter '([^']+)' appears to be .+ injectable/g)].map((m) => m[1]!)),
    ];
    const tested = [...output.matchAll(/testing for SQL injection on .*?parameter '([^']+)'/g)].map(
      (m) => m[1]!,
    );
    const clean = [...output.matchAll(/parameter '([^']+)' does not seem to be injectable/g)].map(
      (m) => m[1]!,
    );
    const trafficText = existsSync(traffic) ? readFileSync(traffic, 'latin1') : '';
    const statuses: Record<string, number> = {};
    for (const match of trafficText.matchAll(/^HTTP response \[#\d+\] \((\d{3})/gm))
      statuses[match[1]!] = (statuses[match[1]!] ?? 0) + 1;
    const requests = [...trafficText.matchAll(/^HTTP request \[#\d+\]:/gm)].length;
    let fault: string | null = null;
    if (killed) fault = `killed after ${settings.processTimeoutMs} ms`;
    else if (code !== 0) fault = `sqlmap exited with ${code}`;
    else if (injectable.length === 0 && tested.length < target.points.length)
      fault = `tested ${tested.length} of ${target.points.length} marked places`;
    else if (injectable.length === 0 && clean.length < tested.length)
      fault = `${tested.length - clean.length} tested places have no verdict`;
    else if (requests === 0) fault = 'no HTTP traffic recorded';
    return {
      target,
      injectable,
      suspected,
      evidence: log.trim(),
      clean,
      tested,
      requests,
      statuses,
      rateLimited: count(trafficText, /"code":"rate-limited"/g),
      throttled: count(trafficText, /"code":"too-many-attempts"/g),
      durationMs,
      fault,
      output,
    };
  } finally {
    rmSync(outputDir, { recursive: true, force: true });
  }
}

/** Runs targets with at most `parallel` sqlmap processes at once, in order of the list. */
export async function runAll(
  targets: InjectionTarget[],
  settings: (target: InjectionTarget) => SqlmapSettings,
  parallel: number,
  onResult?: (result: SqlmapResult, done: number) => void,
): Promise<SqlmapResult[]> {
  const results: SqlmapResult[] = new Array(targets.length);
  let next = 0;
  let finished = 0;
  const lane = async () => {
    while (next < targets.length) {
      const index = next++;
      results[index] = await runSqlmap(targets[index]!, settings(targets[index]!));
      finished += 1;
      onResult?.(results[index]!, finished);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, targets.length) }, lane));
  return results;
}

const count = (text: string, pattern: RegExp) => [...text.matchAll(pattern)].length;

/** sqlmap's per-host `log` files (the injection points it identified), concatenated. */
function readLogs(outputDir: string): string {
  return readdirSync(outputDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => join(outputDir, entry.name, 'log'))
    .filter((file) => existsSync(file))
    .map((file) => readFileSync(file, 'utf8'))
    .join('\n');
}

function run(
  command: string,
  args: string[],
  timeoutMs: number,
): Promise<{ code: number | null; output: string; killed: boolean }> {
  return new Promise((resolve, reject) => {
    // TERM=dumb: no terminal escapes in what we parse.
    const child = spawn(command, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TERM: 'dumb' },
    });
    let output = '';
    let killed = false;
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output, killed });
    });
  });
}
