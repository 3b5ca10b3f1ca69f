import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AuditLogService, AuditRecord } from '../../services/audit-log.service.js';
import { requirePrincipal, type AccessPolicy } from '../access-control.js';
import { errorResponses } from '../schemas.js';

const auditReaders: AccessPolicy = { roles: ['admin', 'auditor'] };

const auditQuery = z.strictObject({
  before: z.uuid().optional().describe('`nextCursor` of the previous page: events older than that one'),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

const detailValueSchema = z.union([z.string(), z.number(), z.boolean(), z.null()]);

const auditEventSchema = z.object({
  id: z.uuid(),
  at: z.iso.datetime().describe('UTC, millisecond precision'),
  actor: z.object({
    type: z.enum(['user', 'api-key', 'cli', 'anonymous', 'system']),
    id: z.string().nullable(),
  }),
  action: z.string().describe('dotted verb, e.g. `auth.login`, `apikey.create`'),
  outcome: z.enum(['success', 'failure']),
  target: z.object({ type: z.string(), id: z.string() }).nullable(),
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
  details: z.record(z.string(), detailValueSchema),
  hash: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .describe('SHA-256 of the entry in the hash chain that `guardian audit verify` checks'),
});

const auditPageSchema = z.object({
  events: z.array(auditEventSchema),
  nextCursor: z.uuid().nullable().describe('pass as `before` for the next page; null on the last page'),
});

export const auditRoutes: FastifyPluginAsyncZod<{ audit: AuditLogService }> = async (app, deps) => {
  app.get(
    '/api/v1/audit-events',
    {
      config: { access: auditReaders },
      schema: {
        summary: "The caller's organisation's security events, newest first, paged by cursor",
        tags: ['audit'],
        querystring: auditQuery,
        response: { 200: auditPageSchema, ...errorResponses },
      },
    },
    async (request) => {
      const principal = requirePrincipal(request);
      const page = await deps.audit.list({
        orgId: principal.orgId,
        limit: request.query.limit,
        ...(request.query.before ? { before: request.query.before } : {}),
      });
      return { events: page.events.map(auditEventView), nextCursor: page.nextCursor };
    },
  );
};

function auditEventView(event: AuditRecord): z.infer<typeof auditEventSchema> {
  return {
    id: event.id,
    at: event.at.toISOString(),
    actor: event.actor,
    action: event.action,
    outcome: event.outcome,
    target: event.target,
    ip: event.ip,
    userAgent: event.userAgent,
    details: event.details,
    hash: event.hash,
  };
}
