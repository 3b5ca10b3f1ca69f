import { context, propagation, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeSDK } from '@opentelemetry/sdk-node';
import type { Logger } from 'pino';
import { ConfigError } from '../config/config-error.js';
import type { Config } from '../config/config.schema.js';
import { appVersion } from '../backup/app-version.js';
import { tracerName, type Tracing } from './tracing.js';

// Imported only when OTEL_EXPORTER_OTLP_ENDPOINT is set: the SDK and its exporters stay unloaded otherwise.
/**
 * Starts the OpenTelemetry SDK when OTEL_EXPORTER_OTLP_ENDPOINT is set: W3C trace context, a batch processor
 * and the OTLP/HTTP JSON exporter; no auto-instrumentation, no metrics or logs through OTel (metrics are
 * Prometheus). The SDK registers the global tracer provider, context manager and propagator, which is how
 * OpenTelemetry works; everything in the platform gets the tracer passed in.
 */
export function startTracing(
  config: Pick<
    Config,
    'OTEL_EXPORTER_OTLP_ENDPOINT' | 'OTEL_EXPORTER_OTLP_HEADERS' | 'OTEL_SERVICE_NAME' | 'NODE_ENV'
  >,
  log: Logger,
  role: 'serve' | 'worker',
): Tracing {
  const endpoint = config.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (!endpoint) throw new Error('startTracing needs OTEL_EXPORTER_OTLP_ENDPOINT');
  const exporter = new OTLPTraceExporter({
    url: `${endpoint}/v1/traces`,
    headers: parseOtlpHeaders(config.OTEL_EXPORTER_OTLP_HEADERS),
  });
  const sdk = new NodeSDK({
    serviceName: config.OTEL_SERVICE_NAME,
    resource: resourceFromAttributes({
      'service.version': appVersion(),
      'deployment.environment.name': config.NODE_ENV,
      'guardian.role': role,
    }),
    // OTEL_BSP_* (delay, batch and queue sizes) are read by the processor itself.
    spanProcessors: [new BatchSpanProcessor(exporter)],
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [],
  });
  sdk.start();
  log.info({ endpoint: new URL(endpoint).origin, serviceName: config.OTEL_SERVICE_NAME }, 'tracing on');
  return {
    enabled: true,
    tracer: trace.getTracer(tracerName),
    shutdown: async () => {
      await sdk
        .shutdown()
        .catch((error: unknown) => log.warn({ err: error }, 'tracing: the last spans were not exported'));
      trace.disable();
      propagation.disable();
      context.disable();
    },
  };
}

/** OTEL_EXPORTER_OTLP_HEADERS: `key=value` pairs, comma-separated, values URL-encoded (the OTel spec's format). */
export function parseOtlpHeaders(raw: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  if (!raw) return headers;
  for (const entry of raw.split(',')) {
    if (!entry.trim()) continue;
    const at = entry.indexOf('=');
    const key = at > 0 ? entry.slice(0, at).trim() : '';
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(key))
      // The value may be a credential: the message names neither it nor the entry.
      throw new ConfigError(['OTEL_EXPORTER_OTLP_HEADERS: each entry must be key=value with a token key']);
    try {
      headers[key.toLowerCase()] = decodeURIComponent(entry.slice(at + 1).trim());
    } catch {
      throw new ConfigError([`OTEL_EXPORTER_OTLP_HEADERS: the value of ${key} is not valid URL encoding`]);
    }
  }
  return headers;
}
