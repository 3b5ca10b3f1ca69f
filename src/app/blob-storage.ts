import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../config/config.schema.js';
import type { BlobStore } from '../storage/blob-store.js';
import { EncryptedFsBlobStore, sweepStaleTempFiles } from '../storage/encrypted-fs.blob-store.js';
import { EncryptedTusDataStore } from '../storage/encrypted-tus.datastore.js';
import type { Keyring } from '../storage/master-key.js';
import type { S3Settings } from '../storage/s3-objects.js';
import type { StagedUploadStore } from '../storage/staged-upload-store.js';
import { UploadReceipts, type UploadReceiptStore } from '../storage/upload-receipts.js';
import type { Locker } from '@tus/utils';

export interface ResumableStaging {
  datastore: StagedUploadStore;
  receipts: UploadReceiptStore;
  locker?: Locker;
}

export interface BlobStorage {
  blobStore: BlobStore;
  /** Where resumable uploads are staged; `redis` (scaled mode) locks each upload across API servers. */
  resumableStaging(redis: Redis | null): ResumableStaging;
  /** Deletes temp files of interrupted writes older than this (housekeeping); returns how many. */
  sweepTempFiles(olderThanSeconds: number): Promise<number>;
  close(): Promise<void>;
}

/** S3 settings from the configuration, or null for DATA_DIR/blobs (config checks guarantee the set is whole). */
export function s3SettingsOf(config: Config): S3Settings | null {
  const { S3_BUCKET, S3_REGION, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY } = config;
  if (!S3_BUCKET || !S3_REGION || !S3_ACCESS_KEY_ID || !S3_SECRET_ACCESS_KEY) return null;
  return {
    bucket: S3_BUCKET,
    region: S3_REGION,
    ...(config.S3_ENDPOINT ? { endpoint: config.S3_ENDPOINT } : {}),
    accessKeyId: S3_ACCESS_KEY_ID,
    secretAccessKey: S3_SECRET_ACCESS_KEY,
    forcePathStyle: config.S3_FORCE_PATH_STYLE,
    prefix: config.S3_PREFIX,
  };
}

/** The blob store the configuration selects: S3 with S3_BUCKET, else DATA_DIR/blobs. For CLI verbs too. */
export async function openBlobStorage(config: Config, keyring: Keyring, log: Logger): Promise<BlobStorage> {
  const common = {
    keyring,
    maxUploadBytes: config.MAX_UPLOAD_BYTES,
    expirySeconds: config.UPLOAD_EXPIRY_SECONDS,
  };
  const settings = s3SettingsOf(config);
  if (!settings) {
    const blobStore = new EncryptedFsBlobStore({ dataDir: config.DATA_DIR, keyring, log });
    const sweepTempFiles = (olderThanSeconds: number) =>
      sweepStaleTempFiles({ dataDir: config.DATA_DIR, olderThanSeconds });
    const swept = await sweepTempFiles(3600);
    if (swept > 0) log.warn({ sweptTempFiles: swept }, 'removed temp files left by an interrupted write');
    return {
      sweepTempFiles,
      blobStore,
      resumableStaging: () => ({
        datastore: new EncryptedTusDataStore({ ...common, dataDir: config.DATA_DIR, blobStore }),
        receipts: new UploadReceipts({ dataDir: config.DATA_DIR }),
      }),
      close: async () => undefined,
    };
  }
  // Loaded only in S3 mode: the AWS SDK is large, and warns at client creation on Node < 22.
  const { openS3BlobStorage } = await import('./s3-blob-storage.js');
  return openS3BlobStorage(config, settings, keyring, log);
}
