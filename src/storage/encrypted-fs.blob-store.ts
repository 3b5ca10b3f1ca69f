import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Logger } from 'pino';
import { badRequest, notFound } from '../services/errors.js';
import {
  fileBlob,
  fsyncDirectory,
  openPlaintextFile,
  readHeaderKek,
  rewriteHeader,
  shredHeader,
} from './blob-file.js';
import { logIntegrityFailures, type BlobStore, type ByteRange } from './blob-store.js';
import type { KekRef, Keyring } from './master-key.js';
import { EncryptStream } from './segmented-aead-stream.js';
import { HEADER_BYTES, plaintextSizeOf, rewrapHeader, segmentBytesOf } from './segmented-aead.js';

const blobKeyPattern = /^[A-Za-z0-9_-]{8,128}$/;

/** Keys are server-generated ids; anything else (dots, slashes, long strings) never reaches a path. */
export function assertBlobKey(key: string): void {
  if (!blobKeyPattern.test(key)) {
    throw badRequest('invalid-blob-key', 'blob keys are 8-128 characters from A-Z a-z 0-9 _ -');
  }
}

export interface EncryptedFsBlobStoreDeps {
  dataDir: string;
  keyring: Keyring;
  log: Logger;
  segmentBytes?: number;
}

/**
 * Blobs as SAGB files under DATA_DIR/blobs/<2-char shard>/<key>.sagb. Each file carries its own wrapped data
 * key, so deleting the file (header overwritten first) is crypto-shredding for the live copy; copies in
 * backups stay readable to whoever holds the KEK until that KEK is rotated out and destroyed.
 */
export class EncryptedFsBlobStore implements BlobStore {
  private readonly blobsDir: string;
  private readonly tempDir: string;

  constructor(private readonly deps: EncryptedFsBlobStoreDeps) {
    this.blobsDir = join(deps.dataDir, 'blobs');
    this.tempDir = join(this.blobsDir, '.tmp');
  }

  async put(key: string, source: Readable): Promise<{ sizeBytes: number }> {
    assertBlobKey(key);
    await mkdir(this.tempDir, { recursive: true, mode: 0o700 });
    const tempPath = join(this.tempDir, `${key}.${randomBytes(8).toString('hex')}.part`);
    const encrypt = new EncryptStream({
      objectKey: key,
      keyring: this.deps.keyring,
      segmentBytes: this.deps.segmentBytes,
    });
    try {
      await pipeline(source, encrypt, createWriteStream(tempPath, { flags: 'wx', mode: 0o600, flush: true }));
      await this.moveIntoPlace(tempPath, key);
    } catch (error) {
      await rm(tempPath, { force: true });
      throw error;
    }
    return { sizeBytes: encrypt.plaintextBytes };
  }

  async modifiedAt(key: string): Promise<Date | null> {
    assertBlobKey(key);
    const info = await stat(this.pathOf(key)).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return null;
      throw error;
    });
    return info?.mtime ?? null;
  }

  /** From the file size and the segment size in the header; `read` is what authenticates. */
  async size(key: string): Promise<number | null> {
    assertBlobKey(key);
    const handle = await open(this.pathOf(key), 'r').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return null;
      throw error;
    });
    if (!handle) return null;
    try {
      const blob = fileBlob(handle, (await handle.stat()).size);
      return plaintextSizeOf(blob.sizeBytes, segmentBytesOf(await blob.readAt(0, HEADER_BYTES)));
    } finally {
      await handle.close();
    }
  }

  async read(key: string, range?: ByteRange): Promise<Readable> {
    assertBlobKey(key);
    let plaintext: Readable;
    try {
      plaintext = await openPlaintextFile(this.pathOf(key), {
        objectKey: key,
        keyring: this.deps.keyring,
        range,
      });
    } catch (error) {
      throw (error as NodeJS.ErrnoException).code === 'ENOENT' ? notFound('blob') : error;
    }
    return logIntegrityFailures(plaintext, key, this.deps.log);
  }

  async delete(key: string): Promise<void> {
    assertBlobKey(key);
    if (!(await shredHeader(this.pathOf(key)))) return;
    await rm(this.pathOf(key), { force: true });
    await fsyncDirectory(this.shardOf(key));
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

  /** Key rotation: re-wraps the data key under the keyring's current KEK, rewriting only the header. */
  async rewrap(key: string): Promise<void> {
    assertBlobKey(key);
    await this.rewriteExisting(this.pathOf(key), (header) =>
      rewrapHeader(header, { objectKey: key, keyring: this.deps.keyring }),
    );
  }

  async kekOf(key: string): Promise<KekRef | null> {
    assertBlobKey(key);
    return readHeaderKek(this.pathOf(key));
  }

  async *keys(): AsyncIterable<string> {
    for (const shard of await listDirectory(this.blobsDir)) {
      if (shard.startsWith('.')) continue;
      for (const name of await listDirectory(join(this.blobsDir, shard))) {
        const key = name.endsWith('.sagb') ? name.slice(0, -'.sagb'.length) : '';
        if (blobKeyPattern.test(key)) yield key;
      }
    }
  }

  /**
   * Takes over a finished SAGB file written elsewhere under DATA_DIR (a resumable upload) as `key`: the
   * header is re-wrapped for the new key and the file renamed into place, so the payload is never copied.
   */
  async adopt(key: string, staged: { path: string; objectKey: string }): Promise<void> {
    assertBlobKey(key);
    await this.rewriteExisting(staged.path, (header) =>
      rewrapHeader(header, { objectKey: staged.objectKey, keyring: this.deps.keyring, newObjectKey: key }),
    );
    await this.moveIntoPlace(staged.path, key);
  }

  private async moveIntoPlace(path: string, key: string): Promise<void> {
    await mkdir(this.shardOf(key), { recursive: true, mode: 0o700 });
    await rename(path, this.pathOf(key));
    await fsyncDirectory(this.shardOf(key));
  }

  private async rewriteExisting(path: string, rewrite: (header: Buffer) => Buffer): Promise<void> {
    try {
      await rewriteHeader(path, rewrite);
    } catch (error) {
      throw (error as NodeJS.ErrnoException).code === 'ENOENT' ? notFound('blob') : error;
    }
  }

  private shardOf(key: string): string {
    return join(this.blobsDir, key.slice(0, 2));
  }

  private pathOf(key: string): string {
    return join(this.shardOf(key), `${key}.sagb`);
  }
}

async function listDirectory(dir: string): Promise<string[]> {
  return readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return [];
    throw error;
  });
}

/** Removes temp files a crash left behind; a write in progress keeps its file's mtime fresh, so it is spared. */
export async function sweepStaleTempFiles(input: {
  dataDir: string;
  olderThanSeconds: number;
}): Promise<number> {
  const tempDir = join(input.dataDir, 'blobs', '.tmp');
  const names = await listDirectory(tempDir);
  const cutoff = Date.now() - input.olderThanSeconds * 1000;
  let removed = 0;
  for (const name of names) {
    const path = join(tempDir, name);
    const info = await stat(path).catch(() => null);
    if (info && info.mtimeMs < cutoff) {
      await rm(path, { force: true });
      removed += 1;
    }
  }
  return removed;
}
