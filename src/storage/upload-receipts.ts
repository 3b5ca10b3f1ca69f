import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';

const receiptSchema = z.object({
  orgId: z.uuid(),
  sizeBytes: z.number().int().nonnegative(),
  finishedAt: z.iso.datetime(),
  /** Set when the media was stored. */
  media: z.object({ mediaId: z.uuid(), analysisId: z.uuid() }).nullable(),
  /** Set when it was refused: the problem+json the finishing request got. */
  problem: z
    .object({
      type: z.string(),
      title: z.string(),
      status: z.number().int(),
      code: z.string(),
      detail: z.string().optional(),
    })
    .loose()
    .nullable(),
});

/** The outcome of a finished resumable upload, so a client that lost the last response can still learn it. */
export type UploadReceipt = z.infer<typeof receiptSchema>;

/** Where receipts are kept: beside the staged uploads, on the filesystem or in S3. */
export interface UploadReceiptStore {
  write(uploadId: string, receipt: UploadReceipt): Promise<void>;
  read(uploadId: string): Promise<UploadReceipt | null>;
}

export function parseUploadReceipt(json: string): UploadReceipt {
  return receiptSchema.parse(JSON.parse(json));
}

// Same ids as the staged uploads; anything else names no receipt.
export const uploadIdPattern = /^[A-Za-z0-9_-]{8,100}$/;

/**
 * DATA_DIR/uploads/<id>.receipt.json, beside the staged uploads: their expiry sweep (by id prefix and, with no
 * sidecar left, by file time) deletes a receipt UPLOAD_EXPIRY_SECONDS after the upload finished.
 */
export class UploadReceipts implements UploadReceiptStore {
  private readonly dir: string;

  constructor(deps: { dataDir: string }) {
    this.dir = join(deps.dataDir, 'uploads');
  }

  async write(uploadId: string, receipt: UploadReceipt): Promise<void> {
    await writeFile(this.path(uploadId), JSON.stringify(receiptSchema.parse(receipt)), {
      mode: 0o600,
      flush: true,
    });
  }

  async read(uploadId: string): Promise<UploadReceipt | null> {
    if (!uploadIdPattern.test(uploadId)) return null;
    const json = await readFile(this.path(uploadId), 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return null;
      throw error;
    });
    return json === null ? null : receiptSchema.parse(JSON.parse(json));
  }

  private path(uploadId: string): string {
    if (!uploadIdPattern.test(uploadId)) throw new Error('not an upload id');
    return join(this.dir, `${uploadId}.receipt.json`);
  }
}
