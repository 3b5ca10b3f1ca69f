import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import cookie from '@fastify/cookie';
import helmet from 'helmet';
import multipart from '@fastify/multipart';
import swagger from '@fastify/swagger';
import websocket from '@fastify/websocket';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import type { EventBus } from '../events/event-bus.js';
import type { ReadCache } from '../cache/read-cache.js';
import type { AnalysisRepository } from '../repositories/analysis.repository.js';
import type { AnalysisArtifactsService } from '../services/analysis-artifacts.service.js';
import type { AnalysisService } from '../services/analysis.service.js';
import type { ApiKeyService } from '../services/api-key.service.js';
import type { AuditLogService } from '../services/audit-log.service.js';
import type { AuthService } from '../services/auth.service.js';
import type { HistoryService } from '../services/history.service.js';
import type { MediaService } from '../services/media.service.js';
import type { ReanalysisService } from '../services/reanalysis.service.js';
import type { StoredMediaService } from '../services/stored-media.service.js';
import type { SessionService } from '../services/session.service.js';
import type { UserService } from '../services/user.service.js';
import type { OutboxRepository } from '../repositories/outbox.repository.js';
import type { InviteService } from '../services/invite.service.js';
import type { PasswordResetService } from '../services/password-reset.service.js';
import type { TwoFactorService } from '../services/two-factor.service.js';
import type { EvidenceService } from '../services/evidence.service.js';
import type { ReportPdfService } from '../services/report-pdf.service.js';
import type { TransparencyLogService } from '../services/transparency-log.service.js';
import type { WebhookService } from '../services/webhook.service.js';
import type { ReportShareService } from '../services/report-share.service.js';
import type { SignedLinksService } from '../services/signed-links.service.js';
import { registerAccessControl, type Authenticator, type SessionAuthenticator } from './access-control.js';
import { registerProblemHandlers } from './problem-details.js';
import { registerRequestObservability, type RequestObservabilityDeps } from './request-observability.js';
import { registerRateLimits, type RateLimitOptions } from './rate-limits.js';
import {
  applyServerLimits,
  defaultHttpLimits,
  registerRequestLimits,
  serverTimeoutOptions,
  type HttpLimits,
} from './http-limits.js';
import { createWebSocketLimiter } from './websocket-limits.js';
import { registerRouteCatalog } from './route-catalog.js';
import { redactedRequestSerializer } from './log-redaction.js';
import { reportSharesRoutes } from './routes/report-shares.routes.js';
import { webhooksRoutes } from './routes/webhooks.routes.js';
import { signedLinksRoutes } from './routes/signed-links.routes.js';
import { analysesRoutes } from './routes/analyses.routes.js';
import { evidenceRoutes } from './routes/evidence.routes.js';
import { reportPdfRoutes } from './routes/report-pdf.routes.js';
import { transparencyLogRoutes } from './routes/transparency-log.routes.js';
import { anchorsRoutes } from './routes/anchors.routes.js';
import type { AnchorService } from '../services/anchor.service.js';
import { authRoutes } from './routes/auth.routes.js';
import { apiKeysRoutes } from './routes/api-keys.routes.js';
import { auditRoutes } from './routes/audit.routes.js';
import { featureFlagsRoutes, type FeatureFlagRoutesDeps } from './routes/feature-flags.routes.js';
import { eventsRoutes } from './routes/events.routes.js';
import { healthRoutes, type HealthCheck } from './routes/health.routes.js';
import { webAppRoutes, type WebAppOptions } from './routes/web-app.routes.js';
import { historyRoutes } from './routes/history.routes.js';
import { apiDocsRoutes } from './routes/api-docs.routes.js';
import { userGuidesRoutes } from './routes/user-guides.routes.js';
import { mediaRoutes } from './routes/media.routes.js';
import { reanalysisRoutes } from './routes/reanalysis.routes.js';
import { uploadsRoutes, type UploadsRoutesDeps } from './routes/uploads.routes.js';
import { usersRoutes } from './routes/users.routes.js';
import { dataLifecycleRoutes, type DataLifecycleRoutesDeps } from './routes/data-lifecycle.routes.js';
import { userDataRoutes } from './routes/user-data.routes.js';
import type { UserDataService } from '../services/user-data.service.js';
import { invitesRoutes } from './routes/invites.routes.js';
import { outboxRoutes } from './routes/outbox.routes.js';
import { passwordResetRoutes } from './routes/password-reset.routes.js';
import { twoFactorRoutes } from './routes/two-factor.routes.js';
import { openApiDocument } from './openapi-document.js';
import { openApiTransform, openApiTransformObject } from './openapi-transform.js';
import { createSessionCookies } from './session-cookie.js';
import { registerHttpMetrics, type HttpMetrics } from '../metrics/http-metrics.js';

