import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { UserDataService } from '../../services/user-data.service.js';
import { admins, requirePrincipal, signedInUser } from '../access-control.js';
import { erasureBody, erasureResult, userExportSchema } from '../lifecycle-schemas.js';
import { errorResponses, idParams, problemSchema } from '../schemas.js';
import { clientOf } from './auth.routes.js';

const exportDescription =
  'Profile, organisation, role, sessions (times, address, browser), whether 2FA is enrolled (never a secret), API keys this person created (metadata), their uploads with their analyses, and every audit entry by or about them. Audited as `user.export`.';

/** GDPR: a person's data as JSON (art. 15 and 20) and erasure on request (art. 17). */
export const userDataRoutes: FastifyPluginAsyncZod<{ userData: UserDataService }> = async (app, deps) => {
  app.get(
    '/api/v1/users/me/export',
    {
      config: { access: signedInUser },
      schema: {
        summary: 'Everything the platform holds about you, as JSON',
        description: exportDescription,
        tags: ['users'],
        response: { 200: userExportSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const principal = requirePrincipal(request);
      const userId = principal.actor.type === 'user' ? principal.actor.userId : '';
      const document = await deps.userData.export(principal, userId, clientOf(request));
      return reply
        .header('content-disposition', 'attachment; filename="guardian-export.json"')
        .send(document);
    },
  );

  app.get(
    '/api/v1/users/:id/export',
    {
      config: { access: admins },
      schema: {
        summary:
          "Everything the platform holds about a user of your organisation, as JSON (a subject's request)",
        description: exportDescription,
        tags: ['users'],
        params: idParams,
        response: { 200: userExportSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const principal = requirePrincipal(request);
      const document = await deps.userData.export(principal, request.params.id, clientOf(request));
      return reply
        .header('content-disposition', 'attachment; filename="guardian-export.json"')
        .send(document);
    },
  );

  app.post(
    '/api/v1/users/:id/erasure',
    {
      config: { access: admins },
      schema: {
        summary: "Erase a user's uploads and pseudonymise the account (GDPR art. 17)",
        description:
          "Every stored upload of the user that is not on legal hold is crypto-shredded (`heldBack` lists the rest: erase again once released). The account is disabled and pseudonymised: email `erased-<id>@erased.invalid`, password unusable, sessions, 2FA, one-time tokens and mail to the old address removed. Reports and audit entries stay (they name the account's id, not the person). 409 `last-admin` for the last active admin, `erasure-of-self` for yourself.",
        tags: ['users'],
        params: idParams,
        body: erasureBody,
        response: { 200: erasureResult, 409: problemSchema, ...errorResponses },
      },
    },
    async (request) =>
      deps.userData.erase(
        requirePrincipal(request),
        request.params.id,
        request.body.confirmEmail,
        clientOf(request),
      ),
  );
};
