import { createHash } from 'node:crypto';
import { expect, it, describe } from 'vitest';
import { bearer } from '../authorization/platform-app.js';
import { expectProblem } from '../authorization/route-matrix.js';
import { createAuditLogService } from '../../src/services/audit-log.service.js';
import { createAuditRepository } from '../../src/repositories/audit.repository.js';
import { createAnalysisRepository } from '../../src/repositories/analysis.repository.js';
import { analysisView } from '../../src/http/views.js';
import { cropArtifact, type FinishedReport, type LinksHarness, type TestOrg } from './links-harness.js';

export interface ShareCaseContext {
  harness: LinksHarness;
  orgA: TestOrg;
  orgB: TestOrg;
  report: FinishedReport;
}

interface CreatedShare {
  id: string;
  token: string;
  path: string;
  status: string;
  expiresAt: string;
  includeMedia: boolean;
}

interface SharedReportBody {
  analysis: { id: string; band: string; report: Record<string, unknown> | null };
  sharedUntil: string;
  media: { url: string; expiresAt: string; mimeType: string } | null;
  artifacts: { name: string; href: string | null }[];
}

/** Share-link cases, run inside a describe that opened the harness (one database per implementation). */
export function reportShareCases(context: () => ShareCaseContext): void {
  const h = () => context().harness;
  const inject = (
    method: 'GET' | 'POST' | 'DELETE',
    url: string,
    headers: Record<string, string> = {},
    payload?: object,
    remoteAddress?: string,
  ) =>
    h().app.inject({
      method,
      url,
      headers,
      ...(payload ? { payload } : {}),
      ...(remoteAddress ? { remoteAddress } : {}),
    });

  async function createShare(payload?: object, key = context().orgA.keys.analyst, analysisId?: string) {
    const id = analysisId ?? context().report.analysisId;
    const response = await inject('POST', `/api/v1/analyses/${id}/shares`, bearer(key), payload);
    expect(response.statusCode, response.body).toBe(201);
    return response.json<CreatedShare>();
  }

  const open = (token: string) => inject('GET', `/api/v1/shared-reports/${token}`);

  async function auditActions(
    orgId: string,
  ): Promise<
    { action: string; actor: { type: string }; target: unknown; details: Record<string, unknown> }[]
  > {
    const audit = createAuditLogService({ audit: createAuditRepository({ db: h().database.db }) });
    return (await audit.list({ orgId, limit: 200 })).events;
  }

  describe('report share links', () => {
    it('creates a share (72 h by default), shows the token once, stores only its SHA-256', async () => {
      const created = await createShare({ label: 'sent to the legal desk' });
      expect(created.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(created.path).toBe(`/shared/${created.token}`);
      expect(created.status).toBe('active');
      expect(new Date(created.expiresAt).getTime()).toBe(h().clock.now.getTime() + 72 * 3_600_000);
      const rows = await h()
        .database.db.selectFrom('report_shares')
        .selectAll()
        .where('id', '=', created.id)
        .execute();
      expect(rows).toHaveLength(1);
      expect(rows[0]?.token_hash).toBe(createHash('sha256').update(created.token).digest('hex'));
      expect(JSON.stringify(rows)).not.toContain(created.token);
      const listed = await inject(
        'GET',
        `/api/v1/analyses/${context().report.analysisId}/shares`,
        bearer(context().orgA.keys.admin),
      );
      expect(listed.statusCode, listed.body).toBe(200);
      expect(listed.body).not.toContain(created.token);
      expect(listed.json<{ items: { id: string; label: string }[] }>().items).toContainEqual(
        expect.objectContaining({ id: created.id, label: 'sent to the legal desk', useCount: 0 }),
      );
    });

    it('serves the report read-only without sign-in, the report the owner sees, without media by default', async () => {
      const { token } = await createShare();
      const response = await open(token);
      expect(response.statusCode, response.body).toBe(200);
      expect(response.headers['cache-control']).toBe('no-store');
      const body = response.json<SharedReportBody>();
      const stored = await createAnalysisRepository({ db: h().database.db }).findById(
        context().orgA.orgId,
        context().report.analysisId,
      );
      expect(body.analysis).toEqual(JSON.parse(JSON.stringify(analysisView(stored!))));
      expect(body.analysis).toMatchObject({ id: context().report.analysisId, band: 'inconclusive' });
      expect(body.analysis.report).toMatchObject({ reasons: ['a reason'] });
      expect(body.media).toBeNull();
      expect(body.artifacts).toEqual([]);
      expect(response.body).not.toContain('interview-with-source');
    });

    it('counts every use and audits only the first (anonymous actor)', async () => {
      const { id, token } = await createShare();
      for (let i = 0; i < 3; i += 1) expect((await open(token)).statusCode).toBe(200);
      const row = await h()
        .database.db.selectFrom('report_shares')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      expect(Number(row.use_count)).toBe(3);
      expect(row.first_used_at).not.toBeNull();
      const events = (await auditActions(context().orgA.orgId)).filter(
        (event) => (event.target as { id?: string } | null)?.id === id,
      );
      expect(events.map((event) => event.action).sort()).toEqual([
        'report-share.create',
        'report-share.first-use',
      ]);
      expect(events.find((event) => event.action === 'report-share.first-use')?.actor.type).toBe('anonymous');
      expect(JSON.stringify(events)).not.toContain(token);
    });

    it('an unknown or malformed token gets 403 share-link-invalid', async () => {
      const { token } = await createShare();
      const altered = (token[0] === 'A' ? 'B' : 'A') + token.slice(1);
      for (const bad of [altered, 'short', 'x'.repeat(43)])
        expectProblem(await open(bad), 403, 'share-link-invalid');
    });

    it('expires: after its end the token gets 403 share-link-expired (injected clock)', async () => {
      const { token } = await createShare({ expiresInHours: 1 });
      const start = h().clock.now;
      try {
        h().clock.now = new Date(start.getTime() + 3_599_000);
        expect((await open(token)).statusCode).toBe(200);
        h().clock.now = new Date(start.getTime() + 3_600_000);
        expectProblem(await open(token), 403, 'share-link-expired');
      } finally {
        h().clock.now = start;
      }
    });

    it('bounds the lifetime (1 h to 30 days) and refuses unknown fields', async () => {
      const url = `/api/v1/analyses/${context().report.analysisId}/shares`;
      for (const payload of [
        { expiresInHours: 0 },
        { expiresInHours: 721 },
        { orgId: context().orgB.orgId },
        { label: 'x'.repeat(201) },
      ]) {
        expectProblem(await inject('POST', url, bearer(context().orgA.keys.analyst), payload), 400);
      }
    });

    it('revokes at once, audited; revoking again is harmless and writes nothing more', async () => {
      const { id, token } = await createShare();
      expect((await open(token)).statusCode).toBe(200);
      const revoked = await inject('DELETE', `/api/v1/shares/${id}`, bearer(context().orgA.keys.admin));
      expect(revoked.statusCode, revoked.body).toBe(204);
      expectProblem(await open(token), 403, 'share-link-revoked');
      expect(
        (await inject('DELETE', `/api/v1/shares/${id}`, bearer(context().orgA.keys.admin))).statusCode,
      ).toBe(204);
      const revocations = (await auditActions(context().orgA.orgId)).filter(
        (event) => event.action === 'report-share.revoke' && (event.target as { id?: string }).id === id,
      );
      expect(revocations).toHaveLength(1);
      const listed = await inject(
        'GET',
        `/api/v1/analyses/${context().report.analysisId}/shares`,
        bearer(context().orgA.keys.analyst),
      );
      expect(listed.json<{ items: { id: string; status: string }[] }>().items).toContainEqual(
        expect.objectContaining({ id, status: 'revoked' }),
      );
    });

    it('is organisation-scoped: another organisation cannot create, list or revoke (404)', async () => {
      const { id, token } = await createShare();
      const { orgB, report } = context();
      expectProblem(
        await inject('POST', `/api/v1/analyses/${report.analysisId}/shares`, bearer(orgB.keys.admin)),
        404,
      );
      expectProblem(
        await inject('GET', `/api/v1/analyses/${report.analysisId}/shares`, bearer(orgB.keys.admin)),
        404,
      );
      expectProblem(await inject('DELETE', `/api/v1/shares/${id}`, bearer(orgB.keys.admin)), 404);
      expect((await open(token)).statusCode).toBe(200);
    });

    it('viewers and auditors cannot manage shares (403); no credentials 401', async () => {
      const { orgA, report } = context();
      const url = `/api/v1/analyses/${report.analysisId}/shares`;
      for (const key of [orgA.keys.viewer, orgA.keys.auditor]) {
        expectProblem(await inject('POST', url, bearer(key)), 403);
        expectProblem(await inject('GET', url, bearer(key)), 403);
      }
      expectProblem(await inject('POST', url), 401);
    });

    it('only a finished report can be shared (409 analysis-not-finished)', async () => {
      const queued = await h().finishedReport(context().orgA.orgId, { status: 'queued' });
      const response = await inject(
        'POST',
        `/api/v1/analyses/${queued.analysisId}/shares`,
        bearer(context().orgA.keys.analyst),
      );
      expectProblem(response, 409, 'analysis-not-finished');
    });

    it('with includeMedia: signed media and artifact links that work, drop the file name, and die with the share', async () => {
      const { orgA } = context();
      const fresh = await h().finishedReport(orgA.orgId);
      const { id, token } = await createShare({ includeMedia: true }, orgA.keys.analyst, fresh.analysisId);
      const body = (await open(token)).json<SharedReportBody>();
      expect(body.media).toMatchObject({ mimeType: 'video/mp4' });
      const media = await inject('GET', body.media?.url ?? '');
      expect(media.statusCode, media.body).toBe(200);
      expect(media.rawPayload.equals(fresh.bytes)).toBe(true);
      expect(String(media.headers['content-disposition'])).not.toContain('interview');
      expect(String(media.headers['content-disposition'])).toContain(fresh.mediaId);
      const crop = body.artifacts.find((artifact) => artifact.name === 'crop.pgm');
      const artifact = await inject('GET', crop?.href ?? '');
      expect(artifact.statusCode, artifact.body).toBe(200);
      expect(artifact.rawPayload.equals(cropArtifact)).toBe(true);

      await inject('DELETE', `/api/v1/shares/${id}`, bearer(orgA.keys.analyst));
      expectProblem(await inject('GET', body.media?.url ?? ''), 403, 'link-revoked');
      expectProblem(await inject('GET', crop?.href ?? ''), 403, 'link-revoked');
    });

    it('with includeMedia after the media was deleted: the report, but no media and no artifact bytes', async () => {
      const { orgA } = context();
      const fresh = await h().finishedReport(orgA.orgId);
      const { token } = await createShare({ includeMedia: true }, orgA.keys.analyst, fresh.analysisId);
      await h().deleteMedia(orgA, fresh.mediaId);
      const response = await open(token);
      expect(response.statusCode, response.body).toBe(200);
      const body = response.json<SharedReportBody>();
      expect(body.media).toBeNull();
      expect(body.artifacts.every((artifact) => artifact.href === null)).toBe(true);
    });

    it('rate-limits the public endpoint per client address (429 after 30 a minute)', async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 31; i += 1) {
        statuses.push(
          (await inject('GET', '/api/v1/shared-reports/unknown', {}, undefined, '203.0.113.77')).statusCode,
        );
      }
      expect(statuses.slice(0, 30).every((status) => status === 403)).toBe(true);
      expect(statuses[30]).toBe(429);
    });

    it('never logs a share token', async () => {
      const { token } = await createShare();
      await open(token);
      const logs = h().logLines.join('');
      expect(logs).toContain('/api/v1/shared-reports/[redacted]');
      expect(logs).not.toContain(token);
    });
  });
}