export interface AccountsDeps {
  auth: AuthService;
  sessions: SessionService;
  users: UserService;
}

const accountsNotWired = new Proxy(
  {},
  {
    get: () => () => {
      throw new Error('accounts are not wired into this app');
    },
  },
) as never;

const evidenceNotWired = new Proxy(
  {},
  {
    get: () => () => {
      throw new Error('the transparency log is not wired into this app');
    },
  },
) as never;

const lifecycleNotWired = new Proxy(
  {},
  {
    get: () => () => {
      throw new Error('retention, legal holds and erasure are not wired into this app');
    },
  },
) as never;

const linksNotWired = new Proxy(
  {},
  {
    get: () => () => {
      throw new Error('signed links and report shares are not wired into this app');
    },
  },
) as never;

const webhooksNotWired = new Proxy(
  {},
  {
    get: () => () => {
      throw new Error('webhooks are not wired into this app');
    },
  },
) as never;

const historyNotWired = new Proxy(
  {},
  {
    get: () => () => {
      throw new Error('the history lists and re-runs are not wired into this app');
    },
  },
) as never;

const flagsNotWired = new Proxy(
  {},
  {
    get: () => () => {
      throw new Error('feature flags are not wired into this app');
    },
  },
) as never;

/** TOTP, password reset, invitations and the outbox. */
export interface AccountSecurityDeps {
  twoFactor: TwoFactorService;
  passwordReset: PasswordResetService;
  invites: InviteService;
  outbox: OutboxRepository;
  mailDelivery: 'smtp' | 'outbox';
}

export interface AppDeps {
  log: Logger;
  /** API keys (`Authorization: Bearer`). */
  authenticator: Authenticator;
  /** API-key management for admins. */
  apiKeys: ApiKeyService;
  /** Session cookies of signed-in people; absent, no cookie authenticates (API-key-only test apps). */
  sessions?: SessionAuthenticator;
  /** Development or test on loopback: plain-http requests get the relaxed cookie (never in production). */
  allowInsecureSessionCookie?: boolean;
  /** Sign-in, sessions and user management; absent, the routes exist but answer 500 (API-key test apps). */
  accounts?: AccountsDeps;
  /** 2FA, password reset, invitations, outbox; absent, those routes answer 500 and no admin is asked to enrol. */
  accountSecurity?: AccountSecurityDeps;
  mediaService: MediaService;
  /** Downloading and deleting stored media. */
  storedMedia: StoredMediaService;
  analysisService: AnalysisService;
  /** Listing and serving the artifacts detectors computed. */
  analysisArtifacts: AnalysisArtifactsService;
  analyses: AnalysisRepository;
  audit: AuditLogService;
  /** Evidence bundles and the verifier; absent, those routes answer 500 (test apps without the log). */
  evidence?: EvidenceService;
  /** The PDF report of a finished analysis; absent, that route answers 500 (test apps without the log). */
  reportPdf?: ReportPdfService;
  /** Tree heads, proofs and keys of the transparency log; absent, those routes answer 500. */
  transparencyLog?: TransparencyLogService;
  /** The media and analysis lists; absent, those routes answer 500 (test apps without them). */
  history?: HistoryService;
  /** Re-running an analysis; absent, that route answers 500. */
  reanalysis?: ReanalysisService;
  /** Anchors of tree heads and their status; absent, that route answers 500. */
  anchors?: AnchorService;
  /** Retention policy, legal holds, GDPR export and erasure; absent, those routes answer 500. */
  lifecycle?: DataLifecycleRoutesDeps & { userData: UserDataService };
  /** Signed media and artifact links; absent, those routes answer 500. */
  signedLinks?: SignedLinksService;
  /** Read-only share links to one report; absent, those routes answer 500. */
  reportShares?: ReportShareService;
  /** Webhook endpoints and their delivery log; absent, those routes answer 500. */
  webhooks?: WebhookService;
  /** Feature flag administration; absent, those routes answer 500 (test apps without flags). */
  featureFlags?: FeatureFlagRoutesDeps;
  events: EventBus;
  healthChecks: HealthCheck[];
  uploads: UploadsRoutesDeps;
  maxUploadBytes: number;
  /** Header, body and request deadlines and WebSocket caps; absent (test apps): the defaults. */
  httpLimits?: HttpLimits;
  /** Addresses whose X-Forwarded-For is believed; empty: none. */
  trustedProxies: string[];
  /** Finished reports and the first media page, per organisation (docs/caching.md); absent: uncached. */
  readCache?: ReadCache;
  /** Rate-limit counters in Redis, shared by every process (REDIS_URL); absent: in memory. */
  rateLimitStore?: RateLimitOptions['redis'];
  /** Requests a minute of each HTTP rate limit (configuration); absent: the defaults of `rateLimits`. */
  rateLimitsPerMinute?: RateLimitOptions['perMinute'];
  https?: { cert: Buffer; key: Buffer };
  /** Request counts and latencies by route for `/metrics`; absent (test apps): nothing is recorded. */
  metrics?: HttpMetrics;
  /** Request spans (OTEL_EXPORTER_OTLP_ENDPOINT) and 5xx error reports (SENTRY_DSN); absent: neither. */
  observability?: RequestObservabilityDeps;
  /** The built web app served at `/`; absent (API-only test apps): page paths answer 503 web-app-not-built. */
  webApp?: WebAppOptions;
}

