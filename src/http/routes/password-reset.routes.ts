import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { PasswordResetService } from '../../services/password-reset.service.js';
import {
  passwordResetAccepted,
  passwordResetBody,
  passwordResetConfirmBody,
} from '../account-security-schemas.js';
import { errorResponses, problemSchema } from '../schemas.js';
import { clientOf } from './auth.routes.js';

const tags = ['auth'];
const accepted = {
  message:
    'If an account uses this address, a link to choose a new password is on its way. It works for 30 minutes.',
};
/** Per client address, on top of the per-account limit of one mail every two minutes. */
const requestRateLimit = { max: 10, timeWindow: 15 * 60_000 };

export const passwordResetRoutes: FastifyPluginAsyncZod<{ passwordReset: PasswordResetService }> = async (
  app,
  deps,
) => {
  app.post(
    '/api/v1/auth/password-reset',
    {
      config: { access: 'public', rateLimit: requestRateLimit },
      schema: {
        summary:
          'Ask for a password-reset link by mail; the answer is the same whether the account exists or not',
        tags,
        security: [],
        body: passwordResetBody,
        response: { 202: passwordResetAccepted, ...errorResponses },
      },
    },
    async (request, reply) => {
      deps.passwordReset.request(request.body.email, clientOf(request));
      return reply.status(202).send(accepted);
    },
  );

  app.post(
    '/api/v1/auth/password-reset/confirm',
    {
      config: { access: 'public' },
      schema: {
        summary:
          'Set a new password with the mailed token; ends every session of the account and does not sign in',
        tags,
        security: [],
        body: passwordResetConfirmBody,
        response: { 204: z.null().describe('No content'), 410: problemSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      await deps.passwordReset.complete(request.body, clientOf(request));
      return reply.status(204).send(null);
    },
  );
};
