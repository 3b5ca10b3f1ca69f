import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trace } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startObservability } from '../../src/app/observability.js';
import { loadConfig } from '../../src/config/load-config.js';
import { parseOtlpHeaders } from '../../src/observability/otel-sdk.js';
import { databaseImplementations, describeEachImplementation, testLogger } from '../helpers/databases.js';
import { generateStill } from '../helpers/media-fixtures.js';
import { startOtlpReceiver, type OtlpReceiver } from '../helpers/otlp-receiver.js';
import { deleteRedisKeys, redisImplementation, uniqueRedisPrefix } from '../helpers/redis.js';
import { startObservedPlatform } from './observed-platform.js';
import { expectLinkedTrace, traceComplete, traceOf, uploadAndWait } from './tracing-chain.js';

const exportToken = 'otlp-canary-3f9a1c';
const dir = mkdtempSync(join(tmpdir(), 'guardian-tracing-'));
let receiver: OtlpReceiver;
let still: string;

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  still = await generateStill(dir, { format: 'png' });
});

afterAll(async () => {
  delete process.env.OTEL_BSP_SCHEDULE_DELAY;
  await receiver?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('tracing on embedded defaults (PGlite, embedded queue)', () => {
  it('links upload → enqueue → job run → each detector in one trace, flushed at graceful stop', async () => {
    receiver.spans.length = 0;
    // A minute (the batch processor reads it from the environment): only the flush at stop can send these spans.
    process.env.OTEL_BSP_SCHEDULE_DELAY = '60000';
    const platform = await startObservedPlatform({
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_HEADERS: `authorization=Bearer%20${exportToken}`,
      OTEL_SERVICE_NAME: 'guardian-tracing-test',
    });
    let stopped = false;
    try {
      const upload = await uploadAndWait(platform.url, platform.key, still);
      const refused = await fetch(
        `${platform.url}/api/v1/media/not-a-uuid?sig=query-canary-77&token=t-canary-88`,
        { headers: { authorization: `Bearer ${platform.key}` } },
      );
      expect(refused.status).toBe(400);
      expect(receiver.spans).toEqual([]);
      await platform.stop();
      stopped = true;

      const trace = traceOf(receiver.spans);
      expectLinkedTrace(trace, upload.detectorIds);
      expect(trace.every((span) => span.serviceName === 'guardian-tracing-test')).toBe(true);
      const lookup = receiver.spans.find((span) => span.name === 'GET /api/v1/media/:id');
      expect(lookup?.attributes).toMatchObject({
        'url.path': '/api/v1/media/not-a-uuid',
        'http.route': '/api/v1/media/:id',
        'http.response.status_code': 400,
      });
      expect(JSON.stringify(receiver.spans)).not.toMatch(/query-canary-77|t-canary-88/);
      // OTLP/HTTP JSON, with the headers OTEL_EXPORTER_OTLP_HEADERS named.
      expect(receiver.requests[0]?.contentType).toBe('application/json');
      expect(receiver.requests[0]?.headers.authorization).toBe(`Bearer ${exportToken}`);
    } finally {
      if (!stopped) await platform.stop();
    }
  });
});

const postgres = databaseImplementations().find((implementation) => implementation.name === 'postgres');
const redis = redisImplementation();
const scaled = {
  name: 'PostgreSQL + BullMQ on Redis',
  ...(postgres?.skipReason || redis.skipReason
    ? { skipReason: postgres?.skipReason ?? redis.skipReason }
    : {}),
};

describeEachImplementation('tracing scaled out', [scaled], () => {
  it('carries the trace context through the job data in Redis to the BullMQ worker', async () => {
    receiver.spans.length = 0;
    process.env.OTEL_BSP_SCHEDULE_DELAY = '100';
    const database = await postgres!.open();
    await database.close();
    const prefix = uniqueRedisPrefix('tracing');
    const platform = await startObservedPlatform({
      DATABASE_URL: database.settings.databaseUrl ?? '',
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: prefix,
      MASTER_KEY: 'ab'.repeat(32),
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    });
    try {
      expect(platform.platform.queue.kind).toBe('bullmq');
      const upload = await uploadAndWait(platform.url, platform.key, still);
      await receiver.waitFor((spans) => traceComplete(spans, upload.detectorIds));
      const trace = traceOf(receiver.spans);
      expectLinkedTrace(trace, upload.detectorIds);
      expect(trace.find((span) => span.name === 'process analysis.run')?.attributes['messaging.system']).toBe(
        'bullmq',
      );
    } finally {
      await platform.stop();
      await database.destroy();
      await deleteRedisKeys(redis.url, prefix);
    }
  });
});

describe('tracing settings', () => {
  it('starts nothing when neither OTEL_EXPORTER_OTLP_ENDPOINT nor SENTRY_DSN is set', async () => {
    const config = loadConfig({ NODE_ENV: 'test', DATA_DIR: dir });
    const observability = await startObservability(config, testLogger(), 'serve');
    expect(observability.tracing.enabled).toBe(false);
    expect(observability.errors.enabled).toBe(false);
    expect(observability.tracing.tracer.startSpan('probe').isRecording()).toBe(false);
    expect(trace.getTracer('probe').startSpan('probe').isRecording()).toBe(false);
    await observability.shutdown();
  });

  it('reads OTEL_EXPORTER_OTLP_HEADERS the way the OpenTelemetry specification writes it', () => {
    expect(parseOtlpHeaders('authorization=Bearer%20abc, x-tenant = t1 ,')).toEqual({
      authorization: 'Bearer abc',
      'x-tenant': 't1',
    });
    expect(() => parseOtlpHeaders('no-equals-sign-secret')).toThrow(/key=value/);
    expect(() => parseOtlpHeaders('no-equals-sign-secret')).not.toThrow(/secret/);
    expect(() => loadConfig({ DATA_DIR: dir, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toThrow(
      /OTEL_EXPORTER_OTLP_PROTOCOL/,
    );
  });
});
