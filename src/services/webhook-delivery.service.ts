import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Executor } from '../db/executor.js';
import type { Database, WebhookDelivery } from '../db/schema.js';
import type { JobQueue } from '../queue/job-queue.js';
import type { JobPayloads } from '../queue/job-table.js';
import type { NewWebhookDelivery, WebhookRepository } from '../repositories/webhook.repository.js';
import type { Keyring } from '../storage/master-key.js';
import {
  checkDestination,
  type DestinationPolicy,
  type ResolveHost,
} from '../webhooks/webhook-destination.js';
import { webhookPayload, type WebhookEvent } from '../webhooks/webhook-events.js';
import { signingSecrets } from '../webhooks/webhook-secrets.js';
import type { SendResult, SendWebhook } from '../webhooks/webhook-sender.js';
import { signedHeaders } from '../webhooks/webhook-signing.js';
import { AppError } from './errors.js';

/**
 * Delay before each attempt (the first is immediate), after Standard Webhooks' reference schedule: 5 s, 5 min,
 * 30 min, 2 h, 5 h, 10 h, 10 h. WEBHOOK_MAX_ATTEMPTS takes the first that many.
 */
export const defaultRetryDelaysMs: readonly number[] = [
  0,
  5_000,
  5 * 60_000,
  30 * 60_000,
  2 * 3_600_000,
  5 * 3_600_000,
  10 * 3_600_000,
  10 * 3_600_000,
];

export interface WebhookDeliverySettings {
  /** Delay before attempt n+1 at index n; its length is the number of attempts. */
  retryDelaysMs: readonly number[];
  timeoutMs: number;
  /** Disable an endpoint after this many deliveries in a row failed for good (0: never). */
  disableAfterFailures: number;
  userAgent: string;
}

export interface WebhookDeliveryDeps {
  db: Kysely<Database>;
  webhooks: WebhookRepository;
  keyring: Keyring;
  queue: Pick<JobQueue, 'enqueue' | 'isPending'>;
  policy: DestinationPolicy;
  resolve: ResolveHost;
  send: SendWebhook;
  settings: WebhookDeliverySettings;
  /** 0 ≤ x < 1; jitter spreads retries of many deliveries that failed together. */
  random?: () => number;
  now: () => Date;
  log: Logger;
}

const jobIdOf = (delivery: Pick<WebhookDelivery, 'id' | 'attempt_count'>) =>
  `${delivery.id}:${delivery.attempt_count + 1}`;

const isSuccess = (status: number | null) => status !== null && status >= 200 && status < 300;

/**
 * Durable, at-least-once webhook delivery: an event becomes one delivery row per subscribed endpoint in the
 * transaction that records what it reports, a `webhook.deliver` job per attempt carries it out, and a sweep
 * re-enqueues any due delivery whose job was lost (BullMQ enqueues after commit; a crash may fall between).
 */
