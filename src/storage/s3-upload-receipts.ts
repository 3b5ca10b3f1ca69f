import { receiptName } from './encrypted-s3-tus.datastore.js';
import type { S3Objects } from './s3-objects.js';
import {
  parseUploadReceipt,
  uploadIdPattern,
  type UploadReceipt,
  type UploadReceiptStore,
} from './upload-receipts.js';

/** <prefix>uploads/<id>/receipt.json: any API server answers for an upload another one finished. */
export class S3UploadReceipts implements UploadReceiptStore {
  constructor(private readonly deps: { objects: S3Objects; prefix: string }) {}

  async write(uploadId: string, receipt: UploadReceipt): Promise<void> {
    const json = JSON.stringify(parseUploadReceipt(JSON.stringify(receipt)));
    await this.deps.objects.put(this.key(uploadId), Buffer.from(json));
  }

  async read(uploadId: string): Promise<UploadReceipt | null> {
    if (!uploadIdPattern.test(uploadId)) return null;
    const bytes = await this.deps.objects.get(this.key(uploadId));
    return bytes === null ? null : parseUploadReceipt(bytes.toString('utf8'));
  }

  private key(uploadId: string): string {
    if (!uploadIdPattern.test(uploadId)) throw new Error('not an upload id');
    return `${this.deps.prefix}uploads/${uploadId}/${receiptName}`;
  }
}
