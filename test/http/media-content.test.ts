import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HEADER_BYTES, TAG_BYTES, DEFAULT_SEGMENT_BYTES } from '../../src/storage/segmented-aead.js';
import {
  bearer,
  createOrganisationWithKeys,
  openPlatformApp,
  type RoleKeys,
} from '../authorization/platform-app.js';
import { createMediaTempDir, generateClip, type MediaTempDir } from '../helpers/media-fixtures.js';
import { expectProblem, multipartBody } from './fake-app.js';

const opened = await openPlatformApp();
const { app, platform } = opened;
let orgA: { orgId: string; keys: RoleKeys };
let orgB: { orgId: string; keys: RoleKeys };
let temp: MediaTempDir;
let clip: Buffer;
let baseUrl: string;

beforeAll(async () => {
  orgA = await createOrganisationWithKeys(platform, 'Media content A');
  orgB = await createOrganisationWithKeys(platform, 'Media content B');
  temp = await createMediaTempDir();
  // Noisy, so the file spans several 64 KiB encryption segments.
  clip = await readFile(await generateClip(temp.dir, { seconds: 1, fps: 10, noise: 30, crf: 20 }));
  expect(clip.length).toBeGreaterThan(4 * DEFAULT_SEGMENT_BYTES);
  baseUrl = await app.listen({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await opened.close();
  await temp.remove();
});

interface UploadedMedia {
  id: string;
  analysisId: string;
  originalFilename: string | null;
}

async function upload(filename: string, key = orgA.keys.analyst): Promise<UploadedMedia> {
  const { payload, headers } = multipartBody('file', clip, filename);
  const response = await app.inject({
    method: 'POST',
    url: '/api/v1/media',
    payload,
    headers: { ...headers, ...bearer(key) },
  });
  expect(response.statusCode, response.body).toBe(201);
  return response.json<UploadedMedia>();
}

const get = (
  url: string,
  key: string,
  headers: Record<string, string> = {},
  method: 'GET' | 'HEAD' = 'GET',
) => app.inject({ method, url, headers: { ...bearer(key), ...headers } });

const contentUrl = (id: string) => `/api/v1/media/${id}/content`;

function expectDownloadHeaders(response: LightMyRequestResponse) {
  expect(response.headers['x-content-type-options']).toBe('nosniff');
  expect(response.headers['content-security-policy']).toBe("default-src 'none'; sandbox");
  expect(response.headers['cache-control']).toBe('no-store');
  expect(response.headers['accept-ranges']).toBe('bytes');
  expect(String(response.headers['content-disposition'])).toMatch(/^attachment; /);
}

const blobPath = (mediaId: string) => join(opened.dataDir, 'blobs', 'me', `media-${mediaId}.sagb`);

async function flipStoredByte(mediaId: string, offset: (size: number) => number): Promise<void> {
  const onDisk = await readFile(blobPath(mediaId));
  const at = offset(onDisk.length);
  onDisk[at] = (onDisk[at] ?? 0) ^ 0x01;
  await writeFile(blobPath(mediaId), onDisk);
}

describe('upload names', () => {
  it('stores and echoes a right-to-left-override name cleaned', async () => {
    const uploaded = await upload('clip\u202E4pm.exe');
    expect(uploaded.originalFilename).toBe('clip4pm.exe');
    const shown = await get(`/api/v1/media/${uploaded.id}`, orgA.keys.viewer);
    expect(shown.json()).toMatchObject({ originalFilename: 'clip4pm.exe' });
    const row = await platform.repositories.media.findById(orgA.orgId, uploaded.id);
    expect(row?.original_filename).toBe('clip4pm.exe');
  });

  it('stores no name when nothing is left of it', async () => {
    const uploaded = await upload('\u202E\u200B\u2066');
    expect(uploaded.originalFilename).toBeNull();
  });

  it('cleans the tus Upload-Metadata filename, both as echoed by HEAD and as stored', async () => {
    const org = await createOrganisationWithKeys(platform, 'Tus names');
    const hostile = `../../${'ü'.repeat(200)}\u202Egpj.exe\u0000.mp4`;
    const tus = { ...bearer(org.keys.analyst), 'tus-resumable': '1.0.0' };
    const created = await app.inject({
      method: 'POST',
      url: '/api/v1/uploads',
      headers: {
        ...tus,
        'upload-length': String(clip.length),
        'upload-metadata': `filename ${Buffer.from(hostile).toString('base64')}`,
      },
    });
    expect(created.statusCode, created.body).toBe(201);
    const location = `/api/v1/uploads/${String(created.headers.location).split('/').at(-1)}`;
    const head = await app.inject({ method: 'HEAD', url: location, headers: tus });
    const echoed = Object.fromEntries(
      String(head.headers['upload-metadata'])
        .split(',')
        .map((pair) => pair.trim().split(' '))
        .map(([name, value]) => [name, Buffer.from(value ?? '', 'base64').toString('utf8')]),
    );
    // Separators, the override and NUL gone; 415 bytes cut to 254 between characters, the extension kept.
    const expected = `....${'ü'.repeat(123)}.mp4`;
    expect(echoed.filename).toBe(expected);
    expect(Buffer.byteLength(expected)).toBeLessThanOrEqual(255);
    const finished = await app.inject({
      method: 'PATCH',
      url: location,
      headers: { ...tus, 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' },
      payload: clip,
    });
    expect(finished.statusCode, finished.body).toBeLessThan(300);
    const rows = await platform.database.db
      .selectFrom('media')
      .select(['original_filename'])
      .where('org_id', '=', org.orgId)
      .execute();
    expect(rows).toEqual([{ original_filename: expected }]);
  });
});

describe('GET /api/v1/media/:id/content', () => {
  let media: UploadedMedia;

  beforeAll(async () => {
    media = await upload('Überwachung – 東京 (final).mp4');
  });

  it('serves the whole file, decrypted, as an attachment with the sniffed type', async () => {
    const response = await get(contentUrl(media.id), orgA.keys.viewer);
    expect(response.statusCode).toBe(200);
    expect(response.rawPayload.equals(clip)).toBe(true);
    expect(response.headers['content-type']).toBe('video/mp4');
    expect(response.headers['content-length']).toBe(String(clip.length));
    expectDownloadHeaders(response);
    expect(response.headers['content-disposition']).toBe(
      'attachment; filename="Uberwachung _ __ (final).mp4"; ' +
        "filename*=UTF-8''%C3%9Cberwachung%20%E2%80%93%20%E6%9D%B1%E4%BA%AC%20%28final%29.mp4",
    );
  });

  it.each([
    ['bytes=0-99', 0, 99],
    ['bytes=65530-65545', 65_530, 65_545], // across the first segment boundary
    ['bytes=-500', -500, -1],
    ['bytes=1000-', 1000, -1],
  ])('serves the range %s with 206 and Content-Range', async (range, first, last) => {
    const start = first < 0 ? clip.length + first : first;
    const end = last < 0 ? clip.length + last : last;
    const response = await get(contentUrl(media.id), orgA.keys.analyst, { range });
    expect(response.statusCode).toBe(206);
    expect(response.headers['content-range']).toBe(`bytes ${start}-${end}/${clip.length}`);
    expect(response.headers['content-length']).toBe(String(end - start + 1));
    expect(response.rawPayload.equals(clip.subarray(start, end + 1))).toBe(true);
    expectDownloadHeaders(response);
  });

  it.each([
    ['bytes=0-', 0, -1], // the whole file, still as a range
    ['bytes=100-999999999', 100, -1], // an end past the file is clamped
    ['bytes=-999999999', 0, -1], // a suffix longer than the file is the whole file
    ['bytes=0-0', 0, 0],
    ['bytes=-1', -1, -1], // the last byte, in the final segment
    ['bytes=65536-131071', 65_536, 131_071], // exactly the second 64 KiB segment
  ])('serves the edge range %s exactly', async (range, first, last) => {
    const start = first < 0 ? clip.length + first : first;
    const end = last < 0 ? clip.length + last : last;
    const response = await get(contentUrl(media.id), orgA.keys.viewer, { range });
    expect(response.statusCode).toBe(206);
    expect(response.headers['content-range']).toBe(`bytes ${start}-${end}/${clip.length}`);
    expect(response.headers['content-length']).toBe(String(end - start + 1));
    expect(response.rawPayload.equals(clip.subarray(start, end + 1))).toBe(true);
    expectDownloadHeaders(response);
  });

  it('answers 416 to several ranges and to malformed ones rather than guessing', async () => {
    for (const range of ['bytes=0-1,5-6', 'bytes=abc', 'items=0-1', 'bytes=-', 'bytes=1-2-3']) {
      const response = await get(contentUrl(media.id), orgA.keys.viewer, { range });
      expectProblem(response, 416, 'range-not-satisfiable');
      expect(response.headers['content-range']).toBe(`bytes */${clip.length}`);
      expect(response.headers['accept-ranges']).toBe('bytes');
    }
  });

  it('answers 416 problem+json with the size for a range outside the file', async () => {
    for (const range of [`bytes=${clip.length}-`, 'bytes=-0', 'bytes=9-3']) {
      const response = await get(contentUrl(media.id), orgA.keys.viewer, { range });
      expectProblem(response, 416, 'range-not-satisfiable');
      expect(response.headers['content-range']).toBe(`bytes */${clip.length}`);
      expect(response.headers['content-disposition']).toBeUndefined();
    }
  });

  it('honours If-Range only with the current ETag', async () => {
    const whole = await get(contentUrl(media.id), orgA.keys.viewer, {
      range: 'bytes=0-9',
      'if-range': '"stale"',
    });
    expect(whole.statusCode).toBe(200);
    expect(whole.rawPayload.length).toBe(clip.length);
    const etag = String(whole.headers.etag);
    expect(etag).toMatch(/^"[0-9a-f]{64}"$/);
    const part = await get(contentUrl(media.id), orgA.keys.viewer, { range: 'bytes=0-9', 'if-range': etag });
    expect(part.statusCode).toBe(206);
    expect(part.rawPayload.equals(clip.subarray(0, 10))).toBe(true);
  });

  it('answers HEAD with the headers of GET and no body', async () => {
    const head = await get(contentUrl(media.id), orgA.keys.viewer, {}, 'HEAD');
    expect(head.statusCode).toBe(200);
    expect(head.headers['content-length']).toBe(String(clip.length));
    expect(head.headers['content-type']).toBe('video/mp4');
    expect(head.rawPayload.length).toBe(0);
    expectDownloadHeaders(head);
    const ranged = await get(contentUrl(media.id), orgA.keys.viewer, { range: 'bytes=10-19' }, 'HEAD');
    expect(ranged.statusCode).toBe(206);
    expect(ranged.headers['content-range']).toBe(`bytes 10-19/${clip.length}`);
    expect(ranged.headers['content-length']).toBe('10');
  });

  it('answers 404 to another organisation, an unknown id and a malformed one', async () => {
    expectProblem(await get(contentUrl(media.id), orgB.keys.admin), 404, 'not-found');
    expect((await get(contentUrl(media.id), orgB.keys.admin, {}, 'HEAD')).statusCode).toBe(404);
    expectProblem(await get(contentUrl(randomUUID()), orgA.keys.viewer), 404, 'not-found');
    expectProblem(await get('/api/v1/media/not-a-uuid/content', orgA.keys.viewer), 400, 'validation-failed');
  });

  it('lets viewers, analysts and admins read, not auditors, and nobody without credentials', async () => {
    for (const role of ['viewer', 'analyst', 'admin'] as const)
      expect((await get(contentUrl(media.id), orgA.keys[role], { range: 'bytes=0-0' })).statusCode).toBe(206);
    expectProblem(await get(contentUrl(media.id), orgA.keys.auditor), 403, 'forbidden');
    expectProblem(await app.inject({ method: 'GET', url: contentUrl(media.id) }), 401, 'unauthenticated');
  });

  it.each([
    ['text/html', '<html><script>alert(1)</script></html>'],
    ['image/svg+xml', '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'],
    ['application/javascript', 'alert(1)'],
  ])('never serves a stored %s under that type: application/octet-stream instead', async (type, text) => {
    const id = randomUUID();
    const bytes = Buffer.from(text);
    await platform.blobStore.put(`media-${id}`, Readable.from([bytes]));
    await platform.repositories.media.insert(platform.database.db, {
      id,
      org_id: orgA.orgId,
      sha256: 'ab'.repeat(32),
      size_bytes: bytes.length,
      mime_type: type,
      original_filename: 'page.html',
      blob_key: `media-${id}`,
      status: 'stored',
      probe: '{}',
    });
    const response = await get(contentUrl(id), orgA.keys.viewer);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('application/octet-stream');
    expect(response.headers['content-disposition']).toMatch(/^attachment; filename="page\.html"/);
    expectDownloadHeaders(response);
    expect(response.rawPayload.equals(bytes)).toBe(true);
  });
});

describe('a stored file that fails authentication', () => {
  it('is refused with 500 blob-integrity before any byte when its final segment was altered', async () => {
    const media = await upload('tampered-end.mp4');
    await flipStoredByte(media.id, (size) => size - 100);
    const response = await get(contentUrl(media.id), orgA.keys.viewer, { range: 'bytes=0-99' });
    expectProblem(response, 500, 'blob-integrity');
    expect(response.headers['content-disposition']).toBeUndefined();
  });

  it.each([
    ['just after its header', HEADER_BYTES],
    ['inside its header', 100],
  ])('is refused with 500 blob-integrity, not internal-error, when cut %s', async (_where, length) => {
    const media = await upload(`cut-${length}.mp4`);
    await writeFile(blobPath(media.id), (await readFile(blobPath(media.id))).subarray(0, length));
    const response = await get(contentUrl(media.id), orgA.keys.viewer);
    expectProblem(response, 500, 'blob-integrity');
  });

  it('is cut off mid-stream, never served short or altered, when a middle segment was altered', async () => {
    const media = await upload('tampered-middle.mp4');
    const damagedSegment = 3;
    await flipStoredByte(
      media.id,
      () => HEADER_BYTES + damagedSegment * (DEFAULT_SEGMENT_BYTES + TAG_BYTES) + 1000,
    );
    const received = await new Promise<{
      status: number;
      declared: number;
      bytes: Buffer;
      complete: boolean;
    }>((resolve, reject) => {
      const request = httpRequest(`${baseUrl}${contentUrl(media.id)}`, { headers: bearer(orgA.keys.viewer) });
      request.on('error', reject);
      request.on('response', (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        // An aborted response emits 'error' (ECONNRESET / aborted) before 'close'; 'close' tells either way.
        response.on('error', () => undefined);
        response.on('close', () =>
          resolve({
            status: response.statusCode ?? 0,
            declared: Number(response.headers['content-length']),
            bytes: Buffer.concat(chunks),
            complete: response.complete,
          }),
        );
      });
      request.end();
    });
    expect(received.status).toBe(200);
    expect(received.declared).toBe(clip.length);
    expect(received.complete).toBe(false);
    // Everything before the damaged segment, nothing of it or after it.
    expect(received.bytes.length).toBeLessThanOrEqual(damagedSegment * DEFAULT_SEGMENT_BYTES);
    expect(received.bytes.equals(clip.subarray(0, received.bytes.length))).toBe(true);
  });
});

describe('DELETE /api/v1/media/:id', () => {
  it('shreds the blob, keeps a nameless tombstone, audits media.delete, and the queued analysis ends media-missing', async () => {
    const media = await upload('to-delete.mp4');
    const blobKey = `media-${media.id}`;
    expect(await platform.blobStore.size(blobKey)).toBe(clip.length);

    const response = await app.inject({
      method: 'DELETE',
      url: `/api/v1/media/${media.id}`,
      headers: { ...bearer(orgA.keys.analyst), 'user-agent': 'delete-test/1.0' },
      remoteAddress: '192.0.2.44',
    });
    expect(response.statusCode, response.body).toBe(204);
    expect(response.body).toBe('');

    expect(await platform.blobStore.size(blobKey)).toBeNull();
    await expect(readFile(blobPath(media.id))).rejects.toMatchObject({ code: 'ENOENT' });
    const row = await platform.repositories.media.findById(orgA.orgId, media.id);
    expect(row).toMatchObject({ status: 'deleted', original_filename: null, probe: {} });
    expect(row?.deleted_at).toBeInstanceOf(Date);

    expectProblem(await get(`/api/v1/media/${media.id}`, orgA.keys.viewer), 404, 'not-found');
    expectProblem(await get(contentUrl(media.id), orgA.keys.viewer), 404, 'not-found');
    const again = await app.inject({
      method: 'DELETE',
      url: `/api/v1/media/${media.id}`,
      headers: bearer(orgA.keys.admin),
    });
    expectProblem(again, 404, 'not-found');

    const audit = await get('/api/v1/audit-events?limit=20', orgA.keys.admin);
    const events = audit.json<{ events: Record<string, unknown>[] }>().events;
    const deletions = events.filter((event) => event.action === 'media.delete');
    expect(deletions).toHaveLength(1);
    expect(deletions[0]).toMatchObject({
      outcome: 'success',
      actor: { type: 'api-key', id: expect.any(String) },
      target: { type: 'media', id: media.id },
      ip: '192.0.2.44',
      userAgent: 'delete-test/1.0',
      details: { sha256: row?.sha256, sizeBytes: clip.length, mimeType: 'video/mp4' },
    });
    expect(await platform.auditLog.verify()).toMatchObject({ ok: true });

    // The analysis queued at upload runs now (no workers in this app) and ends consistently.
    await platform.services.analysisService.run(
      { analysisId: media.analysisId, orgId: orgA.orgId },
      {
        jobId: media.analysisId,
        attempt: 1,
        signal: new AbortController().signal,
        reportProgress: async () => {},
      },
    );
    const analysis = await get(`/api/v1/analyses/${media.analysisId}`, orgA.keys.viewer);
    expect(analysis.json()).toMatchObject({ status: 'failed', error: { code: 'media-missing' } });
  });

  it("leaves another organisation's media alone (404) and refuses viewers and auditors (403)", async () => {
    const media = await upload('kept.mp4');
    const foreign = await app.inject({
      method: 'DELETE',
      url: `/api/v1/media/${media.id}`,
      headers: bearer(orgB.keys.admin),
    });
    expectProblem(foreign, 404, 'not-found');
    for (const role of ['viewer', 'auditor'] as const) {
      const refused = await app.inject({
        method: 'DELETE',
        url: `/api/v1/media/${media.id}`,
        headers: bearer(orgA.keys[role]),
      });
      expectProblem(refused, 403, 'forbidden');
    }
    expect(await platform.blobStore.size(`media-${media.id}`)).toBe(clip.length);
    expect((await get(contentUrl(media.id), orgA.keys.viewer, { range: 'bytes=0-0' })).statusCode).toBe(206);
    const audit = await get('/api/v1/audit-events?limit=50', orgB.keys.admin);
    expect(audit.json<{ events: { action: string }[] }>().events.map((event) => event.action)).not.toContain(
      'media.delete',
    );
  });

  it('lets an admin delete too', async () => {
    const media = await upload('admin-deletes.mp4');
    const response = await app.inject({
      method: 'DELETE',
      url: `/api/v1/media/${media.id}`,
      headers: bearer(orgA.keys.admin),
    });
    expect(response.statusCode, response.body).toBe(204);
  });
});