export function createWebhookDeliveryService(deps: WebhookDeliveryDeps) {
  const { webhooks, settings, now, log } = deps;
  const random = deps.random ?? Math.random;
  const maxAttempts = settings.retryDelaysMs.length;
  // A claimed attempt is left alone this long; a worker that died during it leaves it due again after it.
  const leaseMs = settings.timeoutMs + 60_000;

  async function enqueue(delivery: WebhookDelivery, delayMs = 0): Promise<void> {
    await deps.queue.enqueue(
      'webhook.deliver',
      { deliveryId: delivery.id },
      { jobId: jobIdOf(delivery), delayMs },
    );
  }

  /** After commit: a failure here only delays the delivery until the sweep. */
  async function enqueueAll(deliveries: readonly WebhookDelivery[]): Promise<void> {
    for (const delivery of deliveries)
      await enqueue(delivery).catch((error: unknown) =>
        log.warn({ err: error, deliveryId: delivery.id }, 'webhook job not enqueued; the sweep will'),
      );
  }

  async function deliveriesFor(event: WebhookEvent, executor: Executor): Promise<NewWebhookDelivery[]> {
    const endpoints = await webhooks.subscribedEndpoints(event.orgId, event.type, executor);
    const eventId = `msg_${randomUUID().replaceAll('-', '')}`;
    const payload = webhookPayload(event);
    return endpoints.map((endpoint) => ({
      orgId: endpoint.organisation_id,
      endpointId: endpoint.id,
      eventId,
      eventType: event.type,
      payload,
      at: now(),
    }));
  }

  function retryDelay(attempt: number): number {
    const base = settings.retryDelaysMs[attempt] ?? 0;
    return Math.round(base * (0.9 + 0.2 * random()));
  }

  /** One attempt; `final` when retrying cannot help (the endpoint was disabled or deleted). */
  async function attempt(delivery: WebhookDelivery): Promise<SendResult & { final?: true }> {
    const endpoint = await webhooks.findEndpointUnscoped(delivery.endpoint_id);
    if (!endpoint?.enabled)
      return { status: null, excerpt: null, error: 'endpoint disabled', durationMs: 0, final: true };
    let destination;
    try {
      // Checked again at every attempt: the name may resolve elsewhere now, or the policy changed.
      destination = await checkDestination(endpoint.url, deps.policy, deps.resolve);
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      return { status: null, excerpt: null, error: `refused: ${error.detail ?? error.title}`, durationMs: 0 };
    }
    const headers = signedHeaders({
      secrets: await signingSecrets(endpoint, deps.keyring, now()),
      messageId: delivery.event_id,
      at: now(),
      body: delivery.payload,
    });
    return deps.send({
      destination,
      headers: { ...headers, 'content-type': 'application/json', 'user-agent': settings.userAgent },
      body: delivery.payload,
      timeoutMs: settings.timeoutMs,
    });
  }

  return {
    /**
     * Runs `write` and, when it reports that it changed something, records the event's deliveries in the same
     * transaction; their jobs are enqueued after commit. Answers what `write` answered.
     */
    async recordWith(
      write: (executor: Executor) => Promise<boolean>,
      event: () => WebhookEvent,
    ): Promise<boolean> {
      const created = await deps.db.transaction().execute(async (trx) => {
        if (!(await write(trx))) return null;
        return webhooks.createDeliveries(await deliveriesFor(event(), trx), trx);
      });
      if (created === null) return false;
      await enqueueAll(created);
      return true;
    },

    /** Records and enqueues an event outside any other write (evidence anchored, a redelivery, a test). */
    async emit(event: WebhookEvent, endpointId?: string): Promise<WebhookDelivery[]> {
      const all = await deliveriesFor(event, deps.db);
      const wanted = endpointId === undefined ? all : all.filter((one) => one.endpointId === endpointId);
      const created = await webhooks.createDeliveries(wanted);
      await enqueueAll(created);
      return created;
    },

    /** Queues deliveries built by the caller (a test event, a redelivery). */
    async dispatch(deliveries: readonly NewWebhookDelivery[]): Promise<WebhookDelivery[]> {
      const created = await webhooks.createDeliveries(deliveries);
      await enqueueAll(created);
      return created;
    },

    /** The `webhook.deliver` job: one attempt, then success, a scheduled retry, or failure for good. */
    async deliver(payload: JobPayloads['webhook.deliver']): Promise<void> {
      // A second of slack: the queue's timer and this clock may disagree by a little.
      const delivery = await webhooks.claim(payload.deliveryId, new Date(now().getTime() + 1000), leaseMs);
      if (!delivery) return;
      const startedAt = now();
      const result = await attempt(delivery);
      const attemptNumber = delivery.attempt_count;
      const succeeded = isSuccess(result.status);
      const retry = !succeeded && !result.final && attemptNumber < maxAttempts;
      const at = now();
      const nextAttemptAt = retry ? new Date(at.getTime() + retryDelay(attemptNumber)) : null;
      await webhooks.recordAttempt(
        delivery.id,
        {
          attempt: attemptNumber,
          startedAt,
          durationMs: result.durationMs,
          responseCode: result.status,
          responseExcerpt: result.excerpt,
          error: result.error ?? (succeeded ? null : `HTTP ${result.status}`),
        },
        { status: succeeded ? 'succeeded' : retry ? 'pending' : 'failed', nextAttemptAt, at },
      );
      const deliveryLog = log.child({ deliveryId: delivery.id, endpointId: delivery.endpoint_id });
      if (retry && nextAttemptAt) {
        deliveryLog.info(
          { attempt: attemptNumber, status: result.status, error: result.error },
          'webhook attempt failed; retrying',
        );
        await enqueue({ ...delivery }, nextAttemptAt.getTime() - at.getTime());
        return;
      }
      if (result.final) return;
      const endpoint = await webhooks.recordDeliveryOutcome(delivery.endpoint_id, {
        succeeded,
        disableAfter: settings.disableAfterFailures,
        at,
      });
      if (!succeeded)
        deliveryLog.warn(
          {
            attempts: attemptNumber,
            status: result.status,
            error: result.error,
            endpointEnabled: endpoint?.enabled,
          },
          'webhook delivery failed for good',
        );
    },

    /** Enqueues due deliveries whose job is missing; returns how many. */
    async sweep(limit = 100): Promise<number> {
      let enqueued = 0;
      for (const delivery of await webhooks.findDue(now(), limit)) {
        if (await deps.queue.isPending('webhook.deliver', jobIdOf(delivery))) continue;
        await enqueue(delivery);
        enqueued += 1;
      }
      if (enqueued > 0) log.info({ enqueued }, 'webhook sweep enqueued due deliveries');
      return enqueued;
    },

    maxAttempts,
  };
}

export type WebhookDeliveryService = ReturnType<typeof createWebhookDeliveryService>;
