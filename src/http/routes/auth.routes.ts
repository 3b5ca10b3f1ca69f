import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { AuthService } from '../../services/auth.service.js';
import type { ClientInfo, SessionService } from '../../services/session.service.js';
import { anySessionStage, requireUserSession, signedInUser } from '../access-control.js';
import {
  csrfResponse,
  sessionStatusResponse,
  loginBody,
  loginResponse,
  meResponse,
  passwordChangeBody,
  sessionListResponse,
} from '../account-schemas.js';
import { errorResponses, idParams } from '../schemas.js';
import type { SessionCookies } from '../session-cookie.js';

export interface AuthRoutesDeps {
  auth: AuthService;
  sessions: SessionService;
  cookies: SessionCookies;
}

export function clientOf(request: FastifyRequest): ClientInfo {
  return { ip: request.ip, userAgent: request.headers['user-agent'] ?? null };
}

const tags = ['auth'];
const noContent = z.null().describe('No content');

export const authRoutes: FastifyPluginAsyncZod<AuthRoutesDeps> = async (app, deps) => {
  app.post(
    '/api/v1/auth/login',
    {
      config: { access: 'public' },
      schema: {
        summary: 'Sign in with email and password; sets the session cookie and returns the CSRF token',
        tags,
        security: [],
        body: loginBody,
        response: { 200: loginResponse, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { user, session } = await deps.auth.login({
        email: request.body.email,
        password: request.body.password,
        client: clientOf(request),
        previousToken: deps.cookies.read(request),
      });
      deps.cookies.set(reply, session.token);
      reply.header('cache-control', 'no-store');
      return { user, csrfToken: session.csrfToken, secondFactorRequired: session.stage === 'second-factor' };
    },
  );

  app.post(
    '/api/v1/auth/logout',
    {
      config: { access: anySessionStage },
      schema: { summary: 'End this session', tags, response: { 204: noContent, ...errorResponses } },
    },
    async (request, reply) => {
      await deps.auth.logout(requireUserSession(request), clientOf(request));
      deps.cookies.clear(reply);
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/api/v1/auth/session',
    {
      config: { access: 'public' },
      schema: {
        summary: 'Whether this browser is signed in, and its CSRF token when it is (never 401)',
        description:
          'For the web app on load: a visitor without a session gets `signedIn: false` rather than a 401, so a signed-out page logs no error. Half-way through a two-step login `stage` is `second-factor`.',
        tags,
        response: { 200: sessionStatusResponse, ...errorResponses },
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      const cookie = deps.cookies.read(request);
      const session = cookie ? await deps.sessions.authenticate(cookie) : null;
      if (!session) return { signedIn: false, stage: null, csrfToken: null };
      return { signedIn: true, stage: session.stage, csrfToken: session.csrfToken };
    },
  );

  app.get(
    '/api/v1/auth/csrf',
    {
      config: { access: anySessionStage },
      schema: {
        summary: 'The CSRF token of this session (for X-CSRF-Token)',
        tags,
        response: { 200: csrfResponse, ...errorResponses },
      },
    },
    async (request) => ({ csrfToken: requireUserSession(request).csrfToken }),
  );

  app.get(
    '/api/v1/me',
    {
      config: { access: signedInUser },
      schema: {
        summary: 'The signed-in user, their organisation, role and 2FA status',
        tags,
        response: { 200: meResponse, ...errorResponses },
      },
    },
    async (request) => {
      const me = await deps.auth.me(requireUserSession(request));
      return {
        ...me,
        user: {
          ...me.user,
          createdAt: me.user.createdAt.toISOString(),
          passwordChangedAt: me.user.passwordChangedAt.toISOString(),
        },
      };
    },
  );

  app.post(
    '/api/v1/auth/password',
    {
      config: { access: signedInUser },
      schema: {
        summary:
          'Change the password (the current one is required); ends all other sessions and rotates this one',
        tags,
        body: passwordChangeBody,
        response: { 200: csrfResponse, ...errorResponses },
      },
    },
    async (request, reply) => {
      const rotated = await deps.auth.changePassword(
        requireUserSession(request),
        request.body,
        clientOf(request),
      );
      deps.cookies.set(reply, rotated.token);
      return { csrfToken: rotated.csrfToken };
    },
  );

  app.get(
    '/api/v1/auth/sessions',
    {
      config: { access: signedInUser },
      schema: {
        summary: "The signed-in user's live sessions",
        tags,
        response: { 200: sessionListResponse, ...errorResponses },
      },
    },
    async (request) => {
      const session = requireUserSession(request);
      const sessions = await deps.sessions.list(session.userId, session.sessionId);
      return {
        sessions: sessions.map((entry) => ({
          id: entry.id,
          createdAt: entry.createdAt.toISOString(),
          lastSeenAt: entry.lastSeenAt.toISOString(),
          expiresAt: entry.expiresAt.toISOString(),
          ip: entry.ip,
          userAgent: entry.userAgent,
          current: entry.current,
        })),
      };
    },
  );

  app.delete(
    '/api/v1/auth/sessions/:id',
    {
      config: { access: signedInUser },
      schema: {
        summary: "End one of the signed-in user's sessions (404 for anyone else's)",
        tags,
        params: idParams,
        response: { 204: noContent, ...errorResponses },
      },
    },
    async (request, reply) => {
      const session = requireUserSession(request);
      await deps.auth.revokeSession(session, request.params.id, clientOf(request));
      if (request.params.id === session.sessionId) deps.cookies.clear(reply);
      return reply.status(204).send(null);
    },
  );
};
