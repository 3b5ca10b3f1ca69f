// npm run test:resilience: every resilience suite in its full form, then one table of the figures they measured.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { figuresFileVariable, type ResilienceFigure } from '../test/resilience/figures.js';

const suites = [
  'test/resilience',
  // Their scaled kill -9 cases left `npm test` for CI time; worker-crashes covers them there in short form.
  'test/e2e/worker-recovery.e2e.test.ts',
  'test/e2e/kill-worker.e2e.test.ts',
  ...process.argv.slice(2),
];
const figuresFile = join('test-results', 'resilience-figures.jsonl');
mkdirSync('test-results', { recursive: true });
rmSync(figuresFile, { force: true });

const run = spawnSync('npx', ['vitest', 'run', ...suites], {
  stdio: 'inherit',
  env: { ...process.env, RESILIENCE: 'full', [figuresFileVariable]: join(process.cwd(), figuresFile) },
});

const figures: ResilienceFigure[] = existsSync(figuresFile)
  ? readFileSync(figuresFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as ResilienceFigure)
  : [];
const columns = ['suite', 'measure', 'value', 'target', 'met'] as const;
const rows = figures.map((figure) => [
  figure.suite,
  figure.measure,
  figure.value,
  figure.target,
  figure.met ? 'met' : 'MISSED',
]);
const widths = columns.map((column, index) =>
  Math.max(column.length, ...rows.map((row) => row[index]!.length)),
);
const line = (cells: readonly string[]) =>
  cells.map((cell, index) => cell.padEnd(widths[index]!)).join(' | ');
console.log(`\nresilience figures (${figures.length}, also in ${figuresFile}):`);
console.log(line(columns));
console.log(widths.map((width) => '-'.repeat(width)).join('-|-'));
for (const row of rows) console.log(line(row));
const missed = figures.filter((figure) => !figure.met).length;
if (missed > 0) console.log(`\n${missed} figure(s) missed their target`);
process.exit(run.status ?? 1);
