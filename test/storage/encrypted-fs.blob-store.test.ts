import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, truncate, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EncryptedFsBlobStore, sweepStaleTempFiles } from '../../src/storage/encrypted-fs.blob-store.js';
import type { Keyring } from '../../src/storage/master-key.js';
import { HEADER_BYTES, TAG_BYTES } from '../../src/storage/segmented-aead.js';
import {
  capturingLogger,
  collect,
  liveBufferBytes,
  makeTempDir,
  newKeyring,
  withTempDir,
} from './storage-fixtures.js';

const segmentBytes = 1024;
const sealedSegment = segmentBytes + TAG_BYTES;

let dataDir: string;
let keyring: Keyring;
let store: EncryptedFsBlobStore;
let logLines: string[];

beforeEach(async () => {
  keyring = newKeyring();
  const logger = capturingLogger();
  logLines = logger.lines;
  dataDir = await makeTempDir();
  store = new EncryptedFsBlobStore({ dataDir, keyring, log: logger.log, segmentBytes });
});

afterEach(() => rm(dataDir, { recursive: true, force: true }));

const pathOf = (key: string) => join(dataDir, 'blobs', key.slice(0, 2), `${key}.sagb`);

async function readAll(key: string, range?: { start: number; end: number }): Promise<Buffer> {
  return collect(await store.read(key, range));
}

async function editFile(key: string, edit: (bytes: Buffer) => Buffer): Promise<void> {
  await writeFile(pathOf(key), edit(await readFile(pathOf(key))));
}

