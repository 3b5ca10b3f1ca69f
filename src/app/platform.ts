import type { Logger } from 'pino';
import type { Config } from '../config/config.schema.js';
import { createEventBus } from '../events/create-event-bus.js';
import type { HealthCheck } from '../http/routes/health.routes.js';
import { createFfmpegMediaTools } from '../media/ffmpeg.media-tools.js';
import { mediaLimitsFromConfig } from '../media/media-limits.js';
import { calibrationFromConfig } from '../pipeline/calibration.js';
import { createDetectionEngine } from '../pipeline/detection-engine.js';
import { createJobQueue } from '../queue/create-job-queue.js';
import { observeJobQueue } from '../queue/observed.job-queue.js';
import { noObservability, type Observability } from './observability.js';
import type { JobHandlers } from '../queue/job-table.js';
import { createAnalysisRepository } from '../repositories/analysis.repository.js';
import { createApiKeyRepository } from '../repositories/api-key.repository.js';
import { createAuditRepository } from '../repositories/audit.repository.js';
import { createDatabaseThrottleStore } from '../repositories/database.throttle-store.js';
import { createHistoryRepository } from '../repositories/history.repository.js';
import { createMediaRepository } from '../repositories/media.repository.js';
import { createOneTimeTokenRepository } from '../repositories/one-time-token.repository.js';
import { createOrganisationSettingsRepository } from '../repositories/organisation-settings.repository.js';
import { createOrganisationRepository } from '../repositories/organisation.repository.js';
import { createOutboxRepository } from '../repositories/outbox.repository.js';
import { createRedisThrottleStore } from '../repositories/redis.throttle-store.js';
import { createSessionRepository } from '../repositories/session.repository.js';
import { createTotpRepository } from '../repositories/totp.repository.js';
import { createUserRepository } from '../repositories/user.repository.js';
import { createTransparencyLogRepository } from '../repositories/transparency-log.repository.js';
import { createAnchorRepository } from '../repositories/anchor.repository.js';
import { createAnchorService } from '../services/anchor.service.js';
import { createReportShareRepository } from '../repositories/report-share.repository.js';
import { createLinkSigner } from '../services/link-signer.js';
import { createReportShareService, shareStandsCheck } from '../services/report-share.service.js';
import { createSignedLinksService } from '../services/signed-links.service.js';
import { anchorersFromConfig, anchorSecrets } from './anchor-setup.js';
import { loadOrCreateLogSigningKey, replaceGeneratedLogSigningKey } from '../evidence/log-signing-key.js';
import { createEvidenceService } from '../services/evidence.service.js';
import { createReportIntegrity } from '../services/report-integrity.js';
import { createReportPdfService } from '../services/report-pdf.service.js';
import { createLogKeyring } from '../services/log-keyring.js';
import { createTransparencyLogService } from '../services/transparency-log.service.js';
import { startTreeHeadTimer } from '../services/tree-head-timer.js';
import { createAnalysisArtifactsService } from '../services/analysis-artifacts.service.js';
import { createAnalysisService } from '../services/analysis.service.js';
import { createFeatureFlagService } from '../services/feature-flag.service.js';
import { openFeatureFlags } from '../flags/feature-flags-setup.js';
import { createApiKeyService } from '../services/api-key.service.js';
import { createApiKeyCache } from '../services/api-key-cache.js';
import { createAuditLogService } from '../services/audit-log.service.js';
import { createLoginThrottle } from '../services/login-throttle.service.js';
import { createHistoryService } from '../services/history.service.js';
import { createMediaService } from '../services/media.service.js';
import { createReanalysisService } from '../services/reanalysis.service.js';
import { createStoredMediaService } from '../services/stored-media.service.js';
import { createOrganisationService } from '../services/organisation.service.js';
import { createPasswordHasher } from '../services/password-hasher.js';
import { createAuthService } from '../services/auth.service.js';
import { createUserService } from '../services/user.service.js';
import { createSessionService } from '../services/session.service.js';
import { createBackgroundWork } from '../services/background-work.js';
import { createRetentionRepository } from '../repositories/retention.repository.js';
import { createUserDataRepository } from '../repositories/user-data.repository.js';
import { createHousekeepingService } from '../services/housekeeping.service.js';
import { createLegalHoldService } from '../services/legal-hold.service.js';
import { createLifecycleJobs } from '../services/lifecycle-jobs.js';
import { createMediaShredder } from '../services/media-shredder.js';
import { createRetentionService } from '../services/retention.service.js';
import { createUserDataService } from '../services/user-data.service.js';
import { startPeriodic } from './lifecycle.js';
import { createInviteService } from '../services/invite.service.js';
import { createMailer } from '../services/mailer.js';
import { createPasswordResetService } from '../services/password-reset.service.js';
import { createTotpService } from '../services/totp.service.js';
import { createTwoFactorService } from '../services/two-factor.service.js';
import { mailSender, publicBaseUrl } from '../mail/mail-settings.js';
import { createSmtpMailTransport } from '../mail/smtp.mail-transport.js';
import { createBlobGateway } from '../storage/blob-gateway.js';
import { liveKeyring, loadOrCreateMasterKey } from '../storage/master-key.js';
import { openBlobStorage } from './blob-storage.js';
import { openKeyRotation } from './key-rotation-setup.js';
import { openWebhooks } from './webhook-setup.js';
import { openMigratedDatabase } from './database-context.js';
import { createManagementCommands } from './management-commands.js';
import { createBackup } from '../backup/backup-create.js';
import { backupSource } from '../backup/backup-context.js';
import { openRedisClient, pingRedis } from './redis-client.js';
import { closeRedis } from '../redis/close-redis.js';
import { createReadCache } from '../cache/create-read-cache.js';
import { createResumableUploads } from './resumable-uploads.js';
import { Registry } from 'prom-client';
import { createGuardianMetrics } from '../metrics/guardian-metrics.js';
import { instrumentJobHandlers, instrumentPipeline, instrumentUploads } from '../metrics/instrumentation.js';

