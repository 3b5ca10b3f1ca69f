import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database, WebhookDelivery, WebhookDeliveryAttempt, WebhookEndpoint } from '../db/schema.js';
import type { Principal } from '../http/access-control.js';
import { actorRefOf } from '../http/access-control.js';
import type { WebhookEndpointChange, WebhookRepository } from '../repositories/webhook.repository.js';
import type { Keyring } from '../storage/master-key.js';
import {
  checkDestination,
  type DestinationPolicy,
  type ResolveHost,
} from '../webhooks/webhook-destination.js';
import { webhookPayload } from '../webhooks/webhook-events.js';
import { openWebhookSecret, sealWebhookSecret } from '../webhooks/webhook-secrets.js';
import { generateWebhookSecret } from '../webhooks/webhook-signing.js';
import type { AuditLogService } from './audit-log.service.js';
import { AppError, notFound } from './errors.js';
import type { ClientInfo } from './session.service.js';
import { auditActorOf } from './user.service.js';
import type { WebhookDeliveryService } from './webhook-delivery.service.js';

/** How long the previous secret keeps signing after a rotation (receivers switch over meanwhile). */
export const rotationGraceHours = 24;
export const maxEndpointsPerOrganisation = 20;

export interface WebhookServiceDeps {
  db: Kysely<Database>;
  webhooks: WebhookRepository;
  delivery: Pick<WebhookDeliveryService, 'dispatch'>;
  keyring: Keyring;
  policy: DestinationPolicy;
  resolve: ResolveHost;
  audit: AuditLogService;
  now: () => Date;
}

export interface DeliveryWithAttempts {
  delivery: WebhookDelivery;
  attempts: WebhookDeliveryAttempt[];
}

// Only the origin goes into the audit log: a URL's path or query may hold a receiver's token.
const originOf = (url: string) => new URL(url).origin;

