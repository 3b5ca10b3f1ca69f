import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The slowest test files as CI measured them (the summary reporter prints them), slowest first. A clean clone
 * has no vitest cache, and the default order (largest file first) started the 4-minute fuzz file last, so the
 * run ended with one worker busy and one idle; starting the long files first packs the two workers.
 */
const slowestFirst = [
  'test/fuzz/fuzz-property.test.ts',
  'test/evaluation/eval-quick.test.ts',
  'test/resilience/worker-crashes.test.ts',
  'test/resilience/api-crash.test.ts',
  'test/browser/account.browser.test.ts',
  'test/browser/upload.browser.test.ts',
  'test/browser/report.browser.test.ts',
  'test/resilience/postgres-outage.test.ts',
  'test/pipeline/gop-single-encodes.test.ts',
  'test/e2e/serve-embedded.e2e.test.ts',
  'test/browser/verify.browser.test.ts',
  'test/e2e/serve-scaled.e2e.test.ts',
  'test/e2e/serve-scaled-s3.e2e.test.ts',
];

export default class SlowFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const byDefault = await super.sort(files);
    const rank = (file: TestSpecification) => {
      const index = slowestFirst.indexOf(relative(this.ctx.config.root, file.moduleId));
      return index === -1 ? slowestFirst.length : index;
    };
    // A stable sort keeps the default order (cached durations when a cache exists) among the rest.
    return byDefault.sort((a, b) => rank(a) - rank(b));
  }
}
