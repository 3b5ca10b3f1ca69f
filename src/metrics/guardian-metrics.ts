import { Counter, Histogram, type Registry } from 'prom-client';

// Seconds; analyses and anchor runs take minutes, HTTP requests milliseconds.
const httpBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const jobBuckets = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];
const detectorBuckets = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/** The event metrics of one process, all on one registry the caller owns (never prom-client's global one). */
export function createGuardianMetrics(registry: Registry) {
  const registers = [registry];
  return {
    registry,
    httpRequests: new Counter({
      name: 'guardian_http_requests_total',
      help: 'HTTP requests answered, by method, route template and status code.',
      labelNames: ['method', 'route', 'status_code'] as const,
      registers,
    }),
    httpDuration: new Histogram({
      name: 'guardian_http_request_duration_seconds',
      help: 'HTTP response time by method, route template and status class (2xx, 4xx, 5xx).',
      labelNames: ['method', 'route', 'status_class'] as const,
      buckets: httpBuckets,
      registers,
    }),
    uploads: new Counter({
      name: 'guardian_uploads_total',
      help: 'Finished uploads by method (multipart, resumable) and outcome (stored, rejected).',
      labelNames: ['method', 'outcome'] as const,
      registers,
    }),
    uploadBytes: new Counter({
      name: 'guardian_upload_bytes_total',
      help: 'Bytes of stored uploads by method (multipart, resumable).',
      labelNames: ['method'] as const,
      registers,
    }),
    jobDuration: new Histogram({
      name: 'guardian_job_duration_seconds',
      help: 'Job handler run time in this process by job_name (not `job`: Prometheus sets that label) and outcome (succeeded, failed).',
      labelNames: ['job_name', 'outcome'] as const,
      buckets: jobBuckets,
      registers,
    }),
    detectorDuration: new Histogram({
      name: 'guardian_detector_duration_seconds',
      help: 'Per-detector run time within analyses by detector id and outcome (scored, abstained, not_applicable, failed).',
      labelNames: ['detector', 'outcome'] as const,
      buckets: detectorBuckets,
      registers,
    }),
    collectErrors: new Counter({
      name: 'guardian_metrics_collect_errors_total',
      help: 'Scrape-time readings that failed or ran out of time, by source; their gauges are absent from that scrape.',
      labelNames: ['source'] as const,
      registers,
    }),
  };
}

export type GuardianMetrics = ReturnType<typeof createGuardianMetrics>;
