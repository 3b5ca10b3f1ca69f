import { defineConfig } from 'vitest/config';
import SlowFirstSequencer from './test/support/slow-first-sequencer.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
    sequence: { sequencer: SlowFirstSequencer },
    reporters: ['default', './test/support/summary-reporter.ts'],
    // npm run coverage: in-process code only (spawned `guardian` processes are not instrumented).
    coverage: {
      provider: 'v8',
      include: ['src/**/*.ts'],
      // The pattern also matches web/src (the web app has its own tests and build).
      exclude: ['web/**'],
      reporter: ['text-summary', 'json-summary', 'html'],
      reportsDirectory: 'coverage',
      thresholds: { lines: 80 },
      // The figure is worth having even when a test fails (its summary says so); the exit code still fails.
      reportOnFailure: true,
    },
  },
});
