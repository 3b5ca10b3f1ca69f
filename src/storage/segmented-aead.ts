import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { findKek, type Kek, type KekRef, type Keyring } from './master-key.js';

/*
 * Blob format "SAGB" v1 (all integers big-endian), a fixed 242-byte header followed by segments.
 *
 *   offset  size  field
 *   0       4     magic "SAGB"
 *   4       1     format version (1)
 *   5       4     plaintext segment size S
 *   9       7     random nonce prefix
 *   -- stream header ends at 16: its SHA-256 is the associated data of every segment
 *   16      1+32  KEK id (length, then ASCII zero-padded to 32)
 *   49      4     KEK version
 *   53      1+128 object key (length, then ASCII zero-padded to 128)
 *   182     12    wrap nonce
 *   194     32    data key (DEK) encrypted with AES-256-GCM under the KEK; AAD = header bytes 0..182
 *   226     16    wrap tag
 *
 * Segment i: AES-256-GCM under the DEK, nonce = prefix || uint32 i || last-flag byte, tag appended; every
 * segment holds S plaintext bytes except the last (0..S bytes, flag 1). An empty object is one empty last
 * segment. Every header byte is authenticated (the wrap tag covers bytes 0..182, the stream header is also
 * in every segment's AAD), and the fixed size lets a re-wrap rewrite the header in place.
 */

export const HEADER_BYTES = 242;
export const TAG_BYTES = 16;
export const DEFAULT_SEGMENT_BYTES = 64 * 1024;
const minSegmentBytes = 16;
const maxSegmentBytes = 16 * 1024 * 1024;

const magic = Buffer.from('SAGB', 'ascii');
const formatVersion = 1;
const streamHeaderBytes = 16;
const kekIdField = { offset: 16, max: 32 };
const kekVersionOffset = 49;
const objectKeyField = { offset: 53, max: 128 };
const wrapNonceOffset = 182;
const wrappedKeyOffset = 194;
const wrapTagOffset = 226;
const noncePrefixBytes = 7;
const maxSegments = 2 ** 32;
const printableAscii = /^[\x21-\x7e]+$/;

/** The stored bytes are not what was written under this key: tampered, truncated, misplaced or wrong key. */
export class BlobIntegrityError extends Error {
  /** Stable: an analysis that read such bytes fails with this error code, never a verdict. */
  readonly code = 'blob-integrity';

  constructor(detail: string) {
    super(`blob failed authentication: ${detail}`);
    this.name = 'BlobIntegrityError';
  }
}

/** Seals and opens the segments of one object. */
export class SegmentCipher {
  private readonly aad: Buffer;

  constructor(
    private readonly dataKey: Buffer,
    private readonly noncePrefix: Buffer,
    readonly segmentBytes: number,
    streamHeader: Buffer,
  ) {
    this.aad = createHash('sha256').update(streamHeader).digest();
  }

  seal(index: number, last: boolean, plaintext: Buffer): Buffer {
    const cipher = createCipheriv('aes-256-gcm', this.dataKey, this.nonce(index, last)).setAAD(this.aad);
    return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  }

  open(index: number, last: boolean, sealed: Buffer): Buffer {
    if (sealed.length < TAG_BYTES) throw new BlobIntegrityError(`segment ${index} is shorter than its tag`);
    const decipher = createDecipheriv('aes-256-gcm', this.dataKey, this.nonce(index, last)).setAAD(this.aad);
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    try {
      return Buffer.concat([
        decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES)),
        decipher.final(),
      ]);
    } catch {
      throw new BlobIntegrityError(`segment ${index} does not authenticate`);
    }
  }

  private nonce(index: number, last: boolean): Buffer {
    if (!Number.isInteger(index) || index < 0 || index >= maxSegments)
      throw new RangeError('segment index out of range');
    const nonce = Buffer.alloc(12);
    this.noncePrefix.copy(nonce, 0);
    nonce.writeUInt32BE(index, noncePrefixBytes);
    nonce[11] = last ? 1 : 0;
    return nonce;
  }
}

export interface NewObject {
  header: Buffer;
  cipher: SegmentCipher;
}

/** A fresh random data key and nonce prefix for one object, wrapped under the keyring's current KEK. */
export function createObjectHeader(input: {
  objectKey: string;
  keyring: Keyring;
  segmentBytes?: number;
}): NewObject {
  const segmentBytes = input.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
  if (!Number.isInteger(segmentBytes) || segmentBytes < minSegmentBytes || segmentBytes > maxSegmentBytes) {
    throw new RangeError(`segment size must be an integer in [${minSegmentBytes}, ${maxSegmentBytes}]`);
  }
  const header = Buffer.alloc(HEADER_BYTES);
  magic.copy(header, 0);
  header[4] = formatVersion;
  header.writeUInt32BE(segmentBytes, 5);
  randomBytes(noncePrefixBytes).copy(header, 9);
  const dataKey = randomBytes(32);
  wrapDataKey(header, dataKey, input.keyring.current, input.objectKey);
  return { header, cipher: cipherFor(header, dataKey) };
}

/** Authenticates the header for `objectKey` and unwraps its data key; any mismatch is a BlobIntegrityError. */
export function openObjectHeader(
  header: Buffer,
  input: { objectKey: string; keyring: Keyring },
): SegmentCipher {
  return cipherFor(header, unwrapDataKey(header, input.objectKey, input.keyring));
}

