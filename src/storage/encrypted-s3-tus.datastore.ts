import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { PassThrough, type Readable } from 'node:stream';
import { DataStore, ERRORS, Upload } from '@tus/utils';
import { conflict, notFound } from '../services/errors.js';
import type { EncryptedS3BlobStore } from './encrypted-s3.blob-store.js';
import type { CompletedUpload } from './encrypted-tus.datastore.js';
import type { Keyring } from './master-key.js';
import type { S3Objects } from './s3-objects.js';
import {
  metadataOf,
  newUploadState,
  offsetOf,
  parseUploadState,
  segmentsOf,
  tailObjectKey,
  type UploadState,
} from './s3-upload-state.js';
import { openSealedBuffer, sealBuffer } from './sealed-buffer.js';
import {
  BlobIntegrityError,
  TAG_BYTES,
  createObjectHeader,
  openObjectHeader,
  segmentCountOf,
  type SegmentCipher,
} from './segmented-aead.js';

export interface EncryptedS3TusDataStoreDeps {
  objects: S3Objects;
  prefix: string;
  keyring: Keyring;
  blobStore: EncryptedS3BlobStore;
  maxUploadBytes: number;
  expirySeconds: number;
  segmentBytes?: number;
}

const uploadIdPattern = /^[A-Za-z0-9_-]{8,100}$/;
const stateName = 'state.json';
const payloadName = 'payload';
export const receiptName = 'receipt.json';

/**
 * The tus DataStore of scaled mode: every byte of an unfinished upload, and its offset, live in S3 (see
 * s3-upload-state.ts), so any API server can take the next PATCH; the locker passed to @tus/server keeps two
 * servers from writing one upload at once. Nothing is written under DATA_DIR and no plaintext is stored.
 */
export class EncryptedS3TusDataStore extends DataStore {
  private readonly root: string;

  constructor(private readonly deps: EncryptedS3TusDataStoreDeps) {
    super();
    this.root = `${deps.prefix}uploads/`;
    this.extensions = ['creation', 'creation-with-upload', 'termination', 'expiration'];
  }

  override async create(upload: Upload): Promise<Upload> {
    const id = this.checkedId(upload.id);
    if (upload.size === undefined) throw ERRORS.UNSUPPORTED_CREATION_DEFER_LENGTH_EXTENSION;
    if (upload.size > this.deps.maxUploadBytes) throw ERRORS.ERR_MAX_SIZE_EXCEEDED;
    const { keyring, segmentBytes } = this.deps;
    const { header, cipher } = createObjectHeader({ objectKey: id, keyring, segmentBytes });
    const info = {
      size: upload.size,
      creationDate: upload.creation_date ?? new Date().toISOString(),
      metadata: upload.metadata,
    };
    const state = await newUploadState(id, info, header, keyring);
    // An empty upload is complete at creation: tus never sends it a PATCH.
    if (upload.size === 0) {
      const name = chunkName(0);
      await this.deps.objects.put(this.objectKey(id, name), cipher.seal(0, true, Buffer.alloc(0)));
      state.chunks.push({ name, segments: 1 });
    }
    await this.saveState(id, state);
    upload.storage = { type: 's3', path: this.objectKey(id, stateName) };
    return upload;
  }

  override async write(source: Readable, id: string, offset: number): Promise<number> {
    const state = await this.state(id);
    const cipher = openObjectHeader(Buffer.from(state.header, 'base64'), {
      objectKey: id,
      keyring: this.deps.keyring,
    });
    if (offsetOf(state, cipher.segmentBytes) !== offset) throw ERRORS.INVALID_OFFSET;
    const writer = new ChunkWriter(cipher, state, segmentsOf(state));
    if (state.tail) writer.add(await this.openTail(id, state.tail.name));
    const chunkKey = this.objectKey(id, chunkName(writer.index));
    let failure: unknown;
    try {
      for await (const chunk of source as AsyncIterable<Buffer>) {
        writer.add(chunk);
        await writer.flushTo(() => this.deps.objects.upload(chunkKey, writer.output));
      }
    } catch (error) {
      // What arrived before the failure is kept, as the filesystem store keeps its whole segments.
      failure = error;
    }
    await writer.finish();
    const next = await this.commit(id, state, writer, chunkKey);
    if (failure !== undefined) throw failure;
    return offsetOf(next, cipher.segmentBytes);
  }

