// `npm run test:fuzz`: the long fuzz run (thousands of files), bounded by FUZZ_MAX_MINUTES; exit 1 on any violation.
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { runFuzz } from './fuzz-run.js';
import { formatSummary } from './fuzz-summary.js';
import { fuzzSettings } from './fuzz-settings.js';

const settings = fuzzSettings({ cases: 3000, seed: 'random', maxMinutes: 30 });
console.log(
  `fuzz: FUZZ_SEED=${settings.runSeed} FUZZ_CASES=${settings.cases}${settings.only ? ` FUZZ_ONLY=${settings.only}` : ''}` +
    ` (replay with the same values); failing files go to ${settings.failuresDir}`,
);
const run = await runFuzz({ ...settings, log: (line) => console.log(line) });
console.log(formatSummary(run));
mkdirSync(settings.failuresDir!, { recursive: true });
writeFileSync(
  join(settings.failuresDir!, 'run.json'),
  `${JSON.stringify({ ...run, results: run.results }, null, 1)}\n`,
);
const violations = run.results.filter((result) => result.violations.length > 0).length + run.leftovers.length;
process.exitCode = violations > 0 ? 1 : 0;
