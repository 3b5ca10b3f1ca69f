import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { openSealedBuffer, sealBuffer } from '../../src/storage/sealed-buffer.js';
import { decryptBlob, type RandomAccessBlob } from '../../src/storage/segmented-aead-reader.js';
import { EncryptStream } from '../../src/storage/segmented-aead-stream.js';
import {
  BlobIntegrityError,
  HEADER_BYTES,
  TAG_BYTES,
  ciphertextSizeOf,
  plaintextSizeOf,
  rewrapHeader,
} from '../../src/storage/segmented-aead.js';
import { collect, newKeyring } from './storage-fixtures.js';

const segmentBytes = 64;
const sealedSegment = segmentBytes + TAG_BYTES;
const keyring = newKeyring();

async function seal(plaintext: Buffer, objectKey = 'object-a1', ring = keyring): Promise<Buffer> {
  const encrypt = new EncryptStream({ objectKey, keyring: ring, segmentBytes });
  // Several writes of odd sizes, so segment boundaries never line up with chunks.
  for (let offset = 0; offset < plaintext.length; offset += 37)
    encrypt.write(plaintext.subarray(offset, offset + 37));
  encrypt.end();
  return collect(encrypt);
}

function open(sealed: Buffer, objectKey = 'object-a1', ring = keyring): Promise<Buffer> {
  return openSealedBuffer(sealed, { objectKey, keyring: ring });
}

function flipBit(bytes: Buffer, index: number, bit = 0): Buffer {
  const copy = Buffer.from(bytes);
  copy[index] = (copy[index] ?? 0) ^ (1 << bit);
  return copy;
}

function segmentAt(sealed: Buffer, index: number): Buffer {
  const start = HEADER_BYTES + index * sealedSegment;
  return sealed.subarray(start, start + sealedSegment);
}

function countingBlob(bytes: Buffer): RandomAccessBlob & { reads: number[] } {
  const reads: number[] = [];
  return {
    sizeBytes: bytes.length,
    reads,
    readAt: async (position, length) => {
      reads.push(position);
      return bytes.subarray(position, position + length);
    },
  };
}