  override async getUpload(id: string): Promise<Upload> {
    const state = await this.state(id);
    const { segmentBytes } = openHeaderSegmentBytes(state);
    return new Upload({
      id,
      size: state.size,
      offset: offsetOf(state, segmentBytes),
      metadata: await metadataOf(state, id, this.deps.keyring),
      creation_date: state.creationDate,
      storage: { type: 's3', path: this.objectKey(id, stateName) },
    });
  }

  override async remove(id: string): Promise<void> {
    this.checkedId(id);
    if (!(await this.removeStaged(id))) throw ERRORS.FILE_NOT_FOUND;
  }

  override getExpiration(): number {
    return this.deps.expirySeconds * 1000;
  }

  /** Deletes every upload created more than UPLOAD_EXPIRY_SECONDS ago, finished or not, receipts and leftovers. */
  override async deleteExpired(): Promise<number> {
    const groups = new Map<string, { names: string[]; newest: number }>();
    for await (const object of this.deps.objects.list(this.root)) {
      const [id, name] = (object.Key ?? '').slice(this.root.length).split('/', 2);
      if (!id || !name) continue;
      const group = groups.get(id) ?? { names: [], newest: 0 };
      group.names.push(name);
      group.newest = Math.max(group.newest, object.LastModified?.getTime() ?? 0);
      groups.set(id, group);
    }
    const cutoff = Date.now() - this.getExpiration();
    let deleted = 0;
    for (const [id, group] of groups) {
      const state = group.names.includes(stateName) ? await this.state(id).catch(() => null) : null;
      const createdAt = state ? Date.parse(state.creationDate) : group.newest;
      if (!(createdAt < cutoff)) continue;
      const names = [stateName, ...group.names.filter((name) => name !== stateName)];
      for (const name of names) await this.deps.objects.delete(this.objectKey(id, name));
      deleted += 1;
    }
    return deleted;
  }

  /**
   * Authenticates every segment while hashing, and writes the segments as one payload object on the way,
   * which adoption then copies inside the bucket; throws if the upload is missing or unfinished.
   */
  async finalize(id: string, options: { headBytes: number }): Promise<CompletedUpload> {
    const state = await this.state(id).catch((error: unknown) => {
      throw error === ERRORS.FILE_NOT_FOUND ? notFound('upload') : error;
    });
    const header = Buffer.from(state.header, 'base64');
    const cipher = openObjectHeader(header, { objectKey: id, keyring: this.deps.keyring });
    if (offsetOf(state, cipher.segmentBytes) !== state.size || state.tail)
      throw conflict('the upload is not complete');
    const payload = new PassThrough();
    const payloadKey = this.objectKey(id, payloadName);
    const uploading = this.deps.objects.upload(payloadKey, payload);
    uploading.catch(() => undefined);
    const digest = new SegmentDigest(cipher, state.size, options.headBytes);
    try {
      for (const chunk of state.chunks) {
        for await (const bytes of await this.deps.objects.stream(this.objectKey(id, chunk.name))) {
          digest.add(bytes as Buffer);
          if (!payload.write(bytes)) await once(payload, 'drain');
        }
      }
      digest.finish();
      payload.end();
      await uploading;
    } catch (error) {
      payload.destroy(error as Error);
      await uploading.catch(() => undefined);
      await this.deps.objects.delete(payloadKey);
      throw error;
    }
    return {
      id,
      sizeBytes: state.size,
      sha256: digest.sha256(),
      head: digest.head(),
      metadata: (await metadataOf(state, id, this.deps.keyring)) ?? {},
      adoptAs: async (blobKey) => {
        await this.deps.blobStore.adopt(blobKey, {
          header,
          objectKey: id,
          payloadKey,
          payloadBytes: digest.ciphertextBytes,
        });
        await this.removeStaged(id);
      },
      discard: () => this.remove(id),
    };
  }

