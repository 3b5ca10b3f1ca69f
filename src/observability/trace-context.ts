import {
  defaultTextMapGetter,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  SpanStatusCode,
  type Context,
  type Span,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { SecretScrubber } from './secret-scrubber.js';

/** W3C trace context as it travels in a job's data: `traceparent` and, when there is one, `tracestate`. */
export interface TraceCarrier {
  traceparent?: string;
  tracestate?: string;
}

// W3C trace context explicitly, whatever global propagator is (or is not) registered.
const w3c = new W3CTraceContextPropagator();

/** The carrier of `from`'s span; empty when no span is recording (tracing off). */
export function injectTraceContext(from: Context): TraceCarrier {
  const carrier: Record<string, string> = {};
  w3c.inject(from, carrier, defaultTextMapSetter);
  return {
    ...(carrier.traceparent ? { traceparent: carrier.traceparent } : {}),
    ...(carrier.tracestate ? { tracestate: carrier.tracestate } : {}),
  };
}

/** The remote parent a carrier (job data, request headers) names, or the root context. */
export function extractTraceContext(carrier: Record<string, unknown> | undefined): Context {
  if (!carrier) return ROOT_CONTEXT;
  const headers: Record<string, string> = {};
  for (const name of ['traceparent', 'tracestate']) {
    const value = carrier[name];
    if (typeof value === 'string') headers[name] = value;
  }
  return w3c.extract(ROOT_CONTEXT, headers, defaultTextMapGetter);
}

/** Status ERROR and an `exception` event with the error's type and scrubbed message; never its stack. */
export function recordSpanError(span: Span, error: unknown, scrub: SecretScrubber): void {
  const type = error instanceof Error ? error.name : typeof error;
  const message = scrub(error instanceof Error ? error.message : String(error)).slice(0, 1000);
  span.addEvent('exception', { 'exception.type': type, 'exception.message': message });
  span.setStatus({ code: SpanStatusCode.ERROR, message });
}
