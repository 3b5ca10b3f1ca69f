import { CopyObjectCommand } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import type { Logger } from 'pino';
import { notFound } from '../services/errors.js';
import { logIntegrityFailures, type BlobStore, type ByteRange } from './blob-store.js';
import { assertBlobKey } from './encrypted-fs.blob-store.js';
import type { KekRef, Keyring } from './master-key.js';
import type { S3Objects } from './s3-objects.js';
import { s3Blob } from './s3-random-access.js';
import { decryptBlob } from './segmented-aead-reader.js';
import { EncryptStream } from './segmented-aead-stream.js';
import {
  BlobIntegrityError,
  HEADER_BYTES,
  TAG_BYTES,
  plaintextSizeOf,
  kekOfHeader,
  rewrapHeader,
  segmentBytesOf,
} from './segmented-aead.js';

export interface EncryptedS3BlobStoreDeps {
  objects: S3Objects;
  /** Prepended to every object key (`guardian/` → `guardian/blobs/...`). */
  prefix: string;
  keyring: Keyring;
  log: Logger;
  segmentBytes?: number;
  /** Largest ranged GET a sequential read makes at once. */
  readWindowBytes?: number;
  /** Above this, adopting a staged payload streams it instead of CopyObject (S3 copies at most 5 GiB at once). */
  copyLimitBytes?: number;
}

const keySuffix = '.key';
const payloadSuffix = '.sagb';
const blobKeyPattern = /^[A-Za-z0-9_-]{8,128}$/;
const fiveGiB = 5 * 1024 ** 3;

/**
 * Blobs as two objects: `<prefix>blobs/<key>.key` holds the 242-byte SAGB header (the data key wrapped by the
 * KEK) and `<prefix>blobs/<key>.sagb` the AEAD segments. S3 cannot rewrite part of an object, so the split lets
 * key rotation rewrite 242 bytes and deletion destroy the key before the payload. The key object is written
 * last and deleted first: it is what makes a blob exist.
 */
export class EncryptedS3BlobStore implements BlobStore {
  private readonly root: string;

  constructor(private readonly deps: EncryptedS3BlobStoreDeps) {
    this.root = `${deps.prefix}blobs/`;
  }

  async put(key: string, source: Readable): Promise<{ sizeBytes: number }> {
    assertBlobKey(key);
    const encrypt = new EncryptStream({
      objectKey: key,
      keyring: this.deps.keyring,
      segmentBytes: this.deps.segmentBytes,
    });
    const split = new HeaderSplitter();
    source.once('error', (error) => encrypt.destroy(error));
    encrypt.once('error', (error) => split.destroy(error));
    // A failing source fails the upload, which aborts its multipart upload: nothing is left behind.
    await this.deps.objects.upload(this.payloadKey(key), source.pipe(encrypt).pipe(split));
    await this.deps.objects.put(this.keyObject(key), split.header());
    return { sizeBytes: encrypt.plaintextBytes };
  }

  /** The key object's time: it is written after the payload, so an object is complete from then on. */
  async modifiedAt(key: string): Promise<Date | null> {
    assertBlobKey(key);
    return this.deps.objects.lastModified(this.keyObject(key));
  }

  /** From the payload size and the segment size in the header; `read` is what authenticates. */
  async size(key: string): Promise<number | null> {
    assertBlobKey(key);
    const stored = await this.stored(key);
    if (!stored) return null;
    return plaintextSizeOf(HEADER_BYTES + stored.payloadBytes, segmentBytesOf(stored.header));
  }

  async read(key: string, range?: ByteRange): Promise<Readable> {
    assertBlobKey(key);
    const stored = await this.stored(key);
    if (!stored) throw notFound('blob');
    const blob = s3Blob({
      objects: this.deps.objects,
      header: stored.header,
      payloadKey: this.payloadKey(key),
      payloadBytes: stored.payloadBytes,
      windowBytes: this.deps.readWindowBytes ?? 4 * 1024 * 1024,
      readAheadLimit: readAheadLimit(stored.header, stored.payloadBytes, range),
    });
    const plaintext = Readable.from(
      decryptBlob(blob, { objectKey: key, keyring: this.deps.keyring, range }),
      {
        objectMode: false,
      },
    );
    return logIntegrityFailures(plaintext, key, this.deps.log);
  }

  /** Crypto-shredding: the wrapped data key goes first, so a failure between the two leaves only ciphertext. */
  async delete(key: string): Promise<void> {
    assertBlobKey(key);
    await this.deps.objects.delete(this.keyObject(key));
    await this.deps.objects.delete(this.payloadKey(key));
  }

