import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import type { Keyring } from './master-key.js';
import { openSealedBuffer, sealBuffer } from './sealed-buffer.js';
import { BlobIntegrityError, HEADER_BYTES, kekOfHeader, rewrapHeader } from './segmented-aead.js';
import type { KekRef } from './master-key.js';

/** What a resumable upload needs besides its bytes. Client metadata (file names) is sealed, never plain on disk. */
export interface UploadInfo {
  size: number;
  creationDate: string;
  metadata: Record<string, string | null> | undefined;
}

const sidecarSchema = z.object({
  size: z.number().int().nonnegative(),
  creationDate: z.string(),
  sealedMetadata: z.string().nullable(),
});

const metadataSchema = z.record(z.string(), z.string().nullable());

const metadataObjectKey = (uploadId: string) => `${uploadId}.metadata`;

export async function writeSidecar(
  path: string,
  uploadId: string,
  info: UploadInfo,
  keyring: Keyring,
): Promise<void> {
  const sealed = info.metadata
    ? await sealBuffer(Buffer.from(JSON.stringify(info.metadata)), {
        objectKey: metadataObjectKey(uploadId),
        keyring,
      })
    : null;
  const json = JSON.stringify({
    size: info.size,
    creationDate: info.creationDate,
    sealedMetadata: sealed?.toString('base64') ?? null,
  });
  await writeFile(path, json, { flag: 'wx', mode: 0o600, flush: true });
}

/** The stored record as is: expiry needs the creation date without decrypting anything. */
export async function readSidecarRecord(path: string): Promise<z.infer<typeof sidecarSchema>> {
  const text = await readFile(path, 'utf8');
  try {
    return sidecarSchema.parse(JSON.parse(text));
  } catch {
    // The server writes it whole (a new file, or a temp file renamed over it): unreadable means damaged since.
    throw new BlobIntegrityError('the upload record is not valid JSON of the expected shape');
  }
}

export async function readSidecar(path: string, uploadId: string, keyring: Keyring): Promise<UploadInfo> {
  const { sealedMetadata, ...rest } = await readSidecarRecord(path);
  if (sealedMetadata === null) return { ...rest, metadata: undefined };
  const plaintext = await openSealedBuffer(Buffer.from(sealedMetadata, 'base64'), {
    objectKey: metadataObjectKey(uploadId),
    keyring,
  });
  return { ...rest, metadata: metadataSchema.parse(JSON.parse(plaintext.toString('utf8'))) };
}

/** The KEK sealing the client metadata; null when there is none (no metadata, or no sidecar). */
export async function sidecarKek(path: string): Promise<KekRef | null> {
  const record = await readSidecarRecord(path).catch(ignoreMissing);
  if (!record?.sealedMetadata) return null;
  return kekOfHeader(Buffer.from(record.sealedMetadata, 'base64'));
}

/** Key rotation: re-wraps the sealed metadata under keyring.current, replacing the file whole; false if gone. */
export async function rewrapSidecar(path: string, uploadId: string, keyring: Keyring): Promise<boolean> {
  const record = await readSidecarRecord(path).catch(ignoreMissing);
  if (!record?.sealedMetadata) return false;
  const sealed = Buffer.from(record.sealedMetadata, 'base64');
  const header = rewrapHeader(sealed.subarray(0, HEADER_BYTES), {
    objectKey: metadataObjectKey(uploadId),
    keyring,
  });
  const json = JSON.stringify({
    ...record,
    sealedMetadata: Buffer.concat([header, sealed.subarray(HEADER_BYTES)]).toString('base64'),
  });
  const tempPath = `${path}.${randomBytes(8).toString('hex')}.tmp`;
  await writeFile(tempPath, json, { flag: 'wx', mode: 0o600, flush: true });
  await rename(tempPath, path).catch(async (error: unknown) => {
    await rm(tempPath, { force: true });
    throw error;
  });
  return true;
}

function ignoreMissing(error: NodeJS.ErrnoException): null {
  if (error.code === 'ENOENT') return null;
  throw error;
}
