import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ApiKeyRole } from '../db/schema.js';
import { AppError, forbidden, unauthorized } from '../services/errors.js';

/** Who is acting: a machine with an API key, or a person signed in with a session cookie. */
export type Actor = { type: 'api-key'; keyId: string } | { type: 'user'; userId: string; sessionId: string };

export interface Principal {
  orgId: string;
  orgName: string;
  role: ApiKeyRole;
  actor: Actor;
}

/** Each route states who may call it; a route without a policy is refused (fail closed). */
export type AccessPolicy = 'public' | { roles: readonly ApiKeyRole[] };

export const readers: AccessPolicy = { roles: ['admin', 'analyst', 'viewer'] };
export const writers: AccessPolicy = { roles: ['admin', 'analyst'] };

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: AccessPolicy;
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
}

export interface Authenticator {
  authenticate(bearerToken: string): Promise<Principal | null>;
}

export function requirePrincipal(request: FastifyRequest): Principal {
  if (!request.principal) throw unauthorized();
  return request.principal;
}

export function registerAccessControl(app: FastifyInstance, authenticator: Authenticator): void {
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (request, reply) => {
    const policy = request.routeOptions.config.access;
    if (policy === 'public') return;
    if (policy === undefined) {
      if (request.routeOptions.url === undefined) return; // 404 handler: nothing to protect
      throw new AppError(500, 'route-without-policy', 'Internal server error', 'route has no access policy');
    }
    const token = bearerToken(request.headers.authorization);
    if (!token) throw unauthorized();
    const principal = await authenticator.authenticate(token);
    if (!principal) throw unauthorized();
    if (!policy.roles.includes(principal.role)) {
      throw forbidden(`the ${principal.role} role may not ${request.method} this resource`);
    }
    request.principal = principal;
    reply.header('cache-control', 'no-store');
  });
}

function bearerToken(header: string | undefined): string | null {
  if (!header) return null;
  const match = /^Bearer ([A-Za-z0-9_\-.~+/]{16,512}=*)$/.exec(header.trim());
  return match?.[1] ?? null;
}
