import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export interface BenchSettings {
  /** Length of the 1080p clip for time-to-report (BENCH_SECONDS). */
  clipSeconds: number;
  /** Minimum size of the upload-throughput file in MiB (BENCH_UPLOAD_MIB). */
  uploadMiB: number;
  repoRoot: string;
  /** Generated media and results.json; git-ignored. */
  cacheDir: string;
}

export const repoRoot = fileURLToPath(new URL('..', import.meta.url));

export function readBenchSettings(env: NodeJS.ProcessEnv = process.env): BenchSettings {
  return {
    clipSeconds: positiveInteger(env, 'BENCH_SECONDS', 60),
    uploadMiB: positiveInteger(env, 'BENCH_UPLOAD_MIB', 1024),
    repoRoot,
    cacheDir: join(repoRoot, '.bench'),
  };
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