// TLS 1.2+ with forward-secret AEAD suites only (TLS 1.3 suites are all AEAD and stay enabled).
const tlsPolicy = {
  minVersion: 'TLSv1.2' as const,
  ciphers:
    'ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256',
  honorCipherOrder: true,
};

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const limits = deps.httpLimits ?? defaultHttpLimits;
  const app = Fastify({
    // pino 10's Logger type differs only nominally from the pino types Fastify bundles.
    // The request serializer redacts signed-link signatures and share tokens from logged URLs.
    loggerInstance: deps.log.child(
      {},
      { serializers: { req: redactedRequestSerializer } },
    ) as unknown as FastifyBaseLogger,
    genReqId: () => randomUUID(),
    trustProxy: deps.trustedProxies.length > 0 ? deps.trustedProxies : false,
    bodyLimit: 1024 * 1024,
    ...serverTimeoutOptions(limits),
    ...(deps.https ? { https: { ...deps.https, ...tlsPolicy, ...serverTimeoutOptions(limits).http } } : {}),
  });
  applyServerLimits(app.server, limits);
  registerRequestLimits(app, limits);
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  registerProblemHandlers(app);
  if (deps.observability) registerRequestObservability(app, deps.observability);
  registerRouteCatalog(app);
  if (deps.metrics) registerHttpMetrics(app, deps.metrics);

  const assetOrigins = deps.webApp?.assetBaseUrl ? [new URL(deps.webApp.assetBaseUrl).origin] : [];
  // Computed once and set on every reply (@fastify/helmet rebuilt the whole policy on each request; helmet's
  // own middleware still validates and sets each header one by one).
  const securityHeaders = helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        // The web app: hashed files only, no inline script or style; an asset CDN when ASSET_BASE_URL says so.
        scriptSrc: ["'self'", ...assetOrigins],
        styleSrc: ["'self'", ...assetOrigins],
        imgSrc: ["'self'", 'data:', 'blob:', ...assetOrigins],
        fontSrc: ["'self'", ...assetOrigins],
        mediaSrc: ["'self'", 'blob:'],
        connectSrc: ["'self'"],
        workerSrc: ["'self'"],
        manifestSrc: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
        objectSrc: ["'none'"],
        formAction: ["'self'"],
      },
    },
    referrerPolicy: { policy: 'strict-origin-when-cross-origin' },
    crossOriginResourcePolicy: { policy: 'same-origin' },
    frameguard: { action: 'deny' },
    hsts: deps.https ? { maxAge: 63_072_000, includeSubDomains: true } : false,
  });
  const headers = headersSetBy(securityHeaders);
  app.addHook('onRequest', (_request, reply, done) => {
    reply.headers(headers);
    done();
  });
  await registerRateLimits(app, {
    ...(deps.rateLimitStore ? { redis: deps.rateLimitStore } : {}),
    ...(deps.rateLimitsPerMinute ? { perMinute: deps.rateLimitsPerMinute } : {}),
  });
  await app.register(websocket, { options: { maxPayload: 4096 } });
  await app.register(multipart);
  await app.register(swagger, {
    openapi: openApiDocument,
    transform: openApiTransform,
    transformObject: openApiTransformObject,
  });
  await app.register(cookie);
  const sessionCookies = createSessionCookies({
    allowInsecureHttp: deps.allowInsecureSessionCookie ?? false,
  });
  registerAccessControl(app, {
    apiKeys: deps.authenticator,
    sessions: deps.sessions ?? { authenticate: async () => null },
    cookies: sessionCookies,
    ...(deps.accountSecurity ? { twoFactorGate: deps.accountSecurity.twoFactor } : {}),
  });

  await app.register(healthRoutes, { checks: deps.healthChecks });
  await app.register(mediaRoutes, {
    mediaService: deps.mediaService,
    storedMedia: deps.storedMedia,
    analyses: deps.analyses,
    maxUploadBytes: deps.maxUploadBytes,
  });
  await app.register(analysesRoutes, {
    analysisService: deps.analysisService,
    artifacts: deps.analysisArtifacts,
    ...(deps.lifecycle ? { legalHolds: deps.lifecycle.legalHolds } : {}),
    ...(deps.readCache ? { readCache: deps.readCache } : {}),
  });
  await app.register(historyRoutes, {
    history: deps.history ?? historyNotWired,
    ...(deps.readCache ? { readCache: deps.readCache } : {}),
  });
  await app.register(reanalysisRoutes, { reanalysis: deps.reanalysis ?? historyNotWired });
  await app.register(evidenceRoutes, { evidence: deps.evidence ?? evidenceNotWired });
  await app.register(reportPdfRoutes, { reportPdf: deps.reportPdf ?? evidenceNotWired });
  await app.register(transparencyLogRoutes, { transparencyLog: deps.transparencyLog ?? evidenceNotWired });
  await app.register(anchorsRoutes, { anchors: deps.anchors ?? evidenceNotWired });
  await app.register(signedLinksRoutes, { links: deps.signedLinks ?? linksNotWired });
  await app.register(reportSharesRoutes, { shares: deps.reportShares ?? linksNotWired });
  await app.register(webhooksRoutes, { webhooks: deps.webhooks ?? webhooksNotWired });
  await app.register(authRoutes, {
    auth: deps.accounts?.auth ?? accountsNotWired,
    sessions: deps.accounts?.sessions ?? accountsNotWired,
    cookies: sessionCookies,
  });
  await app.register(usersRoutes, { users: deps.accounts?.users ?? accountsNotWired });
  await app.register(
    dataLifecycleRoutes,
    deps.lifecycle ?? { legalHolds: lifecycleNotWired, retention: lifecycleNotWired },
  );
  await app.register(userDataRoutes, { userData: deps.lifecycle?.userData ?? lifecycleNotWired });
  await app.register(twoFactorRoutes, {
    twoFactor: deps.accountSecurity?.twoFactor ?? accountsNotWired,
    cookies: sessionCookies,
  });
  await app.register(passwordResetRoutes, {
    passwordReset: deps.accountSecurity?.passwordReset ?? accountsNotWired,
  });
  await app.register(invitesRoutes, { invites: deps.accountSecurity?.invites ?? accountsNotWired });
  await app.register(outboxRoutes, {
    outbox: deps.accountSecurity?.outbox ?? accountsNotWired,
    delivery: deps.accountSecurity?.mailDelivery ?? 'outbox',
  });
  await app.register(apiKeysRoutes, { apiKeys: deps.apiKeys, audit: deps.audit });
  await app.register(eventsRoutes, {
    events: deps.events,
    analyses: deps.analysisService,
    limiter: createWebSocketLimiter({
      perPrincipal: limits.webSocketsPerPrincipal,
      total: limits.webSocketsTotal,
    }),
    pingIntervalMs: limits.webSocketPingIntervalMs,
  });
  await app.register(auditRoutes, { audit: deps.audit });
  await app.register(featureFlagsRoutes, deps.featureFlags ?? { flags: flagsNotWired, adminOrgs: [] });
  await app.register(uploadsRoutes, deps.uploads);
  await app.register(apiDocsRoutes);
  await app.register(userGuidesRoutes);
  await app.register(webAppRoutes, deps.webApp ?? { webAppDir: null });
  app.get(
    '/api/v1/openapi.json',
    { config: { access: { roles: ['admin', 'analyst', 'viewer', 'auditor'] } }, schema: { hide: true } },
    async () => app.swagger(),
  );
  return app;
}

/** The headers a helmet middleware sets: it sets the same ones on every response (no CSP nonces here). */
function headersSetBy(middleware: ReturnType<typeof helmet>): Record<string, string> {
  const headers: Record<string, string> = {};
  const response = {
    setHeader: (name: string, value: string) => void (headers[name.toLowerCase()] = String(value)),
    removeHeader: (name: string) => void delete headers[name.toLowerCase()],
  };
  let failure: unknown = null;
  middleware(
    {} as IncomingMessage,
    response as unknown as ServerResponse,
    (error) => (failure = error ?? null),
  );
  if (failure) throw failure;
  // helmet sets them synchronously; none would mean that changed, and every reply would go out without them.
  if (!headers['content-security-policy']) throw new Error('helmet set no Content-Security-Policy');
  return headers;
}
