import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PermanentJobError } from '../../src/queue/job-errors.js';
import { createSecretScrubber } from '../../src/observability/secret-scrubber.js';
import { startOtlpReceiver, type OtlpReceiver } from '../helpers/otlp-receiver.js';
import { startObservedPlatform, type ObservedPlatform } from './observed-platform.js';

interface Envelope {
  url: string;
  body: string;
}

/** A stand-in Sentry ingest: keeps every envelope POSTed to /api/<project>/envelope/. */
async function startEnvelopeSink(): Promise<{ url: string; envelopes: Envelope[]; server: Server }> {
  const envelopes: Envelope[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      envelopes.push({ url: request.url ?? '', body: Buffer.concat(chunks).toString('utf8') });
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, envelopes, server };
}

const canary = (label: string) => `${label}-canary-${randomBytes(6).toString('hex')}`;
const masterKey = randomBytes(32).toString('hex');
const smtpPassword = canary('smtp');
const otlpHeaderSecret = canary('otlp');
const databasePassword = canary('db');
const queryToken = canary('query');
const cookieValue = canary('cookie');
const errorRoute = '/api/v1/test-failure';

describe('Sentry (SENTRY_DSN) with secrets scrubbed, beside our own tracing', () => {
  let sink: Awaited<ReturnType<typeof startEnvelopeSink>>;
  let receiver: OtlpReceiver;
  let running: ObservedPlatform;
  const smtpUrl = `smtp://mailer:${smtpPassword}@127.0.0.1:2525`;
  const leakyDatabaseUrl = `postgres://guardian:${databasePassword}@db.internal:5432/guardian`;

  beforeAll(async () => {
    sink = await startEnvelopeSink();
    receiver = await startOtlpReceiver();
    process.env.OTEL_BSP_SCHEDULE_DELAY = '100';
    running = await startObservedPlatform(
      {
        SENTRY_DSN: `${sink.url.replace('http://', 'http://publickey@')}/42`,
        MASTER_KEY: masterKey,
        SMTP_URL: smtpUrl,
        MAIL_FROM: 'Guardian <guardian@example.org>',
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_HEADERS: `x-api-key=${otlpHeaderSecret}`,
      },
      {
        // A failure the way a driver reports one: the connection string, key material and all.
        beforeListen: (app) =>
          app.get(
            errorRoute,
            { config: { access: { roles: ['admin', 'analyst', 'viewer', 'auditor'] } } },
            async () => {
              throw new Error(
                `connect failed: ${leakyDatabaseUrl} master=${masterKey} via ${smtpUrl} header ${otlpHeaderSecret}`,
              );
            },
          ),
        handlers: (platform) => ({
          ...platform.jobHandlers,
          'housekeeping.run': async () => {
            throw new PermanentJobError(`SMTP refused ${smtpUrl} with key ${masterKey} token=${queryToken}`);
          },
        }),
      },
    );
  });

  afterAll(async () => {
    delete process.env.OTEL_BSP_SCHEDULE_DELAY;
    await running?.stop();
    await receiver?.close();
    await new Promise<void>((resolve) => sink?.server.close(() => resolve()));
  });

  const waitForEnvelopes = async (count: number) => {
    const deadline = Date.now() + 10_000;
    while (sink.envelopes.length < count) {
      if (Date.now() > deadline) throw new Error(`got ${sink.envelopes.length} envelopes, wanted ${count}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  it('reports a 5xx answer and a job that failed for good, and sends none of the secrets', async () => {
    const response = await fetch(`${running.url}${errorRoute}?token=${queryToken}&sig=${queryToken}`, {
      headers: { authorization: `Bearer ${running.key}`, cookie: `guardian_session=${cookieValue}` },
    });
    expect(response.status).toBe(500);
    const problem = (await response.json()) as { code: string; detail: string };
    expect(problem.code).toBe('internal-error');
    expect(JSON.stringify(problem)).not.toContain(databasePassword);

    await running.platform.queue.enqueue('housekeeping.run', { trigger: 'test' }, { jobId: 'canary' });
    await waitForEnvelopes(2);
    await running.observability.errors.close(2_000);

    const sent = sink.envelopes.map((envelope) => envelope.body).join('\n');
    expect(sink.envelopes.every((envelope) => envelope.url.startsWith('/api/42/envelope/'))).toBe(true);
    expect(sent).toContain(
      'connect failed: postgres://[redacted]@db.internal:5432/guardian master=[redacted]',
    );
    expect(sent).toContain(`"http.route":"${errorRoute}"`);
    expect(sent).toContain('job housekeeping.run failed: PermanentJobError: SMTP refused [redacted]');
    for (const secret of [
      masterKey,
      smtpPassword,
      otlpHeaderSecret,
      databasePassword,
      queryToken,
      cookieValue,
      running.key,
    ]) {
      expect(sent).not.toContain(secret);
    }

    // Sentry installed no tracer provider of its own: the request's span reached our receiver, and the
    // event names its trace.
    await receiver.waitFor((spans) => spans.some((span) => span.name === `GET ${errorRoute}`));
    const span = receiver.spans.find((received) => received.name === `GET ${errorRoute}`)!;
    expect(span.status.code).toBe(2);
    expect(span.events[0]?.attributes['exception.message']).toMatch(
      /^connect failed: postgres:\/\/\[redacted\]@/,
    );
    expect(JSON.stringify(receiver.spans)).not.toContain(masterKey);
    expect(sent).toContain(`"trace_id":"${span.traceId}"`);
  });
});

describe('secret scrubber', () => {
  it('removes a configured DATABASE_URL password, raw or URL-decoded, wherever it appears alone', () => {
    const scrub = createSecretScrubber({ DATABASE_URL: 'postgres://guardian:p%40ss-w0rd-9f1e@db/guardian' });
    expect(scrub('auth failed for p@ss-w0rd-9f1e and p%40ss-w0rd-9f1e')).toBe(
      'auth failed for [redacted] and [redacted]',
    );
    expect(scrub('GET /r?sig=abc&token=def&page=2')).toBe('GET /r?sig=[redacted]&token=[redacted]&page=2');
    expect(scrub('Authorization: Bearer sag_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG')).toBe(
      'Authorization: Bearer [redacted]',
    );
  });
});
