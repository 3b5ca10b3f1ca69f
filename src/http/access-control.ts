import type { FastifyInstance, FastifyRequest } from 'fastify';
import { roles as allRoles, type ApiKeyRole, type SessionStage } from '../db/schema.js';
import { AppError, forbidden, unauthorized } from '../services/errors.js';
import { csrfTokensMatch, type AuthenticatedSession } from '../services/session.service.js';
import { enrolmentRequired } from '../services/two-factor.service.js';
import type { SessionCookies } from './session-cookie.js';

/** Who is acting: a machine with an API key, or a person signed in with a session cookie. */
export type Actor = { type: 'api-key'; keyId: string } | { type: 'user'; userId: string; sessionId: string };

export interface Principal {
  orgId: string;
  orgName: string;
  role: ApiKeyRole;
  actor: Actor;
}

/** The person or API key acting, as recorded on what they create (the uploader of media). */
export function actorRefOf(principal: Principal): { type: 'user' | 'api-key'; id: string } {
  return principal.actor.type === 'user'
    ? { type: 'user', id: principal.actor.userId }
    : { type: 'api-key', id: principal.actor.keyId };
}

/**
 * Each route states who may call it; a route without a policy is refused (fail closed).
 * `actor: 'user'` admits only people (session cookie; an API key gets 403). `stages` lists the session
 * stages admitted, by default only `complete`: a session waiting for its second factor is 401 elsewhere.
 * `allowBeforeTwoFactorEnrolment` admits an admin whose organisation requires 2FA before they enrolled
 * (everywhere else they get 403 `2fa-enrolment-required`).
 */
export type AccessPolicy =
  | 'public'
  | {
      roles: readonly ApiKeyRole[];
      actor?: 'user';
      stages?: readonly SessionStage[];
      allowBeforeTwoFactorEnrolment?: true;
    };

export const readers: AccessPolicy = { roles: ['admin', 'analyst', 'viewer'] };
export const writers: AccessPolicy = { roles: ['admin', 'analyst'] };
export const admins: AccessPolicy = { roles: ['admin'] };
/** Self-service routes of a signed-in person, whatever their role. */
export const signedInUser: AccessPolicy = { roles: allRoles, actor: 'user' };
/** Logout and the CSRF token also work half-way through a two-step login, and before a required enrolment. */
export const anySessionStage: AccessPolicy = {
  roles: allRoles,
  actor: 'user',
  stages: ['second-factor', 'complete'],
  allowBeforeTwoFactorEnrolment: true,
};
/** TOTP enrolment: what an admin can reach while their organisation waits for them to enrol. */
export const twoFactorEnrolment: AccessPolicy = {
  roles: allRoles,
  actor: 'user',
  allowBeforeTwoFactorEnrolment: true,
};
/** The second login step: only a session that passed the password step and waits for its second factor. */
export const secondFactorStep: AccessPolicy = { roles: allRoles, actor: 'user', stages: ['second-factor'] };

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: AccessPolicy;
  }
  interface FastifyRequest {
    principal: Principal | null;
    /** Set when the request was authenticated by a session cookie. */
    userSession: AuthenticatedSession | null;
  }
}

export interface Authenticator {
  authenticate(bearerToken: string): Promise<Principal | null>;
}

export interface SessionAuthenticator {
  authenticate(cookieToken: string): Promise<AuthenticatedSession | null>;
}

/** Whether this person must enrol TOTP before anything else (an admin, in an organisation requiring 2FA). */
export interface TwoFactorGate {
  mustEnrol(principal: Principal): Promise<boolean>;
}

export interface AccessControlDeps {
  apiKeys: Authenticator;
  sessions: SessionAuthenticator;
  twoFactorGate?: TwoFactorGate;
  cookies: SessionCookies;
}

export function requirePrincipal(request: FastifyRequest): Principal {
  if (!request.principal) throw unauthorized();
  return request.principal;
}

/** The signed-in person's session; routes with `actor: 'user'` always have one. */
export function requireUserSession(request: FastifyRequest): AuthenticatedSession {
  if (!request.userSession) throw unauthorized();
  return request.userSession;
}

