import type { Logger } from 'pino';
import { appVersion } from '../backup/app-version.js';
import type { Config } from '../config/config.schema.js';
import { disabledErrorReporter, type ErrorReporter } from '../observability/error-reporter.js';
import { createSecretScrubber, type SecretScrubber } from '../observability/secret-scrubber.js';
import { disabledTracing, type Tracing } from '../observability/tracing.js';

/** Tracing and error reporting of one process, started by its entry point and stopped after everything else. */
export interface Observability {
  tracing: Tracing;
  errors: ErrorReporter;
  scrub: SecretScrubber;
  /** Sends the spans and error reports still queued (bounded), then stops both. */
  shutdown(): Promise<void>;
}

const errorFlushMs = 2_000;

/**
 * OTEL_EXPORTER_OTLP_ENDPOINT starts the tracing SDK; SENTRY_DSN the Sentry client; neither: nothing starts,
 * and neither package is even loaded.
 */
export async function startObservability(
  config: Config,
  log: Logger,
  role: 'serve' | 'worker',
): Promise<Observability> {
  const scrub = createSecretScrubber(config);
  const tracing = config.OTEL_EXPORTER_OTLP_ENDPOINT
    ? (await import('../observability/otel-sdk.js')).startTracing(config, log, role)
    : disabledTracing();
  const errors = config.SENTRY_DSN
    ? (await import('../observability/sentry.error-reporter.js')).createSentryErrorReporter({
        dsn: config.SENTRY_DSN,
        environment: config.SENTRY_ENVIRONMENT ?? config.NODE_ENV,
        release: appVersion(),
        scrub,
        log,
      })
    : disabledErrorReporter;
  if (errors.enabled) log.info('error reporting to Sentry on');
  return {
    tracing,
    errors,
    scrub,
    shutdown: async () => {
      await errors.close(errorFlushMs);
      await tracing.shutdown();
    },
  };
}

/** For processes and tests that observe nothing. */
export function noObservability(): Observability {
  return {
    tracing: disabledTracing(),
    errors: disabledErrorReporter,
    scrub: createSecretScrubber({}),
    shutdown: async () => {},
  };
}
