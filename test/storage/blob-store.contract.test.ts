import { randomBytes } from 'node:crypto';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { BlobStore } from '../../src/storage/blob-store.js';
import { EncryptedFsBlobStore } from '../../src/storage/encrypted-fs.blob-store.js';
import { EncryptedS3BlobStore } from '../../src/storage/encrypted-s3.blob-store.js';
import type { Keyring } from '../../src/storage/master-key.js';
import { BlobIntegrityError, HEADER_BYTES, TAG_BYTES } from '../../src/storage/segmented-aead.js';
import { startLocalS3, type LocalS3 } from '../helpers/s3rver.js';
import { capturingLogger, collect, makeTempDir, newKeyring } from './storage-fixtures.js';

const segmentBytes = 1024;
const sealedSegment = segmentBytes + TAG_BYTES;

/** One store implementation plus direct access to what it keeps, to tamper with and to inspect. */
interface Harness {
  storeWith(keyring: Keyring): BlobStore;
  /** The stored ciphertext of `key` as one SAGB blob (header then segments). */
  readStored(key: string): Promise<Buffer>;
  writeStored(key: string, bytes: Buffer): Promise<void>;
  /** Every stored file or object name: a failed put must add none. */
  leftovers(): Promise<string[]>;
  close(): Promise<void>;
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

async function fsHarness(): Promise<Harness> {
  const dataDir = await makeTempDir();
  const pathOf = (key: string) => join(dataDir, 'blobs', key.slice(0, 2), `${key}.sagb`);
  return {
    storeWith: (keyring) =>
      new EncryptedFsBlobStore({ dataDir, keyring, log: capturingLogger().log, segmentBytes }),
    readStored: (key) => readFile(pathOf(key)),
    writeStored: (key, bytes) => writeFile(pathOf(key), bytes),
    leftovers: async () => (await filesUnder(dataDir)).map((path) => relative(dataDir, path)),
    close: () => rm(dataDir, { recursive: true, force: true }),
  };
}

let localS3: LocalS3;

async function s3Harness(): Promise<Harness> {
  // A fresh prefix per test keeps tests apart inside the one bucket.
  const prefix = `t-${randomBytes(4).toString('hex')}/`;
  const { objects } = localS3;
  const names = (key: string) => [`${prefix}blobs/${key}.key`, `${prefix}blobs/${key}.sagb`] as const;
  return {
    storeWith: (keyring) =>
      new EncryptedS3BlobStore({
        objects,
        prefix,
        keyring,
        log: capturingLogger().log,
        segmentBytes,
        readWindowBytes: 3 * sealedSegment,
      }),
    async readStored(key) {
      const [header, payload] = await Promise.all(names(key).map((name) => objects.get(name)));
      return Buffer.concat([header!, payload!]);
    },
    async writeStored(key, bytes) {
      const [header, payload] = names(key);
      await objects.put(header, bytes.subarray(0, HEADER_BYTES));
      await objects.put(payload, bytes.subarray(HEADER_BYTES));
    },
    leftovers: async () => (await localS3.listAll()).filter((name) => name.startsWith(prefix)),
    close: async () => undefined,
  };
}

beforeAll(async () => {
  localS3 = await startLocalS3();
});
afterAll(() => localS3?.close());

describe.each([
  ['the filesystem', fsHarness],
  ['S3 (s3rver)', s3Harness],
])('BlobStore contract on %s', (_name, makeHarness) => {
  let harness: Harness;
  let keyring: Keyring;
  let store: BlobStore;
  const readAll = async (key: string, range?: { start: number; end: number }) =>
    collect(await store.read(key, range));

  beforeEach(async () => {
    harness = await makeHarness();
    keyring = newKeyring();
    store = harness.storeWith(keyring);
  });
  afterEach(() => harness.close());

  it('stores, sizes, reads every kind of range and deletes', async () => {
    const plaintext = randomBytes(7 * segmentBytes + 123);
    expect(await store.put('media-000001', Readable.from([plaintext]))).toEqual({
      sizeBytes: plaintext.length,
    });
    expect(await store.size('media-000001')).toBe(plaintext.length);
    expect(await readAll('media-000001')).toEqual(plaintext);
    for (const [start, end] of [
      [0, 0],
      [1000, 3000],
      [segmentBytes, 2 * segmentBytes - 1],
      [plaintext.length - 1, plaintext.length - 1],
      [5, plaintext.length - 1],
    ] as const) {
      expect(await readAll('media-000001', { start, end })).toEqual(plaintext.subarray(start, end + 1));
    }
    await expect(readAll('media-000001', { start: 0, end: plaintext.length })).rejects.toThrow(RangeError);
    await store.delete('media-000001');
    expect(await store.size('media-000001')).toBeNull();
    await expect(store.read('media-000001')).rejects.toMatchObject({ status: 404, code: 'not-found' });
    await store.delete('media-000001');
    expect(await harness.leftovers()).toEqual([]);
  });

  it('stores an empty object and keeps no plaintext', async () => {
    await store.put('media-empty1', Readable.from([]));
    expect(await store.size('media-empty1')).toBe(0);
    expect(await readAll('media-empty1')).toEqual(Buffer.alloc(0));
    const canary = Buffer.from('CANARY-PLAINTEXT-'.repeat(200));
    await store.put('media-canary', Readable.from([canary]));
    expect((await harness.readStored('media-canary')).includes(Buffer.from('CANARY-PLAINTEXT'))).toBe(false);
  });

  it('lists every stored key, and no deleted one', async () => {
    const keys = ['media-aaaaaa01', 'media-bbbbbb02', 'artifact-cccccc03'];
    for (const key of keys) await store.put(key, Readable.from([randomBytes(10)]));
    await store.delete('media-bbbbbb02');
    const listed: string[] = [];
    for await (const key of store.keys()) listed.push(key);
    expect(listed.sort()).toEqual(['artifact-cccccc03', 'media-aaaaaa01']);
  });

  it('dates each object by its last write, and a missing one as null', async () => {
    const before = Date.now();
    await store.put('media-dated001', Readable.from([randomBytes(10)]));
    const written = await store.modifiedAt('media-dated001');
    // File systems and S3 keep whole seconds at worst.
    expect(written!.getTime()).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(written!.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
    await store.delete('media-dated001');
    expect(await store.modifiedAt('media-dated001')).toBeNull();
  });

  it('answers a missing object as not found', async () => {
    expect(await store.size('media-missing')).toBeNull();
    await expect(store.read('media-missing')).rejects.toMatchObject({ status: 404 });
    await expect(store.rewrap('media-missing')).rejects.toMatchObject({ status: 404 });
    await expect(store.put('../escape', Readable.from([Buffer.from('x')]))).rejects.toMatchObject({
      code: 'invalid-blob-key',
    });
  });

  it('rotates: a re-wrapped object reads under the new key alone, its segments untouched', async () => {
    const plaintext = randomBytes(3000);
    await store.put('media-rotate', Readable.from([plaintext]));
    const before = await harness.readStored('media-rotate');
    const next = newKeyring();
    const rotating = harness.storeWith({ current: next.current, previous: [keyring.current] });
    await rotating.rewrap('media-rotate');
    const after = await harness.readStored('media-rotate');
    expect(after.subarray(HEADER_BYTES)).toEqual(before.subarray(HEADER_BYTES));
    expect(after.subarray(0, HEADER_BYTES)).not.toEqual(before.subarray(0, HEADER_BYTES));
    expect(await collect(await harness.storeWith(next).read('media-rotate'))).toEqual(plaintext);
    await expect(readAll('media-rotate')).rejects.toThrow(/no key-encryption key/);
  });

  it('passes its health check and leaves no probe behind', async () => {
    await store.checkHealth();
    expect(await harness.leftovers()).toEqual([]);
  });

  it('publishes nothing when the source fails mid-put', async () => {
    // Over 5 MiB, so the S3 store is inside a multipart upload when the source fails.
    const failing = Readable.from(
      (async function* () {
        for (let part = 0; part < 7; part += 1) yield randomBytes(1024 * 1024);
        throw new Error('client went away');
      })(),
    );
    await expect(store.put('media-failed', failing)).rejects.toThrow('client went away');
    expect(await store.size('media-failed')).toBeNull();
    expect(await harness.leftovers()).toEqual([]);
  });

  describe('detects tampering with the stored ciphertext', () => {
    const plaintext = randomBytes(4 * segmentBytes + 10);
    beforeEach(async () => {
      await store.put('media-tamper', Readable.from([plaintext]));
    });
    const flip = (position: number) => async () => {
      const bytes = await harness.readStored('media-tamper');
      const index = position < 0 ? bytes.length + position : position;
      bytes[index] = (bytes[index] ?? 0) ^ 0x01;
      await harness.writeStored('media-tamper', bytes);
    };

    it.each([
      ['a header (wrapped key) bit', 100],
      ['a bit of the second segment', HEADER_BYTES + sealedSegment + 5],
      ['a bit of the last tag', -1],
    ])('%s', async (_what, position) => {
      await flip(position)();
      const read = store.read('media-tamper').then(collect);
      await expect(read).rejects.toBeInstanceOf(BlobIntegrityError);
    });

    it('only in the segments a range covers', async () => {
      await flip(HEADER_BYTES + 2 * sealedSegment + 5)();
      expect(await readAll('media-tamper', { start: 0, end: segmentBytes - 1 })).toEqual(
        plaintext.subarray(0, segmentBytes),
      );
      await expect(readAll('media-tamper', { start: 0, end: 3 * segmentBytes })).rejects.toThrow(
        /segment 2 does not authenticate/,
      );
    });

    it('a dropped final segment, also for a range that is intact', async () => {
      const bytes = await harness.readStored('media-tamper');
      await harness.writeStored('media-tamper', bytes.subarray(0, bytes.length - (10 + TAG_BYTES)));
      await expect(readAll('media-tamper')).rejects.toThrow(/failed authentication/);
      await expect(readAll('media-tamper', { start: 0, end: 10 })).rejects.toThrow(/failed authentication/);
    });

    it('a header moved from another object', async () => {
      await store.put('media-other', Readable.from([plaintext]));
      const other = await harness.readStored('media-other');
      const bytes = await harness.readStored('media-tamper');
      await harness.writeStored(
        'media-tamper',
        Buffer.concat([other.subarray(0, HEADER_BYTES), bytes.subarray(HEADER_BYTES)]),
      );
      await expect(readAll('media-tamper')).rejects.toThrow(/another object/);
    });
  });
});
