import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Executor } from '../db/executor.js';
import type {
  Database,
  UploaderType,
  WebhookDelivery,
  WebhookDeliveryAttempt,
  WebhookDeliveryStatus,
  WebhookEndpoint,
} from '../db/schema.js';
import { isUuid } from './is-uuid.js';

export interface NewWebhookEndpoint {
  id: string;
  orgId: string;
  url: string;
  description: string | null;
  eventTypes: readonly string[];
  secretSealed: Buffer;
  createdBy: { type: UploaderType; id: string };
  at: Date;
}

export interface WebhookEndpointChange {
  url?: string;
  description?: string | null;
  eventTypes?: readonly string[];
  enabled?: boolean;
}

export interface NewWebhookDelivery {
  orgId: string;
  endpointId: string;
  eventId: string;
  eventType: string;
  payload: string;
  redeliveryOf?: string;
  at: Date;
}

export interface WebhookAttemptRecord {
  attempt: number;
  startedAt: Date;
  durationMs: number;
  responseCode: number | null;
  responseExcerpt: string | null;
  error: string | null;
}

export interface WebhookRepository {
  createEndpoint(input: NewWebhookEndpoint, executor?: Executor): Promise<WebhookEndpoint>;
  listEndpoints(orgId: string): Promise<WebhookEndpoint[]>;
  findEndpoint(orgId: string, id: string): Promise<WebhookEndpoint | null>;
  findEndpointUnscoped(id: string): Promise<WebhookEndpoint | null>;
  /** Enabled endpoints of the organisation (null: of every organisation) that subscribe to this event type. */
  subscribedEndpoints(
    orgId: string | null,
    eventType: string,
    executor?: Executor,
  ): Promise<WebhookEndpoint[]>;
  updateEndpoint(
    orgId: string,
    id: string,
    change: WebhookEndpointChange,
    at: Date,
    executor?: Executor,
  ): Promise<WebhookEndpoint | null>;
  /** The new secret signs from now on; the previous one also signs until `previousExpiresAt`. */
  rotateSecret(
    orgId: string,
    id: string,
    input: { secretSealed: Buffer; previousSealed: Buffer; previousExpiresAt: Date; at: Date },
    executor?: Executor,
  ): Promise<WebhookEndpoint | null>;
  /** Deletes the endpoint with its deliveries and their attempts. */
  deleteEndpoint(orgId: string, id: string, executor?: Executor): Promise<boolean>;
  /** Counts a finished delivery: success resets the run of failures, a failure extends it (and may disable). */
  recordDeliveryOutcome(
    id: string,
    outcome: { succeeded: boolean; disableAfter: number; at: Date },
  ): Promise<WebhookEndpoint | null>;

  createDeliveries(
    deliveries: readonly NewWebhookDelivery[],
    executor?: Executor,
  ): Promise<WebhookDelivery[]>;
  findDelivery(orgId: string, id: string): Promise<WebhookDelivery | null>;
  findDeliveryUnscoped(id: string): Promise<WebhookDelivery | null>;
  /** Newest first, `before` a delivery id of the previous page. */
  listDeliveries(
    orgId: string,
    endpointId: string,
    limit: number,
    before?: string,
  ): Promise<WebhookDelivery[]>;
  listAttempts(deliveryIds: readonly string[]): Promise<WebhookDeliveryAttempt[]>;
  /**
   * Takes the delivery's next attempt if it is pending and due: counts it and pushes `next_attempt_at` out by
   * the lease, so a worker that dies mid-attempt only delays the next one. Null when not due or not pending.
   */
  claim(id: string, now: Date, leaseMs: number): Promise<WebhookDelivery | null>;
  /** Records the claimed attempt and where the delivery stands after it. */
  recordAttempt(
    id: string,
    record: WebhookAttemptRecord,
    next: { status: WebhookDeliveryStatus; nextAttemptAt: Date | null; at: Date },
  ): Promise<void>;
  /** Pending deliveries due before `now`, oldest due first. */
  findDue(now: Date, limit: number): Promise<WebhookDelivery[]>;
}

const joinTypes = (types: readonly string[]) => [...new Set(types)].sort().join(',');
export const eventTypesOf = (endpoint: Pick<WebhookEndpoint, 'event_types'>): string[] =>
  endpoint.event_types.split(',').filter((type) => type !== '');

