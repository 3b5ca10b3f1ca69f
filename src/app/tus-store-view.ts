import type { Readable } from 'node:stream';
import { DataStore, ERRORS, Upload } from '@tus/utils';
import type { StagedUploadStore } from '../storage/staged-upload-store.js';
import type { UploadReceiptStore } from '../storage/upload-receipts.js';

/** Where the owning organisation is kept among an upload's (sealed, server-side) metadata. */
export const ownerMetadataKey = 'orgId';

/**
 * The staged uploads as @tus/server sees them: the owner never leaves the server (HEAD echoes Upload-Metadata),
 * and a finished upload, whose bytes have become media, is complete at its full length until its receipt expires.
 */
export class TusStoreView extends DataStore {
  constructor(
    private readonly staged: StagedUploadStore,
    private readonly receipts: UploadReceiptStore,
  ) {
    super();
    this.extensions = staged.extensions;
  }

  override create(upload: Upload): Promise<Upload> {
    return this.staged.create(upload);
  }

  override write(source: Readable, id: string, offset: number): Promise<number> {
    return this.staged.write(source, id, offset);
  }

  override async getUpload(id: string): Promise<Upload> {
    const upload = await this.staged.getUpload(id).catch(async (error: unknown) => {
      const receipt = error === ERRORS.FILE_NOT_FOUND ? await this.receipts.read(id) : null;
      if (!receipt) throw error;
      const { sizeBytes, finishedAt } = receipt;
      return new Upload({ id, size: sizeBytes, offset: sizeBytes, creation_date: finishedAt });
    });
    const { [ownerMetadataKey]: _owner, ...metadata } = upload.metadata ?? {};
    upload.metadata = Object.keys(metadata).length > 0 ? metadata : undefined;
    return upload;
  }

  override remove(id: string): Promise<void> {
    return this.staged.remove(id);
  }

  override getExpiration(): number {
    return this.staged.getExpiration();
  }

  override deleteExpired(): Promise<number> {
    return this.staged.deleteExpired();
  }
}
