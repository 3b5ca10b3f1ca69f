import { context, SpanKind, trace, type Tracer } from '@opentelemetry/api';
import type { ErrorReporter } from '../observability/error-reporter.js';
import type { SecretScrubber } from '../observability/secret-scrubber.js';
import {
  extractTraceContext,
  injectTraceContext,
  recordSpanError,
  type TraceCarrier,
} from '../observability/trace-context.js';
import type { EnqueueOptions, JobQueue } from './job-queue.js';
import {
  jobDefinitions,
  type JobContext,
  type JobExhaustedHandlers,
  type JobExhaustion,
  type JobHandlers,
  type JobName,
  type JobPayloads,
  type WorkerOptions,
} from './job-table.js';

/** The key under which a job's data carries the W3C trace context of the request (or timer) that enqueued it. */
export const traceCarrierKey = 'traceContext';

type AnyHandler = (payload: unknown, context: JobContext) => Promise<void>;
type AnyExhaustedHandler = (payload: unknown, exhaustion: JobExhaustion) => Promise<void>;

export interface ObservedJobQueueDeps {
  tracer: Tracer;
  errors: ErrorReporter;
  scrub: SecretScrubber;
}

/**
 * Any queue (embedded or BullMQ), traced: enqueue is a producer span whose context rides in the job's data,
 * each run a consumer span under it; a job the queue gives up on goes to the error reporter. Handlers see
 * the payload without the carrier.
 */
export function observeJobQueue(queue: JobQueue, deps: ObservedJobQueueDeps): JobQueue {
  const { tracer } = deps;
  const messagingSystem = queue.kind === 'bullmq' ? 'bullmq' : 'guardian-embedded';

  async function enqueue<N extends JobName>(
    name: N,
    payload: JobPayloads[N],
    options: EnqueueOptions,
  ): Promise<void> {
    const span = tracer.startSpan(`enqueue ${name}`, {
      kind: SpanKind.PRODUCER,
      attributes: {
        'messaging.system': messagingSystem,
        'messaging.operation.type': 'send',
        'messaging.operation.name': 'enqueue',
        'messaging.destination.name': name,
        'messaging.message.id': options.jobId,
      },
    });
    const carrier = injectTraceContext(trace.setSpan(context.active(), span));
    const data = carrier.traceparent ? { ...payload, [traceCarrierKey]: carrier } : payload;
    try {
      await context.with(trace.setSpan(context.active(), span), () =>
        queue.enqueue(name, data as JobPayloads[N], options),
      );
    } catch (error) {
      recordSpanError(span, error, deps.scrub);
      throw error;
    } finally {
      span.end();
    }
  }

  function traced(name: JobName, handler: AnyHandler): AnyHandler {
    return async (data, job) => {
      const { payload, carrier } = splitCarrier(data);
      const parent = extractTraceContext(carrier as Record<string, unknown> | undefined);
      return tracer.startActiveSpan(
        `process ${name}`,
        {
          kind: SpanKind.CONSUMER,
          attributes: {
            'messaging.system': messagingSystem,
            'messaging.operation.type': 'process',
            'messaging.operation.name': 'process',
            'messaging.destination.name': name,
            'messaging.message.id': job.jobId,
            'guardian.job.attempt': job.attempt,
          },
        },
        parent,
        async (span) => {
          try {
            await handler(payload, job);
          } catch (error) {
            recordSpanError(span, error, deps.scrub);
            throw error;
          } finally {
            span.end();
          }
        },
      );
    };
  }

  function reported(name: JobName, owner: AnyExhaustedHandler | undefined): AnyExhaustedHandler {
    return async (data, exhaustion) => {
      const { payload, carrier } = splitCarrier(data);
      const traceId = carrier?.traceparent?.split('-')[1];
      deps.errors.jobFailed({
        job: name,
        jobId: exhaustion.jobId,
        attempts: exhaustion.attempts,
        cause: exhaustion.cause,
        error: exhaustion.error,
        ...(traceId ? { traceId } : {}),
      });
      await owner?.(payload, exhaustion);
    };
  }

  return {
    kind: queue.kind,
    enqueue,
    isPending: (name, jobId) => queue.isPending(name, jobId),
    startWorkers(handlers: JobHandlers, options: WorkerOptions) {
      const names = Object.keys(handlers) as JobName[];
      const wrapped = Object.fromEntries(
        names.map((name) => [name, traced(name, handlers[name] as AnyHandler)]),
      ) as unknown as JobHandlers;
      const owners = options.onJobExhausted as Partial<Record<JobName, AnyExhaustedHandler>> | undefined;
      // Every job name gets one, so the reporter hears of all of them, not only those with an owner.
      const onJobExhausted = Object.fromEntries(
        (Object.keys(jobDefinitions) as JobName[]).map((name) => [name, reported(name, owners?.[name])]),
      ) as unknown as JobExhaustedHandlers;
      return queue.startWorkers(wrapped, { ...options, onJobExhausted });
    },
    stopWorkers: (timeoutMs) => queue.stopWorkers(timeoutMs),
    backlog: () => queue.backlog(),
    reachable: () => queue.reachable(),
    checkHealth: () => queue.checkHealth(),
    close: () => queue.close(),
  };
}

/** The job's payload as its handler expects it, and the trace carrier enqueue added (if any). */
function splitCarrier(data: unknown): { payload: unknown; carrier: TraceCarrier | undefined } {
  if (!data || typeof data !== 'object' || !(traceCarrierKey in data))
    return { payload: data, carrier: undefined };
  const { [traceCarrierKey]: carrier, ...payload } = data as Record<string, unknown>;
  return {
    payload,
    carrier: carrier && typeof carrier === 'object' ? (carrier as TraceCarrier) : undefined,
  };
}
