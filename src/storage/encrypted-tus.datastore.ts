import { createHash } from 'node:crypto';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { DataStore, ERRORS, Upload } from '@tus/utils';
import { AppError, conflict, notFound } from '../services/errors.js';
import { openPlaintextFile, shredHeader } from './blob-file.js';
import type { EncryptedFsBlobStore } from './encrypted-fs.blob-store.js';
import type { Keyring } from './master-key.js';
import { DEFAULT_SEGMENT_BYTES } from './segmented-aead.js';
import { appendSegments, createStagedFile, stagedOffset } from './staged-upload-file.js';
import { readSidecar, readSidecarRecord, writeSidecar } from './upload-sidecar.js';

export interface EncryptedTusDataStoreDeps {
  dataDir: string;
  keyring: Keyring;
  /** Finished uploads are adopted into it without a second write. */
  blobStore: EncryptedFsBlobStore;
  maxUploadBytes: number;
  expirySeconds: number;
  segmentBytes?: number;
}

/** A finished upload, authenticated and hashed in one streaming pass, ready to become a blob. */
export interface CompletedUpload {
  id: string;
  sizeBytes: number;
  sha256: string;
  /** The first bytes, for type sniffing. */
  head: Buffer;
  metadata: Record<string, string | null>;
  /** Moves the encrypted file into the blob store as `blobKey` (header re-wrapped, payload not copied). */
  adoptAs(blobKey: string): Promise<void>;
  discard(): Promise<void>;
}

// Server-generated ids; short enough that `<id>.metadata` is still a valid object key.
const uploadIdPattern = /^[A-Za-z0-9_-]{8,100}$/;

/**
 * tus DataStore that never writes plaintext: DATA_DIR/uploads/<id> is a SAGB blob (object key = upload id)
 * filled a segment at a time, <id>.json holds length, creation date and the sealed client metadata.
 * Adopting the finished file by rename beats decrypting into a new blob: one write of the payload, not two.
 */
export class EncryptedTusDataStore extends DataStore {
  private readonly dir: string;

  constructor(private readonly deps: EncryptedTusDataStoreDeps) {
    super();
    this.dir = join(deps.dataDir, 'uploads');
    // No creation-defer-length: the final segment must be known when it is written.
    this.extensions = ['creation', 'creation-with-upload', 'termination', 'expiration'];
  }

  override async create(upload: Upload): Promise<Upload> {
    const id = this.checkedId(upload.id);
    if (upload.size === undefined) throw ERRORS.UNSUPPORTED_CREATION_DEFER_LENGTH_EXTENSION;
    if (upload.size > this.deps.maxUploadBytes) throw ERRORS.ERR_MAX_SIZE_EXCEEDED;
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const info = {
      size: upload.size,
      creationDate: upload.creation_date ?? new Date().toISOString(),
      metadata: upload.metadata,
    };
    await writeSidecar(this.sidecarPath(id), id, info, this.deps.keyring);
    const { keyring, segmentBytes } = this.deps;
    await createStagedFile(this.stagingPath(id), {
      uploadId: id,
      keyring,
      segmentBytes,
      sizeBytes: upload.size,
    }).catch(async (error: unknown) => {
      await rm(this.sidecarPath(id), { force: true });
      throw error;
    });
    upload.storage = { type: 'encrypted-file', path: this.stagingPath(id) };
    return upload;
  }

  override async write(source: Readable, id: string, offset: number): Promise<number> {
    const { size } = await this.info(id);
    let received = 0;
    const counted = Readable.from(
      (async function* () {
        for await (const chunk of source as AsyncIterable<Buffer>) {
          received += chunk.length;
          yield chunk;
        }
      })(),
    );
    const next = await appendSegments(this.stagingPath(id), {
      uploadId: id,
      keyring: this.deps.keyring,
      sizeBytes: size,
      offset,
      source: counted,
    });
    // Only whole segments are kept: a PATCH too short to finish one would be dropped and re-sent forever.
    if (next === offset && received > 0 && offset + received < size)
      throw chunkTooSmall(this.deps.segmentBytes ?? DEFAULT_SEGMENT_BYTES);
    return next;
  }

  override async getUpload(id: string): Promise<Upload> {
    const info = await this.info(id);
    const offset = await stagedOffset(this.stagingPath(id), info.size).catch(
      (error: NodeJS.ErrnoException) => {
        throw error.code === 'ENOENT' ? ERRORS.FILE_NO_LONGER_EXISTS : error;
      },
    );
    return new Upload({
      id,
      size: info.size,
      offset,
      metadata: info.metadata,
      creation_date: info.creationDate,
      storage: { type: 'encrypted-file', path: this.stagingPath(id) },
    });
  }

