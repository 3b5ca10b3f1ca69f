import type { Reporter, TestCase, TestModule } from 'vitest/node';

const slowestShown = 12;

/**
 * Ends the run with a plain `tests: N passed, N failed, N skipped` line that CI tooling can read, after the
 * slowest test files (CI must stay under its time budget).
 */
export default class SummaryReporter implements Reporter {
  private passed = 0;
  private failed = 0;
  private skipped = 0;
  private readonly fileDurations: { file: string; ms: number }[] = [];

  onTestCaseResult(testCase: TestCase): void {
    const state = testCase.result().state;
    if (state === 'passed') this.passed += 1;
    else if (state === 'failed') this.failed += 1;
    else this.skipped += 1;
  }

  onTestModuleEnd(testModule: TestModule): void {
    this.fileDurations.push({ file: testModule.relativeModuleId, ms: testModule.diagnostic().duration });
  }

  onTestRunEnd(): void {
    const slowest = [...this.fileDurations].sort((a, b) => b.ms - a.ms).slice(0, slowestShown);
    const lines = slowest.map(({ file, ms }) => `  ${(ms / 1000).toFixed(1).padStart(7)} s  ${file}`);
    if (lines.length) process.stdout.write(`\nslowest test files:\n${lines.join('\n')}\n`);
    process.stdout.write(`\ntests: ${this.passed} passed, ${this.failed} failed, ${this.skipped} skipped\n`);
  }
}
