import { statfs } from 'node:fs/promises';
import { Gauge, type Registry } from 'prom-client';
import type { ConnectionStats } from '../db/pglite-dialect.js';
import type { JobBacklog } from '../queue/job-queue.js';
import type { AnchorKindStatus } from '../repositories/anchor-status.repository.js';
import type { GuardianMetrics } from './guardian-metrics.js';

/** What the gauges read when Prometheus scrapes: each read is bounded in time and shared by its gauges. */
export interface ScrapeSources {
  queue: { backlog(): Promise<JobBacklog[]> };
  database: { connectionStats(): ConnectionStats };
  anchors: { byKind(): Promise<AnchorKindStatus[]> };
  dataDir: string;
  /** Labels of guardian_process_info: which process and which adapters. */
  info: { role: 'serve' | 'worker'; database: string; queue: string };
  /** Per reading; a slower source is left out of that scrape, or NaN when unlabelled (guardian_metrics_collect_errors_total). */
  timeoutMs?: number;
  now?: () => number;
}

// Gauges of one scrape read their source together: one query, not one per gauge.
const readingReuseMs = 1_000;

export function registerScrapeGauges(
  registry: Registry,
  metrics: Pick<GuardianMetrics, 'collectErrors'>,
  sources: ScrapeSources,
): void {
  const registers = [registry];
  const now = sources.now ?? Date.now;
  const read = bounded(metrics, sources.timeoutMs ?? 2_000);
  const backlog = read('queue', () => sources.queue.backlog());
  const anchors = read('anchors', () => sources.anchors.byKind());
  const disk = read('data_dir', () => statfs(sources.dataDir));

  new Gauge({
    name: 'guardian_process_info',
    help: 'Always 1; labels say which process this is (serve, worker) and which database and queue it uses.',
    labelNames: ['role', 'database', 'queue'] as const,
    registers,
  }).set(sources.info, 1);

  new Gauge({
    name: 'guardian_queue_jobs',
    help: 'Jobs in the shared queue by job name and state (waiting = due, delayed, active); every process reports the same queue.',
    labelNames: ['job_name', 'state'] as const,
    registers,
    async collect() {
      this.reset();
      for (const entry of (await backlog()) ?? []) {
        this.set({ job_name: entry.name, state: 'waiting' }, entry.waiting);
        this.set({ job_name: entry.name, state: 'delayed' }, entry.delayed);
        this.set({ job_name: entry.name, state: 'active' }, entry.active);
      }
    },
  });
  new Gauge({
    name: 'guardian_queue_oldest_waiting_job_age_seconds',
    help: 'Seconds the longest-due waiting job of each name has been due (0 when none waits).',
    labelNames: ['job_name'] as const,
    registers,
    async collect() {
      this.reset();
      for (const entry of (await backlog()) ?? [])
        this.set({ job_name: entry.name }, entry.oldestWaitingSeconds ?? 0);
    },
  });

  new Gauge({
    name: 'guardian_anchors',
    help: 'Transparency-log anchors by kind (rfc3161, solana) and status (pending, failed, anchored).',
    labelNames: ['kind', 'status'] as const,
    registers,
    async collect() {
      this.reset();
      for (const entry of (await anchors()) ?? []) {
        this.set({ kind: entry.kind, status: 'pending' }, entry.pending);
        this.set({ kind: entry.kind, status: 'failed' }, entry.failed);
        this.set({ kind: entry.kind, status: 'anchored' }, entry.anchored);
      }
    },
  });
  new Gauge({
    name: 'guardian_anchor_oldest_pending_age_seconds',
    help: 'Age of the oldest anchor still pending, by kind (0 when none is).',
    labelNames: ['kind'] as const,
    registers,
    async collect() {
      this.reset();
      for (const entry of (await anchors()) ?? [])
        this.set(
          { kind: entry.kind },
          entry.oldestPendingAt ? Math.max(0, (now() - entry.oldestPendingAt.getTime()) / 1000) : 0,
        );
    },
  });
  new Gauge({
    name: 'guardian_anchor_last_success_timestamp_seconds',
    help: 'Unix time of the newest successful anchor, by kind (absent before the first).',
    labelNames: ['kind'] as const,
    registers,
    async collect() {
      this.reset();
      for (const entry of (await anchors()) ?? [])
        if (entry.lastAnchoredAt) this.set({ kind: entry.kind }, entry.lastAnchoredAt.getTime() / 1000);
    },
  });

  new Gauge({
    name: 'guardian_db_pool_connections',
    help: 'Database connections of this process by state (total, idle); PGlite counts its one connection.',
    labelNames: ['state'] as const,
    registers,
    collect() {
      const stats = sources.database.connectionStats();
      this.set({ state: 'total' }, stats.total);
      this.set({ state: 'idle' }, stats.idle);
    },
  });
  new Gauge({
    name: 'guardian_db_pool_waiting_requests',
    help: 'Queries of this process waiting for a database connection.',
    registers,
    collect() {
      this.set(sources.database.connectionStats().waiting);
    },
  });

  new Gauge({
    name: 'guardian_data_dir_free_bytes',
    help: 'Bytes available to this process on the file system holding DATA_DIR.',
    registers,
    // Unlabelled gauges cannot be left out of a scrape: NaN says "unknown", and compares false in alerts.
    async collect() {
      const stats = await disk();
      this.set(stats ? stats.bavail * stats.bsize : Number.NaN);
    },
  });
  new Gauge({
    name: 'guardian_data_dir_size_bytes',
    help: 'Size of the file system holding DATA_DIR.',
    registers,
    async collect() {
      const stats = await disk();
      this.set(stats ? stats.blocks * stats.bsize : Number.NaN);
    },
  });
}

/** Wraps a reading: shared for a moment, cut off after timeoutMs, undefined (and counted) when it fails. */
function bounded(metrics: Pick<GuardianMetrics, 'collectErrors'>, timeoutMs: number) {
  return <T>(source: string, reading: () => Promise<T>) => {
    let last: { at: number; value: Promise<T | undefined> } | undefined;
    return (): Promise<T | undefined> => {
      const at = Date.now();
      if (last && at - last.at < readingReuseMs) return last.value;
      const value = withinTime(reading(), timeoutMs, source).catch(() => {
        metrics.collectErrors.inc({ source });
        return undefined;
      });
      last = { at, value };
      return value;
    };
  };
}

function withinTime<T>(promise: Promise<T>, timeoutMs: number, source: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${source} reading took over ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
