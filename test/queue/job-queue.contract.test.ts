import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { JobTimeoutError, PermanentJobError, WorkerStoppingError } from '../../src/queue/job-errors.js';
import type { JobQueue } from '../../src/queue/job-queue.js';
import type {
  JobContext,
  JobDefinition,
  JobDefinitions,
  JobExhaustion,
  JobHandlers,
  JobPayloads,
} from '../../src/queue/job-table.js';
import { describeEachImplementation } from '../helpers/databases.js';
import { queueImplementations, type QueueFixture } from './job-queue-implementations.js';
import { waitFor } from './wait-for.js';
import { anchorJobDefinitions, unexpectedAnchorJobs } from '../helpers/anchor-jobs.js';

type Payload = JobPayloads['analysis.run'];

const definitionsWith = (overrides: Partial<JobDefinition> = {}): JobDefinitions => ({
  'analysis.run': {
    attempts: 3,
    backoff: { type: 'fixed', delayMs: 300 },
    timeoutMs: 10_000,
    concurrency: 1,
    ...overrides,
  },
  ...anchorJobDefinitions,
});

const newPayload = (): Payload => ({ analysisId: randomUUID(), orgId: randomUUID() });
const enqueue = (queue: JobQueue, payload: Payload) =>
  queue.enqueue('analysis.run', payload, { jobId: payload.analysisId });
const start = (queue: JobQueue, handler: JobHandlers['analysis.run'], concurrency = 1) =>
  queue.startWorkers({ 'analysis.run': handler, ...unexpectedAnchorJobs }, { concurrency });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const untilAborted = (signal: AbortSignal) =>
  new Promise<unknown>((resolve) =>
    signal.addEventListener('abort', () => resolve(signal.reason), { once: true }),
  );

