import { readFile, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import type { Keyring } from './master-key.js';
import { openSealedBuffer, sealBuffer } from './sealed-buffer.js';

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
  return sidecarSchema.parse(JSON.parse(await readFile(path, 'utf8')));
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
