import {
  existsSync,
  openAsBlob,
  readdirSync,
  statSync,
  writeFileSync,
  readFileSync,
  createReadStream,
} from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { Upload } from 'tus-js-client';
import { runGuardian } from '../helpers/guardian-process.js';

export interface Keys {
  analyst: string;
  viewer: string;
  otherOrgAnalyst: string;
}

/** Creates two organisations and keys through the CLI (through the running server in embedded mode). */
export async function createOrgsAndKeys(env: NodeJS.ProcessEnv): Promise<Keys> {
  for (const name of ['Newsroom', 'Other Org']) {
    const created = await runGuardian(['org', 'create', name], env);
    expect(created.code, created.stderr).toBe(0);
  }
  const key = async (org: string, role: string) => {
    const result = await runGuardian(
      ['apikey', 'create', '--org', org, '--name', `${role} key`, '--role', role],
      env,
    );
    expect(result.code, result.stderr).toBe(0);
    const lastLine = result.stdout.trim().split('\n').at(-1) ?? '';
    expect(lastLine).toMatch(/^sag_[A-Za-z0-9_-]{43}$/);
    return lastLine;
  };
  return {
    analyst: await key('Newsroom', 'analyst'),
    viewer: await key('Newsroom', 'viewer'),
    otherOrgAnalyst: await key('Other Org', 'analyst'),
  };
}

export async function uploadMultipart(
  baseUrl: string,
  key: string,
  path: string,
  filename = 'clip.mp4',
): Promise<Response> {
  const form = new FormData();
  form.set('file', await openAsBlob(path), filename);
  return fetch(`${baseUrl}/api/v1/media`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}` },
    body: form,
  });
}

export async function getJson(
  baseUrl: string,
  key: string | null,
  path: string,
): Promise<{ status: number; body: Record<string, unknown>; contentType: string | null }> {
  const response = await fetch(`${baseUrl}${path}`, {
    headers: key ? { authorization: `Bearer ${key}` } : {},
  });
  return {
    status: response.status,
    body: (await response.json()) as Record<string, unknown>,
    contentType: response.headers.get('content-type'),
  };
}

export async function waitForAnalysis(
  baseUrl: string,
  key: string,
  analysisId: string,
  timeoutMs = 90_000,
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { status, body } = await getJson(baseUrl, key, `/api/v1/analyses/${analysisId}`);
    expect(status).toBe(200);
    if (body.status === 'done' || body.status === 'failed') return body;
    if (Date.now() > deadline)
      throw new Error(`analysis ${analysisId} still ${String(body.status)} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

export function expectCompleteReport(analysis: Record<string, unknown>): void {
  expect(analysis.status).toBe('done');
  // Every clip these tests upload is a clean single encode: anything else is a false positive.
  expect(analysis.band, JSON.stringify(analysis.reasons)).toBe('no_indicators');
  expect(Array.isArray(analysis.reasons) && analysis.reasons.length > 0).toBe(true);
  const detectors = analysis.detectors as {
    id: string;
    version: string;
    applicable: boolean;
    score: number | null;
    coverage: unknown;
  }[];
  expect(detectors.map((detector) => detector.id)).toEqual(
    expect.arrayContaining(['gop-double-compression', 'metadata-traces']),
  );
  for (const detector of detectors) {
    expect(detector.version).toBeTruthy();
    if (detector.applicable && detector.score !== null) expect(detector.score).toBeGreaterThanOrEqual(0);
  }
}

export function expectProblem(
  result: { status: number; contentType: string | null; body: Record<string, unknown> },
  status: number,
  code?: string,
): void {
  expect(result.status, JSON.stringify(result.body)).toBe(status);
  expect(result.contentType).toMatch(/^application\/problem\+json/);
  expect(result.body.status).toBe(status);
  expect(typeof result.body.type).toBe('string');
  if (code) expect(result.body.code).toBe(code);
  expect(JSON.stringify(result.body)).not.toMatch(/\n\s+at |node_modules|\.ts:\d+/);
}

export async function uploadProblem(baseUrl: string, key: string, path: string, filename: string) {
  const response = await uploadMultipart(baseUrl, key, path, filename);
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    body: (await response.json()) as Record<string, unknown>,
  };
}

/** Files under DATA_DIR/blobs and uploads: rejected uploads must leave none behind. */
export function storedFiles(dataDir: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else found.push(path);
    }
  };
  walk(join(dataDir, 'blobs'));
  walk(join(dataDir, 'uploads'));
  return found.sort();
}

export function writeBadInputs(dir: string, clipPath: string, limitBytes: number) {
  const empty = join(dir, 'empty.mp4');
  writeFileSync(empty, '');
  const html = join(dir, 'page.mp4');
  writeFileSync(
    html,
    '<!DOCTYPE html><html><head><script>alert(1)</script></head><body>not a video</body></html>\n',
  );
  const truncated = join(dir, 'truncated.mp4');
  const clip = readFileSync(clipPath);
  writeFileSync(truncated, clip.subarray(0, Math.floor(clip.length / 2)));
  const oversized = join(dir, 'oversized.mp4');
  const big = Buffer.alloc(limitBytes + 1);
  clip.copy(big, 0, 0, Math.min(clip.length, big.length));
  writeFileSync(oversized, big);
  return { empty, html, truncated, oversized };
}

/** A tus upload with tus-js-client; the media and analysis ids come from the last PATCH's headers (204). */
export function uploadWithTus(baseUrl: string, key: string, path: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const upload = new Upload(createReadStream(path), {
      endpoint: `${baseUrl}/api/v1/uploads`,
      uploadSize: statSync(path).size,
      chunkSize: 256 * 1024,
      retryDelays: [],
      headers: { authorization: `Bearer ${key}` },
      metadata: { filename: 'tus-clip.mp4', filetype: 'video/mp4' },
      onError: reject,
      onSuccess: ({ lastResponse }) => {
        expect(lastResponse.getStatus()).toBe(204);
        const mediaId = lastResponse.getHeader('guardian-media-id');
        const analysisId = lastResponse.getHeader('guardian-analysis-id');
        getJson(baseUrl, key, `/api/v1/media/${mediaId}`).then(({ status, body }) => {
          expect(status).toBe(200);
          expect(body.analysisId).toBe(analysisId);
          resolve(body);
        }, reject);
      },
    });
    upload.start();
  });
}
