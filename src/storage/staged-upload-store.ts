import type { DataStore } from '@tus/utils';
import type { CompletedUpload } from './encrypted-tus.datastore.js';

/** A tus DataStore for encrypted staging (DATA_DIR or S3) that can hand a finished upload over as a blob. */
export type StagedUploadStore = DataStore & {
  finalize(id: string, options: { headBytes: number }): Promise<CompletedUpload>;
};