describe('EncryptedFsBlobStore', () => {
  it('stores, sizes, reads ranges and deletes', async () => {
    const plaintext = randomBytes(5 * segmentBytes + 123);
    expect(await store.put('media-000001', Readable.from([plaintext]))).toEqual({
      sizeBytes: plaintext.length,
    });
    expect(await store.size('media-000001')).toBe(plaintext.length);
    expect(await readAll('media-000001')).toEqual(plaintext);
    expect(await readAll('media-000001', { start: 1000, end: 3000 })).toEqual(plaintext.subarray(1000, 3001));
    await store.delete('media-000001');
    expect(await store.size('media-000001')).toBeNull();
    await expect(store.read('media-000001')).rejects.toMatchObject({ status: 404 });
    await store.delete('media-000001');
  });

  it('keeps no plaintext on disk and files private', async () => {
    const canary = Buffer.from('CANARY-PLAINTEXT-'.repeat(200));
    await store.put('media-000002', Readable.from([canary]));
    const onDisk = await readFile(pathOf('media-000002'));
    expect(onDisk.includes(Buffer.from('CANARY-PLAINTEXT'))).toBe(false);
    expect((await stat(pathOf('media-000002'))).mode & 0o777).toBe(0o600);
  });

  it.each(['../escape1', 'a/b/c/d/e', 'short', 'x'.repeat(129), 'media.000003', ''])(
    'rejects the key %j',
    async (key) => {
      await expect(store.put(key, Readable.from([Buffer.from('x')]))).rejects.toMatchObject({
        code: 'invalid-blob-key',
      });
      await expect(store.read(key)).rejects.toMatchObject({ code: 'invalid-blob-key' });
    },
  );

  describe('detects tampering on disk', () => {
    const plaintext = randomBytes(4 * segmentBytes + 10);
    beforeEach(async () => {
      await store.put('media-tamper', Readable.from([plaintext]));
    });

    it.each([
      ['a header bit', 100],
      ['a bit of the first segment', HEADER_BYTES + 5],
      ['a bit of the last tag', -1],
    ])('%s', async (_what, position) => {
      await editFile('media-tamper', (bytes) => {
        const index = position < 0 ? bytes.length + position : position;
        bytes[index] = (bytes[index] ?? 0) ^ 0x01;
        return bytes;
      });
      await expect(readAll('media-tamper')).rejects.toThrow(/failed authentication/);
      expect(
        logLines.some((line) => line.includes('blob failed authentication') && line.includes('"level":50')),
      ).toBe(true);
    });

    it('a dropped final segment, also for a range that is intact', async () => {
      const { size } = await stat(pathOf('media-tamper'));
      await truncate(pathOf('media-tamper'), size - (10 + TAG_BYTES));
      await expect(readAll('media-tamper')).rejects.toThrow(/failed authentication/);
      await expect(readAll('media-tamper', { start: 0, end: 10 })).rejects.toThrow(/failed authentication/);
    });

    it('swapped segments', async () => {
      await editFile('media-tamper', (bytes) => {
        const first = Buffer.from(bytes.subarray(HEADER_BYTES, HEADER_BYTES + sealedSegment));
        bytes.copy(bytes, HEADER_BYTES, HEADER_BYTES + sealedSegment, HEADER_BYTES + 2 * sealedSegment);
        first.copy(bytes, HEADER_BYTES + sealedSegment);
        return bytes;
      });
      await expect(readAll('media-tamper', { start: 0, end: 2 * segmentBytes - 1 })).rejects.toThrow(
        /failed authentication/,
      );
    });

    it('a file moved under another key', async () => {
      await store.put('media-other', Readable.from([plaintext]));
      await rename(pathOf('media-tamper'), pathOf('media-other'));
      await expect(readAll('media-other')).rejects.toThrow(/another object/);
    });

    it('a segment or header taken from another object', async () => {
      await store.put('media-other', Readable.from([plaintext]));
      const other = await readFile(pathOf('media-other'));
      await editFile('media-tamper', (bytes) => {
        other.copy(
          bytes,
          HEADER_BYTES + sealedSegment,
          HEADER_BYTES + sealedSegment,
          HEADER_BYTES + 2 * sealedSegment,
        );
        return bytes;
      });
      await expect(readAll('media-tamper')).rejects.toThrow(/segment 1 does not authenticate/);
      await editFile('media-tamper', (bytes) =>
        Buffer.concat([other.subarray(0, HEADER_BYTES), bytes.subarray(HEADER_BYTES)]),
      );
      await expect(readAll('media-tamper')).rejects.toThrow(/another object/);
    });

    it('a different master key', async () => {
      const stranger = new EncryptedFsBlobStore({
        dataDir,
        keyring: newKeyring(),
        log: capturingLogger().log,
        segmentBytes,
      });
      await expect(collect(await stranger.read('media-tamper'))).rejects.toThrow(/no key-encryption key/);
    });
  });

  it('removes the temp file when the source fails and publishes nothing', async () => {
    const failing = Readable.from(
      (async function* () {
        yield randomBytes(3 * segmentBytes);
        throw new Error('upload too large');
      })(),
    );
    await expect(store.put('media-failed', failing)).rejects.toThrow('upload too large');
    expect(await readdir(join(dataDir, 'blobs', '.tmp'))).toEqual([]);
    expect(await store.size('media-failed')).toBeNull();
  });

  it('removes the temp file when the source is destroyed mid-stream', async () => {
    const source = new Readable({ read: () => undefined });
    source.push(randomBytes(5 * segmentBytes));
    const put = store.put('media-aborted', source);
    setTimeout(() => source.destroy(), 20);
    await expect(put).rejects.toThrow();
    expect(await readdir(join(dataDir, 'blobs', '.tmp'))).toEqual([]);
    expect(await store.size('media-aborted')).toBeNull();
  });

  it('rotates: re-wrapped objects read under the new key alone, segments untouched', async () => {
    const plaintext = randomBytes(3000);
    await store.put('media-rotate', Readable.from([plaintext]));
    const before = await readFile(pathOf('media-rotate'));
    const next = newKeyring();
    const { log } = capturingLogger();
    const rotating = new EncryptedFsBlobStore({
      dataDir,
      keyring: { current: next.current, previous: [keyring.current] },
      log,
    });
    expect(await collect(await rotating.read('media-rotate'))).toEqual(plaintext);
    await rotating.rewrap('media-rotate');
    const after = await readFile(pathOf('media-rotate'));
    expect(after.subarray(HEADER_BYTES)).toEqual(before.subarray(HEADER_BYTES));
    expect(after.subarray(0, HEADER_BYTES)).not.toEqual(before.subarray(0, HEADER_BYTES));
    const rotated = new EncryptedFsBlobStore({ dataDir, keyring: next, log });
    expect(await collect(await rotated.read('media-rotate'))).toEqual(plaintext);
    await expect(readAll('media-rotate')).rejects.toThrow(/no key-encryption key/);
  });

  it('shreds the wrapped data key on delete, so a recovered copy of the file is unreadable', async () => {
    await store.put('media-shred', Readable.from([randomBytes(100)]));
    const path = pathOf('media-shred');
    const original = await readFile(path);
    await store.delete('media-shred');
    await expect(stat(path)).rejects.toThrow();
    // A copy kept before deletion still holds the wrapped key: only the live file is shredded.
    await mkdir(join(dataDir, 'blobs', 'me'), { recursive: true });
    await writeFile(path, original);
    expect((await readAll('media-shred')).length).toBe(100);
  });

  it('lists every stored key and nothing from temp files', async () => {
    await store.put('aaaaaaaa-1', Readable.from([Buffer.from('one')]));
    await store.put('zzzzzzzz-2', Readable.from([Buffer.from('two')]));
    await mkdir(join(dataDir, 'blobs', '.tmp'), { recursive: true });
    await writeFile(join(dataDir, 'blobs', '.tmp', 'cccccccc-3.x.part'), 'partial');
    const keys: string[] = [];
    for await (const key of store.keys()) keys.push(key);
    expect(keys.sort()).toEqual(['aaaaaaaa-1', 'zzzzzzzz-2']);
    await store.delete('aaaaaaaa-1');
    const after: string[] = [];
    for await (const key of store.keys()) after.push(key);
    expect(after).toEqual(['zzzzzzzz-2']);
  });

  it('passes its health check and leaves nothing behind', async () => {
    await store.checkHealth();
    const shards = await readdir(join(dataDir, 'blobs'));
    for (const shard of shards.filter((name) => name !== '.tmp')) {
      expect(await readdir(join(dataDir, 'blobs', shard))).toEqual([]);
    }
  });

  it('sweeps stale temp files only', async () => {
    const tempDir = join(dataDir, 'blobs', '.tmp');
    await mkdir(tempDir, { recursive: true });
    await writeFile(join(tempDir, 'old.part'), 'x');
    await writeFile(join(tempDir, 'new.part'), 'x');
    const hourAgo = new Date(Date.now() - 3600_000);
    await utimes(join(tempDir, 'old.part'), hourAgo, hourAgo);
    expect(await sweepStaleTempFiles({ dataDir, olderThanSeconds: 600 })).toBe(1);
    expect(await readdir(tempDir)).toEqual(['new.part']);
    await withTempDir(async (empty) =>
      expect(await sweepStaleTempFiles({ dataDir: empty, olderThanSeconds: 1 })).toBe(0),
    );
  });

  it('streams 50 MiB through put and read without holding it in memory', async () => {
    const chunkBytes = 256 * 1024;
    const total = 200 * chunkBytes;
    const written = createHash('sha256');
    let peak = 0;
    const sampleEvery16th = (chunkIndex: number) => {
      if (chunkIndex % 16 === 8) peak = Math.max(peak, liveBufferBytes());
    };
    const baseline = liveBufferBytes();
    const source = Readable.from(
      (async function* () {
        for (let index = 0; index < total / chunkBytes; index += 1) {
          const chunk = randomBytes(chunkBytes);
          written.update(chunk);
          sampleEvery16th(index);
          yield chunk;
        }
      })(),
    );
    const large = new EncryptedFsBlobStore({ dataDir, keyring, log: capturingLogger().log });
    expect(await large.put('media-large', source)).toEqual({ sizeBytes: total });
    const read = createHash('sha256');
    let chunks = 0;
    let readBytes = 0;
    for await (const chunk of await large.read('media-large')) {
      read.update(chunk as Buffer);
      readBytes += (chunk as Buffer).length;
      sampleEvery16th((chunks += 1));
    }
    expect(readBytes).toBe(total);
    expect(read.digest('hex')).toBe(written.digest('hex'));
    // Measured after a full GC; freed backing stores lag a little, holding the object would keep 50 MiB.
    expect(peak - baseline).toBeLessThan(24 * 1024 * 1024);
  });
});
