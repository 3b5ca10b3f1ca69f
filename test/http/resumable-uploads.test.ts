import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Upload } from 'tus-js-client';
import { HEADER_BYTES } from '../../src/storage/segmented-aead.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  createOrganisationWithKeys,
  openPlatformApp,
  type RoleKeys,
} from '../authorization/platform-app.js';

const opened = await openPlatformApp();
let baseUrl: string;
let keys: RoleKeys;
let otherOrgKeys: RoleKeys;
let clip: Buffer;

beforeAll(async () => {
  keys = (await createOrganisationWithKeys(opened.platform, 'Uploader')).keys;
  otherOrgKeys = (await createOrganisationWithKeys(opened.platform, 'Elsewhere')).keys;
  baseUrl = await opened.app.listen({ host: '127.0.0.1', port: 0 });
  const path = join(opened.dataDir, 'clip.mp4');
  execFileSync('ffmpeg', [
    ...['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=10', '-t', '1'],
    ...['-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-y', path],
  ]);
  clip = readFileSync(path);
});

afterAll(() => opened.close());

const tus = (key: string, headers: Record<string, string> = {}) => ({
  ...bearer(key),
  'tus-resumable': '1.0.0',
  ...headers,
});

interface Finished {
  uploadUrl: string;
  last: { status: number; headers: Record<string, string>; body: string };
}

/** Uploads with tus-js-client (creation, then one PATCH: the clip is smaller than a staging segment). */
function uploadWithTusClient(file: Buffer, key: string, filename = 'clip.mp4'): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const upload = new Upload(file, {
      endpoint: `${baseUrl}/api/v1/uploads`,
      retryDelays: [],
      headers: bearer(key),
      metadata: { filename },
      onError: (error) => reject(Object.assign(error, { uploadUrl: upload.url })),
      onSuccess: ({ lastResponse }) => {
        const names = ['guardian-media-id', 'guardian-analysis-id', 'upload-offset', 'content-type'];
        resolve({
          uploadUrl: upload.url ?? '',
          last: {
            status: lastResponse.getStatus(),
            body: lastResponse.getBody() ?? '',
            headers: Object.fromEntries(names.map((name) => [name, lastResponse.getHeader(name) ?? ''])),
          },
        });
      },
    });
    upload.start();
  });
}

