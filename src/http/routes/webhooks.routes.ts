import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { WebhookDelivery, WebhookDeliveryAttempt, WebhookEndpoint } from '../../db/schema.js';
import { eventTypesOf } from '../../repositories/webhook.repository.js';
import type { DeliveryWithAttempts, WebhookService } from '../../services/webhook.service.js';
import { rotationGraceHours } from '../../services/webhook.service.js';
import { webhookEventTypes } from '../../webhooks/webhook-events.js';
import { admins, requirePrincipal } from '../access-control.js';
import { errorResponses, idParams, problemSchema } from '../schemas.js';
import { clientOf } from './auth.routes.js';

export interface WebhooksRoutesDeps {
  webhooks: WebhookService;
}

const tags = ['webhooks'];

const eventTypesSchema = z
  .array(z.enum(webhookEventTypes))
  .min(1)
  .max(webhookEventTypes.length)
  .describe('the events this endpoint receives');
const urlSchema = z
  .string()
  .trim()
  .min(1)
  .max(2048)
  .describe(
    'https URL (http only where WEBHOOK_ALLOW_HTTP allows it); its host must resolve to public addresses only, unless WEBHOOK_ALLOWED_NETWORKS admits them (422 `webhook-destination-refused`)',
  );
const descriptionSchema = z.string().trim().min(1).max(500);

const createBody = z.strictObject({
  url: urlSchema,
  description: descriptionSchema.optional(),
  eventTypes: eventTypesSchema,
});

const updateBody = z
  .strictObject({
    url: urlSchema.optional(),
    description: descriptionSchema.nullable().optional(),
    eventTypes: eventTypesSchema.optional(),
    enabled: z.boolean().optional().describe('true also clears the count of consecutive failed deliveries'),
  })
  .refine((body) => Object.keys(body).length > 0, { message: 'nothing to change' });

const endpointSchema = z.object({
  id: z.uuid(),
  url: z.string(),
  description: z.string().nullable(),
  eventTypes: z.array(z.string()),
  enabled: z.boolean(),
  disabledReason: z.string().nullable(),
  consecutiveFailures: z.number().int().nonnegative(),
  previousSecretSignsUntil: z.iso
    .datetime()
    .nullable()
    .describe('after a rotation, the old secret also signs (a second signature) until then'),
  createdBy: z.object({ type: z.enum(['user', 'api-key']), id: z.uuid() }),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});

const withSecretSchema = endpointSchema.extend({
  secret: z
    .string()
    .describe(
      'the signing secret (`whsec_` + base64), shown this once: it is stored sealed by the master key',
    ),
});

const attemptSchema = z.object({
  attempt: z.number().int().positive(),
  startedAt: z.iso.datetime(),
  durationMs: z.number().int().nonnegative(),
  responseCode: z.number().int().nullable(),
  responseExcerpt: z.string().nullable().describe('the first 200 printable characters of the answer'),
  error: z.string().nullable(),
});

const deliverySchema = z.object({
  id: z.uuid(),
  endpointId: z.uuid(),
  eventId: z.string().describe('the `webhook-id` header'),
  eventType: z.string(),
  status: z.enum(['pending', 'succeeded', 'failed']),
  attemptCount: z.number().int().nonnegative(),
  lastResponseCode: z.number().int().nullable(),
  lastError: z.string().nullable(),
  nextAttemptAt: z.iso.datetime().nullable(),
  redeliveryOf: z.uuid().nullable(),
  createdAt: z.iso.datetime(),
  finishedAt: z.iso.datetime().nullable(),
  payload: z.unknown().describe('the JSON body sent (ids, band, links; never media or secrets)'),
  attempts: z.array(attemptSchema),
});

