import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBlobGateway, type BlobGateway } from '../../src/storage/blob-gateway.js';
import { EncryptedFsBlobStore } from '../../src/storage/encrypted-fs.blob-store.js';
import { BlobIntegrityError } from '../../src/storage/segmented-aead.js';
import { capturingLogger, makeTempDir, newKeyring } from './storage-fixtures.js';

const run = promisify(execFile);

let dir: string;
let video: Buffer;
let store: EncryptedFsBlobStore;
let gateway: BlobGateway;

beforeAll(async () => {
  dir = await makeTempDir();
  const videoPath = join(dir, 'moov-at-end.mp4');
  // No -movflags +faststart: the moov atom lands after mdat, so a reader must seek to the end.
  await run('/usr/bin/ffmpeg', [
    ...['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25', '-t', '3'],
    ...['-c:v', 'libx264', '-pix_fmt', 'yuv420p', videoPath],
  ]);
  video = await readFile(videoPath);
  expect(video.indexOf('moov')).toBeGreaterThan(video.indexOf('mdat'));
  const { log } = capturingLogger();
  store = new EncryptedFsBlobStore({ dataDir: join(dir, 'data'), keyring: newKeyring(), log });
  await store.put('media-video1', Readable.from([video]));
  await store.put('media-empty1', Readable.from([]));
  gateway = createBlobGateway({ blobStore: store, log });
});

afterAll(async () => {
  await gateway.close();
  await rm(dir, { recursive: true, force: true });
});

