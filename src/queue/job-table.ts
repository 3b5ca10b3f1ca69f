/** Every job the platform runs: name → payload type and how it is retried. Handlers live in the composition roots. */
export interface JobPayloads {
  'analysis.run': { analysisId: string; orgId: string };
  /** Plans and attempts RFC 3161 anchors of tree heads; `trigger` says what enqueued it (for logs). */
  'anchor.rfc3161': { trigger: string };
  /** Plans and attempts Solana memo anchors of tree heads. */
  'anchor.solana': { trigger: string };
  /** Crypto-shreds media past its organisation's retention period (docs/privacy.md). */
  'retention.run': { trigger: string };
  /** Purges expired sessions, used or expired tokens, delivered mail and old finished jobs. */
  'housekeeping.run': { trigger: string };
  /** One attempt of one webhook delivery; its own retry schedule lives on the delivery row. */
  'webhook.deliver': { deliveryId: string };
}

export type JobName = keyof JobPayloads;

export interface JobDefinition {
  attempts: number;
  backoff: { type: 'exponential' | 'fixed'; delayMs: number };
  timeoutMs: number;
  /** Jobs of this name one process runs at once (WORKER_CONCURRENCY overrides for analysis). */
  concurrency: number;
}

export type JobDefinitions = { [K in JobName]: JobDefinition };

export const jobDefinitions: JobDefinitions = {
  'analysis.run': {
    attempts: 3,
    backoff: { type: 'exponential', delayMs: 5_000 },
    timeoutMs: 60 * 60_000,
    concurrency: 1,
  },
  // An anchor's own retries follow its record (retry-policy.ts); these cover a run that failed on the database.
  'anchor.rfc3161': {
    attempts: 3,
    backoff: { type: 'exponential', delayMs: 10_000 },
    timeoutMs: 5 * 60_000,
    concurrency: 1,
  },
  'anchor.solana': {
    attempts: 3,
    backoff: { type: 'exponential', delayMs: 10_000 },
    timeoutMs: 10 * 60_000,
    concurrency: 1,
  },
  // Idempotent passes: a failed or timed-out run leaves the rest for the retry or the next scheduled run.
  'retention.run': {
    attempts: 3,
    backoff: { type: 'exponential', delayMs: 30_000 },
    timeoutMs: 30 * 60_000,
    concurrency: 1,
  },
  'housekeeping.run': {
    attempts: 3,
    backoff: { type: 'exponential', delayMs: 30_000 },
    timeoutMs: 10 * 60_000,
    concurrency: 1,
  },
  // These retries cover a database failure around an attempt; the delivery's schedule covers the receiver.
  'webhook.deliver': {
    attempts: 3,
    backoff: { type: 'exponential', delayMs: 5_000 },
    timeoutMs: 2 * 60_000,
    concurrency: 4,
  },
};

/** How long finished jobs stay in the queue (JOB_DONE_RETENTION_DAYS, JOB_FAILED_RETENTION_DAYS). */
export interface FinishedJobRetention {
  doneMs: number;
  failedMs: number;
}

export const defaultFinishedJobRetention: FinishedJobRetention = {
  doneMs: 24 * 3_600_000,
  failedMs: 7 * 24 * 3_600_000,
};

export interface JobContext {
  jobId: string;
  /** 1 on the first run. */
  attempt: number;
  /** Aborted on timeout or shutdown; handlers pass it to long-running work. */
  signal: AbortSignal;
  reportProgress(progress: number): Promise<void>;
}

export type JobHandler<N extends JobName> = (payload: JobPayloads[N], context: JobContext) => Promise<void>;

export type JobHandlers = { [K in JobName]: JobHandler<K> };

/** Why the queue gave up on a job: its last attempt threw or timed out, or its worker died during it. */
export interface JobExhaustion {
  jobId: string;
  /** Attempts the queue started for this job. */
  attempts: number;
  cause: 'handler-failed' | 'worker-lost';
  /** One bounded line (the last error, or what the queue saw). */
  error: string;
}

/**
 * Called once the queue will never run a job again (no attempts left, a permanent failure, a stalled limit):
 * the owner of the work records the failure, so nothing is left looking alive.
 */
export type JobExhaustedHandler<N extends JobName> = (
  payload: JobPayloads[N],
  exhaustion: JobExhaustion,
) => Promise<void>;

export type JobExhaustedHandlers = { [K in JobName]: JobExhaustedHandler<K> };

export interface WorkerOptions {
  concurrency: number;
  /** Per job name; a job without one only ends up failed in the queue. */
  onJobExhausted?: Partial<JobExhaustedHandlers>;
}

/** WORKER_CONCURRENCY (startWorkers' concurrency) sizes the analysis job; other jobs keep their table value. */
export function workerConcurrency(
  name: JobName,
  definition: JobDefinition,
  analysisConcurrency: number,
): number {
  return name === 'analysis.run' ? analysisConcurrency : definition.concurrency;
}

export function jobDelayMs(definition: JobDefinition, attempt: number): number {
  const { type, delayMs } = definition.backoff;
  return type === 'fixed' ? delayMs : delayMs * 2 ** Math.max(0, attempt - 1);
}

/** Refuses to start when a job has no handler (or a handler names no job). */
export function assertHandlersComplete(
  handlers: Partial<Record<string, unknown>>,
): asserts handlers is JobHandlers {
  const names = Object.keys(jobDefinitions);
  const missing = names.filter((name) => typeof handlers[name] !== 'function');
  const unknown = Object.keys(handlers).filter((name) => !names.includes(name));
  if (missing.length > 0 || unknown.length > 0) {
    throw new Error(
      `job handlers incomplete: missing [${missing.join(', ')}], unknown [${unknown.join(', ')}]`,
    );
  }
}
