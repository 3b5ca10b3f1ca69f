import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile, rm, utimes, writeFile, appendFile } from 'node:fs/promises';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Server as TusServer } from '@tus/server';
import { ERRORS, Upload } from '@tus/utils';
import { Upload as TusClientUpload, type UploadOptions } from 'tus-js-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EncryptedFsBlobStore } from '../../src/storage/encrypted-fs.blob-store.js';
import { EncryptedTusDataStore } from '../../src/storage/encrypted-tus.datastore.js';
import type { Keyring } from '../../src/storage/master-key.js';
import { DEFAULT_SEGMENT_BYTES } from '../../src/storage/segmented-aead.js';
import { capturingLogger, collect, makeTempDir, newKeyring } from './storage-fixtures.js';

const MiB = 1024 * 1024;

let dataDir: string;
let keyring: Keyring;
let blobStore: EncryptedFsBlobStore;
let http: HttpServer;
let endpoint: string;

function newDataStore(overrides: { maxUploadBytes?: number; segmentBytes?: number } = {}) {
  return new EncryptedTusDataStore({
    dataDir,
    keyring,
    blobStore,
    maxUploadBytes: overrides.maxUploadBytes ?? 64 * MiB,
    expirySeconds: 3600,
    segmentBytes: overrides.segmentBytes,
  });
}