describe('blob gateway', () => {
  it('lets ffprobe and ffmpeg read an encrypted MP4 whose moov atom is at the end', async () => {
    const handle = await gateway.open('media-video1');
    try {
      expect(handle.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/[0-9a-f]{64}$/);
      const probe = await run('/usr/bin/ffprobe', [
        '-v',
        'error',
        '-show_format',
        '-show_streams',
        '-of',
        'json',
        handle.url,
      ]);
      const parsed = JSON.parse(probe.stdout) as {
        streams: { codec_name: string }[];
        format: { duration: string };
      };
      expect(parsed.streams[0]?.codec_name).toBe('h264');
      expect(Number(parsed.format.duration)).toBeCloseTo(3, 0);
      const decodeArgs = ['-v', 'error', '-f', 'md5', '-'];
      const viaGateway = await run('/usr/bin/ffmpeg', ['-i', handle.url, ...decodeArgs]);
      const direct = await run('/usr/bin/ffmpeg', ['-i', join(dir, 'moov-at-end.mp4'), ...decodeArgs]);
      expect(viaGateway.stdout).toMatch(/^MD5=/);
      expect(viaGateway.stdout).toBe(direct.stdout);
    } finally {
      await handle.close();
    }
  });

  it('serves byte ranges, whole objects and HEAD', async () => {
    const handle = await gateway.open('media-video1');
    const size = video.length;
    for (const [header, start, end] of [
      ['bytes=0-99', 0, 99],
      // Crosses the boundary between the first two 64 KiB segments.
      ['bytes=65530-65545', 65_530, 65_545],
      [`bytes=${size - 10}-`, size - 10, size - 1],
      ['bytes=-500', size - 500, size - 1],
      [`bytes=100-${size + 1000}`, 100, size - 1],
    ] as const) {
      const response = await fetch(handle.url, { headers: { Range: header } });
      expect(response.status, header).toBe(206);
      expect(response.headers.get('content-range')).toBe(`bytes ${start}-${end}/${size}`);
      expect(Buffer.from(await response.arrayBuffer())).toEqual(video.subarray(start, end + 1));
    }
    const whole = await fetch(handle.url);
    expect(whole.status).toBe(200);
    expect(whole.headers.get('accept-ranges')).toBe('bytes');
    expect(Buffer.from(await whole.arrayBuffer())).toEqual(video);
    const head = await fetch(handle.url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(size));
    await handle.close();
  });

  it('answers 416 for unsatisfiable ranges, 405 for other methods, 404 for unknown or closed tokens', async () => {
    const handle = await gateway.open('media-video1');
    for (const header of [`bytes=${video.length}-`, 'bytes=5-1', 'bytes=0-1,5-9', 'lines=0-1', 'bytes=-0']) {
      const response = await fetch(handle.url, { headers: { Range: header } });
      expect(response.status, header).toBe(416);
      expect(response.headers.get('content-range')).toBe(`bytes */${video.length}`);
    }
    expect((await fetch(handle.url, { method: 'POST' })).status).toBe(405);
    const unknown = handle.url.replace(/[0-9a-f]{64}$/, 'f'.repeat(64));
    expect((await fetch(unknown)).status).toBe(404);
    expect((await fetch(`${handle.url}/../x`)).status).toBe(404);
    await handle.close();
    expect((await fetch(handle.url)).status).toBe(404);
  });

  it('serves an empty object and refuses to open a missing one', async () => {
    const handle = await gateway.open('media-empty1');
    const response = await fetch(handle.url);
    expect(response.status).toBe(200);
    expect((await response.arrayBuffer()).byteLength).toBe(0);
    expect((await fetch(handle.url, { headers: { Range: 'bytes=0-' } })).status).toBe(416);
    await handle.close();
    await expect(gateway.open('media-missing')).rejects.toMatchObject({ status: 404 });
  });

  it('cuts the response off instead of serving tampered bytes', async () => {
    await store.put('media-video2', Readable.from([video]));
    const path = join(dir, 'data', 'blobs', 'me', 'media-video2.sagb');
    const onDisk = await readFile(path);
    onDisk[onDisk.length - 100] = (onDisk[onDisk.length - 100] ?? 0) ^ 0x80;
    await writeFile(path, onDisk);
    const handle = await gateway.open('media-video2');
    // The final segment is authenticated before any byte, even for a range at the start.
    const fromStart = fetch(handle.url, { headers: { Range: 'bytes=0-99' } }).then((response) =>
      response.arrayBuffer(),
    );
    await expect(fromStart).rejects.toThrow();
    await handle.close();
    await expect(run('/usr/bin/ffprobe', ['-v', 'error', handle.url])).rejects.toThrow();
  });

  it('records a mid-stream authentication failure on the handle and serves nothing more of that blob', async () => {
    // Five 64 KiB segments: the flip lands in the fourth, so the first and the last still authenticate.
    const payload = randomBytes(5 * 64 * 1024);
    await store.put('media-video3', Readable.from([payload]));
    const path = join(dir, 'data', 'blobs', 'me', 'media-video3.sagb');
    const onDisk = await readFile(path);
    const position = Math.floor(onDisk.length * 0.6);
    onDisk[position] = (onDisk[position] ?? 0) ^ 0x01;
    await writeFile(path, onDisk);
    const tampered = await gateway.open('media-video3');
    const intact = await gateway.open('media-video1');
    try {
      expect(tampered.integrityFailure()).toBeNull();
      // Bytes before the flipped segment are served: only the handle tells that the rest was not.
      const head = await fetch(tampered.url, { headers: { Range: 'bytes=0-99' } });
      expect(Buffer.from(await head.arrayBuffer())).toEqual(payload.subarray(0, 100));
      expect(tampered.integrityFailure()).toBeNull();
      await fetch(tampered.url)
        .then((response) => response.arrayBuffer())
        .catch(() => undefined);
      const failure = tampered.integrityFailure();
      expect(failure).toBeInstanceOf(BlobIntegrityError);
      expect(failure?.code).toBe('blob-integrity');
      expect(tampered.integritySignal.aborted).toBe(true);
      expect(tampered.integritySignal.reason).toBe(failure);
      expect((await fetch(tampered.url, { headers: { Range: 'bytes=0-99' } })).status).toBe(500);
      const whole = await fetch(intact.url);
      expect(Buffer.from(await whole.arrayBuffer())).toEqual(video);
      expect(intact.integrityFailure()).toBeNull();
      expect(intact.integritySignal.aborted).toBe(false);
    } finally {
      await tampered.close();
      await intact.close();
    }
  });
});
