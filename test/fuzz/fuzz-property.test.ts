import { describe, expect, it } from 'vitest';
import { runFuzz } from './fuzz-run.js';
import { formatSummary, violationGroups } from './fuzz-summary.js';
import { fuzzSettings } from './fuzz-settings.js';

// A fixed seed keeps `npm test` repeatable; `npm run test:fuzz` draws a fresh one each run, with far more
// cases. 60 here: CI's whole run must stay under 25 minutes on 2 cores.
const settings = fuzzSettings({ cases: 60, seed: 20261204, maxMinutes: 8 });

describe('fuzz corpus through POST /api/v1/media (guardian serve, embedded defaults)', () => {
  it(
    `every mutated file ends as a 4xx problem+json or a done analysis, with no 5xx, failed or stuck analysis, temp file or RSS jump (FUZZ_SEED=${settings.runSeed})`,
    async () => {
      console.log(
        `fuzz: FUZZ_SEED=${settings.runSeed} FUZZ_CASES=${settings.cases}; failing files go to ${settings.failuresDir}`,
      );
      const run = await runFuzz({ ...settings, log: (line) => console.log(line) });
      console.log(formatSummary(run));
      expect(run.results.length).toBeGreaterThanOrEqual(settings.cases);
      expect(violationGroups(run.results), formatSummary(run)).toEqual([]);
      expect(run.leftovers.map((file) => file.path)).toEqual([]);
      expect(run.serverExitCode).toBe(0);
    },
    // Start-up (seeds, a first PGlite start) plus the case limit plus one analysis budget for the last cases.
    settings.maxRunMs + settings.analysisBudgetMs + 10 * 60_000,
  );
});
