import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { OutboxRepository } from '../../repositories/outbox.repository.js';
import { admins, requirePrincipal } from '../access-control.js';
import { outboxQuery, outboxResponse } from '../account-security-schemas.js';
import { errorResponses } from '../schemas.js';

export interface OutboxRoutesDeps {
  outbox: OutboxRepository;
  delivery: 'smtp' | 'outbox';
}

/**
 * Mail concerning the admin's organisation, newest first, with one-time links redacted for everyone: an
 * admin (or an admin API key) reading another person's live reset link could take over their account.
 */
export const outboxRoutes: FastifyPluginAsyncZod<OutboxRoutesDeps> = async (app, deps) => {
  app.get(
    '/api/v1/outbox',
    {
      config: { access: admins },
      schema: {
        summary:
          'Mail the platform sent or holds for this organisation, one-time links redacted (read them in full on the host: guardian outbox list)',
        tags: ['organisation'],
        querystring: outboxQuery,
        response: { 200: outboxResponse, ...errorResponses },
      },
    },
    async (request) => {
      const { orgId } = requirePrincipal(request);
      const messages = await deps.outbox.list({ orgId, limit: request.query.limit });
      return {
        delivery: deps.delivery,
        messages: messages.map((message) => ({
          id: message.id,
          to: message.to_address,
          subject: message.subject,
          body: message.body_redacted,
          createdAt: message.created_at.toISOString(),
          sentAt: message.sent_at?.toISOString() ?? null,
          attempts: message.attempts,
          lastError: message.error,
        })),
      };
    },
  );
};