const deliveriesQuery = z.strictObject({
  before: z.uuid().optional().describe('`nextCursor` of the previous page'),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

const endpointView = (endpoint: WebhookEndpoint): z.infer<typeof endpointSchema> => ({
  id: endpoint.id,
  url: endpoint.url,
  description: endpoint.description,
  eventTypes: eventTypesOf(endpoint),
  enabled: endpoint.enabled,
  disabledReason: endpoint.disabled_reason,
  consecutiveFailures: Number(endpoint.consecutive_failures),
  previousSecretSignsUntil: endpoint.previous_secret_expires_at?.toISOString() ?? null,
  createdBy: { type: endpoint.created_by_type, id: endpoint.created_by },
  createdAt: endpoint.created_at.toISOString(),
  updatedAt: endpoint.updated_at.toISOString(),
});

const attemptView = (attempt: WebhookDeliveryAttempt): z.infer<typeof attemptSchema> => ({
  attempt: attempt.attempt,
  startedAt: attempt.started_at.toISOString(),
  durationMs: attempt.duration_ms,
  responseCode: attempt.response_code,
  responseExcerpt: attempt.response_excerpt,
  error: attempt.error,
});

const deliveryView = ({ delivery, attempts }: DeliveryWithAttempts): z.infer<typeof deliverySchema> => ({
  id: delivery.id,
  endpointId: delivery.endpoint_id,
  eventId: delivery.event_id,
  eventType: delivery.event_type,
  status: delivery.status,
  attemptCount: Number(delivery.attempt_count),
  lastResponseCode: delivery.last_response_code,
  lastError: delivery.last_error,
  nextAttemptAt: delivery.next_attempt_at?.toISOString() ?? null,
  redeliveryOf: delivery.redelivery_of,
  createdAt: delivery.created_at.toISOString(),
  finishedAt: delivery.finished_at?.toISOString() ?? null,
  payload: JSON.parse(delivery.payload) as unknown,
  attempts: attempts.map(attemptView),
});

const queuedView = (delivery: WebhookDelivery) => deliveryView({ delivery, attempts: [] });

const refused = { 422: problemSchema };

/** Organisation admins manage webhook endpoints; every change is audited (`webhook.*`). */
export const webhooksRoutes: FastifyPluginAsyncZod<WebhooksRoutesDeps> = async (app, deps) => {
  const { webhooks } = deps;

  app.post(
    '/api/v1/webhooks',
    {
      config: { access: admins },
      schema: {
        summary: 'Create a webhook endpoint; its signing secret is shown only in this response',
        description:
          'Deliveries are signed per the Standard Webhooks spec (`webhook-id`, `webhook-timestamp`, `webhook-signature`); see docs/webhooks.md. Audited as `webhook.create`.',
        tags,
        body: createBody,
        response: { 201: withSecretSchema, 409: problemSchema, ...refused, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { endpoint, secret } = await webhooks.create(
        requirePrincipal(request),
        {
          url: request.body.url,
          description: request.body.description ?? null,
          eventTypes: request.body.eventTypes,
        },
        clientOf(request),
      );
      reply.header('cache-control', 'no-store');
      return reply.status(201).send({ ...endpointView(endpoint), secret });
    },
  );

  app.get(
    '/api/v1/webhooks',
    {
      config: { access: admins },
      schema: {
        summary: "The organisation's webhook endpoints (never their secrets)",
        tags,
        response: { 200: z.object({ items: z.array(endpointSchema) }), ...errorResponses },
      },
    },
    async (request) => ({
      items: (await webhooks.list(requirePrincipal(request).orgId)).map(endpointView),
    }),
  );

  app.get(
    '/api/v1/webhooks/:id',
    {
      config: { access: admins },
      schema: {
        summary: 'One webhook endpoint (never its secret)',
        tags,
        params: idParams,
        response: { 200: endpointSchema, ...errorResponses },
      },
    },
    async (request) => endpointView(await webhooks.get(requirePrincipal(request).orgId, request.params.id)),
  );

  app.patch(
    '/api/v1/webhooks/:id',
    {
      config: { access: admins },
      schema: {
        summary: 'Change the URL, description, events, or enable/disable (audited as `webhook.update`)',
        tags,
        params: idParams,
        body: updateBody,
        response: { 200: endpointSchema, ...refused, ...errorResponses },
      },
    },
    async (request) => {
      const updated = await webhooks.update(
        requirePrincipal(request),
        request.params.id,
        request.body,
        clientOf(request),
      );
      return endpointView(updated);
    },
  );

  app.delete(
    '/api/v1/webhooks/:id',
    {
      config: { access: admins },
      schema: {
        summary: 'Delete an endpoint with its delivery log (audited as `webhook.delete`)',
        tags,
        params: idParams,
        response: { 204: z.null().describe('Deleted'), ...errorResponses },
      },
    },
    async (request, reply) => {
      await webhooks.remove(requirePrincipal(request), request.params.id, clientOf(request));
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/api/v1/webhooks/:id/rotate-secret',
    {
      config: { access: admins },
      schema: {
        summary: 'A new signing secret, shown only in this response',
        description: `For ${rotationGraceHours} hours the previous secret also signs: \`webhook-signature\` then carries two space-separated signatures, and a receiver holding either verifies. Audited as \`webhook.secret.rotate\`.`,
        tags,
        params: idParams,
        response: { 200: withSecretSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { endpoint, secret } = await webhooks.rotateSecret(
        requirePrincipal(request),
        request.params.id,
        clientOf(request),
      );
      reply.header('cache-control', 'no-store');
      return { ...endpointView(endpoint), secret };
    },
  );

  app.post(
    '/api/v1/webhooks/:id/test',
    {
      config: { access: admins },
      schema: {
        summary: 'Send a `webhook.test` event to this endpoint now (delivered and retried like any other)',
        tags,
        params: idParams,
        response: { 202: deliverySchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const delivery = await webhooks.sendTest(
        requirePrincipal(request),
        request.params.id,
        clientOf(request),
      );
      return reply.status(202).send(queuedView(delivery));
    },
  );

  app.get(
    '/api/v1/webhooks/:id/deliveries',
    {
      config: { access: admins },
      schema: {
        summary: "This endpoint's deliveries, newest first, each with its attempts (the delivery log)",
        tags,
        params: idParams,
        querystring: deliveriesQuery,
        response: {
          200: z.object({ items: z.array(deliverySchema), nextCursor: z.uuid().nullable() }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const { limit, before } = request.query;
      const page = await webhooks.listDeliveries(requirePrincipal(request).orgId, request.params.id, {
        limit,
        ...(before !== undefined ? { before } : {}),
      });
      return {
        items: page.map(deliveryView),
        nextCursor: page.length === limit ? (page.at(-1)?.delivery.id ?? null) : null,
      };
    },
  );

  app.get(
    '/api/v1/webhook-deliveries/:id',
    {
      config: { access: admins },
      schema: {
        summary: 'One delivery with its attempts',
        tags,
        params: idParams,
        response: { 200: deliverySchema, ...errorResponses },
      },
    },
    async (request) =>
      deliveryView(await webhooks.getDelivery(requirePrincipal(request).orgId, request.params.id)),
  );

  app.post(
    '/api/v1/webhook-deliveries/:id/redeliver',
    {
      config: { access: admins },
      schema: {
        summary: 'Deliver this event again, as a new delivery with fresh attempts (same `webhook-id`)',
        description: 'Audited as `webhook.redeliver`.',
        tags,
        params: idParams,
        response: { 202: deliverySchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const delivery = await webhooks.redeliver(
        requirePrincipal(request),
        request.params.id,
        clientOf(request),
      );
      return reply.status(202).send(queuedView(delivery));
    },
  );
};
