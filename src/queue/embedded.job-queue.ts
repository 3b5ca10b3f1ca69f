import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../db/schema.js';
import { EmbeddedJobStore, type JobClaim } from './embedded-job-store.js';
import {
  describeJobError,
  JobLockLostError,
  JobTimeoutError,
  PermanentJobError,
  WorkerStoppingError,
  workerLostMessage,
} from './job-errors.js';
import type { EnqueueOptions, JobBacklog, JobQueue } from './job-queue.js';
import {
  assertHandlersComplete,
  defaultFinishedJobRetention,
  jobDefinitions,
  jobDelayMs,
  workerConcurrency,
  type FinishedJobRetention,
  type JobContext,
  type JobDefinitions,
  type JobExhaustedHandlers,
  type JobExhaustion,
  type JobHandlers,
  type JobName,
  type JobPayloads,
  type WorkerOptions,
} from './job-table.js';
import { settleWithin } from './settle-within.js';
import { Wakeup } from './wakeup.js';

export interface EmbeddedJobQueueOptions {
  db: Kysely<Database>;
  log: Logger;
  definitions?: JobDefinitions;
  /** Written to jobs.locked_by; unique per process by default. */
  workerId?: string;
  /** How often idle workers look for due jobs (enqueues in this process wake them at once). */
  pollIntervalMs?: number;
  /** Visibility timeout (QUEUE_LOCK_MS): a crashed worker's job is taken over this long after its last heartbeat. */
  lockDurationMs?: number;
  /** How long finished rows stay (JOB_DONE_RETENTION_DAYS, JOB_FAILED_RETENTION_DAYS); 1 and 7 days by default. */
  keepFinished?: FinishedJobRetention;
}

type AnyHandler = (payload: unknown, context: JobContext) => Promise<void>;

interface RunningJob {
  name: JobName;
  claim: JobClaim;
  controller: AbortController;
  /** Handed back or taken over: this run's outcome is no longer ours to record. */
  relinquished: boolean;
  settled: Promise<void>;
}

// Aborted handlers get this long to unwind after being handed back, so they stop touching shared resources.
const handBackGraceMs = 2_000;
const pruneEveryMs = 10 * 60_000;

/** The durable queue on the `jobs` table: same database as the data, so enqueue can join its transaction. */
export class EmbeddedJobQueue implements JobQueue {
  readonly kind = 'embedded';
  readonly #db: Kysely<Database>;
  readonly #store: EmbeddedJobStore;
  readonly #log: Logger;
  readonly #definitions: JobDefinitions;
  readonly #workerId: string;
  readonly #pollIntervalMs: number;
  readonly #lockDurationMs: number;
  readonly #keepFinished: FinishedJobRetention;
  readonly #wakeup = new Wakeup();
  readonly #running = new Set<RunningJob>();
  #loops: Promise<void>[] | undefined;
  #onJobExhausted: Partial<JobExhaustedHandlers> | undefined;
  #stopping = false;
  #lastPruneAt = 0;

  constructor(options: EmbeddedJobQueueOptions) {
    this.#db = options.db;
    this.#store = new EmbeddedJobStore(options.db);
    this.#log = options.log;
    this.#definitions = options.definitions ?? jobDefinitions;
    this.#workerId = options.workerId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.#pollIntervalMs = options.pollIntervalMs ?? 500;
    this.#lockDurationMs = options.lockDurationMs ?? 30_000;
    this.#keepFinished = options.keepFinished ?? defaultFinishedJobRetention;
  }