describeEachImplementation('job queue contract', queueImplementations(), (implementation) => {
  let fixture: QueueFixture;

  beforeAll(async () => {
    fixture = await implementation.setup();
  });

  afterEach(async () => {
    await fixture.reset();
  });

  afterAll(async () => {
    await fixture?.dispose();
  });

  it('runs a job enqueued with delayMs no earlier than that, and an undelayed one at once', async () => {
    const queue = fixture.createQueue(definitionsWith());
    const [later, now] = [newPayload(), newPayload()];
    const enqueuedAt = Date.now();
    await queue.enqueue('analysis.run', later, { jobId: later.analysisId, delayMs: 1_500 });
    await enqueue(queue, now);
    const ranAt = new Map<string, number>();
    await start(queue, async (payload) => void ranAt.set(payload.analysisId, Date.now()));
    await waitFor('both jobs', () => ranAt.size === 2);
    expect(ranAt.get(later.analysisId)! - enqueuedAt).toBeGreaterThanOrEqual(1_400);
    expect(ranAt.get(now.analysisId)!).toBeLessThan(ranAt.get(later.analysisId)!);
  });

  it('processes enqueued jobs with their payload, job id and first attempt', async () => {
    const queue = fixture.createQueue(definitionsWith());
    const payloads = [newPayload(), newPayload(), newPayload()];
    for (const payload of payloads) await enqueue(queue, payload);
    const seen: { payload: Payload; context: JobContext }[] = [];
    await start(queue, async (payload, context) => void seen.push({ payload, context }), 2);
    await waitFor('three jobs', () => seen.length === 3);
    for (const { payload, context } of seen) {
      expect(context.jobId).toBe(payload.analysisId);
      expect(context.attempt).toBe(1);
    }
    expect(seen.map(({ payload }) => payload.analysisId).sort()).toEqual(
      payloads.map((p) => p.analysisId).sort(),
    );
    await waitFor(
      'no pending job',
      async () => !(await queue.isPending('analysis.run', payloads[0]!.analysisId)),
    );
  });

  it('deduplicates by job id while pending, and accepts the id again once finished', async () => {
    const queue = fixture.createQueue(definitionsWith());
    const payload = newPayload();
    await enqueue(queue, payload);
    await queue.enqueue('analysis.run', { ...payload, orgId: 'second' }, { jobId: payload.analysisId });
    expect(await queue.isPending('analysis.run', payload.analysisId)).toBe(true);
    const runs: Payload[] = [];
    await start(queue, async (received) => void runs.push(received));
    await waitFor(
      'the job to finish',
      async () => !(await queue.isPending('analysis.run', payload.analysisId)),
    );
    expect(runs).toEqual([payload]);
    // What the reconciler does for an analysis whose job finished without completing it.
    await enqueue(queue, payload);
    await waitFor('the re-enqueued job', () => runs.length === 2);
  });

  it('retries a failing handler with backoff, then fails the job for good', async () => {
    const queue = fixture.createQueue(
      definitionsWith({ attempts: 3, backoff: { type: 'fixed', delayMs: 300 } }),
    );
    const payload = newPayload();
    const attempts: { attempt: number; at: number }[] = [];
    await enqueue(queue, payload);
    await start(queue, async (_payload, context) => {
      attempts.push({ attempt: context.attempt, at: Date.now() });
      throw new Error('handler failure');
    });
    await waitFor('three attempts', () => attempts.length === 3);
    await waitFor(
      'the job to fail',
      async () => !(await queue.isPending('analysis.run', payload.analysisId)),
    );
    expect(attempts.map(({ attempt }) => attempt)).toEqual([1, 2, 3]);
    for (let index = 1; index < attempts.length; index += 1) {
      expect(attempts[index]!.at - attempts[index - 1]!.at).toBeGreaterThanOrEqual(250);
    }
    await sleep(600);
    expect(attempts).toHaveLength(3);
  });

  it('tells onJobExhausted, once, when the last attempt fails (never on a retry or a success)', async () => {
    const queue = fixture.createQueue(definitionsWith({ backoff: { type: 'fixed', delayMs: 50 } }));
    const [failing, succeeding] = [newPayload(), newPayload()];
    const exhausted: { payload: Payload; exhaustion: JobExhaustion }[] = [];
    const attempts: number[] = [];
    await enqueue(queue, failing);
    await enqueue(queue, succeeding);
    await queue.startWorkers(
      {
        'analysis.run': async (payload, context) => {
          if (payload.analysisId !== failing.analysisId) return;
          attempts.push(context.attempt);
          throw new Error(`failure ${context.attempt}`);
        },
        ...unexpectedAnchorJobs,
      },
      {
        concurrency: 1,
        onJobExhausted: {
          'analysis.run': async (payload, exhaustion) => void exhausted.push({ payload, exhaustion }),
        },
      },
    );
    await waitFor('the exhaustion', () => exhausted.length === 1);
    await waitFor(
      'both jobs to leave',
      async () => !(await queue.isPending('analysis.run', succeeding.analysisId)),
    );
    await sleep(300);
    expect(attempts).toEqual([1, 2, 3]);
    expect(exhausted).toHaveLength(1);
    expect(exhausted[0]?.payload).toEqual(failing);
    expect(exhausted[0]?.exhaustion).toMatchObject({
      jobId: failing.analysisId,
      attempts: 3,
      cause: 'handler-failed',
    });
    expect(exhausted[0]?.exhaustion.error).toMatch(/failure 3/);
  });

  it('fails a job at once, attempts left or not, when its handler throws a PermanentJobError', async () => {
    const queue = fixture.createQueue(definitionsWith({ backoff: { type: 'fixed', delayMs: 50 } }));
    const payload = newPayload();
    const attempts: number[] = [];
    const exhausted: JobExhaustion[] = [];
    await enqueue(queue, payload);
    await queue.startWorkers(
      {
        'analysis.run': async (_payload, context) => {
          attempts.push(context.attempt);
          throw new PermanentJobError('tampered input');
        },
        ...unexpectedAnchorJobs,
      },
      {
        concurrency: 1,
        onJobExhausted: { 'analysis.run': async (_p, exhaustion) => void exhausted.push(exhaustion) },
      },
    );
    await waitFor('the exhaustion', () => exhausted.length === 1);
    await waitFor(
      'the job to leave',
      async () => !(await queue.isPending('analysis.run', payload.analysisId)),
    );
    await sleep(300);
    expect(attempts).toEqual([1]);
    expect(exhausted[0]).toMatchObject({ attempts: 1, cause: 'handler-failed' });
    expect(exhausted[0]?.error).toMatch(/tampered input/);
  });

  it('feeds a handler error into the retry, and a later attempt can succeed', async () => {
    const queue = fixture.createQueue(definitionsWith({ backoff: { type: 'fixed', delayMs: 50 } }));
    const payload = newPayload();
    const attempts: number[] = [];
    await enqueue(queue, payload);
    await start(queue, async (_payload, context) => {
      attempts.push(context.attempt);
      if (context.attempt === 1) throw new Error('transient failure');
    });
    await waitFor(
      'the job to finish',
      async () => !(await queue.isPending('analysis.run', payload.analysisId)),
    );
    expect(attempts).toEqual([1, 2]);
  });

  it('aborts the handler signal when the job times out', async () => {
    const queue = fixture.createQueue(definitionsWith({ timeoutMs: 300, attempts: 1 }));
    const payload = newPayload();
    const reasons: unknown[] = [];
    await enqueue(queue, payload);
    await start(queue, async (_payload, context) => {
      const reason = await untilAborted(context.signal);
      reasons.push(reason);
      throw reason;
    });
    await waitFor('the timeout', () => reasons.length === 1);
    expect(reasons[0]).toBeInstanceOf(JobTimeoutError);
    await waitFor(
      'the job to fail',
      async () => !(await queue.isPending('analysis.run', payload.analysisId)),
    );
  });

  it('records progress reported by the handler', async () => {
    const queue = fixture.createQueue(definitionsWith());
    const payload = newPayload();
    let finished = false;
    await enqueue(queue, payload);
    await start(queue, async (_payload, context) => {
      await context.reportProgress(40);
      await context.reportProgress(75);
      finished = true;
    });
    await waitFor('the handler', () => finished);
    await waitFor(
      'progress 75',
      async () => (await fixture.progressOf('analysis.run', payload.analysisId)) === 75,
    );
  });

  it('runs at most `concurrency` jobs of a name at once', async () => {
    const queue = fixture.createQueue(definitionsWith());
    let running = 0;
    let peak = 0;
    let finished = 0;
    for (let index = 0; index < 5; index += 1) await enqueue(queue, newPayload());
    await start(
      queue,
      async () => {
        running += 1;
        peak = Math.max(peak, running);
        await sleep(150);
        running -= 1;
        finished += 1;
      },
      2,
    );
    await waitFor('five jobs', () => finished === 5);
    expect(peak).toBe(2);
  });

  it('lets a running job finish when it fits in the stop timeout', async () => {
    const queue = fixture.createQueue(definitionsWith());
    const payload = newPayload();
    let started = false;
    let finished = false;
    await enqueue(queue, payload);
    await start(queue, async () => {
      started = true;
      await sleep(300);
      finished = true;
    });
    await waitFor('the job to start', () => started);
    await queue.stopWorkers(5_000);
    expect(finished).toBe(true);
    await waitFor(
      'the job to be done',
      async () => !(await queue.isPending('analysis.run', payload.analysisId)),
    );
  });

  it('hands an in-flight job back on stop; another worker completes it without counting the attempt', async () => {
    const leaving = fixture.createQueue(definitionsWith());
    const staying = fixture.createQueue(definitionsWith());
    const payload = newPayload();
    const abortReasons: unknown[] = [];
    let started = false;
    await enqueue(leaving, payload);
    await start(leaving, async (_payload, context) => {
      started = true;
      const reason = await untilAborted(context.signal);
      abortReasons.push(reason);
      throw reason;
    });
    await waitFor('the job to start', () => started);
    await leaving.stopWorkers(200);
    expect(abortReasons[0]).toBeInstanceOf(WorkerStoppingError);
    expect(await staying.isPending('analysis.run', payload.analysisId)).toBe(true);
    const completions: JobContext[] = [];
    await start(staying, async (_payload, context) => void completions.push(context));
    await waitFor('the other worker', () => completions.length === 1);
    expect(completions[0]?.attempt).toBe(1);
    await waitFor(
      'the job to be done',
      async () => !(await staying.isPending('analysis.run', payload.analysisId)),
    );
  });

  it('refuses to start with an incomplete or unknown handler set', async () => {
    const queue = fixture.createQueue(definitionsWith());
    await expect(queue.startWorkers({} as JobHandlers, { concurrency: 1 })).rejects.toThrow(
      /missing \[analysis\.run, anchor\.rfc3161, anchor\.solana, retention\.run, housekeeping\.run, webhook\.deliver\]/,
    );
    const extra = { 'analysis.run': async () => {}, 'no.such.job': async () => {} } as unknown as JobHandlers;
    await expect(queue.startWorkers(extra, { concurrency: 1 })).rejects.toThrow(/unknown \[no\.such\.job\]/);
  });

  it('passes its health check', async () => {
    await expect(fixture.createQueue(definitionsWith()).checkHealth()).resolves.toBeUndefined();
  });

  it('reports its backlog per job name: waiting, delayed, active and the oldest waiting age', async () => {
    const queue = fixture.createQueue(definitionsWith());
    const empty = await queue.backlog();
    expect(empty.map((entry) => entry.name).sort()).toEqual(Object.keys(definitionsWith()).sort());
    for (const entry of empty)
      expect(entry).toMatchObject({ waiting: 0, delayed: 0, active: 0, oldestWaitingSeconds: null });

    const [first, second, later] = [newPayload(), newPayload(), newPayload()];
    await enqueue(queue, first);
    await enqueue(queue, second);
    await queue.enqueue('analysis.run', later, { jobId: later.analysisId, delayMs: 60_000 });
    await sleep(300);
    const queued = (await queue.backlog()).find((entry) => entry.name === 'analysis.run');
    expect(queued).toMatchObject({ waiting: 2, delayed: 1, active: 0 });
    expect(queued?.oldestWaitingSeconds).toBeGreaterThanOrEqual(0.2);
    expect(queued?.oldestWaitingSeconds).toBeLessThan(30);

    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    await start(queue, () => held);
    let running: Awaited<ReturnType<JobQueue['backlog']>>[number] | undefined;
    await waitFor('one job to be active', async () => {
      running = (await queue.backlog()).find((entry) => entry.name === 'analysis.run');
      return running?.active === 1;
    });
    expect(running).toMatchObject({ waiting: 1, delayed: 1, active: 1 });
    release();
    await waitFor('the due jobs to finish', async () => {
      const left = (await queue.backlog()).find((entry) => entry.name === 'analysis.run');
      return left?.waiting === 0 && left.active === 0;
    });
    const drained = (await queue.backlog()).find((entry) => entry.name === 'analysis.run');
    expect(drained).toMatchObject({ waiting: 0, delayed: 1, active: 0, oldestWaitingSeconds: null });
  });
});
