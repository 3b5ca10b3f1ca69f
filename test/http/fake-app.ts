import { randomBytes, randomUUID } from 'node:crypto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import type { Analysis, ApiKeyRole, Media } from '../../src/db/schema.js';
import type { EventBus } from '../../src/events/event-bus.js';
import type { Authenticator, Principal } from '../../src/http/access-control.js';
import { buildApp, type AppDeps } from '../../src/http/build-app.js';
import type { HttpLimits } from '../../src/http/http-limits.js';
import type { ResumableUploadHandler } from '../../src/http/routes/uploads.routes.js';
import type { WebAppOptions } from '../../src/http/routes/web-app.routes.js';
import type { AnalysisRepository } from '../../src/repositories/analysis.repository.js';
import type { AnalysisArtifactsService } from '../../src/services/analysis-artifacts.service.js';
import type { AnalysisService } from '../../src/services/analysis.service.js';
import type { ApiKeyService } from '../../src/services/api-key.service.js';
import type { AuditLogService } from '../../src/services/audit-log.service.js';
import type { MediaService } from '../../src/services/media.service.js';
import type { StoredMediaService } from '../../src/services/stored-media.service.js';
import { testLogger } from '../helpers/databases.js';
import type { CallLog } from '../services/strict-fake.js';

export const validKey = `sag_${randomBytes(32).toString('base64url')}`;

export const principal: Principal = {
  orgId: randomUUID(),
  orgName: 'Newsroom',
  role: 'analyst',
  actor: { type: 'api-key', keyId: randomUUID() },
};

export const authorized = { authorization: `Bearer ${validKey}` };

/** What a test lets the app's collaborators do; everything else is a strict fake that throws. */
export interface FakeCollaborators {
  /** The role validKey authenticates as (analyst by default). */
  role?: ApiKeyRole;
  mediaService?: Partial<MediaService>;
  storedMedia?: Partial<StoredMediaService>;
  analysisService?: Partial<AnalysisService>;
  analysisArtifacts?: Partial<AnalysisArtifactsService>;
  analyses?: Partial<AnalysisRepository>;
  events?: Partial<EventBus>;
  uploads?: Partial<ResumableUploadHandler>;
  webApp?: WebAppOptions;
  httpLimits?: HttpLimits;
}

/** buildApp over strict fakes; only the authenticator works by default (validKey → an analyst of one org). */
export async function buildFakeApp(log: CallLog, fakes: FakeCollaborators = {}): Promise<FastifyInstance> {
  const deps: AppDeps = {
    log: testLogger(),
    authenticator: log.fake<Authenticator>('authenticator', {
      authenticate: async (token) =>
        token === validKey ? { ...principal, role: fakes.role ?? principal.role } : null,
    }),
    mediaService: log.fake<MediaService>('mediaService', fakes.mediaService ?? {}),
    storedMedia: log.fake<StoredMediaService>('storedMedia', fakes.storedMedia ?? {}),
    analysisService: log.fake<AnalysisService>('analysisService', fakes.analysisService ?? {}),
    analysisArtifacts: log.fake<AnalysisArtifactsService>('analysisArtifacts', fakes.analysisArtifacts ?? {}),
    analyses: log.fake<AnalysisRepository>('analyses', fakes.analyses ?? {}),
    events: log.fake<EventBus>('events', fakes.events ?? {}),
    healthChecks: [],
    uploads: { handler: log.fake<ResumableUploadHandler>('uploads', fakes.uploads ?? {}) },
    maxUploadBytes: 1024 * 1024,
    trustedProxies: [],
    apiKeys: log.fake<ApiKeyService>('apiKeys', {}),
    audit: log.fake<AuditLogService>('audit', {}),
    ...(fakes.webApp ? { webApp: fakes.webApp } : {}),
    ...(fakes.httpLimits ? { httpLimits: fakes.httpLimits } : {}),
  };
  const app = await buildApp(deps);
  await app.ready();
  return app;
}

// Stack frames, raw or JSON-escaped, and source paths.
const stackTrace = /(\n|\\n)\s+at |node_modules|\.[cm]?[jt]s:\d+|\bat (async )?[\w.<>]+ \(/;

/** An RFC 9457 problem with this status (and code), and nothing from a stack trace. */
export function expectProblem(response: LightMyRequestResponse, status: number, code?: string) {
  expect(response.statusCode, response.body).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(response.body).not.toMatch(stackTrace);
  if (response.body === '') return {}; // HEAD: headers only
  const body = response.json<Record<string, unknown>>();
  expect(body).toMatchObject({
    status,
    type: expect.stringMatching(/^https:\/\//),
    title: expect.any(String),
  });
  expect(body).not.toHaveProperty('stack');
  if (code) expect(body.code).toBe(code);
  return body;
}

export function analysisRow(overrides: Partial<Analysis> = {}): Analysis {
  const at = new Date('2025-03-01T12:00:00.000Z');
  return {
    id: randomUUID(),
    org_id: principal.orgId,
    media_id: randomUUID(),
    pipeline_version: 'test-pipeline',
    status: 'queued',
    progress: 0,
    stage: null,
    band: null,
    report: null,
    error_code: null,
    error_detail: null,
    attempts: 0,
    run: 1,
    created_at: at,
    started_at: null,
    finished_at: null,
    updated_at: at,
    ...overrides,
  };
}

export function mediaRow(overrides: Partial<Media> = {}): Media {
  return {
    id: randomUUID(),
    org_id: principal.orgId,
    sha256: 'ab'.repeat(32),
    size_bytes: 4,
    mime_type: 'video/mp4',
    original_filename: 'clip.mp4',
    blob_key: 'media-x',
    status: 'stored',
    deleted_at: null,
    uploader_type: null,
    uploader_id: null,
    legal_hold_reason: null,
    legal_hold_at: null,
    legal_hold_by: null,
    probe: {},
    created_at: new Date('2025-03-01T12:00:00.000Z'),
    ...overrides,
  };
}

/** A multipart/form-data body with one file part under `field`. */
export function multipartBody(field: string, content: Buffer, filename = 'clip.mp4') {
  const boundary = `----guardian${randomBytes(8).toString('hex')}`;
  const payload = Buffer.concat([
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="${filename}"\r\n` +
        'Content-Type: video/mp4\r\n\r\n',
    ),
    content,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { payload, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}
