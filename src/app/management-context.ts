import type { Logger } from 'pino';
import type { Config } from '../config/config.schema.js';
import { createApiKeyRepository } from '../repositories/api-key.repository.js';
import { createAuditRepository } from '../repositories/audit.repository.js';
import { createOrganisationRepository } from '../repositories/organisation.repository.js';
import { createOutboxRepository } from '../repositories/outbox.repository.js';
import { createSessionRepository } from '../repositories/session.repository.js';
import { createUserRepository } from '../repositories/user.repository.js';
import { createTransparencyLogRepository } from '../repositories/transparency-log.repository.js';
import { loadOrCreateLogSigningKey, replaceGeneratedLogSigningKey } from '../evidence/log-signing-key.js';
import { createLogKeyring } from '../services/log-keyring.js';
import { createApiKeyService } from '../services/api-key.service.js';
import { createFeatureFlagRepository } from '../repositories/feature-flag.repository.js';
import { createFeatureFlagService } from '../services/feature-flag.service.js';
import { createAuditLogService } from '../services/audit-log.service.js';
import { createOrganisationService } from '../services/organisation.service.js';
import { createPasswordHasher } from '../services/password-hasher.js';
import { createSessionService } from '../services/session.service.js';
import { createUserService } from '../services/user.service.js';
import { openBlobStorage } from './blob-storage.js';
import { liveKeyring, loadOrCreateMasterKey } from '../storage/master-key.js';
import { openMigratedDatabase } from './database-context.js';
import { openKeyRotation } from './key-rotation-setup.js';
import { createLogger } from './logger.js';
import { createManagementCommands, type ManagementCommands } from './management-commands.js';

/** Just enough of the platform for management verbs run without a server. */
export async function openManagement(
  config: Config,
  log: Logger = createLogger({ LOG_LEVEL: 'warn' }),
): Promise<{ commands: ManagementCommands; close(): Promise<void> }> {
  const database = await openMigratedDatabase(config, log);
  const organisations = createOrganisationRepository({ db: database.db });
  const now = () => new Date();
  const auditLog = createAuditLogService({ audit: createAuditRepository({ db: database.db }) });
  const transparencyLog = createTransparencyLogRepository({ db: database.db });
  const users = createUserService({
    users: createUserRepository({ db: database.db }),
    organisations,
    sessions: createSessionService({
      sessions: createSessionRepository({ db: database.db }),
      now,
      timeouts: { idleMinutes: config.SESSION_IDLE_MINUTES, absoluteHours: config.SESSION_ABSOLUTE_HOURS },
    }),
    hasher: createPasswordHasher({ concurrency: config.PASSWORD_HASH_CONCURRENCY }),
    audit: auditLog,
    now,
  });
  let closeStorage = async (): Promise<void> => undefined;
  const commands = createManagementCommands({
    organisations: createOrganisationService({ organisations }),
    apiKeys: createApiKeyService({
      apiKeys: createApiKeyRepository({ db: database.db }),
      organisations,
      now,
    }),
    users,
    auditLog,
    // No evaluation here, so no cache: servers and workers see the change within FEATURE_FLAG_CACHE_MS.
    flags: createFeatureFlagService({
      db: database.db,
      flags: createFeatureFlagRepository({ db: database.db }),
      organisations,
      audit: auditLog,
      now,
    }),
    outbox: createOutboxRepository({ db: database.db }),
    transparencyLog,
    async rotateLogKey() {
      const keyring = createLogKeyring({
        initial: await loadOrCreateLogSigningKey({
          configured: config.LOG_SIGNING_KEY,
          dataDir: config.DATA_DIR,
          log,
        }),
        log: transparencyLog,
        audit: auditLog,
        generate: () => replaceGeneratedLogSigningKey(config.DATA_DIR),
      });
      return keyring.rotate();
    },
    async keys() {
      const keyring = liveKeyring(
        await loadOrCreateMasterKey({
          configured: config.MASTER_KEY,
          configuredPrevious: config.MASTER_KEY_PREVIOUS,
          dataDir: config.DATA_DIR,
          production: config.NODE_ENV === 'production',
          log,
        }),
      );
      // The same blob store the servers use (scaled mode: they must share it).
      const storage = await openBlobStorage(config, keyring, log);
      closeStorage = () => storage.close();
      return openKeyRotation({
        config,
        db: database.db,
        keyring,
        blobStore: storage.blobStore,
        audit: auditLog,
        log,
        now,
      });
    },
  });
  return {
    commands,
    close: async () => {
      await closeStorage();
      await database.close();
    },
  };
}
