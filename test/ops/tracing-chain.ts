import { expect } from 'vitest';
import { runGuardian } from '../helpers/guardian-process.js';
import type { ReceivedSpan } from '../helpers/otlp-receiver.js';
import { uploadMultipart, waitForAnalysis } from '../e2e/upload-flow.js';

const spanKind = { server: 2, producer: 4, consumer: 5 };

/** An organisation and an analyst key, through the CLI (the running server's admin socket in embedded mode). */
export async function analystKey(env: NodeJS.ProcessEnv): Promise<string> {
  const org = await runGuardian(['org', 'create', 'Tracing'], env);
  expect(org.code, org.stderr).toBe(0);
  const created = await runGuardian(
    ['apikey', 'create', '--org', 'Tracing', '--name', 'tracing', '--role', 'analyst'],
    env,
  );
  expect(created.code, created.stderr).toBe(0);
  return created.stdout.trim().split('\n').at(-1) ?? '';
}

/** Uploads the file and waits for its analysis; returns the ids of the detectors its report lists. */
export async function uploadAndWait(
  baseUrl: string,
  key: string,
  file: string,
): Promise<{ analysisId: string; detectorIds: string[] }> {
  const response = await uploadMultipart(baseUrl, key, file, 'still.png');
  const body = (await response.json()) as { analysisId?: string };
  expect(response.status, JSON.stringify(body)).toBe(201);
  const analysis = await waitForAnalysis(baseUrl, key, body.analysisId ?? '', 30_000);
  expect(analysis.status).toBe('done');
  const detectorIds = (analysis.detectors as { id: string }[]).map((detector) => detector.id);
  return { analysisId: body.analysisId ?? '', detectorIds };
}

const isUpload = (span: ReceivedSpan) => span.name === 'POST /api/v1/media';

/** True once the upload's trace holds the job span (it ends last) and a span for each detector. */
export function traceComplete(spans: ReceivedSpan[], detectorIds: string[]): boolean {
  const trace = traceOf(spans);
  return (
    trace.some((span) => span.name === 'process analysis.run') &&
    trace.filter((span) => span.name.startsWith('detector ')).length >= detectorIds.length
  );
}

/** The spans of the (one) upload's trace. */
export function traceOf(spans: ReceivedSpan[]): ReceivedSpan[] {
  const upload = spans.find(isUpload);
  return upload ? spans.filter((span) => span.traceId === upload.traceId) : [];
}

/** upload (server) → enqueue (producer) → job run (consumer) → one span per detector, each the parent of the next. */
export function expectLinkedTrace(trace: ReceivedSpan[], detectorIds: string[]): void {
  const one = (name: string) => {
    const found = trace.filter((span) => span.name === name);
    expect(found.map((span) => span.name)).toEqual([name]);
    return found[0]!;
  };
  const upload = one('POST /api/v1/media');
  const enqueue = one('enqueue analysis.run');
  const job = one('process analysis.run');
  expect(upload.kind).toBe(spanKind.server);
  expect(upload.parentSpanId).toBe('');
  expect(upload.attributes).toMatchObject({
    'http.request.method': 'POST',
    'http.route': '/api/v1/media',
    'http.response.status_code': 201,
    'url.path': '/api/v1/media',
  });
  expect(enqueue.kind).toBe(spanKind.producer);
  expect(enqueue.parentSpanId).toBe(upload.spanId);
  expect(enqueue.attributes['messaging.destination.name']).toBe('analysis.run');
  expect(job.kind).toBe(spanKind.consumer);
  expect(job.parentSpanId).toBe(enqueue.spanId);
  const detectors = trace.filter((span) => span.name.startsWith('detector '));
  expect(detectors.map((span) => span.attributes['guardian.detector.id']).sort()).toEqual(
    [...detectorIds].sort(),
  );
  for (const detector of detectors) {
    expect(detector.parentSpanId).toBe(job.spanId);
    expect(['scored', 'abstained', 'not_applicable', 'failed']).toContain(
      detector.attributes['guardian.detector.outcome'],
    );
    expect(typeof detector.attributes['guardian.detector.duration_ms']).toBe('number');
    expect(typeof detector.attributes['guardian.detector.abstained']).toBe('boolean');
  }
}
