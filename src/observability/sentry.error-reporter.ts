import { defaultStackParser, makeNodeTransport, NodeClient, Scope, type Event } from '@sentry/node';
import type { Logger } from 'pino';
import type { ErrorReporter } from './error-reporter.js';
import { scrubDeep, type SecretScrubber } from './secret-scrubber.js';

export interface SentryErrorReporterOptions {
  dsn: string;
  environment: string;
  release: string;
  scrub: SecretScrubber;
  log: Logger;
}

const sensitiveKey = /cookie|authorization|password|passwd|secret|token|csrf|api[-_]?key|set-cookie/i;

/**
 * Sentry through one client this process owns: no `Sentry.init`, so no global hub, no auto-instrumentation,
 * no module hooks and no OpenTelemetry provider of Sentry's competing with ours (skipOpenTelemetrySetup
 * is set). Events carry what we put in (route, status, job) and pass `scrubEvent` on the way out.
 */
export function createSentryErrorReporter(options: SentryErrorReporterOptions): ErrorReporter {
  const scrubbed = <E extends Event>(event: E): E => scrubEvent(event, options.scrub);
  const client = new NodeClient({
    dsn: options.dsn,
    environment: options.environment,
    release: options.release,
    transport: makeNodeTransport,
    stackParser: defaultStackParser,
    integrations: [],
    skipOpenTelemetrySetup: true,
    sendClientReports: false,
    maxBreadcrumbs: 0,
    beforeSend: scrubbed,
    beforeSendTransaction: scrubbed,
  });
  const capture = (send: (scope: Scope) => void) => {
    try {
      const scope = new Scope();
      scope.setClient(client);
      send(scope);
    } catch (error) {
      options.log.warn({ err: error }, 'error report not sent');
    }
  };
  return {
    enabled: true,
    requestFailed(error, request) {
      capture((scope) => {
        scope.setTags({
          kind: 'request',
          'http.method': request.method,
          'http.route': request.route,
          'http.status_code': String(request.status),
        });
        scope.setExtra('requestId', request.requestId);
        // The OpenTelemetry trace of the same request, when tracing is on: one id to look up in both.
        if (request.traceId) scope.setTag('trace_id', request.traceId);
        scope.setFingerprint(['{{ default }}', request.route]);
        client.captureException(error, {}, scope);
      });
    },
    jobFailed(failure) {
      capture((scope) => {
        scope.setTags({ kind: 'job', job: failure.job, cause: failure.cause });
        scope.setExtras({ jobId: failure.jobId, attempts: failure.attempts });
        if (failure.traceId) scope.setTag('trace_id', failure.traceId);
        scope.setFingerprint(['job-failed', failure.job, failure.cause]);
        client.captureEvent(
          {
            level: 'error',
            message: `job ${failure.job} failed: ${failure.error}`,
            exception: { values: [{ type: 'JobFailed', value: failure.error }] },
          },
          {},
          scope,
        );
      });
    },
    async close(timeoutMs) {
      await client.close(timeoutMs);
    },
  };
}

/**
 * What leaves for Sentry: no cookies, headers, query string or body of a request, values under keys named like
 * credentials replaced, and every remaining string through the secret scrubber (configured secret values,
 * tokens, signatures, URL passwords).
 */
export function scrubEvent<E extends Event>(event: E, scrub: SecretScrubber): E {
  const copy = { ...event };
  if (copy.request) {
    const { method, url } = copy.request;
    copy.request = {
      ...(method ? { method } : {}),
      ...(url ? { url: scrub(url.split('?')[0] ?? '') } : {}),
    };
  }
  return scrubDeep(withoutSensitiveKeys(copy, 0), scrub);
}

function withoutSensitiveKeys<T>(value: T, depth: number): T {
  if (depth > 32 || !value || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item: unknown) => withoutSensitiveKeys(item, depth + 1)) as T;
  if (Object.getPrototypeOf(value) !== Object.prototype) return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([key, item]) => [
      key,
      sensitiveKey.test(key) ? '[redacted]' : withoutSensitiveKeys(item, depth + 1),
    ]),
  ) as T;
}
