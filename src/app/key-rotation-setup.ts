import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Config } from '../config/config.schema.js';
import type { Database } from '../db/schema.js';
import { createKeyRotationRepository } from '../repositories/key-rotation.repository.js';
import { createSealedTotpRepository } from '../repositories/sealed-totp.repository.js';
import type { AuditLog } from '../services/audit-log.js';
import { checkRetiredKeys, createKeyRotationService } from '../services/key-rotation.service.js';
import { totpSecretObjects } from '../services/totp-secret-objects.js';
import { webhookSecretObjects } from '../services/webhook-secret-objects.js';
import type { BlobStore } from '../storage/blob-store.js';
import type { LiveKeyring } from '../storage/master-key.js';
import { forgetPreviousGeneratedKeys, promoteNewGeneratedKey } from '../storage/master-key-files.js';
import { blobStoreObjects, stagedUploadObjects } from '../storage/master-keyed-objects.js';

/**
 * Master key rotation over everything the master key seals: blobs (through the port, whichever store),
 * resumable uploads staged in this process's DATA_DIR, and TOTP and webhook secrets in the database.
 */
export async function openKeyRotation(deps: {
  config: Pick<Config, 'DATA_DIR' | 'MASTER_KEY' | 'DATABASE_URL'>;
  db: Kysely<Database>;
  keyring: LiveKeyring;
  blobStore: BlobStore;
  audit: AuditLog;
  log: Logger;
  now: () => Date;
}) {
  const { config, db, keyring } = deps;
  const rotations = createKeyRotationRepository({ db });
  await checkRetiredKeys({ keyring, rotations, log: deps.log });
  return createKeyRotationService({
    keyring,
    rotations,
    audit: deps.audit,
    log: deps.log,
    now: deps.now,
    collections: [
      blobStoreObjects(deps.blobStore),
      stagedUploadObjects({ dataDir: config.DATA_DIR, keyring }),
      totpSecretObjects({ totp: createSealedTotpRepository({ db }), keyring }),
      webhookSecretObjects({ db, keyring }),
    ],
    // Only the embedded default has one process and one DATA_DIR/master.key the platform may replace itself.
    generatedKeyFiles:
      config.MASTER_KEY === undefined && config.DATABASE_URL === undefined
        ? {
            promote: () => promoteNewGeneratedKey(config.DATA_DIR),
            forgetPrevious: () => forgetPreviousGeneratedKeys(config.DATA_DIR),
          }
        : null,
  });
}