  /** state.json first (it holds the wrapped data key), then every other object but the receipt. */
  private async removeStaged(id: string): Promise<boolean> {
    const names: string[] = [];
    for await (const object of this.deps.objects.list(this.objectKey(id, ''))) {
      const name = (object.Key ?? '').slice(this.objectKey(id, '').length);
      if (name !== receiptName) names.push(name);
    }
    if (names.length === 0) return false;
    const ordered = [stateName, ...names.filter((name) => name !== stateName)];
    for (const name of ordered) await this.deps.objects.delete(this.objectKey(id, name));
    return true;
  }

  /** New chunk and tail first, state.json last: the state never names an object that is not there. */
  private async commit(
    id: string,
    state: UploadState,
    writer: ChunkWriter,
    chunkKey: string,
  ): Promise<UploadState> {
    const chunks = [...state.chunks];
    if (writer.sealedSegments > 0)
      chunks.push({ name: chunkKey.slice(this.objectKey(id, '').length), segments: writer.sealedSegments });
    let tail: UploadState['tail'] = null;
    const pending = writer.pending();
    if (pending.length > 0) {
      tail = { name: `tail-${randomBytes(6).toString('hex')}`, bytes: pending.length };
      const sealed = await sealBuffer(pending, { objectKey: tailObjectKey(id), keyring: this.deps.keyring });
      await this.deps.objects.put(this.objectKey(id, tail.name), sealed);
    }
    const next = { ...state, chunks, tail };
    await this.saveState(id, next);
    if (state.tail && state.tail.name !== tail?.name)
      await this.deps.objects.delete(this.objectKey(id, state.tail.name));
    return next;
  }

  private async openTail(id: string, name: string): Promise<Buffer> {
    const sealed = await this.deps.objects.get(this.objectKey(id, name));
    if (!sealed) throw new BlobIntegrityError('the upload lost its partial segment');
    return openSealedBuffer(sealed, { objectKey: tailObjectKey(id), keyring: this.deps.keyring });
  }

  private async state(id: string): Promise<UploadState> {
    const bytes = await this.deps.objects.get(this.objectKey(this.checkedId(id), stateName));
    if (!bytes) throw ERRORS.FILE_NOT_FOUND;
    return parseUploadState(bytes);
  }

  private saveState(id: string, state: UploadState): Promise<void> {
    return this.deps.objects.put(this.objectKey(id, stateName), Buffer.from(JSON.stringify(state)));
  }

  private checkedId(id: string): string {
    if (!uploadIdPattern.test(id)) throw ERRORS.FILE_NOT_FOUND;
    return id;
  }

  private objectKey(id: string, name: string): string {
    return `${this.root}${id}/${name}`;
  }
}

/** Chunk objects are named by their first segment; a random part keeps a retried PATCH from overwriting one. */
function chunkName(firstSegment: number): string {
  return `c-${String(firstSegment).padStart(10, '0')}-${randomBytes(6).toString('hex')}`;
}

function openHeaderSegmentBytes(state: UploadState): { segmentBytes: number } {
  return { segmentBytes: Buffer.from(state.header, 'base64').readUInt32BE(5) };
}

/** Seals the whole segments one PATCH completes into a stream, keeping the partial rest for the tail. */
class ChunkWriter {
  readonly output = new PassThrough();
  sealedSegments = 0;
  private readonly segment: Buffer;
  private filled = 0;
  private sealed: Buffer[] = [];
  private uploading: Promise<void> | null = null;