describe('segmented AEAD format', () => {
  it.each([0, 1, segmentBytes - 1, segmentBytes, segmentBytes + 1, 3 * segmentBytes, 1000])(
    'round-trips %i bytes with a size derivable from the ciphertext size',
    async (size) => {
      const plaintext = randomBytes(size);
      const sealed = await seal(plaintext);
      expect(sealed.length).toBe(ciphertextSizeOf(size, segmentBytes));
      expect(plaintextSizeOf(sealed.length, segmentBytes)).toBe(size);
      expect(await open(sealed)).toEqual(plaintext);
    },
  );

  it('stores an empty plaintext as one empty final segment', async () => {
    const sealed = await seal(Buffer.alloc(0));
    expect(sealed.length).toBe(HEADER_BYTES + TAG_BYTES);
    expect((await open(sealed)).length).toBe(0);
  });

  it('fails when any single bit of header or segments is flipped', async () => {
    const sealed = await seal(randomBytes(2 * segmentBytes + 10));
    for (let index = 0; index < sealed.length; index += 1) {
      await expect(open(flipBit(sealed, index, index % 8)), `byte ${index}`).rejects.toThrow();
    }
  });

  it('fails when the last segment or its last byte is cut off', async () => {
    const sealed = await seal(randomBytes(3 * segmentBytes));
    await expect(open(sealed.subarray(0, sealed.length - sealedSegment))).rejects.toThrow(BlobIntegrityError);
    await expect(open(sealed.subarray(0, sealed.length - 1))).rejects.toThrow(BlobIntegrityError);
    await expect(open(sealed.subarray(0, HEADER_BYTES))).rejects.toThrow(BlobIntegrityError);
  });

  it('fails when segments are reordered', async () => {
    const sealed = await seal(randomBytes(3 * segmentBytes + 5));
    const reordered = Buffer.concat([
      sealed.subarray(0, HEADER_BYTES),
      segmentAt(sealed, 1),
      segmentAt(sealed, 0),
      sealed.subarray(HEADER_BYTES + 2 * sealedSegment),
    ]);
    await expect(open(reordered)).rejects.toThrow(BlobIntegrityError);
  });

  it('fails when a segment from another object is swapped in', async () => {
    const plaintext = randomBytes(3 * segmentBytes);
    const mine = await seal(plaintext, 'object-a1');
    const theirs = await seal(plaintext, 'object-a1');
    const spliced = Buffer.from(mine);
    segmentAt(theirs, 1).copy(spliced, HEADER_BYTES + sealedSegment);
    await expect(open(spliced)).rejects.toThrow(BlobIntegrityError);
  });

  it('fails when headers are swapped between objects or a blob is read under another key', async () => {
    const plaintext = randomBytes(100);
    const a = await seal(plaintext, 'object-a1');
    const b = await seal(plaintext, 'object-b2');
    const bodyOfAWithHeaderOfB = Buffer.concat([b.subarray(0, HEADER_BYTES), a.subarray(HEADER_BYTES)]);
    await expect(open(bodyOfAWithHeaderOfB, 'object-a1')).rejects.toThrow(BlobIntegrityError);
    await expect(open(bodyOfAWithHeaderOfB, 'object-b2')).rejects.toThrow(BlobIntegrityError);
    await expect(open(a, 'object-b2')).rejects.toThrow(/another object/);
  });

  it('fails under a different master key', async () => {
    const sealed = await seal(randomBytes(100));
    await expect(open(sealed, 'object-a1', newKeyring())).rejects.toThrow(BlobIntegrityError);
  });

  it('reads any range by decrypting only the segments it covers plus the final one', async () => {
    const plaintext = randomBytes(10 * segmentBytes + 7);
    const sealed = await seal(plaintext);
    for (const [start, end] of [
      [0, 0],
      [0, plaintext.length - 1],
      [63, 64],
      [130, 140],
      [plaintext.length - 1, plaintext.length - 1],
      [5 * segmentBytes, 5 * segmentBytes],
    ] as const) {
      const blob = countingBlob(sealed);
      const bytes = await collect(
        decryptBlob(blob, { objectKey: 'object-a1', keyring, range: { start, end } }),
      );
      expect(bytes).toEqual(plaintext.subarray(start, end + 1));
      const segments = new Set(
        blob.reads.filter((p) => p >= HEADER_BYTES).map((p) => (p - HEADER_BYTES) / sealedSegment),
      );
      const needed = new Set([10]);
      for (let index = Math.floor(start / segmentBytes); index <= Math.floor(end / segmentBytes); index += 1)
        needed.add(index);
      expect(segments).toEqual(needed);
    }
  });

  it('refuses a range read of a truncated blob even when the range is intact', async () => {
    const sealed = await seal(randomBytes(4 * segmentBytes));
    const truncated = countingBlob(sealed.subarray(0, sealed.length - sealedSegment));
    const read = collect(
      decryptBlob(truncated, { objectKey: 'object-a1', keyring, range: { start: 0, end: 9 } }),
    );
    await expect(read).rejects.toThrow(BlobIntegrityError);
  });

  it('refuses ranges outside the object', async () => {
    const sealed = await seal(randomBytes(10));
    const read = collect(
      decryptBlob(countingBlob(sealed), { objectKey: 'object-a1', keyring, range: { start: 5, end: 10 } }),
    );
    await expect(read).rejects.toThrow(RangeError);
  });

  it('re-wraps the data key under a new KEK and object key without touching segments', async () => {
    const plaintext = randomBytes(300);
    const sealed = await seal(plaintext);
    const next = newKeyring();
    const rotating = { current: next.current, previous: [keyring.current] };
    const header = rewrapHeader(sealed.subarray(0, HEADER_BYTES), {
      objectKey: 'object-a1',
      keyring: rotating,
      newObjectKey: 'object-c3',
    });
    const rewrapped = Buffer.concat([header, sealed.subarray(HEADER_BYTES)]);
    expect(header.length).toBe(HEADER_BYTES);
    expect(await open(rewrapped, 'object-c3', next)).toEqual(plaintext);
    await expect(open(rewrapped, 'object-c3', keyring)).rejects.toThrow(BlobIntegrityError);
    await expect(open(rewrapped, 'object-a1', next)).rejects.toThrow(BlobIntegrityError);
  });

  it('seals small buffers for metadata', async () => {
    const sealed = await sealBuffer(Buffer.from('{"filename":"x.mp4"}'), { objectKey: 'meta-1234', keyring });
    expect(sealed.includes(Buffer.from('x.mp4'))).toBe(false);
    expect((await openSealedBuffer(sealed, { objectKey: 'meta-1234', keyring })).toString()).toBe(
      '{"filename":"x.mp4"}',
    );
  });
});
