import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ApiKeyRole } from '../../db/schema.js';
import type { ApiKeySummary } from '../../repositories/api-key.repository.js';
import type { ApiKeyService } from '../../services/api-key.service.js';
import type { AuditLog } from '../../services/audit-log.js';
import { auditActorOf } from '../../services/user.service.js';
import { requirePrincipal, type AccessPolicy } from '../access-control.js';
import { errorResponses, idParams } from '../schemas.js';

type AuditDetails = Record<string, string | number | boolean | null>;

const keyAdmins: AccessPolicy = { roles: ['admin'] };
const roles = ['admin', 'analyst', 'viewer', 'auditor'] as const satisfies readonly ApiKeyRole[];

const createApiKeyBody = z.strictObject({
  name: z.string().trim().min(1).max(100),
  role: z.enum(roles),
  expiresInDays: z.number().int().min(1).max(3650).optional().describe('unset: the key does not expire'),
});

const apiKeySchema = z.object({
  id: z.uuid(),
  name: z.string(),
  prefix: z.string().describe('the first characters of the key, to recognise it'),
  role: z.enum(roles),
  createdAt: z.iso.datetime(),
  lastUsedAt: z.iso.datetime().nullable().describe('to the minute'),
  expiresAt: z.iso.datetime().nullable(),
  revokedAt: z.iso.datetime().nullable(),
});

const createdApiKeySchema = apiKeySchema.extend({
  key: z.string().describe('the secret, shown this once: only its hash is stored'),
});

export interface ApiKeysRoutesDeps {
  apiKeys: ApiKeyService;
  audit: AuditLog;
}

export const apiKeysRoutes: FastifyPluginAsyncZod<ApiKeysRoutesDeps> = async (app, deps) => {
  const record = (request: FastifyRequest, action: string, keyId: string, details: AuditDetails = {}) => {
    const principal = requirePrincipal(request);
    return deps.audit.append({
      orgId: principal.orgId,
      actor: auditActorOf(principal),
      action,
      outcome: 'success',
      target: { type: 'api-key', id: keyId },
      ip: request.ip,
      userAgent: request.headers['user-agent'] ?? null,
      details,
    });
  };

  app.post(
    '/api/v1/api-keys',
    {
      config: { access: keyAdmins },
      schema: {
        summary: 'Create an API key for the organisation; the response is the only time the key is shown',
        tags: ['api-keys'],
        body: createApiKeyBody,
        response: { 201: createdApiKeySchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const principal = requirePrincipal(request);
      const created = await deps.apiKeys.createForOrg(principal.orgId, request.body);
      await record(request, 'apikey.create', created.id, {
        name: created.name,
        role: created.role,
        expiresAt: created.expiresAt?.toISOString() ?? null,
      });
      return reply.status(201).send({
        ...apiKeyView({
          id: created.id,
          org_id: created.orgId,
          name: created.name,
          prefix: created.prefix,
          role: created.role,
          created_at: created.createdAt,
          last_used_at: null,
          expires_at: created.expiresAt,
          revoked_at: null,
        }),
        key: created.key,
      });
    },
  );

  app.get(
    '/api/v1/api-keys',
    {
      config: { access: keyAdmins },
      schema: {
        summary: "The organisation's API keys, newest first, without secrets",
        tags: ['api-keys'],
        response: { 200: z.object({ items: z.array(apiKeySchema) }), ...errorResponses },
      },
    },
    async (request) => {
      const principal = requirePrincipal(request);
      return { items: (await deps.apiKeys.list(principal.orgId)).map(apiKeyView) };
    },
  );

  app.delete(
    '/api/v1/api-keys/:id',
    {
      config: { access: keyAdmins },
      schema: {
        summary: 'Revoke an API key; it stops working at once',
        tags: ['api-keys'],
        params: idParams,
        response: { 204: z.null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      const principal = requirePrincipal(request);
      await deps.apiKeys.revoke(principal.orgId, request.params.id);
      await record(request, 'apikey.revoke', request.params.id);
      return reply.status(204).send(null);
    },
  );
};

function apiKeyView(key: ApiKeySummary): z.infer<typeof apiKeySchema> {
  return {
    id: key.id,
    name: key.name,
    prefix: key.prefix,
    role: key.role,
    createdAt: key.created_at.toISOString(),
    lastUsedAt: key.last_used_at?.toISOString() ?? null,
    expiresAt: key.expires_at?.toISOString() ?? null,
    revokedAt: key.revoked_at?.toISOString() ?? null,
  };
}
