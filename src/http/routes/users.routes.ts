import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { UserService } from '../../services/user.service.js';
import { admins, requirePrincipal } from '../access-control.js';
import { userListResponse, userPatchBody, userSchema } from '../account-schemas.js';
import { errorResponses, idParams, problemSchema } from '../schemas.js';
import { clientOf } from './auth.routes.js';
import { userView } from '../views.js';

/** Admins manage the people of their own organisation; another organisation's user is 404. */
export const usersRoutes: FastifyPluginAsyncZod<{ users: UserService }> = async (app, deps) => {
  app.get(
    '/api/v1/users',
    {
      config: { access: admins },
      schema: {
        summary: "The organisation's users",
        tags: ['users'],
        response: { 200: userListResponse, ...errorResponses },
      },
    },
    async (request) => ({
      users: (await deps.users.list(requirePrincipal(request).orgId)).map(userView),
    }),
  );

  app.patch(
    '/api/v1/users/:id',
    {
      config: { access: admins },
      schema: {
        summary: "Change a user's role or status (disabling ends their sessions)",
        tags: ['users'],
        params: idParams,
        body: userPatchBody,
        response: { 200: userSchema, 409: problemSchema, ...errorResponses },
      },
    },
    async (request) =>
      userView(
        await deps.users.update(
          requirePrincipal(request),
          request.params.id,
          request.body,
          clientOf(request),
        ),
      ),
  );
};