  constructor(
    private readonly cipher: SegmentCipher,
    private readonly state: UploadState,
    public index: number,
  ) {
    this.segment = Buffer.alloc(cipher.segmentBytes);
  }

  add(chunk: Buffer): void {
    let used = 0;
    while (used < chunk.length) {
      const segmentStart = this.index * this.cipher.segmentBytes;
      const room = Math.min(this.segment.length, this.state.size - segmentStart) - this.filled;
      if (room <= 0) throw ERRORS.ERR_SIZE_EXCEEDED;
      const copied = chunk.copy(this.segment, this.filled, used, used + room);
      this.filled += copied;
      used += copied;
      const last = segmentStart + this.filled === this.state.size;
      if (this.filled === this.segment.length || last) {
        this.sealed.push(this.cipher.seal(this.index, last, this.segment.subarray(0, this.filled)));
        this.index += 1;
        this.sealedSegments += 1;
        this.filled = 0;
      }
    }
  }

  /** Starts the chunk upload at the first sealed segment and writes what is sealed, with backpressure. */
  async flushTo(startUpload: () => Promise<void>): Promise<void> {
    if (this.sealed.length === 0) return;
    if (!this.uploading) {
      this.uploading = startUpload();
      this.uploading.catch(() => undefined);
    }
    const ready = Buffer.concat(this.sealed);
    this.sealed = [];
    if (!this.output.write(ready)) await Promise.race([once(this.output, 'drain'), this.uploading]);
  }

  async finish(): Promise<void> {
    if (this.sealed.length > 0 && !this.uploading) throw new Error('flushTo must run before finish');
    if (this.sealed.length > 0) this.output.write(Buffer.concat(this.sealed));
    this.sealed = [];
    this.output.end();
    if (this.uploading) await this.uploading;
  }

  pending(): Buffer {
    return Buffer.from(this.segment.subarray(0, this.filled));
  }
}

/** Splits a SAGB segment stream (no header), authenticates each segment, hashes the plaintext. */
class SegmentDigest {
  private readonly hash = createHash('sha256');
  private readonly headParts: Buffer[] = [];
  private headLength = 0;
  private buffered: Buffer = Buffer.alloc(0);
  private index = 0;
  ciphertextBytes = 0;
  private readonly lastIndex: number;

  constructor(
    private readonly cipher: SegmentCipher,
    sizeBytes: number,
    private readonly headBytes: number,
  ) {
    this.lastIndex = segmentCountOf(sizeBytes, cipher.segmentBytes) - 1;
  }

  add(bytes: Buffer): void {
    this.ciphertextBytes += bytes.length;
    this.buffered = this.buffered.length === 0 ? bytes : Buffer.concat([this.buffered, bytes]);
    const sealedBytes = this.cipher.segmentBytes + TAG_BYTES;
    // A full-size sealed segment is opened only once more bytes prove it is not the final one.
    while (this.buffered.length > sealedBytes) {
      this.open(this.buffered.subarray(0, sealedBytes), false);
      this.buffered = this.buffered.subarray(sealedBytes);
    }
  }

  finish(): void {
    this.open(this.buffered, true);
    this.buffered = Buffer.alloc(0);
  }

  sha256(): string {
    return this.hash.digest('hex');
  }

  head(): Buffer {
    return Buffer.concat(this.headParts);
  }

  private open(sealed: Buffer, last: boolean): void {
    if (last !== (this.index === this.lastIndex))
      throw new BlobIntegrityError('the upload has a different number of segments than its length needs');
    const plaintext = this.cipher.open(this.index, last, sealed);
    this.index += 1;
    this.hash.update(plaintext);
    if (this.headLength < this.headBytes) {
      const part = plaintext.subarray(0, this.headBytes - this.headLength);
      this.headParts.push(part);
      this.headLength += part.length;
    }
  }
}
