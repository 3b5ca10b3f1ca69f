import type { Transaction } from 'kysely';
import type { Database } from '../db/schema.js';
import type { JobHandlers, JobName, JobPayloads, WorkerOptions } from './job-table.js';

export interface EnqueueOptions {
  /** Deduplicates: a job with the same id that is waiting or running is not added again. */
  jobId: string;
  /**
   * Embedded queue: insert inside this transaction so the job exists iff the caller's rows commit.
   * BullMQ ignores it; callers enqueue after commit and the reconciler covers a crash in between.
   */
  transaction?: Transaction<Database>;
  /** Run no earlier than this many milliseconds from now. */
  delayMs?: number;
}

/** How far behind one job name is, as the queue's shared store sees it (every process, not only this one). */
export interface JobBacklog {
  name: JobName;
  /** Due and not yet picked up. */
  waiting: number;
  /** Scheduled for later (enqueued with delayMs, or a retry in its backoff). */
  delayed: number;
  active: number;
  /** Seconds the longest-due waiting job has been due; null when none waits. */
  oldestWaitingSeconds: number | null;
}

/** A durable at-least-once job queue. */
export interface JobQueue {
  readonly kind: 'embedded' | 'bullmq';
  enqueue<N extends JobName>(name: N, payload: JobPayloads[N], options: EnqueueOptions): Promise<void>;
  /** True when a job with this id is waiting, delayed or running. */
  isPending(name: JobName, jobId: string): Promise<boolean>;
  /**
   * Starts consuming with these handlers (refuses an incomplete set). A job the queue gives up on (its last
   * attempt failed, a PermanentJobError, its worker died during the last attempt) goes to `onJobExhausted`.
   */
  startWorkers(handlers: JobHandlers, options: WorkerOptions): Promise<void>;
  /** Stops taking jobs; waits up to timeoutMs for running ones, then hands them back to the queue. */
  stopWorkers(timeoutMs: number): Promise<void>;
  /** One entry per job name in the table, zeros included (metrics: queue depth and oldest job age). */
  backlog(): Promise<JobBacklog[]>;
  /**
   * False while the queue's store is known to be unreachable (Redis disconnected): callers refuse work that
   * needs a job at once instead of committing it and waiting. The embedded queue shares the database: true.
   */
  reachable(): boolean;
  checkHealth(): Promise<void>;
  close(): Promise<void>;
}
