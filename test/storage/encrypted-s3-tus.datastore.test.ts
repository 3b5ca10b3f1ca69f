import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { Server as TusServer } from '@tus/server';
import { Upload } from '@tus/utils';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EncryptedS3BlobStore } from '../../src/storage/encrypted-s3.blob-store.js';
import { EncryptedS3TusDataStore } from '../../src/storage/encrypted-s3-tus.datastore.js';
import type { Keyring } from '../../src/storage/master-key.js';
import { BlobIntegrityError } from '../../src/storage/segmented-aead.js';
import { startLocalS3, type LocalS3 } from '../helpers/s3rver.js';
import { capturingLogger, collect, newKeyring } from './storage-fixtures.js';

const segmentBytes = 4096;
let localS3: LocalS3;
let prefix: string;
let keyring: Keyring;
const servers: HttpServer[] = [];

beforeAll(async () => {
  localS3 = await startLocalS3();
});
afterAll(() => localS3?.close());

beforeEach(() => {
  prefix = `t-${randomBytes(4).toString('hex')}/`;
  keyring = newKeyring();
});

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** What one API server holds: its own store objects over the shared bucket, nothing else. */
function apiServerStores(options: { copyLimitBytes?: number } = {}) {
  const common = { objects: localS3.objects, prefix, keyring };
  const blobStore = new EncryptedS3BlobStore({ ...common, log: capturingLogger().log, ...options });
  const staged = new EncryptedS3TusDataStore({
    ...common,
    blobStore,
    maxUploadBytes: 10 * 1024 * 1024,
    expirySeconds: 3600,
    segmentBytes,
  });
  return { blobStore, staged };
}