async function serve(datastore: EncryptedTusDataStore): Promise<void> {
  const tus = new TusServer({ path: '/files', datastore });
  http = createServer((req, res) => void tus.handle(req, res));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(http.address() as AddressInfo).port}/files`;
}

function uploadWith(file: Buffer, options: UploadOptions): { upload: TusClientUpload; done: Promise<void> } {
  let upload!: TusClientUpload;
  const done = new Promise<void>((resolve, reject) => {
    upload = new TusClientUpload(file, {
      retryDelays: null,
      ...options,
      onSuccess: () => resolve(),
      onError: reject,
    });
  });
  upload.start();
  return { upload, done };
}

const uploadIdOf = (url: string) => url.split('/').at(-1) ?? '';

beforeEach(async () => {
  dataDir = await makeTempDir();
  keyring = newKeyring();
  blobStore = new EncryptedFsBlobStore({ dataDir, keyring, log: capturingLogger().log });
});

afterEach(async () => {
  http?.closeAllConnections();
  await new Promise((resolve) => (http ? http.close(resolve) : resolve(undefined)));
  await rm(dataDir, { recursive: true, force: true });
});

describe('EncryptedTusDataStore over a real tus server', () => {
  it('resumes an interrupted upload, stores only ciphertext and adopts the result as a blob', async () => {
    const store = newDataStore();
    await serve(store);
    const canary = Buffer.from('TUS-CANARY-PLAINTEXT-');
    const source = Buffer.concat([canary, randomBytes(3 * MiB), canary]);
    const chunkSize = 300_000; // Not a multiple of the segment size: the server keeps whole segments only.
    const options = { endpoint, chunkSize, metadata: { filename: 'evidence-clip.mp4' } };

    let interrupted!: () => void;
    const wasInterrupted = new Promise<void>((resolve) => (interrupted = resolve));
    const first = uploadWith(source, {
      ...options,
      onProgress: (sent) => {
        if (sent > 1.2 * MiB) void first.upload.abort().then(interrupted);
      },
    });
    await Promise.race([wasInterrupted, first.done]);
    const url = first.upload.url ?? '';
    const head = await fetch(url, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0' } });
    const offset = Number(head.headers.get('upload-offset'));
    expect(offset % DEFAULT_SEGMENT_BYTES).toBe(0);
    expect(offset).toBeGreaterThan(0);
    expect(offset).toBeLessThan(source.length);

    await uploadWith(source, { ...options, uploadUrl: url }).done;

    const dir = join(dataDir, 'uploads');
    for (const name of await readdir(dir)) {
      const bytes = await readFile(join(dir, name));
      expect(bytes.includes(canary), name).toBe(false);
      expect(bytes.includes(Buffer.from('evidence-clip')), name).toBe(false);
    }
    const id = uploadIdOf(url);
    const completed = await store.finalize(id, { headBytes: 4096 });
    expect(completed.sizeBytes).toBe(source.length);
    expect(completed.sha256).toBe(createHash('sha256').update(source).digest('hex'));
    expect(completed.head).toEqual(source.subarray(0, 4096));
    expect(completed.metadata.filename).toBe('evidence-clip.mp4');

    await completed.adoptAs('media-adopted1');
    // Buffer.equals: a deep toEqual over megabytes is needlessly slow.
    expect((await collect(await blobStore.read('media-adopted1'))).equals(source)).toBe(true);
    expect(await readdir(dir)).toEqual([]);
  });

  it('refuses an upload over the limit and leaves nothing on disk', async () => {
    await serve(newDataStore({ maxUploadBytes: 100_000 }));
    const failure = uploadWith(randomBytes(100_001), { endpoint }).done;
    await expect(failure).rejects.toThrow(/response code: 413/);
    expect(await readdir(dataDir)).toEqual([]);
  });

  it('answers 410 for an expired upload and deletes it with crash leftovers, keeping fresh ones', async () => {
    const store = newDataStore();
    await serve(store);
    const hoursAgo = new Date(Date.now() - 2 * 3600_000);
    await store.create(
      new Upload({ id: 'expired-upload1', size: 10, offset: 0, creation_date: hoursAgo.toISOString() }),
    );
    await store.create(new Upload({ id: 'fresh-upload1', size: 10, offset: 0 }));
    const dir = join(dataDir, 'uploads');
    await writeFile(join(dir, 'crashed-upload1.json.tmp'), '{');
    await utimes(join(dir, 'crashed-upload1.json.tmp'), hoursAgo, hoursAgo);

    const expired = await fetch(`${endpoint}/expired-upload1`, {
      method: 'HEAD',
      headers: { 'Tus-Resumable': '1.0.0' },
    });
    expect(expired.status).toBe(410);
    expect(await store.deleteExpired()).toBe(2);
    expect((await readdir(dir)).sort()).toEqual(['fresh-upload1', 'fresh-upload1.json']);
  });
});

describe('EncryptedTusDataStore segment-wise writes', () => {
  const segmentBytes = 1024;

  it('persists whole segments only, survives a torn tail and completes with the final segment', async () => {
    const store = newDataStore({ segmentBytes });
    const source = randomBytes(10 * segmentBytes + 300);
    await store.create(new Upload({ id: 'upload-direct1', size: source.length, offset: 0 }));
    expect(await store.write(Readable.from([source.subarray(0, 2500)]), 'upload-direct1', 0)).toBe(2048);
    expect((await store.getUpload('upload-direct1')).offset).toBe(2048);
    await expect(store.write(Readable.from([source]), 'upload-direct1', 2500)).rejects.toBe(
      ERRORS.INVALID_OFFSET,
    );

    // A crash in the middle of a segment write leaves a partial segment behind.
    await appendFile(join(dataDir, 'uploads', 'upload-direct1'), randomBytes(700));
    expect((await store.getUpload('upload-direct1')).offset).toBe(2048);
    expect(await store.write(Readable.from([source.subarray(2048)]), 'upload-direct1', 2048)).toBe(
      source.length,
    );
    await expect(
      store.write(Readable.from([Buffer.from('x')]), 'upload-direct1', source.length),
    ).rejects.toBe(ERRORS.ERR_SIZE_EXCEEDED);

    const completed = await store.finalize('upload-direct1', { headBytes: 10 });
    expect(completed.sha256).toBe(createHash('sha256').update(source).digest('hex'));
    await completed.discard();
    expect(await readdir(join(dataDir, 'uploads'))).toEqual([]);
  });

  it('refuses a PATCH too short to finish a segment with 400 upload-chunk-too-small, so a client cannot loop', async () => {
    const store = newDataStore({ segmentBytes });
    const source = randomBytes(3 * segmentBytes);
    await store.create(new Upload({ id: 'upload-small1', size: source.length, offset: 0 }));
    await expect(
      store.write(Readable.from([source.subarray(0, 500)]), 'upload-small1', 0),
    ).rejects.toMatchObject({
      status: 400,
      code: 'upload-chunk-too-small',
      extra: { minChunkBytes: segmentBytes },
    });
    expect((await store.getUpload('upload-small1')).offset).toBe(0);
    // A whole segment moves on; the last, shorter piece completes the upload.
    expect(await store.write(Readable.from([source.subarray(0, 2 * segmentBytes)]), 'upload-small1', 0)).toBe(
      2 * segmentBytes,
    );
    expect(
      await store.write(
        Readable.from([source.subarray(2 * segmentBytes)]),
        'upload-small1',
        2 * segmentBytes,
      ),
    ).toBe(source.length);
  });

  it('treats an empty upload as complete at creation', async () => {
    const store = newDataStore({ segmentBytes });
    await store.create(new Upload({ id: 'upload-empty1', size: 0, offset: 0 }));
    const completed = await store.finalize('upload-empty1', { headBytes: 10 });
    expect(completed.sizeBytes).toBe(0);
    expect(completed.sha256).toBe(createHash('sha256').digest('hex'));
  });

  it('refuses to finalize an unfinished upload or take foreign ids, and terminates uploads', async () => {
    const store = newDataStore({ segmentBytes });
    await store.create(new Upload({ id: 'upload-partial1', size: 5000, offset: 0 }));
    await expect(store.finalize('upload-partial1', { headBytes: 10 })).rejects.toMatchObject({ status: 409 });
    await expect(store.getUpload('../../etc/passwd')).rejects.toBe(ERRORS.FILE_NOT_FOUND);
    await store.remove('upload-partial1');
    await expect(store.remove('upload-partial1')).rejects.toBe(ERRORS.FILE_NOT_FOUND);
    expect(await readdir(join(dataDir, 'uploads'))).toEqual([]);
    await expect(store.create(new Upload({ id: 'upload-huge1', size: 65 * MiB, offset: 0 }))).rejects.toBe(
      ERRORS.ERR_MAX_SIZE_EXCEEDED,
    );
  });
});