export function createWebhookRepository(deps: { db: Kysely<Database> }): WebhookRepository {
  const { db } = deps;
  return {
    async createEndpoint(input, executor = db) {
      return executor
        .insertInto('webhook_endpoints')
        .values({
          id: input.id,
          organisation_id: input.orgId,
          url: input.url,
          description: input.description,
          event_types: joinTypes(input.eventTypes),
          secret_sealed: input.secretSealed,
          previous_secret_sealed: null,
          previous_secret_expires_at: null,
          disabled_reason: null,
          created_by_type: input.createdBy.type,
          created_by: input.createdBy.id,
          created_at: input.at,
          updated_at: input.at,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
    },

    listEndpoints: (orgId) =>
      db
        .selectFrom('webhook_endpoints')
        .selectAll()
        .where('organisation_id', '=', orgId)
        .orderBy('created_at')
        .orderBy('id')
        .execute(),

    async findEndpoint(orgId, id) {
      if (!isUuid(id)) return null;
      const found = await db
        .selectFrom('webhook_endpoints')
        .selectAll()
        .where('organisation_id', '=', orgId)
        .where('id', '=', id)
        .executeTakeFirst();
      return found ?? null;
    },

    async findEndpointUnscoped(id) {
      if (!isUuid(id)) return null;
      const found = await db
        .selectFrom('webhook_endpoints')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst();
      return found ?? null;
    },

    async subscribedEndpoints(orgId, eventType, executor = db) {
      let query = executor.selectFrom('webhook_endpoints').selectAll().where('enabled', '=', true);
      if (orgId !== null) query = query.where('organisation_id', '=', orgId);
      const enabled = await query.orderBy('id').execute();
      return enabled.filter((endpoint) => eventTypesOf(endpoint).includes(eventType));
    },

    async updateEndpoint(orgId, id, change, at, executor = db) {
      if (!isUuid(id)) return null;
      const row = await executor
        .updateTable('webhook_endpoints')
        .set({
          updated_at: at,
          ...(change.url !== undefined ? { url: change.url } : {}),
          ...(change.description !== undefined ? { description: change.description } : {}),
          ...(change.eventTypes !== undefined ? { event_types: joinTypes(change.eventTypes) } : {}),
          // Enabling again starts a fresh run of failures.
          ...(change.enabled !== undefined
            ? change.enabled
              ? { enabled: true, disabled_reason: null, consecutive_failures: 0 }
              : { enabled: false, disabled_reason: 'disabled by an admin' }
            : {}),
        })
        .where('organisation_id', '=', orgId)
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst();
      return row ?? null;
    },

    async rotateSecret(orgId, id, input, executor = db) {
      if (!isUuid(id)) return null;
      const row = await executor
        .updateTable('webhook_endpoints')
        .set({
          secret_sealed: input.secretSealed,
          previous_secret_sealed: input.previousSealed,
          previous_secret_expires_at: input.previousExpiresAt,
          updated_at: input.at,
        })
        .where('organisation_id', '=', orgId)
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst();
      return row ?? null;
    },

    async deleteEndpoint(orgId, id, executor = db) {
      if (!isUuid(id)) return false;
      const result = await executor
        .deleteFrom('webhook_endpoints')
        .where('organisation_id', '=', orgId)
        .where('id', '=', id)
        .executeTakeFirst();
      return result.numDeletedRows > 0n;
    },

    async recordDeliveryOutcome(id, { succeeded, disableAfter, at }) {
      const row = succeeded
        ? await db
            .updateTable('webhook_endpoints')
            .set({ consecutive_failures: 0 })
            .where('id', '=', id)
            .returningAll()
            .executeTakeFirst()
        : await db
            .updateTable('webhook_endpoints')
            .set({
              consecutive_failures: sql<number>`consecutive_failures + 1`,
              enabled:
                disableAfter > 0
                  ? sql<boolean>`enabled and consecutive_failures + 1 < ${disableAfter}`
                  : sql<boolean>`enabled`,
              disabled_reason: sql<
                string | null
              >`case when ${disableAfter} > 0 and enabled and consecutive_failures + 1 >= ${disableAfter}
                then ${`disabled after ${disableAfter} consecutive failed deliveries`} else disabled_reason end`,
              updated_at: at,
            })
            .where('id', '=', id)
            .returningAll()
            .executeTakeFirst();
      return row ?? null;
    },

    async createDeliveries(deliveries, executor = db) {
      if (deliveries.length === 0) return [];
      return executor
        .insertInto('webhook_deliveries')
        .values(
          deliveries.map((delivery) => ({
            id: randomUUID(),
            organisation_id: delivery.orgId,
            endpoint_id: delivery.endpointId,
            event_id: delivery.eventId,
            event_type: delivery.eventType,
            payload: delivery.payload,
            status: 'pending' as const,
            last_response_code: null,
            last_error: null,
            next_attempt_at: delivery.at,
            redelivery_of: delivery.redeliveryOf ?? null,
            created_at: delivery.at,
            updated_at: delivery.at,
          })),
        )
        .returningAll()
        .execute();
    },

    async findDelivery(orgId, id) {
      if (!isUuid(id)) return null;
      const found = await db
        .selectFrom('webhook_deliveries')
        .selectAll()
        .where('organisation_id', '=', orgId)
        .where('id', '=', id)
        .executeTakeFirst();
      return found ?? null;
    },

    async findDeliveryUnscoped(id) {
      if (!isUuid(id)) return null;
      const found = await db
        .selectFrom('webhook_deliveries')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst();
      return found ?? null;
    },

    async listDeliveries(orgId, endpointId, limit, before) {
      if (!isUuid(endpointId)) return [];
      let query = db
        .selectFrom('webhook_deliveries')
        .selectAll()
        .where('organisation_id', '=', orgId)
        .where('endpoint_id', '=', endpointId);
      if (before !== undefined && isUuid(before)) {
        const anchor = db.selectFrom('webhook_deliveries').where('id', '=', before);
        query = query.where((eb) =>
          eb.or([
            eb('created_at', '<', anchor.select('created_at')),
            eb.and([eb('created_at', '=', anchor.select('created_at')), eb('id', '<', before)]),
          ]),
        );
      }
      return query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
    },

    async listAttempts(deliveryIds) {
      if (deliveryIds.length === 0) return [];
      return db
        .selectFrom('webhook_delivery_attempts')
        .selectAll()
        .where('delivery_id', 'in', deliveryIds)
        .orderBy('delivery_id')
        .orderBy('attempt')
        .execute();
    },

    async claim(id, now, leaseMs) {
      if (!isUuid(id)) return null;
      const row = await db
        .updateTable('webhook_deliveries')
        .set({
          attempt_count: sql<number>`attempt_count + 1`,
          next_attempt_at: new Date(now.getTime() + leaseMs),
          updated_at: now,
        })
        .where('id', '=', id)
        .where('status', '=', 'pending')
        .where('next_attempt_at', '<=', now)
        .returningAll()
        .executeTakeFirst();
      return row ?? null;
    },

    async recordAttempt(id, record, next) {
      await db.transaction().execute(async (trx) => {
        await trx
          .insertInto('webhook_delivery_attempts')
          .values({
            delivery_id: id,
            attempt: record.attempt,
            started_at: record.startedAt,
            duration_ms: record.durationMs,
            response_code: record.responseCode,
            response_excerpt: record.responseExcerpt?.slice(0, 500) ?? null,
            error: record.error?.slice(0, 500) ?? null,
          })
          .onConflict((oc) => oc.columns(['delivery_id', 'attempt']).doNothing())
          .execute();
        await trx
          .updateTable('webhook_deliveries')
          .set({
            status: next.status,
            next_attempt_at: next.nextAttemptAt,
            last_response_code: record.responseCode,
            last_error: record.error?.slice(0, 500) ?? null,
            updated_at: next.at,
            finished_at: next.status === 'pending' ? null : next.at,
          })
          .where('id', '=', id)
          .where('attempt_count', '=', record.attempt)
          .execute();
      });
    },

    findDue: (now, limit) =>
      db
        .selectFrom('webhook_deliveries')
        .selectAll()
        .where('status', '=', 'pending')
        .where('next_attempt_at', '<=', now)
        .orderBy('next_attempt_at')
        .limit(limit)
        .execute(),
  };
}