async function serve(datastore: EncryptedS3TusDataStore): Promise<string> {
  const tus = new TusServer({ path: '/files', datastore });
  const http = createServer((req, res) => void tus.handle(req, res));
  servers.push(http);
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(http.address() as AddressInfo).port}/files`;
}

const tus = { 'Tus-Resumable': '1.0.0' };
const stagedObjects = async () =>
  (await localS3.listAll()).filter((name) => name.startsWith(`${prefix}uploads/`));

describe('EncryptedS3TusDataStore', () => {
  it('takes PATCHes alternately on two servers, keeps exact offsets encrypted, adopts the upload', async () => {
    const [a, b] = [apiServerStores(), apiServerStores()];
    const endpoints = [await serve(a.staged), await serve(b.staged)];
    const canary = Buffer.from('S3-TUS-CANARY-PLAINTEXT');
    const source = Buffer.concat([canary, randomBytes(5 * segmentBytes + 777), canary]);
    const created = await fetch(endpoints[0]!, {
      method: 'POST',
      headers: {
        ...tus,
        'Upload-Length': String(source.length),
        'Upload-Metadata': `filename ${Buffer.from('secret-name.mp4').toString('base64')}`,
      },
    });
    expect(created.status).toBe(201);
    const id = (created.headers.get('location') ?? '').split('/').at(-1) ?? '';
    // Chunk sizes that end inside segments: the partial tail is stored (sealed) and the offset is exact.
    const cuts = [0, 1000, 1000 + segmentBytes + 5, 3 * segmentBytes + 1, source.length];
    for (let index = 0; index + 1 < cuts.length; index += 1) {
      const endpoint = endpoints[index % 2]!;
      const patched = await fetch(`${endpoint}/${id}`, {
        method: 'PATCH',
        headers: {
          ...tus,
          'Upload-Offset': String(cuts[index]),
          'Content-Type': 'application/offset+octet-stream',
        },
        body: source.subarray(cuts[index], cuts[index + 1]),
      });
      expect(patched.status, `PATCH ${index}`).toBe(204);
      const head = await fetch(`${endpoints[(index + 1) % 2]}/${id}`, { method: 'HEAD', headers: tus });
      expect(Number(head.headers.get('upload-offset'))).toBe(cuts[index + 1]);
    }
    const stale = await fetch(`${endpoints[0]}/${id}`, {
      method: 'PATCH',
      headers: { ...tus, 'Upload-Offset': '0', 'Content-Type': 'application/offset+octet-stream' },
      body: Buffer.from('x'),
    });
    expect(stale.status).toBe(409);
    for (const name of await stagedObjects()) {
      const bytes = (await localS3.objects.get(name))!;
      expect(bytes.includes(canary.subarray(0, 12)), name).toBe(false);
      expect(bytes.includes(Buffer.from('secret-name')), name).toBe(false);
    }

    const completed = await b.staged.finalize(id, { headBytes: 100 });
    expect(completed.sha256).toBe(createHash('sha256').update(source).digest('hex'));
    expect(completed.head).toEqual(source.subarray(0, 100));
    expect(completed.metadata.filename).toBe('secret-name.mp4');
    await completed.adoptAs('media-adopted1');
    expect((await collect(await a.blobStore.read('media-adopted1'))).equals(source)).toBe(true);
    expect(await stagedObjects()).toEqual([]);
  });

  it('keeps what arrived before a PATCH failed, and resumes from there', async () => {
    const { staged, blobStore } = apiServerStores({ copyLimitBytes: 0 });
    await staged.create(new Upload({ id: 'failing-upload', size: 3 * segmentBytes, offset: 0 }));
    const first = randomBytes(segmentBytes + 10);
    const failing = Readable.from(
      (async function* () {
        yield first;
        throw new Error('connection reset');
      })(),
    );
    await expect(staged.write(failing, 'failing-upload', 0)).rejects.toThrow('connection reset');
    expect((await staged.getUpload('failing-upload')).offset).toBe(first.length);
    const rest = randomBytes(3 * segmentBytes - first.length);
    expect(await staged.write(Readable.from([rest]), 'failing-upload', first.length)).toBe(3 * segmentBytes);
    // copyLimitBytes 0: adoption streams the payload instead of CopyObject (what uploads over 5 GiB do).
    await (await staged.finalize('failing-upload', { headBytes: 10 })).adoptAs('media-streamed');
    expect(await collect(await blobStore.read('media-streamed'))).toEqual(Buffer.concat([first, rest]));
  });

  it('refuses to finalize a tampered or unfinished upload and leaves no payload', async () => {
    const { staged } = apiServerStores();
    await staged.create(new Upload({ id: 'tampered-upload', size: 2 * segmentBytes, offset: 0 }));
    await staged.write(Readable.from([randomBytes(segmentBytes)]), 'tampered-upload', 0);
    await expect(staged.finalize('tampered-upload', { headBytes: 10 })).rejects.toMatchObject({
      status: 409,
    });
    await staged.write(Readable.from([randomBytes(segmentBytes)]), 'tampered-upload', segmentBytes);
    const chunk = (await stagedObjects()).find((name) => name.includes('/c-'))!;
    const bytes = (await localS3.objects.get(chunk))!;
    bytes[10] = (bytes[10] ?? 0) ^ 1;
    await localS3.objects.put(chunk, bytes);
    await expect(staged.finalize('tampered-upload', { headBytes: 10 })).rejects.toBeInstanceOf(
      BlobIntegrityError,
    );
    expect((await stagedObjects()).some((name) => name.endsWith('/payload'))).toBe(false);
    await staged.remove('tampered-upload');
    expect(await stagedObjects()).toEqual([]);
    await expect(staged.getUpload('tampered-upload')).rejects.toBeDefined();
  });

  it('finalizes an empty upload and expires old uploads, keeping fresh ones', async () => {
    const { staged, blobStore } = apiServerStores();
    await staged.create(new Upload({ id: 'empty-upload1', size: 0, offset: 0 }));
    await (await staged.finalize('empty-upload1', { headBytes: 10 })).adoptAs('media-empty01');
    expect(await blobStore.size('media-empty01')).toBe(0);
    const hoursAgo = new Date(Date.now() - 2 * 3600_000).toISOString();
    await staged.create(new Upload({ id: 'expired-upload1', size: 10, offset: 0, creation_date: hoursAgo }));
    await staged.write(Readable.from([Buffer.from('12345')]), 'expired-upload1', 0);
    await staged.create(new Upload({ id: 'fresh-upload1', size: 10, offset: 0 }));
    expect(await staged.deleteExpired()).toBe(1);
    expect((await stagedObjects()).map((name) => name.split('/')[2])).toEqual(['fresh-upload1']);
  });
});
