import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FuzzRunOptions } from './fuzz-run.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

function positiveInteger(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 0)
    throw new Error(`${name} must be a non-negative integer, got ${raw}`);
  return value;
}

/**
 * Fuzz settings from the environment: FUZZ_CASES, FUZZ_SEED (printed at start; give it back to replay),
 * FUZZ_ONLY (run only cases whose name contains it), FUZZ_CONCURRENCY, FUZZ_ANALYSIS_BUDGET_MS,
 * FUZZ_MAX_MINUTES and FUZZ_FAILURES_DIR (default .fuzz-failures/<seed>).
 */
export function fuzzSettings(defaults: {
  cases: number;
  seed: number | 'random';
  maxMinutes: number;
}): FuzzRunOptions {
  const runSeed = positiveInteger(
    'FUZZ_SEED',
    defaults.seed === 'random' ? randomInt(1, 2 ** 31) : defaults.seed,
  );
  return {
    cases: positiveInteger('FUZZ_CASES', defaults.cases),
    runSeed,
    concurrency: Math.max(1, positiveInteger('FUZZ_CONCURRENCY', 4)),
    analysisBudgetMs: positiveInteger('FUZZ_ANALYSIS_BUDGET_MS', 120_000),
    maxRunMs: positiveInteger('FUZZ_MAX_MINUTES', defaults.maxMinutes) * 60_000,
    rssJumpLimitBytes: 200 * 1024 * 1024,
    only: process.env.FUZZ_ONLY || undefined,
    failuresDir: process.env.FUZZ_FAILURES_DIR || join(repoRoot, '.fuzz-failures', String(runSeed)),
  };
}