/**
 * Re-wraps the data key under the keyring's current KEK, optionally for a new object key, and returns the
 * new header (same size). Segments are untouched: this is key rotation and zero-copy adoption.
 */
export function rewrapHeader(
  header: Buffer,
  input: { objectKey: string; keyring: Keyring; newObjectKey?: string },
): Buffer {
  const dataKey = unwrapDataKey(header, input.objectKey, input.keyring);
  const rewrapped = Buffer.from(header);
  wrapDataKey(rewrapped, dataKey, input.keyring.current, input.newObjectKey ?? input.objectKey);
  return rewrapped;
}

/**
 * The KEK a header names, unauthenticated: rotation uses it to skip objects already under the new key and to
 * count what each key still wraps. Rewrapping authenticates; this only reads.
 */
export function kekOfHeader(header: Buffer): KekRef {
  segmentBytesOf(header);
  return { id: readField(header, kekIdField), version: header.readUInt32BE(kekVersionOffset) };
}

/** Segment size from an unauthenticated header: enough to map sizes and ranges before any decryption. */
export function segmentBytesOf(header: Buffer): number {
  if (header.length < HEADER_BYTES || !header.subarray(0, 4).equals(magic)) {
    throw new BlobIntegrityError('not a SAGB blob');
  }
  if (header[4] !== formatVersion) throw new BlobIntegrityError(`unsupported format version ${header[4]}`);
  const segmentBytes = header.readUInt32BE(5);
  if (segmentBytes < minSegmentBytes || segmentBytes > maxSegmentBytes) {
    throw new BlobIntegrityError('segment size out of range');
  }
  return segmentBytes;
}

export function segmentCountOf(plaintextBytes: number, segmentBytes: number): number {
  return Math.max(1, Math.ceil(plaintextBytes / segmentBytes));
}

export function ciphertextSizeOf(plaintextBytes: number, segmentBytes: number): number {
  return HEADER_BYTES + plaintextBytes + segmentCountOf(plaintextBytes, segmentBytes) * TAG_BYTES;
}

/** Plaintext size implied by a whole blob's size; impossible sizes (cut inside a tag) are integrity errors. */
export function plaintextSizeOf(blobBytes: number, segmentBytes: number): number {
  const body = blobBytes - HEADER_BYTES;
  if (body < TAG_BYTES) throw new BlobIntegrityError('blob is truncated');
  const segments = Math.ceil(body / (segmentBytes + TAG_BYTES));
  const lastSealed = body - (segments - 1) * (segmentBytes + TAG_BYTES);
  if (lastSealed < TAG_BYTES) throw new BlobIntegrityError('blob is truncated inside a segment');
  return body - segments * TAG_BYTES;
}

function cipherFor(header: Buffer, dataKey: Buffer): SegmentCipher {
  return new SegmentCipher(
    dataKey,
    header.subarray(9, 16),
    segmentBytesOf(header),
    header.subarray(0, streamHeaderBytes),
  );
}

function wrapDataKey(header: Buffer, dataKey: Buffer, kek: Kek, objectKey: string): void {
  writeField(header, kekIdField, kek.id, 'KEK id');
  header.writeUInt32BE(kek.version, kekVersionOffset);
  writeField(header, objectKeyField, objectKey, 'object key');
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', kek.key, nonce).setAAD(header.subarray(0, wrapNonceOffset));
  nonce.copy(header, wrapNonceOffset);
  Buffer.concat([cipher.update(dataKey), cipher.final()]).copy(header, wrappedKeyOffset);
  cipher.getAuthTag().copy(header, wrapTagOffset);
}

function unwrapDataKey(header: Buffer, objectKey: string, keyring: Keyring): Buffer {
  segmentBytesOf(header);
  if (readField(header, objectKeyField) !== objectKey) {
    throw new BlobIntegrityError('header belongs to another object');
  }
  const kekId = readField(header, kekIdField);
  const kekVersion = header.readUInt32BE(kekVersionOffset);
  const kek = findKek(keyring, kekId, kekVersion);
  if (!kek) throw new BlobIntegrityError(`no key-encryption key ${kekId} v${kekVersion} in the keyring`);
  const decipher = createDecipheriv(
    'aes-256-gcm',
    kek.key,
    header.subarray(wrapNonceOffset, wrappedKeyOffset),
  );
  decipher.setAAD(header.subarray(0, wrapNonceOffset));
  decipher.setAuthTag(header.subarray(wrapTagOffset, HEADER_BYTES));
  try {
    return Buffer.concat([
      decipher.update(header.subarray(wrappedKeyOffset, wrapTagOffset)),
      decipher.final(),
    ]);
  } catch {
    throw new BlobIntegrityError('header does not authenticate (tampered, or wrong master key)');
  }
}

function writeField(
  header: Buffer,
  field: { offset: number; max: number },
  value: string,
  name: string,
): void {
  if (!printableAscii.test(value) || value.length > field.max) {
    throw new RangeError(`${name} must be 1-${field.max} printable ASCII characters`);
  }
  const bytes = Buffer.from(value, 'ascii');
  header.fill(0, field.offset, field.offset + 1 + field.max);
  header[field.offset] = bytes.length;
  bytes.copy(header, field.offset + 1);
}

function readField(header: Buffer, field: { offset: number; max: number }): string {
  const length = Math.min(header[field.offset] ?? 0, field.max);
  return header.toString('ascii', field.offset + 1, field.offset + 1 + length);
}
