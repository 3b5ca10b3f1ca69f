import { randomBytes } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { ByteRange } from './blob-store.js';
import type { KekRef, Keyring } from './master-key.js';
import { decryptBlob, type RandomAccessBlob } from './segmented-aead-reader.js';
import { BlobIntegrityError, HEADER_BYTES, kekOfHeader } from './segmented-aead.js';

/** Plaintext of a SAGB file as a stream; rejects if the file cannot be opened, tampering is a stream error. */
export async function openPlaintextFile(
  path: string,
  input: { objectKey: string; keyring: Keyring; range?: ByteRange },
): Promise<Readable> {
  const handle = await open(path, 'r');
  try {
    const blob = fileBlob(handle, (await handle.stat()).size);
    const stream = Readable.from(decryptBlob(blob, input), { objectMode: false });
    // 'close' follows end or destroy, after the generator has settled, so no read is in flight.
    stream.once('close', () => void handle.close().catch(() => undefined));
    return stream;
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/**
 * Replaces the fixed-size header in place, then fsyncs. 242 bytes at offset 0 lie in one 512-byte sector,
 * which disks write atomically (PostgreSQL relies on the same for pg_control), so a crash leaves old or new.
 */
export async function rewriteHeader(path: string, rewrite: (header: Buffer) => Buffer): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    const header = await readAt(handle, 0, HEADER_BYTES);
    if (header.length !== HEADER_BYTES) throw new BlobIntegrityError('blob is shorter than its header');
    await handle.write(rewrite(header), 0, HEADER_BYTES, 0);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Makes a rename or unlink inside `dir` durable. */
export async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export function fileBlob(handle: FileHandle, sizeBytes: number): RandomAccessBlob {
  return { sizeBytes, readAt: (position, length) => readAt(handle, position, length) };
}

async function readAt(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(buffer, filled, length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return buffer.subarray(0, filled);
}

/** Overwrites the header (which holds the wrapped data key) before unlinking; false when there is no file. */
export async function shredHeader(path: string): Promise<boolean> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r+');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
  try {
    await handle.write(randomBytes(HEADER_BYTES), 0, HEADER_BYTES, 0);
    await handle.sync();
    return true;
  } finally {
    await handle.close();
  }
}

/** The KEK a SAGB file's header names; null when the file does not exist. */
export async function readHeaderKek(path: string): Promise<KekRef | null> {
  const handle = await open(path, 'r').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null;
    throw error;
  });
  if (!handle) return null;
  try {
    const blob = fileBlob(handle, (await handle.stat()).size);
    return kekOfHeader(await blob.readAt(0, HEADER_BYTES));
  } finally {
    await handle.close();
  }
}