  async rewrap(key: string): Promise<void> {
    assertBlobKey(key);
    const header = await this.deps.objects.get(this.keyObject(key));
    if (!header) throw notFound('blob');
    if (header.length !== HEADER_BYTES) throw new BlobIntegrityError('key object is not a SAGB header');
    await this.deps.objects.put(
      this.keyObject(key),
      rewrapHeader(header, { objectKey: key, keyring: this.deps.keyring }),
    );
  }

  /** The KEK the key object names (unauthenticated: rotation's skip test); null when there is no object. */
  async kekOf(key: string): Promise<KekRef | null> {
    assertBlobKey(key);
    const header = await this.deps.objects.get(this.keyObject(key));
    if (!header) return null;
    if (header.length !== HEADER_BYTES) throw new BlobIntegrityError('key object is not a SAGB header');
    return kekOfHeader(header);
  }

  async *keys(): AsyncIterable<string> {
    for await (const object of this.deps.objects.list(this.root)) {
      const name = object.Key?.slice(this.root.length) ?? '';
      const key = name.endsWith(keySuffix) ? name.slice(0, -keySuffix.length) : '';
      if (blobKeyPattern.test(key)) yield key;
    }
  }

  async checkHealth(): Promise<void> {
    const key = `health-probe-${randomBytes(12).toString('hex')}`;
    const probe = randomBytes(64);
    try {
      await this.put(key, Readable.from([probe]));
      const readBack = Buffer.concat(await (await this.read(key)).toArray());
      if (!readBack.equals(probe)) throw new Error('blob store health probe read back different bytes');
    } finally {
      await this.delete(key);
    }
  }

  /**
   * Takes over a finished resumable upload: its header re-wrapped for `key`, its segments (one object, no
   * header) copied inside the bucket, never through this process unless larger than one CopyObject allows.
   */
  async adopt(
    key: string,
    staged: { header: Buffer; objectKey: string; payloadKey: string; payloadBytes: number },
  ): Promise<void> {
    assertBlobKey(key);
    const header = rewrapHeader(staged.header, {
      objectKey: staged.objectKey,
      keyring: this.deps.keyring,
      newObjectKey: key,
    });
    const { objects } = this.deps;
    if (staged.payloadBytes <= (this.deps.copyLimitBytes ?? fiveGiB)) {
      await objects.client.send(
        new CopyObjectCommand({
          Bucket: objects.bucket,
          Key: this.payloadKey(key),
          CopySource: `${objects.bucket}/${encodeURIComponent(staged.payloadKey).replaceAll('%2F', '/')}`,
        }),
      );
    } else {
      await objects.upload(this.payloadKey(key), await objects.stream(staged.payloadKey));
    }
    await objects.put(this.keyObject(key), header);
  }

  private async stored(key: string): Promise<{ header: Buffer; payloadBytes: number } | null> {
    const [header, payloadBytes] = await Promise.all([
      this.deps.objects.get(this.keyObject(key)),
      this.deps.objects.sizeOf(this.payloadKey(key)),
    ]);
    if (!header || payloadBytes === null) return null;
    return { header, payloadBytes };
  }

  private keyObject(key: string): string {
    return `${this.root}${key}${keySuffix}`;
  }

  private payloadKey(key: string): string {
    return `${this.root}${key}${payloadSuffix}`;
  }
}

/** End (exclusive, in whole-blob bytes) of the segments `range` covers: read-ahead never fetches beyond it. */
function readAheadLimit(header: Buffer, payloadBytes: number, range: ByteRange | undefined): number {
  const total = HEADER_BYTES + payloadBytes;
  if (!range) return total;
  try {
    const segmentBytes = segmentBytesOf(header);
    const lastSegment = Math.floor(Math.max(range.end, 0) / segmentBytes);
    return Math.min(total, HEADER_BYTES + (lastSegment + 1) * (segmentBytes + TAG_BYTES));
  } catch {
    return total;
  }
}

/** Passes the SAGB stream on without its header, which it keeps for the key object. */
class HeaderSplitter extends Transform {
  private readonly parts: Buffer[] = [];
  private kept = 0;

  header(): Buffer {
    const header = Buffer.concat(this.parts);
    if (header.length !== HEADER_BYTES) throw new Error('encrypted stream ended inside its header');
    return header;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.kept < HEADER_BYTES) {
      const part = chunk.subarray(0, HEADER_BYTES - this.kept);
      this.parts.push(part);
      this.kept += part.length;
      chunk = chunk.subarray(part.length);
    }
    callback(null, chunk.length > 0 ? chunk : undefined);
  }
}