async function expectProblem(response: Response, status: number, code: string) {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const text = await response.text();
  if (text === '') return; // HEAD: headers only
  const body = JSON.parse(text) as Record<string, unknown>;
  expect(body).toMatchObject({ status, code, type: expect.stringMatching(/^https:\/\//) });
  expect(JSON.stringify(body)).not.toMatch(/\n\s+at |node_modules|\.[cm]?[jt]s:\d+/);
}

describe('tus: the last PATCH', () => {
  it('answers 204 with no body and the media and analysis ids in headers; GET and HEAD tell the same later', async () => {
    const { uploadUrl, last } = await uploadWithTusClient(clip, keys.analyst);
    expect(last.status).toBe(204);
    expect(last.body).toBe('');
    const mediaId = last.headers['guardian-media-id'];
    const analysisId = last.headers['guardian-analysis-id'];
    expect(mediaId).toMatch(/^[0-9a-f-]{36}$/);
    expect(analysisId).toMatch(/^[0-9a-f-]{36}$/);
    expect(last.headers['upload-offset']).toBe(String(clip.length));

    const status = await fetch(uploadUrl, { headers: bearer(keys.analyst) });
    expect(status.status).toBe(200);
    expect(await status.json()).toMatchObject({
      id: uploadUrl.split('/').at(-1),
      status: 'stored',
      length: clip.length,
      offset: clip.length,
      mediaId,
      analysisId,
      expiresAt: expect.any(String),
    });

    const head = await fetch(uploadUrl, { method: 'HEAD', headers: tus(keys.analyst) });
    expect(head.status).toBe(200);
    expect(head.headers.get('upload-offset')).toBe(String(clip.length));
    expect(head.headers.get('upload-length')).toBe(String(clip.length));
    expect(head.headers.get('guardian-media-id')).toBe(mediaId);
    expect(head.headers.get('guardian-analysis-id')).toBe(analysisId);

    const media = await fetch(`${baseUrl}/api/v1/media/${mediaId}`, { headers: bearer(keys.viewer) });
    expect(media.status).toBe(200);
    expect(await media.json()).toMatchObject({ id: mediaId, analysisId, sizeBytes: clip.length });

    // Finished: it takes no more bytes and cannot be terminated (the media is deleted through its own route).
    const patch = await fetch(uploadUrl, {
      method: 'PATCH',
      headers: tus(keys.analyst, {
        'upload-offset': String(clip.length),
        'content-type': 'application/offset+octet-stream',
      }),
      body: new Uint8Array(0),
    });
    await expectProblem(patch, 409, 'upload-complete');
    await expectProblem(
      await fetch(uploadUrl, { method: 'DELETE', headers: tus(keys.analyst) }),
      409,
      'upload-complete',
    );

    // Another organisation learns nothing about it.
    await expectProblem(await fetch(uploadUrl, { headers: bearer(otherOrgKeys.analyst) }), 404, 'not-found');
    const foreignHead = await fetch(uploadUrl, { method: 'HEAD', headers: tus(otherOrgKeys.analyst) });
    expect(foreignHead.status).toBe(404);
    expect(foreignHead.headers.get('guardian-media-id')).toBeNull();

    // The record of the outcome goes with the expiry sweep, UPLOAD_EXPIRY_SECONDS after the upload finished.
    const receipt = join(opened.dataDir, 'uploads', `${uploadUrl.split('/').at(-1)}.receipt.json`);
    expect(existsSync(receipt)).toBe(true);
    await opened.platform.uploads.handler.cleanUpExpired();
    expect(existsSync(receipt)).toBe(true);
    const twoDaysAgo = new Date(Date.now() - 2 * 24 * 3600_000);
    utimesSync(receipt, twoDaysAgo, twoDaysAgo);
    await opened.platform.uploads.handler.cleanUpExpired();
    expect(existsSync(receipt)).toBe(false);
    await expectProblem(await fetch(uploadUrl, { headers: bearer(keys.analyst) }), 404, 'not-found');
  });

  it('a creation that carries the whole file answers 201 with Location and the ids', async () => {
    const response = await fetch(`${baseUrl}/api/v1/uploads`, {
      method: 'POST',
      headers: tus(keys.analyst, {
        'upload-length': String(clip.length),
        'content-type': 'application/offset+octet-stream',
      }),
      body: clip,
    });
    expect(response.status, await response.clone().text()).toBe(201);
    expect(response.headers.get('location')).toMatch(/^\/api\/v1\/uploads\/[A-Za-z0-9_-]+$/);
    const mediaId = response.headers.get('guardian-media-id');
    expect(mediaId).toMatch(/^[0-9a-f-]{36}$/);
    const status = await fetch(`${baseUrl}${response.headers.get('location')}`, {
      headers: bearer(keys.analyst),
    });
    expect(await status.json()).toMatchObject({ status: 'stored', mediaId });
  });

  it('refuses a file that is not media with problem+json, and GET and HEAD tell the refusal later', async () => {
    const page = Buffer.from('<!DOCTYPE html><html><body>not a video</body></html>\n'.repeat(20));
    const failure = (await uploadWithTusClient(page, keys.analyst, 'page.mp4').then(
      () => null,
      (error: unknown) => error,
    )) as {
      uploadUrl: string;
      originalResponse: { getStatus(): number; getBody(): string; getHeader(name: string): string };
    } | null;
    const refused = failure?.originalResponse;
    expect(refused?.getStatus()).toBe(415);
    expect(refused?.getHeader('content-type')).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(refused?.getBody() ?? '{}')).toMatchObject({ code: 'unsupported-media-type' });

    const url = failure?.uploadUrl ?? '';
    const status = await fetch(url, { headers: bearer(keys.analyst) });
    expect(await status.json()).toMatchObject({
      status: 'refused',
      problem: { status: 415, code: 'unsupported-media-type' },
    });
    // A client resuming it is told the refusal again, never that it is complete.
    await expectProblem(
      await fetch(url, { method: 'HEAD', headers: tus(keys.analyst) }),
      415,
      'unsupported-media-type',
    );
  });
});

describe('tus: headers and errors', () => {
  it('sends no CORS headers, whatever the Origin, and never echoes the owner in Upload-Metadata', async () => {
    const origin = { origin: 'https://elsewhere.example' };
    const created = await fetch(`${baseUrl}/api/v1/uploads`, {
      method: 'POST',
      headers: tus(keys.analyst, {
        ...origin,
        'upload-length': '4096',
        'upload-metadata': `filename ${Buffer.from('clip.mp4').toString('base64')}`,
      }),
    });
    expect(created.status).toBe(201);
    const url = `${baseUrl}${created.headers.get('location')}`;
    const responses = [
      created,
      await fetch(`${baseUrl}/api/v1/uploads`, {
        method: 'OPTIONS',
        headers: { ...bearer(keys.analyst), ...origin },
      }),
      await fetch(url, { method: 'HEAD', headers: tus(keys.analyst, origin) }),
      await fetch(url, {
        method: 'PATCH',
        headers: tus(keys.analyst, {
          ...origin,
          'upload-offset': '7',
          'content-type': 'application/offset+octet-stream',
        }),
        body: new Uint8Array(10),
      }),
    ];
    for (const response of responses) {
      const cors = [...response.headers.keys()].filter((name) => name.startsWith('access-control-'));
      expect(cors, `${response.status} ${response.url}`).toEqual([]);
    }
    const head = responses[2]!;
    expect(head.headers.get('upload-offset')).toBe('0');
    const metadata = head.headers.get('upload-metadata') ?? '';
    expect(metadata).toBe(`filename ${Buffer.from('clip.mp4').toString('base64')}`);
    expect(metadata).not.toMatch(/orgId/i);
    const status = (await (await fetch(url, { headers: bearer(keys.analyst) })).json()) as Record<
      string,
      unknown
    >;
    expect(status).toMatchObject({ status: 'receiving', offset: 0, length: 4096 });
    expect(JSON.stringify(status)).not.toMatch(/orgId/i);
  });

  it('answers protocol errors with problem+json and stable codes', async () => {
    const created = await fetch(`${baseUrl}/api/v1/uploads`, {
      method: 'POST',
      headers: tus(keys.analyst, { 'upload-length': '4096' }),
    });
    const url = `${baseUrl}${created.headers.get('location')}`;
    const body = new Uint8Array(16);
    const octets = { 'content-type': 'application/offset+octet-stream' };

    const noVersion = await fetch(url, { method: 'HEAD', headers: bearer(keys.analyst) });
    await expectProblem(noVersion, 412, 'tus-version-unsupported');
    expect(noVersion.headers.get('tus-version')).toBe('1.0.0');
    await expectProblem(
      await fetch(url, {
        method: 'PATCH',
        headers: tus(keys.analyst, { ...octets, 'upload-offset': '100' }),
        body,
      }),
      409,
      'upload-offset-conflict',
    );
    await expectProblem(
      await fetch(url, {
        method: 'PATCH',
        headers: tus(keys.analyst, { 'content-type': 'application/json', 'upload-offset': '0' }),
        body: '{}',
      }),
      415,
      'unsupported-content-type',
    );
    await expectProblem(
      await fetch(`${baseUrl}/api/v1/uploads`, { method: 'POST', headers: tus(keys.analyst) }),
      400,
      'validation-failed',
    );
    await expectProblem(
      await fetch(`${baseUrl}/api/v1/uploads`, {
        method: 'POST',
        headers: tus(keys.analyst, { 'upload-length': String(4 * 1024 * 1024) }),
      }),
      413,
      'upload-too-large',
    );
    await expectProblem(
      await fetch(`${baseUrl}/api/v1/uploads/no-such-upload-1`, {
        method: 'PATCH',
        headers: tus(keys.analyst, { ...octets, 'upload-offset': '0' }),
        body,
      }),
      404,
      'not-found',
    );
    await expectProblem(
      await fetch(`${baseUrl}/api/v1/uploads/no-such-upload-1`, { headers: bearer(keys.analyst) }),
      404,
      'not-found',
    );
    const deleted = await fetch(url, { method: 'DELETE', headers: tus(keys.analyst) });
    expect(deleted.status).toBe(204);
    await expectProblem(await fetch(url, { headers: bearer(keys.analyst) }), 404, 'not-found');
  });
});

describe('tus: a staged upload altered on disk', () => {
  const segment = 64 * 1024;
  const octets = { 'content-type': 'application/offset+octet-stream' };

  /** An upload of `file` with one whole segment stored; its id, URL and files on disk. */
  async function halfDone(file: Buffer) {
    const created = await fetch(`${baseUrl}/api/v1/uploads`, {
      method: 'POST',
      headers: tus(keys.analyst, {
        'upload-length': String(file.length),
        'upload-metadata': `filename ${Buffer.from('clip.mp4').toString('base64')}`,
      }),
    });
    expect(created.status).toBe(201);
    const url = `${baseUrl}${created.headers.get('location')}`;
    const id = url.split('/').at(-1)!;
    const first = await fetch(url, {
      method: 'PATCH',
      headers: tus(keys.analyst, { ...octets, 'upload-offset': '0' }),
      body: file.subarray(0, segment),
    });
    expect(first.headers.get('upload-offset')).toBe(String(segment));
    const rest = () =>
      fetch(url, {
        method: 'PATCH',
        headers: tus(keys.analyst, { ...octets, 'upload-offset': String(segment) }),
        body: file.subarray(segment),
      });
    const dir = join(opened.dataDir, 'uploads');
    return { url, rest, sidecar: join(dir, `${id}.json`), staged: join(dir, id) };
  }

  const twoSegments = () => Buffer.concat([clip, Buffer.alloc(segment + 100 - clip.length, 7)]);

  it('a changed byte in the sealed client metadata of its record: HEAD and PATCH answer 500 blob-integrity', async () => {
    const upload = await halfDone(twoSegments());
    const record = JSON.parse(readFileSync(upload.sidecar, 'utf8')) as { sealedMetadata: string };
    const at = record.sealedMetadata.length - 30;
    const swapped = record.sealedMetadata[at] === 'A' ? 'B' : 'A';
    record.sealedMetadata = `${record.sealedMetadata.slice(0, at)}${swapped}${record.sealedMetadata.slice(at + 1)}`;
    writeFileSync(upload.sidecar, JSON.stringify(record));
    await expectProblem(
      await fetch(upload.url, { method: 'HEAD', headers: tus(keys.analyst) }),
      500,
      'blob-integrity',
    );
    await expectProblem(await upload.rest(), 500, 'blob-integrity');
  });

  it('a record that no longer parses answers 500 blob-integrity, not internal-error', async () => {
    const upload = await halfDone(twoSegments());
    writeFileSync(upload.sidecar, readFileSync(upload.sidecar, 'utf8').replace('{', '['));
    await expectProblem(
      await fetch(upload.url, { method: 'HEAD', headers: tus(keys.analyst) }),
      500,
      'blob-integrity',
    );
  });

  it('a changed byte in a stored segment: the finishing PATCH answers 500 blob-integrity and nothing is stored', async () => {
    const upload = await halfDone(twoSegments());
    const staged = readFileSync(upload.staged);
    staged[HEADER_BYTES + 1000] = staged[HEADER_BYTES + 1000]! ^ 0x01;
    writeFileSync(upload.staged, staged);
    const finished = await upload.rest();
    await expectProblem(finished, 500, 'blob-integrity');
    const status = (await (await fetch(upload.url, { headers: bearer(keys.analyst) })).json()) as Record<
      string,
      unknown
    >;
    expect(status).toMatchObject({ status: 'refused', problem: { code: 'blob-integrity' } });
    expect(status.mediaId).toBeUndefined();
  });
});
