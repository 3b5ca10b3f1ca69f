import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { appVersion } from '../backup/app-version.js';
import type { Config } from '../config/config.schema.js';
import type { Database } from '../db/schema.js';
import type { JobQueue } from '../queue/job-queue.js';
import { createWebhookRepository } from '../repositories/webhook.repository.js';
import type { AnalysisEndWebhooks } from '../services/analysis.service.js';
import type { AnchoredWebhooks } from '../services/anchor.service.js';
import type { AuditLogService } from '../services/audit-log.service.js';
import {
  createWebhookDeliveryService,
  defaultRetryDelaysMs,
  type WebhookDeliveryService,
} from '../services/webhook-delivery.service.js';
import { createWebhookService } from '../services/webhook.service.js';
import type { Keyring } from '../storage/master-key.js';
import { parseDestinationPolicy, resolveWithSystem } from '../webhooks/webhook-destination.js';
import {
  analysisCompletedEvent,
  analysisFailedEvent,
  evidenceAnchoredEvent,
} from '../webhooks/webhook-events.js';
import type { AnchorRecord } from '../repositories/anchor.repository.js';
import { sendWebhook } from '../webhooks/webhook-sender.js';
import { startPeriodic } from './lifecycle.js';

// Due deliveries whose job was lost (a crash between commit and enqueue) wait at most this long.
const sweepIntervalMs = 30_000;

/** Webhook endpoints, delivery and the analysis-end events, from the configuration. */
export function openWebhooks(deps: {
  config: Pick<
    Config,
    | 'WEBHOOK_ALLOWED_NETWORKS'
    | 'WEBHOOK_ALLOW_HTTP'
    | 'WEBHOOK_MAX_ATTEMPTS'
    | 'WEBHOOK_TIMEOUT_SECONDS'
    | 'WEBHOOK_DISABLE_AFTER_FAILURES'
  >;
  db: Kysely<Database>;
  keyring: Keyring;
  queue: JobQueue;
  audit: AuditLogService;
  /** Base of the report links in payloads. */
  publicUrl: string;
  now: () => Date;
  log: Logger;
}) {
  const { config, now } = deps;
  const webhooks = createWebhookRepository({ db: deps.db });
  const policy = parseDestinationPolicy({
    networks: config.WEBHOOK_ALLOWED_NETWORKS,
    allowHttp: config.WEBHOOK_ALLOW_HTTP,
  });
  const log = deps.log.child({ component: 'webhooks' });
  const delivery = createWebhookDeliveryService({
    db: deps.db,
    webhooks,
    keyring: deps.keyring,
    queue: deps.queue,
    policy,
    resolve: resolveWithSystem,
    send: sendWebhook,
    settings: {
      retryDelaysMs: defaultRetryDelaysMs.slice(0, config.WEBHOOK_MAX_ATTEMPTS),
      timeoutMs: config.WEBHOOK_TIMEOUT_SECONDS * 1000,
      disableAfterFailures: config.WEBHOOK_DISABLE_AFTER_FAILURES,
      userAgent: `SecureAI-Guardian-Webhooks/${appVersion()}`,
    },
    now,
    log,
  });
  const service = createWebhookService({
    db: deps.db,
    webhooks,
    delivery,
    keyring: deps.keyring,
    policy,
    resolve: resolveWithSystem,
    audit: deps.audit,
    now,
  });
  return {
    delivery,
    service,
    analysisEvents: analysisEndWebhooks(delivery, { publicUrl: deps.publicUrl, now }),
    anchorEvents: anchoredWebhooks(delivery, { publicUrl: deps.publicUrl, now }),
    startSweeper: () =>
      startPeriodic({ name: 'webhook-sweep', intervalMs: sweepIntervalMs, run: () => delivery.sweep(), log }),
  };
}

/** The analysis service's hook: its end and the matching event commit together. */
export function analysisEndWebhooks(
  delivery: Pick<WebhookDeliveryService, 'recordWith'>,
  context: { publicUrl: string; now: () => Date },
): AnalysisEndWebhooks {
  const at = () => ({ at: context.now(), publicUrl: context.publicUrl });
  return {
    completed: (analysis, band, write) =>
      delivery.recordWith(write, () => analysisCompletedEvent(analysis, { band }, at())),
    failed: (analysis, code, write) =>
      delivery.recordWith(write, () => analysisFailedEvent(analysis, { code }, at())),
  };
}

/** The anchor service's hook: an anchor's move to anchored and its `evidence.anchored` events commit together. */
export function anchoredWebhooks(
  delivery: Pick<WebhookDeliveryService, 'recordWith'>,
  context: { publicUrl: string; now: () => Date },
): AnchoredWebhooks {
  return {
    async anchored(write) {
      let stored: AnchorRecord | null = null;
      await delivery.recordWith(
        async (executor) => {
          stored = await write(executor);
          return stored !== null;
        },
        () =>
          evidenceAnchoredEvent(stored as unknown as AnchorRecord, {
            at: context.now(),
            publicUrl: context.publicUrl,
          }),
      );
      return stored;
    },
  };
}
