import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import type { Config } from '../config/config.schema.js';
import { isLoopback } from '../config/load-config.js';
import { buildApp } from '../http/build-app.js';
import { startAdminSocket } from './admin-socket.js';
import { startPeriodic, startReconciler, waitForShutdownSignal } from './lifecycle.js';
import { startHttpsRedirect } from './https-redirect.js';
import { createLogger } from './logger.js';
import { startObservability } from './observability.js';
import { openPlatform, type Platform } from './platform.js';
import { locateWebAppDir } from './web-app-dir.js';
import { startPlatformMetrics } from './metrics-setup.js';

/** Builds the HTTP app over an opened platform (also used by tests with `inject`). */
export async function buildPlatformApp(platform: Platform) {
  const { config } = platform;
  const https =
    config.TLS_CERT_FILE && config.TLS_KEY_FILE
      ? { cert: await readFile(config.TLS_CERT_FILE), key: await readFile(config.TLS_KEY_FILE) }
      : undefined;
  return buildApp({
    log: platform.log,
    authenticator: platform.services.apiKeyService,
    apiKeys: platform.services.apiKeyService,
    sessions: platform.services.sessionService,
    accounts: {
      auth: platform.services.authService,
      sessions: platform.services.sessionService,
      users: platform.services.userService,
    },
    accountSecurity: {
      twoFactor: platform.services.twoFactorService,
      passwordReset: platform.services.passwordResetService,
      invites: platform.services.inviteService,
      outbox: platform.repositories.outbox,
      mailDelivery: platform.mailer.delivery,
    },
    allowInsecureSessionCookie: config.NODE_ENV !== 'production' && isLoopback(config.HOST),
    mediaService: platform.services.mediaService,
    storedMedia: platform.services.storedMediaService,
    analysisService: platform.services.analysisService,
    analysisArtifacts: platform.services.analysisArtifacts,
    analyses: platform.repositories.analyses,
    audit: platform.auditLog,
    evidence: platform.services.evidenceService,
    reportPdf: platform.services.reportPdfService,
    transparencyLog: platform.services.transparencyLogService,
    history: platform.services.historyService,
    reanalysis: platform.services.reanalysisService,
    anchors: platform.services.anchorService,
    lifecycle: {
      legalHolds: platform.services.legalHoldService,
      retention: platform.services.retentionService,
      userData: platform.services.userDataService,
    },
    signedLinks: platform.services.signedLinksService,
    reportShares: platform.services.reportShareService,
    webhooks: platform.services.webhookService,
    featureFlags: { flags: platform.services.featureFlagService, adminOrgs: config.FEATURE_FLAG_ADMIN_ORGS },
    events: platform.events,
    metrics: platform.metrics,
    readCache: platform.readCache,
    healthChecks: platform.healthChecks,
    uploads: platform.uploads,
    maxUploadBytes: config.MAX_UPLOAD_BYTES,
    httpLimits: {
      headersTimeoutMs: config.HTTP_HEADERS_TIMEOUT_MS,
      bodyTimeoutMs: config.HTTP_BODY_TIMEOUT_MS,
      requestTimeoutMs: config.HTTP_REQUEST_TIMEOUT_MS,
      webSocketsPerPrincipal: config.WEBSOCKET_MAX_PER_PRINCIPAL,
      webSocketsTotal: config.WEBSOCKET_MAX_CONNECTIONS,
      webSocketPingIntervalMs: config.WEBSOCKET_PING_INTERVAL_SECONDS * 1000,
    },
    trustedProxies: config.TRUSTED_PROXIES
      ? config.TRUSTED_PROXIES.split(',')
          .map((entry) => entry.trim())
          .filter(Boolean)
      : [],
    ...(platform.redis
      ? { rateLimitStore: { client: platform.redis, keyPrefix: config.REDIS_KEY_PREFIX } }
      : {}),
    rateLimitsPerMinute: {
      global: config.RATE_LIMIT_PER_MINUTE,
      auth: config.AUTH_RATE_LIMIT_PER_MINUTE,
      refusedCredentials: config.REFUSED_CREDENTIALS_PER_MINUTE,
    },
    ...(https ? { https } : {}),
    webApp: { webAppDir: await locateWebAppDir(), assetBaseUrl: config.ASSET_BASE_URL },
    observability: {
      ...(platform.observability.tracing.enabled ? { tracer: platform.observability.tracing.tracer } : {}),
      ...(platform.observability.errors.enabled ? { errors: platform.observability.errors } : {}),
      scrub: platform.observability.scrub,
    },
  });
}

/** `guardian serve`: API + in-process workers; drains on SIGTERM and closes the database last. */
export async function runServer(config: Config): Promise<number> {
  const log = createLogger(config);
  const observability = await startObservability(config, log, 'serve');
  const platform = await openPlatform(config, log, { observability }).catch(async (error: unknown) => {
    await observability.shutdown();
    throw error;
  });
  const app = await buildPlatformApp(platform);
  // Embedded workers run in this process, so this one listener covers the API and the jobs.
  const metricsServer = await startPlatformMetrics(platform, 'serve').catch(async (error: unknown) => {
    await app.close();
    await platform.close();
    await observability.shutdown();
    throw error;
  });
  if (config.WORKER_CONCURRENCY > 0) {
    await platform.queue.startWorkers(platform.jobHandlers, {
      concurrency: config.WORKER_CONCURRENCY,
      onJobExhausted: platform.jobExhaustedHandlers,
    });
  }
  const stopReconciler = startReconciler({
    reconcile: platform.services.analysisService.reconcile,
    intervalSeconds: config.RECONCILE_INTERVAL_SECONDS,
    log,
  });
  const stopUploadExpiry = startPeriodic({
    name: 'upload-expiry',
    intervalMs: 10 * 60_000,
    run: () => platform.uploads.handler.cleanUpExpired(),
    log,
  });
  const adminSocket = config.DATABASE_URL
    ? null
    : await startAdminSocket({ dataDir: config.DATA_DIR, commands: platform.managementCommands, log });
  await app.listen({ host: config.HOST, port: config.PORT });
  const address = app.server.address();
  const redirect =
    config.HTTP_REDIRECT_PORT !== undefined && address && typeof address !== 'string'
      ? await startHttpsRedirect({
          host: config.HOST,
          port: config.HTTP_REDIRECT_PORT,
          httpsPort: address.port,
        })
      : null;
  log.info(
    {
      url: listeningUrl(app.server.address(), Boolean(config.TLS_CERT_FILE)),
      queue: platform.queue.kind,
      database: platform.database.kind,
      metrics: metricsServer?.url ?? 'off',
    },
    'SecureAI Guardian is serving',
  );

  await waitForShutdownSignal(log);
  stopReconciler();
  stopUploadExpiry();
  await redirect?.close();
  await app.close();
  await metricsServer?.close();
  await platform.queue.stopWorkers(config.SHUTDOWN_TIMEOUT_MS);
  await adminSocket?.close();
  await platform.close();
  await observability.shutdown();
  log.info('stopped');
  return 0;
}

function listeningUrl(address: AddressInfo | string | null, tls: boolean): string {
  if (!address || typeof address === 'string') return String(address);
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `${tls ? 'https' : 'http'}://${host}:${address.port}`;
}
