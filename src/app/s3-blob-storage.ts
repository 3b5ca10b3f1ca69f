import type { Logger } from 'pino';
import type { Config } from '../config/config.schema.js';
import { EncryptedS3BlobStore } from '../storage/encrypted-s3.blob-store.js';
import { EncryptedS3TusDataStore } from '../storage/encrypted-s3-tus.datastore.js';
import type { Keyring } from '../storage/master-key.js';
import { RedisUploadLocker } from '../storage/redis-upload-locker.js';
import { createS3Client, S3Objects, type S3Settings } from '../storage/s3-objects.js';
import { S3UploadReceipts } from '../storage/s3-upload-receipts.js';
import type { BlobStorage } from './blob-storage.js';

/** Blobs, resumable-upload staging and receipts in one bucket; Redis (scaled mode) locks uploads across servers. */
export function openS3BlobStorage(
  config: Config,
  settings: S3Settings,
  keyring: Keyring,
  log: Logger,
): BlobStorage {
  const common = {
    keyring,
    maxUploadBytes: config.MAX_UPLOAD_BYTES,
    expirySeconds: config.UPLOAD_EXPIRY_SECONDS,
  };
  const client = createS3Client(settings);
  const objects = new S3Objects(client, settings.bucket);
  const { prefix } = settings;
  const blobStore = new EncryptedS3BlobStore({ objects, prefix, keyring, log });
  return {
    blobStore,
    resumableStaging: (redis) => ({
      datastore: new EncryptedS3TusDataStore({ ...common, objects, prefix, blobStore }),
      receipts: new S3UploadReceipts({ objects, prefix }),
      ...(redis
        ? { locker: new RedisUploadLocker({ redis, keyPrefix: `${config.REDIS_KEY_PREFIX}:upload-lock:` }) }
        : {}),
    }),
    // Nothing is staged on local disk in S3 mode; an interrupted multipart upload is aborted, and the
    // bucket's AbortIncompleteMultipartUpload rule (docs/storage.md) removes parts an abort missed.
    sweepTempFiles: async () => 0,
    close: async () => client.destroy(),
  };
}
