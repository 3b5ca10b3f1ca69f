import type { WebSocket } from 'ws';
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Analysis } from '../../db/schema.js';
import type { AnalysisProgressEvent, EventBus } from '../../events/event-bus.js';
import { AppError } from '../../services/errors.js';
import { readers, requirePrincipal } from '../access-control.js';
import {
  advancesPast,
  analysisStateOf,
  eventsServerMessage,
  type AnalysisStateMessage,
  type EventsServerMessage,
} from '../event-messages.js';
import { sendProblem, toAppError } from '../problem-details.js';
import { errorResponses, problemSchema } from '../schemas.js';
import { terminateUnresponsive, type WebSocketLimiter } from '../websocket-limits.js';

export interface EventsRoutesDeps {
  events: EventBus;
  /** Reads one analysis of an organisation; throws 404 for any other. */
  analyses: { get(orgId: string, id: string): Promise<Analysis> };
  /** Open sockets per principal and in all. */
  limiter: WebSocketLimiter;
  /** How often a socket is pinged; one that misses a pong is closed. */
  pingIntervalMs: number;
}

// A client that stops reading while events pile up is cut off rather than buffered for without end.
const maxBufferedBytes = 1024 * 1024;

const eventsQuery = z.strictObject({
  analysisId: z.uuid().optional().describe('only this analysis (of the caller’s organisation)'),
});

const upgradeRequired = () =>
  new AppError(
    426,
    'upgrade-required',
    'Upgrade required',
    'this endpoint is a WebSocket: connect with Upgrade: websocket',
  );

// OpenAPI has no words for WebSocket messages: the 101 response carries their schema, one JSON text frame each.
const switchingProtocols = {
  description:
    'Switching Protocols: the WebSocket is open. Each server message is one JSON text frame (`EventsServerMessage`): `subscribed` first; with `?analysisId=`, that analysis’s current state (`analysis.state`) at once; then `analysis.progress` (each stage and detector started and finished), `analysis.preliminary` (an early band, marked `preliminary: true`, never stored), `analysis.done` and `analysis.failed` as they happen. Without `?analysisId=`, the events of every analysis of the organisation from now on (no state). Client messages are ignored (at most 4 KiB).',
  content: { 'application/json': { schema: eventsServerMessage } },
};

/** Progress of the caller's organisation's analyses as JSON messages over a WebSocket. */
export const eventsRoutes: FastifyPluginAsyncZod<EventsRoutesDeps> = async (app, deps) => {
  app.route({
    method: 'GET',
    url: '/api/v1/events',
    // A HEAD can never be upgraded: no point exposing one.
    exposeHeadRoute: false,
    config: { access: readers },
    schema: {
      summary: 'WebSocket: analysis progress events for the organisation (a plain GET gets 426)',
      description:
        'Open with `Upgrade: websocket` and the same credentials as any request (a session cookie also needs a same-origin `Origin`). Message schemas: `components.schemas.EventsServerMessage` and the `Events…Message` schemas it lists.',
      tags: ['events'],
      querystring: eventsQuery,
      response: { 101: switchingProtocols, 426: problemSchema, ...errorResponses },
    },
    // Over the socket caps, or a filter on an analysis the caller cannot see: refused before the upgrade.
    preHandler: async (request) => {
      if (!request.ws) return;
      const principal = requirePrincipal(request);
      const refusal = deps.limiter.refusal(principal);
      if (refusal) throw refusal;
      if (request.query.analysisId) await deps.analyses.get(principal.orgId, request.query.analysisId);
    },
    handler: async (request, reply) =>
      sendProblem(reply.header('upgrade', 'websocket').header('connection', 'Upgrade'), upgradeRequired()),
    wsHandler: async (socket, request) => {
      const principal = requirePrincipal(request);
      const release = deps.limiter.acquire(principal);
      if (!release) {
        // Others of this principal opened since the check: 1013 is "try again later".
        socket.close(1013, 'too-many-websockets');
        return;
      }
      socket.once('close', release);
      terminateUnresponsive(socket, deps.pingIntervalMs);
      const { analysisId } = request.query;
      const send = (message: EventsServerMessage) => {
        if (socket.readyState !== socket.OPEN) return;
        if (socket.bufferedAmount > maxBufferedBytes) socket.terminate();
        else socket.send(JSON.stringify(message));
      };
      // Until the current state is sent, events wait; after it, those that do not advance past it are dropped.
      let waiting: AnalysisProgressEvent[] | null = analysisId ? [] : null;
      let floor: AnalysisStateMessage | null = null;
      const deliver = (event: AnalysisProgressEvent) => {
        if (floor && !advancesPast(event, floor)) return;
        floor = null;
        send(event);
      };
      const subscription = subscribeUntilClosed(socket, () =>
        deps.events.subscribe(principal.orgId, (event) => {
          if (analysisId && event.analysisId !== analysisId) return;
          if (waiting) waiting.push(event);
          else deliver(event);
        }),
      );
      socket.on('message', () => {
        // Clients only listen; anything they send is ignored rather than echoed.
      });
      await subscription;
      send({ type: 'subscribed', orgId: principal.orgId, analysisId: analysisId ?? null });
      if (!analysisId) return;
      try {
        floor = analysisStateOf(await deps.analyses.get(principal.orgId, analysisId));
      } catch (error) {
        const problem = toAppError(error);
        if (problem.status >= 500) request.log.error({ err: error }, 'reading the analysis state failed');
        send({ type: 'error', code: problem.code, detail: problem.detail ?? problem.title });
        socket.close(problem.status < 500 ? 4000 + problem.status : 1011, problem.code);
        return;
      }
      send(floor);
      const queued = waiting ?? [];
      waiting = null;
      for (const event of queued) deliver(event);
    },
  });
};

/** Subscribes, and unsubscribes when the socket closes, even if it closed while the subscription was being made. */
async function subscribeUntilClosed(socket: WebSocket, subscribe: () => Promise<() => Promise<void>>) {
  let unsubscribe: (() => Promise<void>) | null = null;
  let closed = false;
  const release = () => unsubscribe?.().catch(() => undefined);
  socket.on('close', () => {
    closed = true;
    void release();
  });
  unsubscribe = await subscribe();
  if (closed) await release();
}