  override async remove(id: string): Promise<void> {
    this.checkedId(id);
    const hadFile = await shredHeader(this.stagingPath(id));
    await rm(this.stagingPath(id), { force: true });
    const hadSidecar = await rm(this.sidecarPath(id)).then(
      () => true,
      (error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return false;
        throw error;
      },
    );
    if (!hadFile && !hadSidecar) throw ERRORS.FILE_NOT_FOUND;
  }

  override getExpiration(): number {
    return this.deps.expirySeconds * 1000;
  }

  /** Deletes every upload created more than UPLOAD_EXPIRY_SECONDS ago, finished or not, and crash leftovers. */
  override async deleteExpired(): Promise<number> {
    const names = await readdir(this.dir).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [];
      throw error;
    });
    const cutoff = Date.now() - this.getExpiration();
    let deleted = 0;
    for (const id of new Set(names.map((name) => name.split('.')[0] ?? name))) {
      const files = names
        .filter((name) => name === id || name.startsWith(`${id}.`))
        .map((name) => join(this.dir, name));
      if ((await this.createdAt(id, files)) < cutoff) {
        await shredHeader(this.stagingPath(id));
        await Promise.all(files.map((path) => rm(path, { force: true })));
        deleted += 1;
      }
    }
    return deleted;
  }

  /** Authenticates every segment while hashing; throws if the upload is missing or unfinished. */
  async finalize(id: string, options: { headBytes: number }): Promise<CompletedUpload> {
    const upload = await this.getUpload(id).catch((error: unknown) => {
      throw error === ERRORS.FILE_NOT_FOUND || error === ERRORS.FILE_NO_LONGER_EXISTS
        ? notFound('upload')
        : error;
    });
    if (upload.offset !== upload.size) throw conflict('the upload is not complete');
    const plaintext = await openPlaintextFile(this.stagingPath(id), {
      objectKey: id,
      keyring: this.deps.keyring,
    });
    const { sha256, head } = await digestWithHead(plaintext, options.headBytes);
    return {
      id,
      sizeBytes: upload.offset,
      sha256,
      head,
      metadata: upload.metadata ?? {},
      adoptAs: async (blobKey) => {
        await this.deps.blobStore.adopt(blobKey, { path: this.stagingPath(id), objectKey: id });
        await rm(this.sidecarPath(id), { force: true });
      },
      discard: () => this.remove(id),
    };
  }

  private async info(id: string) {
    try {
      return await readSidecar(this.sidecarPath(this.checkedId(id)), id, this.deps.keyring);
    } catch (error) {
      throw (error as NodeJS.ErrnoException).code === 'ENOENT' ? ERRORS.FILE_NOT_FOUND : error;
    }
  }

  /** The recorded creation date; for leftovers without a readable record, the newest file change. */
  private async createdAt(id: string, files: string[]): Promise<number> {
    const record = await readSidecarRecord(this.sidecarPath(id)).catch(() => null);
    const recorded = record ? Date.parse(record.creationDate) : Number.NaN;
    if (!Number.isNaN(recorded)) return recorded;
    const found = await Promise.all(files.map((path) => stat(path).catch(() => null)));
    return Math.max(0, ...found.map((info) => info?.mtimeMs ?? 0));
  }

  private checkedId(id: string): string {
    if (!uploadIdPattern.test(id)) throw ERRORS.FILE_NOT_FOUND;
    return id;
  }

  private stagingPath(id: string): string {
    return join(this.dir, id);
  }

  private sidecarPath(id: string): string {
    return join(this.dir, `${id}.json`);
  }
}

async function digestWithHead(
  plaintext: Readable,
  headBytes: number,
): Promise<{ sha256: string; head: Buffer }> {
  const hash = createHash('sha256');
  const head: Buffer[] = [];
  let headLength = 0;
  for await (const chunk of plaintext as AsyncIterable<Buffer>) {
    hash.update(chunk);
    if (headLength < headBytes) {
      head.push(chunk.subarray(0, headBytes - headLength));
      headLength += head.at(-1)?.length ?? 0;
    }
  }
  return { sha256: hash.digest('hex'), head: Buffer.concat(head) };
}

const chunkTooSmall = (segmentBytes: number) =>
  new AppError(
    400,
    'upload-chunk-too-small',
    'Upload chunk too small',
    `each PATCH but the last must carry at least ${segmentBytes} bytes from its offset (uploads are stored in whole encrypted segments); nothing of this one was kept: send it again in a larger chunk`,
    { minChunkBytes: segmentBytes },
  );
