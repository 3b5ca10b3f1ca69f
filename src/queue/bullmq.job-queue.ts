import { Queue, UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import { hostname } from 'node:os';
import { Redis, type RedisOptions } from 'ioredis';
import { closeRedis } from '../redis/close-redis.js';
import type { Logger } from 'pino';
import { describeJobError, JobTimeoutError, PermanentJobError, WorkerStoppingError } from './job-errors.js';
import type { EnqueueOptions, JobBacklog, JobQueue } from './job-queue.js';
import {
  assertHandlersComplete,
  defaultFinishedJobRetention,
  jobDefinitions,
  workerConcurrency,
  type FinishedJobRetention,
  type JobContext,
  type JobDefinitions,
  type JobExhaustion,
  type JobHandlers,
  type JobName,
  type JobPayloads,
  type WorkerOptions,
} from './job-table.js';
import { settleWithin } from './settle-within.js';

export interface BullmqJobQueueOptions {
  redisUrl: string;
  log: Logger;
  /** Redis key prefix; separate deployments (and tests) sharing one Redis use different prefixes. */
  prefix?: string;
  definitions?: JobDefinitions;
  /** QUEUE_LOCK_MS: a crashed worker's job is re-run this long after its last lock renewal (plus one stalled check). */
  lockDurationMs?: number;
  /** QUEUE_STALLED_INTERVAL_MS: how often each worker looks for jobs whose lock lapsed. */
  stalledIntervalMs?: number;
  /** JOB_DONE_RETENTION_DAYS, JOB_FAILED_RETENTION_DAYS: how long BullMQ keeps finished jobs (1 and 7 days). */
  keepFinished?: FinishedJobRetention;
}

type AnyHandler = (payload: unknown, context: JobContext) => Promise<void>;

interface RunningJob {
  controller: AbortController;
  handedBack: boolean;
  settled: Promise<void>;
}

const pendingStates = new Set(['waiting', 'delayed', 'prioritized', 'active', 'waiting-children']);
const finishedStates = new Set(['completed', 'failed']);
// Finished jobs stay inspectable for a while; enqueue removes a finished one first, so reuse of the id works.
const keepFor = (ms: number) => ({ age: Math.max(1, Math.round(ms / 1000)) });
// Aborted handlers get this long to unwind and hand their job back before the worker is force-closed.
const handBackGraceMs = 2_000;
// One crash or kill -9 is normal life; a job that stalls this often is what brings its workers down.
const maxStalledCount = 2;
// BullMQ's reason for a job failed by the stalled checker (moveStalledJobsToWait): its workers kept dying.
const stalledLimitReason = 'job stalled more than allowable limit';
// A progress update Redis has not taken within this long is left to land later (or not at all).
const progressWaitMs = 1_000;
// A graceful worker close needs Redis (it finishes moving jobs); past this it is forced.
const workerCloseGraceMs = 5_000;
// A producer command that hangs (Redis up but not answering) fails after this instead of holding a request.
const producerCommandTimeoutMs = 5_000;

/** BullMQ on Redis: one queue per job name, at-least-once, stalled jobs of dead workers re-run. */
export class BullmqJobQueue implements JobQueue {
  readonly kind = 'bullmq';
  readonly #options: BullmqJobQueueOptions;
  readonly #log: Logger;
  readonly #definitions: JobDefinitions;
  readonly #prefix: string;
  readonly #keepFinished: FinishedJobRetention;
  readonly #producer: Redis;
  #producerLost = false;
  readonly #queues = new Map<JobName, Queue>();
  readonly #running = new Set<RunningJob>();
  #workers: { workers: Worker[]; connection: Redis } | undefined;

  constructor(options: BullmqJobQueueOptions) {
    this.#options = options;
    this.#log = options.log;
    this.#definitions = options.definitions ?? jobDefinitions;
    this.#prefix = options.prefix ?? 'guardian';
    this.#keepFinished = options.keepFinished ?? defaultFinishedJobRetention;
    // Fails fast while Redis is down (BullMQ's "failing fast" pattern) instead of queueing commands in memory.
    this.#producer = this.#connect({
      maxRetriesPerRequest: 3,
      enableOfflineQueue: false,
      commandTimeout: producerCommandTimeoutMs,
    });
    // Until the first attempt fails, commands wait for the first connection (BullMQ's own start-up wait).
    this.#producer.on('close', () => (this.#producerLost = true));
    this.#producer.on('ready', () => (this.#producerLost = false));
    for (const name of Object.keys(this.#definitions) as JobName[]) {
      const queue = new Queue(name, { connection: this.#producer, prefix: this.#prefix });
      // The connection's own listener logs outages; unheard, BullMQ would print each one to stderr.
      queue.on('error', (error) => this.#log.debug({ err: error, job: name }, 'BullMQ queue error'));
      this.#queues.set(name, queue);
    }
  }

  reachable(): boolean {
    return this.#producer.status === 'ready' || !this.#producerLost;
  }

  async enqueue<N extends JobName>(name: N, payload: JobPayloads[N], options: EnqueueOptions): Promise<void> {
    const queue = this.#queue(name);
    const existing = await queue.getJob(options.jobId);
    if (existing && finishedStates.has(await existing.getState())) await existing.remove();
    const definition = this.#definitions[name];
    await queue.add(name, payload, {
      jobId: options.jobId,
      attempts: definition.attempts,
      backoff: { type: definition.backoff.type, delay: definition.backoff.delayMs },
      removeOnComplete: keepFor(this.#keepFinished.doneMs),
      removeOnFail: keepFor(this.#keepFinished.failedMs),
      ...(options.delayMs ? { delay: options.delayMs } : {}),
    });
  }

  async isPending(name: JobName, jobId: string): Promise<boolean> {
    const job = await this.#queue(name).getJob(jobId);
    return job !== undefined && pendingStates.has(await job.getState());
  }

  async startWorkers(handlers: JobHandlers, options: WorkerOptions): Promise<void> {
    assertHandlersComplete(handlers);
    if (this.#workers) throw new Error('workers are already running');
    // Workers block on Redis: commands must wait for a reconnect instead of failing after N retries.
    const connection = this.#connect({ maxRetriesPerRequest: null });
    const workers = (Object.keys(this.#definitions) as JobName[]).map((name) => {
      const worker = new Worker(
        name,
        (job, token) => this.#process(name, handlers[name] as AnyHandler, job, token),
        {
          // Recorded on each job it takes (processedBy): an operator sees which host and process holds a job.
          name: `${hostname()}:${process.pid}`,
          connection,
          prefix: this.#prefix,
          concurrency: workerConcurrency(name, this.#definitions[name], options.concurrency),
          lockDuration: this.#options.lockDurationMs ?? 30_000,
          stalledInterval: this.#options.stalledIntervalMs ?? 30_000,
          maxStalledCount,
        },
      );
      worker.on('error', (error) => this.#log.error({ err: error, job: name }, 'BullMQ worker error'));
      const onJobExhausted = options.onJobExhausted?.[name] as
        ((payload: unknown, exhaustion: JobExhaustion) => Promise<void>) | undefined;
      worker.on('failed', (job, error) => {
        this.#log.warn(
          { err: error, jobId: job?.id, job: name, attemptsMade: job?.attemptsMade },
          'job failed',
        );
        if (job && isFinalFailure(job, error)) void this.#exhausted(name, job, error, onJobExhausted);
      });
      return worker;
    });
    this.#workers = { workers, connection };
    await Promise.all(workers.map((worker) => worker.waitUntilReady()));
    this.#log.info({ prefix: this.#prefix, jobs: [...this.#queues.keys()] }, 'BullMQ job workers started');
  }

  async stopWorkers(timeoutMs: number): Promise<void> {
    if (!this.#workers) return;
    const { workers, connection } = this.#workers;
    this.#workers = undefined;
    await Promise.all(workers.map((worker) => worker.pause(true)));
    const allSettled = () => Promise.all([...this.#running].map((run) => run.settled));
    let settled = await settleWithin(allSettled(), timeoutMs);
    if (!settled) {
      for (const run of this.#running) {
        run.handedBack = true;
        run.controller.abort(new WorkerStoppingError());
      }
      settled = await settleWithin(allSettled(), handBackGraceMs);
      // A handler deaf to its signal: its lock lapses and the stalled checker of another worker re-runs the job.
      if (!settled)
        this.#log.warn({ running: this.#running.size }, 'handlers ignored abort; force-closing workers');
    }
    await this.#closeWorkers(workers, !settled);
    await closeRedis(connection);
  }

  async backlog(): Promise<JobBacklog[]> {
    return Promise.all(
      [...this.#queues].map(async ([name, queue]) => {
        const counts = await queue.getJobCounts('waiting', 'prioritized', 'delayed', 'active');
        // asc: the list's far end, the job enqueued first (workers take from that end too).
        const [oldest] = await queue.getJobs(['wait', 'prioritized'], 0, 0, true);
        const dueAt = oldest ? oldest.timestamp + (oldest.opts.delay ?? 0) : null;
        return {
          name,
          waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
          delayed: counts.delayed ?? 0,
          active: counts.active ?? 0,
          oldestWaitingSeconds: dueAt === null ? null : Math.max(0, (Date.now() - dueAt) / 1000),
        };
      }),
    );
  }

  async checkHealth(): Promise<void> {
    if (!this.reachable()) throw new Error(`Redis connection is ${this.#producer.status}`);
    // Still on its first connection: wait for it as every other command does (readiness caps the wait).
    await this.#queues.values().next().value?.waitUntilReady();
    await this.#producer.ping();
  }

  async close(): Promise<void> {
    await this.stopWorkers(0);
    await Promise.all([...this.#queues.values()].map((queue) => queue.close()));
    await closeRedis(this.#producer);
  }

  /**
   * A graceful close waits on Redis (BullMQ quits its blocking connection, finishes moving jobs) and never ends
   * while Redis is down: forced then, and after a grace period otherwise. Our handlers have settled by now.
   */
  async #closeWorkers(workers: Worker[], force: boolean): Promise<void> {
    const forced = force || !this.reachable();
    const closed = Promise.all(workers.map((worker) => worker.close(forced)));
    if (await settleWithin(closed, workerCloseGraceMs)) return;
    this.#log.warn({ graceMs: workerCloseGraceMs }, 'BullMQ workers did not close; disconnecting them');
    await Promise.all(workers.map((worker) => worker.disconnect().catch(() => undefined)));
  }

  async #process(name: JobName, handler: AnyHandler, job: Job, token: string | undefined): Promise<void> {
    const definition = this.#definitions[name];
    const controller = new AbortController();
    let markSettled = () => {};
    const run: RunningJob = {
      controller,
      handedBack: false,
      settled: new Promise((resolve) => (markSettled = resolve)),
    };
    const timeout = setTimeout(
      () => controller.abort(new JobTimeoutError(name, definition.timeoutMs)),
      definition.timeoutMs,
    );
    this.#running.add(run);
    try {
      await handler(job.data, {
        jobId: job.id ?? '',
        attempt: job.attemptsMade + 1,
        signal: controller.signal,
        // Progress in BullMQ is cosmetic (the database holds the real one): never hold a job waiting on Redis.
        reportProgress: async (progress) =>
          void (await settleWithin(job.updateProgress(progress), progressWaitMs)),
      });
    } catch (error) {
      if (!run.handedBack) {
        // BullMQ's own word for "do not retry": the job fails now, whatever attempts are left.
        if (error instanceof PermanentJobError) throw new UnrecoverableError(describeJobError(error));
        throw error;
      }
      // Back to waiting without counting an attempt; WaitingError tells BullMQ the job was moved on purpose.
      await job.moveToWait(token);
      throw new WaitingError();
    } finally {
      clearTimeout(timeout);
      this.#running.delete(run);
      markSettled();
    }
  }

  /** The owner hears about every job BullMQ gives up on; its failure to listen is logged, never fatal. */
  async #exhausted(
    name: JobName,
    job: Job,
    error: Error,
    onJobExhausted: ((payload: unknown, exhaustion: JobExhaustion) => Promise<void>) | undefined,
  ): Promise<void> {
    const jobId = job.id ?? '';
    await onJobExhausted?.(job.data, {
      jobId,
      attempts: job.attemptsStarted,
      cause: error.message === stalledLimitReason ? 'worker-lost' : 'handler-failed',
      error: describeJobError(error),
    }).catch((failure: unknown) =>
      this.#log.error({ err: failure, jobId, job: name }, 'job exhaustion not recorded'),
    );
  }

  #queue(name: JobName): Queue {
    const queue = this.#queues.get(name);
    if (!queue) throw new Error(`no queue for job ${name}`);
    return queue;
  }

  #connect(options: RedisOptions): Redis {
    const connection = new Redis(this.#options.redisUrl, options);
    connection.on('error', (error) => this.#log.warn({ err: error }, 'Redis connection error'));
    return connection;
  }
}

/** Mirrors BullMQ's retry decision (Job.shouldRetryJob): unrecoverable, or no attempts left. */
function isFinalFailure(job: Job, error: Error): boolean {
  return error.name === 'UnrecoverableError' || job.attemptsMade >= (job.opts.attempts ?? 1);
}
