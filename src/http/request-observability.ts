import { context, SpanKind, SpanStatusCode, trace, type Span, type Tracer } from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ErrorReporter } from '../observability/error-reporter.js';
import type { SecretScrubber } from '../observability/secret-scrubber.js';
import { extractTraceContext, recordSpanError } from '../observability/trace-context.js';
import { toAppError } from './problem-details.js';

export interface RequestObservabilityDeps {
  /** Present when tracing is on: one server span per request. */
  tracer?: Tracer;
  /** Present when error reporting is on: the error behind every 5xx answer. */
  errors?: ErrorReporter;
  scrub: SecretScrubber;
}

/**
 * A server span per request, named by its route template (`POST /api/v1/media`) with the stable HTTP
 * semantic attributes, made the active context for the handler (so enqueues become its children); a 5xx
 * answer marks it ERROR and goes to the error reporter. Never the query string, headers or body.
 */
export function registerRequestObservability(app: FastifyInstance, deps: RequestObservabilityDeps): void {
  const { tracer, errors } = deps;
  if (!tracer && !errors) return;
  const spans = new WeakMap<FastifyRequest, Span>();
  const routeOf = (request: FastifyRequest) => request.routeOptions.url ?? '';

  if (tracer) {
    app.addHook('onRequest', (request, _reply, done) => {
      const route = routeOf(request);
      const parent = extractTraceContext(request.headers);
      const span = tracer.startSpan(
        route ? `${request.method} ${route}` : request.method,
        {
          kind: SpanKind.SERVER,
          attributes: {
            'http.request.method': request.method,
            ...(route ? { 'http.route': route } : {}),
            'url.path': deps.scrub(request.url.split('?')[0] ?? ''),
            'url.scheme': request.protocol,
            'server.address': request.hostname,
            'network.protocol.version': request.raw.httpVersion,
            'client.address': request.ip,
            ...(typeof request.headers['user-agent'] === 'string'
              ? { 'user_agent.original': request.headers['user-agent'].slice(0, 256) }
              : {}),
            'guardian.request.id': request.id,
          },
        },
        parent,
      );
      spans.set(request, span);
      // The rest of the request runs inside this context, so spans it starts are children of this one.
      context.with(trace.setSpan(parent, span), done);
    });
    app.addHook('onResponse', (request, reply, done) => {
      const span = spans.get(request);
      if (span) {
        span.setAttribute('http.response.status_code', reply.statusCode);
        if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
        spans.delete(request);
      }
      done();
    });
    app.addHook('onRequestAbort', (request, done) => {
      const span = spans.get(request);
      if (span) {
        span.setAttribute('error.type', 'request_aborted');
        span.end();
        spans.delete(request);
      }
      done();
    });
  }

  app.addHook('onError', (request, _reply, error, done) => {
    const status = toAppError(error).status;
    if (status >= 500) {
      const span = spans.get(request);
      if (span) recordSpanError(span, error, deps.scrub);
      errors?.requestFailed(error, {
        method: request.method,
        route: routeOf(request) || 'unmatched',
        status,
        requestId: request.id,
        ...(span ? { traceId: span.spanContext().traceId } : {}),
      });
    }
    done();
  });
}
