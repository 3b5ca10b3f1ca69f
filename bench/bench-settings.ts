import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { isLoopback } from '../src/config/load-config.js';

export const benchParts = ['time-to-report', 'stages', 'upload', 'memory', 'cache'] as const;
export type BenchPart = (typeof benchParts)[number];

export interface BenchSettings {
  /** Length of the 1080p clip for time-to-report (BENCH_SECONDS). */
  clipSeconds: number;
  /** Minimum size of the upload-throughput file in MiB (BENCH_UPLOAD_MIB). */
  uploadMiB: number;
  /** How long an idle server is watched before its resident memory is read (BENCH_IDLE_SECONDS). */
  idleSeconds: number;
  /** Runs of each start-up command; min and median are reported (BENCH_STARTUP_RUNS). */
  startupRuns: number;
  /** Length of each autocannon run of P4, the cached report GET against a hello route (BENCH_LOAD_SECONDS). */
  loadSeconds: number;
  /**
   * PostgreSQL the scaled-mode figures use (BENCH_DATABASE_URL): a fresh database is created there and
   * dropped afterwards. Loopback only.
   */
  postgresAdminUrl: string;
  /** Redis for the scaled P4 run (BENCH_REDIS_URL, loopback; keys under a fresh prefix, deleted afterwards). */
  redisUrl: string;
  /** `npm run bench -- --only memory` (or time-to-report, stages, upload, cache): the parts to run. */
  parts: readonly BenchPart[];
  repoRoot: string;
  /** Generated media and results.json; git-ignored. */
  cacheDir: string;
}

export const repoRoot = fileURLToPath(new URL('..', import.meta.url));

export function readBenchSettings(
  env: NodeJS.ProcessEnv = process.env,
  argv: string[] = process.argv.slice(2),
): BenchSettings {
  const postgresAdminUrl = env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
  const { hostname } = new URL(postgresAdminUrl);
  // The bench creates and drops a database there: it must be this machine's.
  if (!isLoopback(hostname.replace(/^\[|\]$/g, ''))) {
    throw new Error(`BENCH_DATABASE_URL must name a loopback host, got ${hostname}`);
  }
  return {
    clipSeconds: positiveInteger(env, 'BENCH_SECONDS', 60),
    uploadMiB: positiveInteger(env, 'BENCH_UPLOAD_MIB', 1024),
    idleSeconds: positiveInteger(env, 'BENCH_IDLE_SECONDS', 10),
    startupRuns: positiveInteger(env, 'BENCH_STARTUP_RUNS', 10),
    loadSeconds: positiveInteger(env, 'BENCH_LOAD_SECONDS', 10),
    postgresAdminUrl,
    redisUrl: loopbackUrl(env.BENCH_REDIS_URL || 'redis://127.0.0.1:6379', 'BENCH_REDIS_URL'),
    parts: readParts(argv),
    repoRoot,
    cacheDir: join(repoRoot, '.bench'),
  };
}

function loopbackUrl(url: string, name: string): string {
  const { hostname } = new URL(url);
  if (!isLoopback(hostname.replace(/^\[|\]$/g, '')))
    throw new Error(`${name} must name a loopback host, got ${hostname}`);
  return url;
}

function readParts(argv: string[]): readonly BenchPart[] {
  if (argv.length === 0) return benchParts;
  const [flag, value, ...rest] = argv;
  const part = benchParts.find((name) => name === value);
  if (flag !== '--only' || !part || rest.length > 0) {
    throw new Error(`usage: npm run bench [-- --only ${benchParts.join('|')}]`);
  }
  return [part];
}

function positiveInteger(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 100_000) {
    throw new Error(`${name} must be a whole number between 1 and 100000, got "${raw}"`);
  }
  return value;
}
