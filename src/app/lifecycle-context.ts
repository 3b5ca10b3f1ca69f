import type { Logger } from 'pino';
import type { Config } from '../config/config.schema.js';
import { createAnalysisRepository } from '../repositories/analysis.repository.js';
import { createAuditRepository } from '../repositories/audit.repository.js';
import { createMediaRepository } from '../repositories/media.repository.js';
import { createRetentionRepository } from '../repositories/retention.repository.js';
import { createAnalysisArtifactsService } from '../services/analysis-artifacts.service.js';
import { createAuditLogService } from '../services/audit-log.service.js';
import { createHousekeepingService, type HousekeepingService } from '../services/housekeeping.service.js';
import { createMediaShredder } from '../services/media-shredder.js';
import { createRetentionService, type RetentionService } from '../services/retention.service.js';
import { openBlobStorage } from './blob-storage.js';
import { loadOrCreateMasterKey } from '../storage/master-key.js';
import { openMigratedDatabase } from './database-context.js';
import { createReadCache } from '../cache/create-read-cache.js';
import { openRedisClient } from './redis-client.js';
import { closeRedis as closeRedisConnection } from '../redis/close-redis.js';

/**
 * Just enough of the platform for `guardian retention run` / `guardian housekeeping run` without a server:
 * the database, the blob store under the master key, the audit log, the shredder, and (REDIS_URL) the
 * servers' shared read cache, so that what it shreds drops out of their cached replies.
 */
export async function openLifecycleContext(
  config: Config,
  log: Logger,
): Promise<{ retention: RetentionService; housekeeping: HousekeepingService; close(): Promise<void> }> {
  const database = await openMigratedDatabase(config, log);
  let closeStorage = async (): Promise<void> => undefined;
  // Embedded mode: no server runs while this holds the database, so there is no cache to tell.
  const redis = config.REDIS_URL ? openRedisClient(config.REDIS_URL, log) : null;
  const closeRedis = async () => (redis ? closeRedisConnection(redis) : undefined);
  try {
    const db = database.db;
    const now = () => new Date();
    const keyring = await loadOrCreateMasterKey({
      configured: config.MASTER_KEY,
      configuredPrevious: config.MASTER_KEY_PREVIOUS,
      dataDir: config.DATA_DIR,
      production: config.NODE_ENV === 'production',
      log,
    });
    const storage = await openBlobStorage(config, keyring, log);
    closeStorage = () => storage.close();
    const { blobStore } = storage;
    const audit = createAuditLogService({ audit: createAuditRepository({ db }) });
    const media = createMediaRepository({ db });
    const retentionRepository = createRetentionRepository({ db });
    const artifacts = createAnalysisArtifactsService({
      blobStore,
      analyses: createAnalysisRepository({ db }),
      media,
      log,
    });
    const shredder = createMediaShredder({
      db,
      blobStore,
      artifacts,
      audit,
      media,
      retention: retentionRepository,
      now,
      log,
      cache: createReadCache(config, redis, log),
    });
    return {
      retention: createRetentionService({ db, retention: retentionRepository, shredder, audit, now, log }),
      housekeeping: createHousekeepingService({
        db,
        settings: {
          sessionIdleMinutes: config.SESSION_IDLE_MINUTES,
          outboxSentRetentionDays: config.OUTBOX_SENT_RETENTION_DAYS,
          jobDoneRetentionDays: config.JOB_DONE_RETENTION_DAYS,
          jobFailedRetentionDays: config.JOB_FAILED_RETENTION_DAYS,
        },
        now,
        blobs: { store: blobStore, sweepTempFiles: (seconds) => storage.sweepTempFiles(seconds), log },
      }),
      close: async () => {
        await closeStorage();
        await closeRedis();
        await database.close();
      },
    };
  } catch (error) {
    await closeStorage();
    await closeRedis();
    await database.close();
    throw error;
  }
}
