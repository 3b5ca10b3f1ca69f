import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { InviteService } from '../../services/invite.service.js';
import { admins, requirePrincipal } from '../access-control.js';
import { userSchema } from '../account-schemas.js';
import { inviteAcceptBody, inviteBody, inviteResponse } from '../account-security-schemas.js';
import { errorResponses, problemSchema } from '../schemas.js';
import { clientOf } from './auth.routes.js';
import { userView } from '../views.js';

export const invitesRoutes: FastifyPluginAsyncZod<{ invites: InviteService }> = async (app, deps) => {
  app.post(
    '/api/v1/users/invites',
    {
      config: { access: admins },
      schema: {
        summary: 'Invite someone by mail to join this organisation with a role (single-use link, 72 hours)',
        tags: ['users'],
        body: inviteBody,
        response: { 201: inviteResponse, 409: problemSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const invite = await deps.invites.create(requirePrincipal(request), request.body, clientOf(request));
      return reply.status(201).send({ ...invite, expiresAt: invite.expiresAt.toISOString() });
    },
  );

  app.post(
    '/api/v1/auth/invites/accept',
    {
      config: { access: 'public' },
      schema: {
        summary: 'Accept an invitation: creates the account with the invited role; then sign in as usual',
        tags: ['auth'],
        security: [],
        body: inviteAcceptBody,
        response: { 201: userSchema, 409: problemSchema, 410: problemSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const user = await deps.invites.accept(request.body, clientOf(request));
      return reply.status(201).send(userView(user));
    },
  );
};