  async enqueue<N extends JobName>(name: N, payload: JobPayloads[N], options: EnqueueOptions): Promise<void> {
    const maxAttempts = this.#definitions[name].attempts;
    await this.#store.insert(options.transaction ?? this.#db, {
      name,
      key: options.jobId,
      payload,
      maxAttempts,
      delayMs: options.delayMs ?? 0,
    });
    this.#wakeup.wake();
  }

  isPending(name: JobName, jobId: string): Promise<boolean> {
    return this.#store.isLive(name, jobId);
  }

  async startWorkers(handlers: JobHandlers, options: WorkerOptions): Promise<void> {
    assertHandlersComplete(handlers);
    if (this.#loops) throw new Error('workers are already running');
    this.#stopping = false;
    this.#onJobExhausted = options.onJobExhausted;
    const names = Object.keys(this.#definitions) as JobName[];
    this.#loops = names.map((name) =>
      this.#pump(
        name,
        handlers[name] as AnyHandler,
        workerConcurrency(name, this.#definitions[name], options.concurrency),
      ),
    );
    this.#log.info({ workerId: this.#workerId, jobs: names }, 'embedded job workers started');
  }

  async stopWorkers(timeoutMs: number): Promise<void> {
    if (!this.#loops) return;
    this.#stopping = true;
    this.#wakeup.wake();
    await Promise.all(this.#loops);
    this.#loops = undefined;
    const settled = (runs: RunningJob[]) => Promise.all(runs.map((run) => run.settled));
    if (await settleWithin(settled([...this.#running]), timeoutMs)) return;
    const unfinished = [...this.#running];
    for (const run of unfinished) {
      run.relinquished = true;
      run.controller.abort(new WorkerStoppingError());
    }
    await Promise.all(unfinished.map((run) => this.#handBack(run)));
    const jobs = unfinished.map((run) => run.claim.row.dedupe_key);
    this.#log.warn({ jobs }, 'in-flight jobs handed back to the queue');
    await settleWithin(settled(unfinished), handBackGraceMs);
  }

  async backlog(): Promise<JobBacklog[]> {
    const rows = new Map((await this.#store.backlog()).map((row) => [row.name, row]));
    return (Object.keys(this.#definitions) as JobName[]).map((name) => {
      const row = rows.get(name);
      return {
        name,
        waiting: row?.waiting ?? 0,
        delayed: row?.delayed ?? 0,
        active: row?.active ?? 0,
        oldestWaitingSeconds: row?.oldest_seconds ?? null,
      };
    });
  }

  /** Its jobs are rows of the caller's database: an outage there fails the caller's own transaction. */
  reachable(): boolean {
    return true;
  }

  checkHealth(): Promise<void> {
    return this.#store.ping();
  }

  /** Stops this process's workers; the database belongs to the caller and stays open. */
  async close(): Promise<void> {
    await this.stopWorkers(0);
  }

  async #pump(name: JobName, handler: AnyHandler, concurrency: number): Promise<void> {
    while (!this.#stopping) {
      if (this.#activeCount(name) < concurrency) {
        const claim = await this.#claim(name).catch((error: unknown) => {
          this.#log.error(
            { err: error, job: name },
            'could not claim a job; retrying after the poll interval',
          );
          return undefined;
        });
        if (claim) {
          this.#start(name, handler, claim);
          continue;
        }
      }
      await this.#wakeup.wait(this.#pollIntervalMs);
    }
  }

  #activeCount(name: JobName): number {
    let count = 0;
    for (const run of this.#running) if (run.name === name) count += 1;
    return count;
  }

  async #claim(name: JobName): Promise<JobClaim | undefined> {
    for (;;) {
      const claim = await this.#store.claim(name, this.#workerId, this.#lockDurationMs);
      if (!claim || claim.row.attempts <= claim.row.max_attempts) return claim;
      // Its final attempt died with its worker (a crash, kill -9): running it again would likely repeat that.
      if (!(await this.#store.finish(claim, { status: 'failed', error: workerLostMessage }))) continue;
      this.#log.error({ jobId: claim.row.dedupe_key, job: name }, `job failed: ${workerLostMessage}`);
      await this.#exhausted(name, claim.row.payload, {
        jobId: claim.row.dedupe_key,
        attempts: claim.row.max_attempts,
        cause: 'worker-lost',
        error: workerLostMessage,
      });
    }
  }

  /** The owner hears about every job this queue gives up on; its failure to listen is logged, never fatal. */
  async #exhausted(name: JobName, payload: unknown, exhaustion: JobExhaustion): Promise<void> {
    const onJobExhausted = this.#onJobExhausted?.[name] as
      ((payload: unknown, exhaustion: JobExhaustion) => Promise<void>) | undefined;
    await onJobExhausted?.(payload, exhaustion).catch((error: unknown) =>
      this.#log.error({ err: error, jobId: exhaustion.jobId, job: name }, 'job exhaustion not recorded'),
    );
  }

  #start(name: JobName, handler: AnyHandler, claim: JobClaim): void {
    const { timeoutMs } = this.#definitions[name];
    const controller = new AbortController();
    const run: RunningJob = { name, claim, controller, relinquished: false, settled: Promise.resolve() };
    const timeout = setTimeout(() => controller.abort(new JobTimeoutError(name, timeoutMs)), timeoutMs);
    const heartbeat = setInterval(() => void this.#extendLock(run), this.#lockDurationMs / 3);
    this.#running.add(run);
    run.settled = this.#execute(run, handler)
      .catch((error: unknown) =>
        this.#log.error(
          { err: error, jobId: claim.row.dedupe_key },
          'job outcome not recorded; it runs again after its lock expires',
        ),
      )
      .finally(() => {
        clearTimeout(timeout);
        clearInterval(heartbeat);
        this.#running.delete(run);
        this.#wakeup.wake();
      });
  }

  async #execute(run: RunningJob, handler: AnyHandler): Promise<void> {
    const { claim } = run;
    const attempt = claim.row.attempts;
    const context: JobContext = {
      jobId: claim.row.dedupe_key,
      attempt,
      signal: run.controller.signal,
      reportProgress: (progress) => this.#store.saveProgress(claim, progress),
    };
    try {
      await handler(claim.row.payload, context);
    } catch (error) {
      if (run.relinquished) return;
      const exhausted = attempt >= claim.row.max_attempts || error instanceof PermanentJobError;
      this.#log.warn({ err: error, jobId: context.jobId, job: run.name, attempt, exhausted }, 'job failed');
      const message = describeJobError(error);
      if (!exhausted) {
        const retryInMs = jobDelayMs(this.#definitions[run.name], attempt);
        await this.#store.finish(claim, { status: 'waiting', error: message, retryInMs });
        return;
      }
      // Not ours any more (taken over): the run that owns the job now decides how it ends.
      if (!(await this.#store.finish(claim, { status: 'failed', error: message }))) return;
      await this.#exhausted(run.name, claim.row.payload, {
        jobId: context.jobId,
        attempts: attempt,
        cause: 'handler-failed',
        error: message,
      });
      return;
    }
    if (run.relinquished) return;
    await this.#store.finish(claim, { status: 'done' });
    await this.#pruneFinished();
  }

  async #extendLock(run: RunningJob): Promise<void> {
    const jobId = run.claim.row.dedupe_key;
    try {
      const stillOurs = await this.#store.extendLock(run.claim, this.#lockDurationMs);
      if (stillOurs || run.relinquished || !this.#running.has(run)) return;
      run.relinquished = true;
      run.controller.abort(new JobLockLostError());
      this.#log.warn({ jobId }, 'job lock lost to another worker; aborting this run');
    } catch (error) {
      this.#log.warn({ err: error, jobId }, 'job heartbeat failed');
    }
  }

  async #handBack(run: RunningJob): Promise<void> {
    await this.#store
      .handBack(run.claim)
      .catch((error: unknown) =>
        this.#log.error(
          { err: error, jobId: run.claim.row.dedupe_key },
          'hand-back failed; the job runs again after its lock expires',
        ),
      );
  }

  async #pruneFinished(): Promise<void> {
    if (Date.now() - this.#lastPruneAt < pruneEveryMs) return;
    this.#lastPruneAt = Date.now();
    const at = Date.now();
    await this.#store
      .pruneFinished({
        doneBefore: new Date(at - this.#keepFinished.doneMs),
        failedBefore: new Date(at - this.#keepFinished.failedMs),
      })
      .catch((error: unknown) => this.#log.warn({ err: error }, 'pruning finished jobs failed'));
  }
}
