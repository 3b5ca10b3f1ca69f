import type { FastifyInstance } from 'fastify';
import type { GuardianMetrics } from './guardian-metrics.js';

export type HttpMetrics = Pick<GuardianMetrics, 'httpRequests' | 'httpDuration'>;

// Node's parser admits a few dozen methods; anything else still gets one label value, not its own.
const knownMethods = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
/** The route label of requests no route matched (404s, scanners): one value, whatever the URL. */
export const unmatchedRoute = 'unmatched';

/** Counts and times every response by its route template (never the raw URL, so label values stay bounded). */
export function registerHttpMetrics(app: FastifyInstance, metrics: HttpMetrics): void {
  app.addHook('onResponse', async (request, reply) => {
    const method = knownMethods.has(request.method) ? request.method : 'OTHER';
    const route = request.routeOptions.url ?? unmatchedRoute;
    const status = reply.statusCode;
    metrics.httpRequests.inc({ method, route, status_code: String(status) });
    metrics.httpDuration.observe(
      { method, route, status_class: `${Math.floor(status / 100)}xx` },
      reply.elapsedTime / 1000,
    );
  });
}
