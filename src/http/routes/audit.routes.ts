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

// The chain is one for the whole platform (every organisation's entries are linked), so that is what is checked.
const auditVerificationSchema = z.object({
  intact: z
    .boolean()
    .describe("true: every entry of the platform's hash chain matches its hash and follows the one before"),
  checkedAt: z.iso.datetime().describe('when this check ran (it runs on each request)'),
  firstBadEntry: z
    .number()
    .int()
    .positive()
    .nullable()
    .describe('sequence number of the first entry that fails; null when intact'),
  reason: z
    .string()
    .nullable()
    .describe('what is wrong with that entry, as `guardian audit verify` says it; null when intact'),
});

/** Recomputing the chain reads every entry: a few checks a minute per caller is plenty for a status view. */
const verificationRateLimit = { max: 6, timeWindow: 60_000 };

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

  app.get(
    '/api/v1/audit-events/verification',
    {
      config: { access: auditReaders, rateLimit: verificationRateLimit },
      schema: {
        summary:
          "Recomputes the audit log's hash chain now, as `guardian audit verify` does, and says whether it is intact",
        description:
          "The chain links the entries of every organisation on the platform, so the whole chain is checked; the answer names no other organisation's events.",
        tags: ['audit'],
        response: { 200: auditVerificationSchema, ...errorResponses },
      },
    },
    async () => {
      const result = await deps.audit.verify();
      const checkedAt = new Date().toISOString();
      return result.ok
        ? { intact: true, checkedAt, firstBadEntry: null, reason: null }
        : { intact: false, checkedAt, firstBadEntry: result.firstBadSeq, reason: result.reason };
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
