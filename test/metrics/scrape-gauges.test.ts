import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createGuardianMetrics } from '../../src/metrics/guardian-metrics.js';
import { registerScrapeGauges, type ScrapeSources } from '../../src/metrics/scrape-gauges.js';
import { parseExposition, sumOf } from './exposition.js';

const sources = (overrides: Partial<ScrapeSources>): ScrapeSources => ({
  queue: {
    backlog: async () => [
      { name: 'analysis.run', waiting: 3, delayed: 1, active: 2, oldestWaitingSeconds: 42 },
    ],
  },
  database: { connectionStats: () => ({ total: 4, idle: 1, waiting: 2 }) },
  anchors: {
    byKind: async () => [
      {
        kind: 'rfc3161',
        pending: 1,
        failed: 2,
        anchored: 5,
        oldestPendingAt: new Date(1_000_000),
        lastAnchoredAt: new Date(900_000),
      },
    ],
  },
  dataDir: '.',
  info: { role: 'worker', database: 'postgres', queue: 'bullmq' },
  now: () => 1_060_000,
  ...overrides,
});

async function scrape(overrides: Partial<ScrapeSources>, times = 1) {
  const registry = new Registry();
  registerScrapeGauges(registry, createGuardianMetrics(registry), sources(overrides));
  const started = Date.now();
  let text = '';
  for (let scrape = 0; scrape < times; scrape += 1) text = await registry.metrics();
  return { samples: parseExposition(text).samples, elapsedMs: Date.now() - started };
}

describe('scrape-time gauges', () => {
  it('read their sources when scraped', async () => {
    const { samples } = await scrape({});
    expect(sumOf(samples, 'guardian_queue_jobs', { job_name: 'analysis.run', state: 'waiting' })).toBe(3);
    expect(sumOf(samples, 'guardian_queue_jobs', { job_name: 'analysis.run', state: 'active' })).toBe(2);
    expect(sumOf(samples, 'guardian_queue_oldest_waiting_job_age_seconds')).toBe(42);
    expect(sumOf(samples, 'guardian_anchors', { kind: 'rfc3161', status: 'failed' })).toBe(2);
    expect(sumOf(samples, 'guardian_anchor_oldest_pending_age_seconds', { kind: 'rfc3161' })).toBe(60);
    expect(sumOf(samples, 'guardian_anchor_last_success_timestamp_seconds')).toBe(900);
    expect(sumOf(samples, 'guardian_db_pool_connections', { state: 'idle' })).toBe(1);
    expect(sumOf(samples, 'guardian_db_pool_waiting_requests')).toBe(2);
    expect(sumOf(samples, 'guardian_data_dir_free_bytes')).toBeGreaterThan(0);
  });

  it('leave out a source that hangs or fails, within the time bound, and count it', async () => {
    const { samples, elapsedMs } = await scrape(
      {
        queue: { backlog: () => new Promise(() => {}) },
        anchors: { byKind: async () => Promise.reject(new Error('database gone')) },
        dataDir: '/no/such/guardian/data/dir',
        timeoutMs: 100,
        // Two scrapes, a reading apart: the error counter is read alongside the gauges, so it shows the
        // first scrape's failures in the second.
        now: () => 1_060_000,
      },
      2,
    );
    expect(elapsedMs).toBeLessThan(4_000);
    expect(samples.filter((sample) => sample.name.startsWith('guardian_queue_'))).toEqual([]);
    expect(samples.filter((sample) => sample.name.startsWith('guardian_anchor'))).toEqual([]);
    const disk = samples.filter((sample) => sample.name.startsWith('guardian_data_dir_'));
    expect(disk.map((sample) => sample.value)).toEqual([Number.NaN, Number.NaN]);
    for (const source of ['queue', 'anchors', 'data_dir'])
      expect(
        sumOf(samples, 'guardian_metrics_collect_errors_total', { source }),
        source,
      ).toBeGreaterThanOrEqual(1);
    expect(sumOf(samples, 'guardian_db_pool_connections', { state: 'total' })).toBe(4);
  });
});
