import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { EventBus } from '../../events/event-bus.js';
import { readers, requirePrincipal } from '../access-control.js';

const eventsQuery = z.strictObject({ analysisId: z.uuid().optional() });

/** Progress of the caller's organisation's analyses as JSON messages over a WebSocket. */
export const eventsRoutes: FastifyPluginAsyncZod<{ events: EventBus }> = async (app, deps) => {
  app.get(
    '/api/v1/events',
    {
      websocket: true,
      config: { access: readers },
      schema: {
        summary: 'WebSocket: analysis progress events for the organisation',
        tags: ['events'],
        querystring: eventsQuery,
      },
    },
    async (socket, request) => {
      const principal = requirePrincipal(request);
      const { analysisId } = request.query;
      const unsubscribe = await deps.events.subscribe(principal.orgId, (event) => {
        if (analysisId && event.analysisId !== analysisId) return;
        if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(event));
      });
      socket.on('close', () => {
        unsubscribe().catch((error: unknown) => request.log.warn({ err: error }, 'unsubscribe failed'));
      });
      socket.on('message', () => {
        // Clients only listen; anything they send is ignored rather than echoed.
      });
      socket.send(
        JSON.stringify({ type: 'subscribed', orgId: principal.orgId, analysisId: analysisId ?? null }),
      );
    },
  );
};
