import { z } from 'zod';
import type { Keyring } from './master-key.js';
import { openSealedBuffer, sealBuffer } from './sealed-buffer.js';
import type { UploadInfo } from './upload-sidecar.js';

/*
 * A resumable upload in S3 is several objects under <prefix>uploads/<id>/: `state.json` (the commit point),
 * chunk objects holding whole sealed segments, and at most one `tail-*` object: the bytes of a partial
 * segment, sealed on their own with a fresh data key (re-sealing segment i under the upload's key with other
 * bytes later would reuse its GCM nonce). A PATCH writes its objects first and state.json last, so a crash
 * between leaves unreferenced objects (removed with the upload), never a state that names missing ones.
 */

const stateSchema = z.object({
  size: z.number().int().nonnegative(),
  creationDate: z.string(),
  sealedMetadata: z.string().nullable(),
  /** The upload's SAGB header (data key wrapped by the KEK), base64. */
  header: z.string(),
  chunks: z.array(z.object({ name: z.string(), segments: z.number().int().positive() })),
  tail: z.object({ name: z.string(), bytes: z.number().int().positive() }).nullable(),
});

export type UploadState = z.infer<typeof stateSchema>;

const metadataSchema = z.record(z.string(), z.string().nullable());
const metadataObjectKey = (uploadId: string) => `${uploadId}.metadata`;
export const tailObjectKey = (uploadId: string) => `${uploadId}.tail`;

export function parseUploadState(bytes: Buffer): UploadState {
  return stateSchema.parse(JSON.parse(bytes.toString('utf8')));
}

export async function newUploadState(
  uploadId: string,
  info: UploadInfo,
  header: Buffer,
  keyring: Keyring,
): Promise<UploadState> {
  const sealed = info.metadata
    ? await sealBuffer(Buffer.from(JSON.stringify(info.metadata)), {
        objectKey: metadataObjectKey(uploadId),
        keyring,
      })
    : null;
  return {
    size: info.size,
    creationDate: info.creationDate,
    sealedMetadata: sealed?.toString('base64') ?? null,
    header: header.toString('base64'),
    chunks: [],
    tail: null,
  };
}

export async function metadataOf(
  state: UploadState,
  uploadId: string,
  keyring: Keyring,
): Promise<Record<string, string | null> | undefined> {
  if (state.sealedMetadata === null) return undefined;
  const plaintext = await openSealedBuffer(Buffer.from(state.sealedMetadata, 'base64'), {
    objectKey: metadataObjectKey(uploadId),
    keyring,
  });
  return metadataSchema.parse(JSON.parse(plaintext.toString('utf8')));
}

export function segmentsOf(state: UploadState): number {
  return state.chunks.reduce((sum, chunk) => sum + chunk.segments, 0);
}

/** Bytes stored so far: whole segments plus the sealed tail. */
export function offsetOf(state: UploadState, segmentBytes: number): number {
  return Math.min(segmentsOf(state) * segmentBytes, state.size) + (state.tail?.bytes ?? 0);
}