/** An organisation's webhook endpoints, their signing secrets (shown once), and their delivery log. */
export function createWebhookService(deps: WebhookServiceDeps) {
  const { webhooks, keyring, audit, now } = deps;

  async function findEndpoint(orgId: string, id: string): Promise<WebhookEndpoint> {
    const found = await webhooks.findEndpoint(orgId, id);
    if (!found) throw notFound('webhook endpoint');
    return found;
  }

  const auditEntry = (
    principal: Principal,
    client: ClientInfo,
    action: string,
    endpointId: string,
    details: Record<string, string | number | boolean | null>,
  ) => ({
    orgId: principal.orgId,
    actor: auditActorOf(principal),
    action,
    outcome: 'success' as const,
    target: { type: 'webhook-endpoint', id: endpointId },
    ip: client.ip,
    userAgent: client.userAgent,
    details,
  });

  return {
    /** The secret is returned this once; only its sealed form is stored. */
    async create(
      principal: Principal,
      input: { url: string; description: string | null; eventTypes: readonly string[] },
      client: ClientInfo,
    ): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
      const checked = await checkDestination(input.url, deps.policy, deps.resolve);
      const existing = await webhooks.listEndpoints(principal.orgId);
      if (existing.length >= maxEndpointsPerOrganisation)
        throw new AppError(
          409,
          'webhook-endpoint-limit',
          'Too many webhook endpoints',
          `an organisation has at most ${maxEndpointsPerOrganisation} webhook endpoints`,
        );
      const id = randomUUID();
      const secret = generateWebhookSecret();
      const secretSealed = await sealWebhookSecret(secret, id, 'current', keyring);
      const endpoint = await deps.db.transaction().execute(async (trx) => {
        const created = await webhooks.createEndpoint(
          {
            id,
            orgId: principal.orgId,
            url: checked.url.href,
            description: input.description,
            eventTypes: input.eventTypes,
            secretSealed,
            createdBy: actorRefOf(principal),
            at: now(),
          },
          trx,
        );
        await audit.append(
          auditEntry(principal, client, 'webhook.create', id, {
            origin: checked.url.origin,
            eventTypes: input.eventTypes.join(','),
          }),
          trx,
        );
        return created;
      });
      return { endpoint, secret };
    },

    list: (orgId: string) => webhooks.listEndpoints(orgId),
    get: (orgId: string, id: string) => findEndpoint(orgId, id),

    async update(
      principal: Principal,
      id: string,
      change: WebhookEndpointChange,
      client: ClientInfo,
    ): Promise<WebhookEndpoint> {
      await findEndpoint(principal.orgId, id);
      const url =
        change.url === undefined
          ? undefined
          : (await checkDestination(change.url, deps.policy, deps.resolve)).url.href;
      return deps.db.transaction().execute(async (trx) => {
        const updated = await webhooks.updateEndpoint(principal.orgId, id, { ...change, url }, now(), trx);
        if (!updated) throw notFound('webhook endpoint');
        await audit.append(
          auditEntry(principal, client, 'webhook.update', id, {
            origin: originOf(updated.url),
            eventTypes: updated.event_types,
            enabled: updated.enabled,
            urlChanged: url !== undefined,
          }),
          trx,
        );
        return updated;
      });
    },

    async remove(principal: Principal, id: string, client: ClientInfo): Promise<void> {
      const found = await findEndpoint(principal.orgId, id);
      await deps.db.transaction().execute(async (trx) => {
        if (!(await webhooks.deleteEndpoint(principal.orgId, id, trx))) throw notFound('webhook endpoint');
        await audit.append(
          auditEntry(principal, client, 'webhook.delete', id, { origin: originOf(found.url) }),
          trx,
        );
      });
    },

    /** A new secret, shown once; the old one keeps signing beside it for the grace period. */
    async rotateSecret(
      principal: Principal,
      id: string,
      client: ClientInfo,
    ): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
      const found = await findEndpoint(principal.orgId, id);
      const previous = await openWebhookSecret(found.secret_sealed, id, 'current', keyring);
      const secret = generateWebhookSecret();
      const at = now();
      const previousExpiresAt = new Date(at.getTime() + rotationGraceHours * 3_600_000);
      const sealed = {
        secretSealed: await sealWebhookSecret(secret, id, 'current', keyring),
        previousSealed: await sealWebhookSecret(previous, id, 'previous', keyring),
      };
      const endpoint = await deps.db.transaction().execute(async (trx) => {
        const rotated = await webhooks.rotateSecret(
          principal.orgId,
          id,
          { ...sealed, previousExpiresAt, at },
          trx,
        );
        if (!rotated) throw notFound('webhook endpoint');
        await audit.append(
          auditEntry(principal, client, 'webhook.secret.rotate', id, {
            previousSignsUntil: previousExpiresAt.toISOString(),
          }),
          trx,
        );
        return rotated;
      });
      return { endpoint, secret };
    },

    async listDeliveries(
      orgId: string,
      endpointId: string,
      page: { limit: number; before?: string },
    ): Promise<DeliveryWithAttempts[]> {
      await findEndpoint(orgId, endpointId);
      const deliveries = await webhooks.listDeliveries(orgId, endpointId, page.limit, page.before);
      const attempts = await webhooks.listAttempts(deliveries.map((delivery) => delivery.id));
      return deliveries.map((delivery) => ({
        delivery,
        attempts: attempts.filter((one) => one.delivery_id === delivery.id),
      }));
    },

    async getDelivery(orgId: string, deliveryId: string): Promise<DeliveryWithAttempts> {
      const delivery = await webhooks.findDelivery(orgId, deliveryId);
      if (!delivery) throw notFound('webhook delivery');
      return { delivery, attempts: await webhooks.listAttempts([delivery.id]) };
    },

    /** The same event again, as a new delivery with fresh attempts; the `webhook-id` stays, for deduplication. */
    async redeliver(principal: Principal, deliveryId: string, client: ClientInfo): Promise<WebhookDelivery> {
      const original = await webhooks.findDelivery(principal.orgId, deliveryId);
      if (!original) throw notFound('webhook delivery');
      const [created] = await deps.delivery.dispatch([
        {
          orgId: principal.orgId,
          endpointId: original.endpoint_id,
          eventId: original.event_id,
          eventType: original.event_type,
          payload: original.payload,
          redeliveryOf: original.id,
          at: now(),
        },
      ]);
      await audit.append(
        auditEntry(principal, client, 'webhook.redeliver', original.endpoint_id, {
          deliveryId: original.id,
          eventType: original.event_type,
        }),
      );
      return created as WebhookDelivery;
    },

    /** A `webhook.test` event to this endpoint (whatever it subscribes to), delivered like any other. */
    async sendTest(principal: Principal, endpointId: string, client: ClientInfo): Promise<WebhookDelivery> {
      const endpoint = await findEndpoint(principal.orgId, endpointId);
      const at = now();
      const [created] = await deps.delivery.dispatch([
        {
          orgId: principal.orgId,
          endpointId: endpoint.id,
          eventId: `msg_${randomUUID().replaceAll('-', '')}`,
          eventType: 'webhook.test',
          payload: webhookPayload({
            orgId: principal.orgId,
            type: 'webhook.test',
            at,
            data: { endpointId: endpoint.id, message: 'a test event sent on request' },
          }),
          at,
        },
      ]);
      await audit.append(auditEntry(principal, client, 'webhook.test', endpoint.id, {}));
      return created as WebhookDelivery;
    },
  };
}

export type WebhookService = ReturnType<typeof createWebhookService>;
