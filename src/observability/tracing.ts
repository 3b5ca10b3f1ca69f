import { ProxyTracerProvider, type Tracer } from '@opentelemetry/api';

export const tracerName = 'secureai-guardian';

/** The process's tracer and how to stop exporting; a no-op tracer when OTEL_EXPORTER_OTLP_ENDPOINT is unset. */
export interface Tracing {
  readonly enabled: boolean;
  readonly tracer: Tracer;
  /** Flushes the spans still batched, then unregisters the SDK's globals. */
  shutdown(): Promise<void>;
}

/** A tracer whose spans record nothing, bound to no global (the SDK registering one later does not change it). */
export function disabledTracing(): Tracing {
  return {
    enabled: false,
    tracer: new ProxyTracerProvider().getTracer(tracerName),
    shutdown: async () => {},
  };
}