/** The composition root shared by `serve` and `worker`: every adapter and service, wired once. */
export async function openPlatform(
  config: Config,
  log: Logger,
  options: { now?: () => Date; observability?: Observability } = {},
) {
  // The entry point owns it (started before, stopped after the platform), so the last spans are flushed.
  const observability = options.observability ?? noObservability();
  const { tracing, errors } = observability;
  const closers: (() => Promise<void>)[] = [];
  const closeAll = async () => {
    for (const close of closers.reverse())
      await close().catch((error: unknown) => log.error({ err: error }, 'close failed'));
  };
  try {
    const database = await openMigratedDatabase(config, log);
    closers.push(() => database.close());
    const now = options.now ?? (() => new Date());
    // This process's own registry (never prom-client's global one); served by startPlatformMetrics.
    const metrics = createGuardianMetrics(new Registry());
    // Live: `guardian keys rotate --generate` swaps the keys of every service holding it, without a restart.
    const masterKey = liveKeyring(
      await loadOrCreateMasterKey({
        configured: config.MASTER_KEY,
        configuredPrevious: config.MASTER_KEY_PREVIOUS,
        dataDir: config.DATA_DIR,
        production: config.NODE_ENV === 'production',
        log,
      }),
    );
    // S3_BUCKET set: blobs and resumable-upload staging in S3, nothing shared through DATA_DIR.
    const blobStorage = await openBlobStorage(config, masterKey, log);
    closers.push(() => blobStorage.close());
    const { blobStore } = blobStorage;
    const blobGateway = createBlobGateway({ blobStore, log });
    closers.push(() => blobGateway.close());
    const mediaLimits = mediaLimitsFromConfig(config);
    const mediaTools = await createFfmpegMediaTools({
      ffmpegPath: config.FFMPEG_PATH,
      ffprobePath: config.FFPROBE_PATH,
      limits: mediaLimits,
      notice: (message) => log.warn(message),
    });
    const {
      pipeline: uninstrumentedPipeline,
      intake,
      close: closeEngine,
    } = await createDetectionEngine({
      mediaTools,
      limits: mediaLimits,
      modelCards: config.MODEL_CARDS,
      calibration: await calibrationFromConfig(config),
      detectorThreads: config.DETECTOR_THREADS,
      ...(tracing.enabled ? { tracer: tracing.tracer } : {}),
    });
    closers.push(closeEngine);
    const pipeline = instrumentPipeline(uninstrumentedPipeline, metrics);
    const bareQueue = createJobQueue({
      redisUrl: config.REDIS_URL,
      redisKeyPrefix: config.REDIS_KEY_PREFIX,
      db: database.db,
      lockDurationMs: config.QUEUE_LOCK_MS,
      stalledIntervalMs: config.QUEUE_STALLED_INTERVAL_MS,
      keepFinished: {
        doneMs: config.JOB_DONE_RETENTION_DAYS * 86_400_000,
        failedMs: config.JOB_FAILED_RETENTION_DAYS * 86_400_000,
      },
      log,
    });
    // Only wrapped when something observes it: with tracing and Sentry off, jobs run exactly as before.
    const queue =
      tracing.enabled || errors.enabled
        ? observeJobQueue(bareQueue, { tracer: tracing.tracer, errors, scrub: observability.scrub })
        : bareQueue;
    closers.push(() => queue.close());
    const events = createEventBus({
      redisUrl: config.REDIS_URL,
      redisKeyPrefix: config.REDIS_KEY_PREFIX,
      log,
    });
    closers.push(() => events.close());
    // One client for the login throttle and the HTTP rate limit; BullMQ and pub/sub keep their own connections.
    const redis = config.REDIS_URL ? openRedisClient(config.REDIS_URL, log) : null;
    if (redis) closers.push(() => closeRedis(redis));
    // Hot replies: in Redis when there is one (shared by every process), else in this process (embedded).
    const readCache = createReadCache(config, redis, log);
    closers.push(() => readCache.close());
    const loginThrottle = createLoginThrottle({
      store: redis
        ? createRedisThrottleStore({ redis, keyPrefix: `${config.REDIS_KEY_PREFIX}:login-throttle:` })
        : createDatabaseThrottleStore({ db: database.db }),
      now,
      policy: { ipMaxAttempts: config.LOGIN_ATTEMPTS_PER_IP },
    });

    const repositories = {
      organisations: createOrganisationRepository({ db: database.db }),
      apiKeys: createApiKeyRepository({ db: database.db }),
      media: createMediaRepository({ db: database.db }),
      analyses: createAnalysisRepository({ db: database.db }),
      users: createUserRepository({ db: database.db }),
      sessions: createSessionRepository({ db: database.db }),
      outbox: createOutboxRepository({ db: database.db }),
      retention: createRetentionRepository({ db: database.db }),
      reportShares: createReportShareRepository({ db: database.db }),
    };
    const auditLog = createAuditLogService({ audit: createAuditRepository({ db: database.db }) });
    const featureFlags = await openFeatureFlags({
      db: database.db,
      cacheMs: config.FEATURE_FLAG_CACHE_MS,
      log,
    });
    closers.push(() => featureFlags.close());
    const featureFlagService = createFeatureFlagService({
      db: database.db,
      flags: featureFlags.repository,
      organisations: repositories.organisations,
      audit: auditLog,
      source: featureFlags.source,
      now,
    });
    const transparencyLogRepository = createTransparencyLogRepository({ db: database.db });
    // Refuses a retired MASTER_KEY and warns about a retired one still in MASTER_KEY_PREVIOUS, at start-up.
    const keyRotation = await openKeyRotation({
      config,
      db: database.db,
      keyring: masterKey,
      blobStore,
      audit: auditLog,
      log,
      now,
    });
    const logKeyring = createLogKeyring({
      initial: await loadOrCreateLogSigningKey({
        configured: config.LOG_SIGNING_KEY,
        dataDir: config.DATA_DIR,
        log,
      }),
      log: transparencyLogRepository,
      audit: auditLog,
      generate: () => replaceGeneratedLogSigningKey(config.DATA_DIR),
    });
    await logKeyring.activate();
    const webhooks = openWebhooks({
      config,
      db: database.db,
      keyring: masterKey,
      queue,
      audit: auditLog,
      publicUrl: publicBaseUrl(config),
      now,
      log,
    });
    const stopWebhookSweeper = webhooks.startSweeper();
    closers.push(async () => stopWebhookSweeper());
    const anchorRepository = createAnchorRepository({ db: database.db });
    const anchorService = createAnchorService({
      anchors: anchorRepository,
      anchorers: await anchorersFromConfig(config, log),
      queue,
      intervalSeconds: config.ANCHOR_INTERVAL_SECONDS,
      secrets: anchorSecrets(config),
      now,
      logger: log,
      webhooks: webhooks.anchorEvents,
    });
    const transparencyLogService = createTransparencyLogService({
      log: transparencyLogRepository,
      analyses: repositories.analyses,
      keyring: logKeyring,
      logger: log,
      onTreeHeadSigned: (head) => anchorService.treeHeadSigned(head),
    });
    const reportIntegrity = createReportIntegrity({ log: transparencyLogRepository, logger: log });
    const evidenceService = createEvidenceService({
      analyses: repositories.analyses,
      transparencyLog: transparencyLogService,
      anchors: anchorRepository,
      keyring: logKeyring,
      reportIntegrity,
    });
    const reportPdfService = createReportPdfService({
      analyses: repositories.analyses,
      media: repositories.media,
      evidence: evidenceService,
      publicUrl: config.PUBLIC_URL ?? null,
    });
    const treeHeadTimer = startTreeHeadTimer({
      // The anchor jobs run after the log's own work, so they see the head it may have just signed.
      tick: async () => {
        try {
          await transparencyLogService.tick();
        } finally {
          await anchorService.tick();
        }
      },
      intervalMs: config.LOG_TREE_HEAD_INTERVAL_SECONDS * 1000,
      log,
    });
    closers.push(() => treeHeadTimer.stop());
    const organisationService = createOrganisationService({ organisations: repositories.organisations });
    const apiKeyService = createApiKeyService({
      apiKeys: repositories.apiKeys,
      organisations: repositories.organisations,
      now,
      cache: createApiKeyCache({
        ttlMs: config.API_KEY_CACHE_SECONDS * 1000,
        maxEntries: 10_000,
        now: () => now().getTime(),
      }),
    });
    const sessionService = createSessionService({
      sessions: repositories.sessions,
      now,
      timeouts: { idleMinutes: config.SESSION_IDLE_MINUTES, absoluteHours: config.SESSION_ABSOLUTE_HOURS },
    });
    const passwordHasher = createPasswordHasher({ concurrency: config.PASSWORD_HASH_CONCURRENCY });
    const publicUrl = publicBaseUrl(config);
    const mailer = createMailer({
      outbox: repositories.outbox,
      transport: config.SMTP_URL ? createSmtpMailTransport({ url: config.SMTP_URL }) : null,
      from: mailSender(config, publicUrl),
      now,
      log,
    });
    closers.push(() => mailer.close());
    const stopMailSweeper = mailer.startSweeper(60_000);
    closers.push(async () => stopMailSweeper());
    const backgroundWork = createBackgroundWork({ log });
    closers.push(() => backgroundWork.idle());
    const totpService = createTotpService({
      totp: createTotpRepository({ db: database.db }),
      keyring: masterKey,
      now,
    });
    const userService = createUserService({
      users: repositories.users,
      organisations: repositories.organisations,
      sessions: sessionService,
      hasher: passwordHasher,
      audit: auditLog,
      now,
    });
    const authService = createAuthService({
      users: repositories.users,
      organisations: repositories.organisations,
      hasher: passwordHasher,
      sessions: sessionService,
      throttle: loginThrottle,
      audit: auditLog,
      secondFactor: totpService,
      now,
    });
    const twoFactorService = createTwoFactorService({
      totp: totpService,
      users: repositories.users,
      hasher: passwordHasher,
      sessions: sessionService,
      throttle: loginThrottle,
      audit: auditLog,
      settings: createOrganisationSettingsRepository({ db: database.db }),
    });
    const oneTimeTokens = createOneTimeTokenRepository({ db: database.db });
    const passwordResetService = createPasswordResetService({
      db: database.db,
      users: repositories.users,
      tokens: oneTimeTokens,
      sessions: repositories.sessions,
      hasher: passwordHasher,
      mailer,
      audit: auditLog,
      background: backgroundWork,
      publicUrl,
      now,
    });
    const inviteService = createInviteService({
      db: database.db,
      users: repositories.users,
      organisations: repositories.organisations,
      tokens: oneTimeTokens,
      hasher: passwordHasher,
      mailer,
      audit: auditLog,
      publicUrl,
      now,
    });
    const mediaService = instrumentUploads(
      createMediaService({
        db: database.db,
        blobStore,
        blobGateway,
        mediaTools,
        intake,
        media: repositories.media,
        analyses: repositories.analyses,
        queue,
        pipelineVersion: pipeline.version,
        maxUploadBytes: config.MAX_UPLOAD_BYTES,
        log,
        cache: readCache,
      }),
      metrics,
    );
    const analysisArtifacts = createAnalysisArtifactsService({
      blobStore,
      analyses: repositories.analyses,
      media: repositories.media,
      log,
      reportIntegrity,
    });
    const mediaShredder = createMediaShredder({
      db: database.db,
      blobStore,
      artifacts: analysisArtifacts,
      audit: auditLog,
      media: repositories.media,
      retention: repositories.retention,
      now,
      log,
      cache: readCache,
    });
    const storedMediaService = createStoredMediaService({
      db: database.db,
      media: repositories.media,
      blobStore,
      artifacts: analysisArtifacts,
      audit: auditLog,
      shredder: mediaShredder,
      log,
    });
    const legalHoldService = createLegalHoldService({
      db: database.db,
      retention: repositories.retention,
      blobStore,
      audit: auditLog,
      now,
      cache: readCache,
    });
    const retentionService = createRetentionService({
      db: database.db,
      retention: repositories.retention,
      shredder: mediaShredder,
      audit: auditLog,
      now,
      log,
    });
    const housekeepingService = createHousekeepingService({
      db: database.db,
      settings: {
        sessionIdleMinutes: config.SESSION_IDLE_MINUTES,
        outboxSentRetentionDays: config.OUTBOX_SENT_RETENTION_DAYS,
        jobDoneRetentionDays: config.JOB_DONE_RETENTION_DAYS,
        jobFailedRetentionDays: config.JOB_FAILED_RETENTION_DAYS,
      },
      now,
      blobs: { store: blobStore, sweepTempFiles: (seconds) => blobStorage.sweepTempFiles(seconds), log },
    });
    const userDataService = createUserDataService({
      db: database.db,
      users: repositories.users,
      organisations: repositories.organisations,
      userData: createUserDataRepository({ db: database.db }),
      shredder: mediaShredder,
      audit: auditLog,
      now,
      log,
      cache: readCache,
    });
    const lifecycleJobs = createLifecycleJobs({
      retention: retentionService,
      housekeeping: housekeepingService,
      queue,
      log,
    });
    if (config.LIFECYCLE_INTERVAL_SECONDS > 0) {
      const stopLifecycleTimer = startPeriodic({
        name: 'lifecycle',
        intervalMs: config.LIFECYCLE_INTERVAL_SECONDS * 1000,
        run: () => lifecycleJobs.tick(),
        log,
      });
      closers.push(async () => stopLifecycleTimer());
    }
    const analysisService = createAnalysisService({
      analyses: repositories.analyses,
      media: repositories.media,
      blobGateway,
      pipeline,
      artifacts: analysisArtifacts,
      queue,
      events,
      audit: auditLog,
      statements: transparencyLogService,
      webhooks: webhooks.analysisEvents,
      detectorFlags: featureFlags.detectorFlags,
      now,
      log,
      cache: readCache,
      reportIntegrity,
    });
    const reportShares = repositories.reportShares;
    const signedLinksService = createSignedLinksService({
      signer: createLinkSigner({ keyring: masterKey, now }),
      media: repositories.media,
      storedMedia: storedMediaService,
      artifacts: analysisArtifacts,
      shareIsActive: shareStandsCheck({ shares: reportShares, now }),
      now,
    });
    const reportShareService = createReportShareService({
      db: database.db,
      shares: reportShares,
      analyses: repositories.analyses,
      artifacts: analysisArtifacts,
      media: repositories.media,
      links: signedLinksService,
      audit: auditLog,
      now,
      reportIntegrity,
    });
    const historyService = createHistoryService({
      history: createHistoryRepository({ db: database.db }),
    });
    const reanalysisService = createReanalysisService({
      db: database.db,
      media: repositories.media,
      analyses: repositories.analyses,
      queue,
      audit: auditLog,
      pipelineVersion: pipeline.version,
      log,
      cache: readCache,
    });
    const uploadHandler = createResumableUploads({
      ...blobStorage.resumableStaging(redis),
      mediaService,
      maxUploadBytes: config.MAX_UPLOAD_BYTES,
      log,
    });
    const healthChecks: HealthCheck[] = [
      { name: 'database', check: () => database.checkHealth() },
      { name: 'queue', check: () => queue.checkHealth() },
      { name: 'storage', check: () => blobStore.checkHealth() },
      // The shared client: rate limits, the sign-in throttle and the read cache (BullMQ is `queue`).
      ...(redis ? [{ name: 'redis', check: () => pingRedis(redis) }] : []),
    ];
    return {
      config,
      log,
      observability,
      database,
      blobStore,
      blobGateway,
      mediaTools,
      pipeline,
      queue,
      events,
      repositories,
      auditLog,
      featureFlags,
      services: {
        organisationService,
        apiKeyService,
        sessionService,
        userService,
        authService,
        twoFactorService,
        passwordResetService,
        inviteService,
        mediaService,
        storedMediaService,
        analysisService,
        historyService,
        reanalysisService,
        analysisArtifacts,
        transparencyLogService,
        evidenceService,
        reportPdfService,
        anchorService,
        legalHoldService,
        retentionService,
        housekeepingService,
        userDataService,
        signedLinksService,
        reportShareService,
        webhookService: webhooks.service,
        webhookDelivery: webhooks.delivery,
        featureFlagService,
      },
      managementCommands: createManagementCommands({
        organisations: organisationService,
        apiKeys: apiKeyService,
        users: userService,
        auditLog,
        flags: featureFlagService,
        outbox: repositories.outbox,
        transparencyLog: transparencyLogRepository,
        rotateLogKey: () => logKeyring.rotate(),
        backup: (to) =>
          createBackup(backupSource({ config, database, blobStore, keyring: masterKey, log, now }), to),
        lifecycle: { retention: () => retentionService.run(), housekeeping: () => housekeepingService.run() },
        keys: async () => keyRotation,
      }),
      jobHandlers: instrumentJobHandlers(
        {
          'analysis.run': analysisService.run,
          'anchor.rfc3161': (_payload, context) => anchorService.run('rfc3161', context),
          'anchor.solana': (_payload, context) => anchorService.run('solana', context),
          'webhook.deliver': (payload) => webhooks.delivery.deliver(payload),
          ...lifecycleJobs.handlers,
        } satisfies JobHandlers,
        metrics,
      ),
      // An anchor job that used its attempts leaves its anchor pending: the timer's next run retries it.
      jobExhaustedHandlers: { 'analysis.run': analysisService.onJobExhausted },
      healthChecks,
      metrics,
      uploads: { handler: uploadHandler },
      redis,
      readCache,
      loginThrottle,
      mailer,
      backgroundWork,
      close: closeAll,
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

export type Platform = Awaited<ReturnType<typeof openPlatform>>;