const stateChanging = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export const csrfFailed = (detail: string) => new AppError(403, 'csrf-failed', 'CSRF check failed', detail);

export function registerAccessControl(app: FastifyInstance, deps: AccessControlDeps): void {
  app.decorateRequest('principal', null);
  app.decorateRequest('userSession', null);
  app.addHook('onRequest', async (request, reply) => {
    const policy = request.routeOptions.config.access;
    if (policy === 'public') {
      // Login CSRF: a browser always sends Origin on POST; a cross-site one must not sign anyone in.
      if (stateChanging.has(request.method) && request.headers.origin !== undefined && !isSameOrigin(request))
        throw csrfFailed('cross-origin request refused');
      return;
    }
    if (policy === undefined) {
      if (request.routeOptions.url === undefined) return; // 404 handler: nothing to protect
      throw new AppError(500, 'route-without-policy', 'Internal server error', 'route has no access policy');
    }
    const principal = await authenticate(request, policy, deps);
    if (policy.actor === 'user' && principal.actor.type !== 'user') {
      throw forbidden('this route is for signed-in people; API keys cannot use it');
    }
    if (!policy.roles.includes(principal.role)) {
      throw forbidden(`the ${principal.role} role may not ${request.method} this resource`);
    }
    request.principal = principal;
    reply.header('cache-control', 'no-store');
  });
}

async function authenticate(
  request: FastifyRequest,
  policy: Exclude<AccessPolicy, 'public'>,
  deps: AccessControlDeps,
): Promise<Principal> {
  // An Authorization header wins over a cookie: it is explicit, and a cross-site page cannot set it.
  if (request.headers.authorization !== undefined) {
    const token = bearerToken(request.headers.authorization);
    const principal = token ? await deps.apiKeys.authenticate(token) : null;
    if (!principal) throw unauthorized();
    return principal;
  }
  const cookie = deps.cookies.read(request);
  if (!cookie) throw unauthorized();
  const session = await deps.sessions.authenticate(cookie);
  if (!session) throw unauthorized();
  const stages = policy.stages ?? ['complete'];
  if (!stages.includes(session.stage)) {
    throw session.stage === 'second-factor'
      ? new AppError(
          401,
          'second-factor-required',
          'Second factor required',
          'complete the second login step',
        )
      : forbidden('this step of the login is already complete');
  }
  // A WebSocket handshake is a GET that browsers send cross-site with cookies: it must come from this origin.
  if (request.headers.upgrade?.toLowerCase() === 'websocket' && !isSameOrigin(request)) {
    throw csrfFailed('a WebSocket opened with the session cookie must come from this origin');
  }
  if (stateChanging.has(request.method)) {
    if (!isSameOrigin(request)) throw csrfFailed('Origin (or Referer) missing or not this site');
    const presented = request.headers['x-csrf-token'];
    if (!csrfTokensMatch(session.csrfToken, typeof presented === 'string' ? presented : undefined)) {
      throw csrfFailed('X-CSRF-Token missing or wrong; get it from GET /api/v1/auth/csrf');
    }
  }
  if (!policy.allowBeforeTwoFactorEnrolment && (await deps.twoFactorGate?.mustEnrol(session.principal))) {
    throw enrolmentRequired();
  }
  request.userSession = session;
  return session.principal;
}

/** Origin, or the origin of Referer when a browser sent no Origin, equals this request's scheme://host:port. */
function isSameOrigin(request: FastifyRequest): boolean {
  const source = request.headers.origin ?? request.headers.referer;
  if (source === undefined) return false;
  const claimed = originOf(source);
  const own = originOf(`${request.protocol}://${request.host}`);
  return claimed !== null && own !== null && claimed === own;
}

function originOf(url: string): string | null {
  try {
    const origin = new URL(url).origin;
    return origin === 'null' ? null : origin;
  } catch {
    return null;
  }
}

function bearerToken(header: string | undefined): string | null {
  if (!header) return null;
  const match = /^Bearer ([A-Za-z0-9_\-.~+/]{16,512}=*)$/.exec(header.trim());
  return match?.[1] ?? null;
}
