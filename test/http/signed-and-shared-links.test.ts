import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer } from '../authorization/platform-app.js';
import { expectProblem } from '../authorization/route-matrix.js';
import { databaseImplementations, describeEachImplementation } from '../helpers/databases.js';
import {
  cropArtifact,
  openLinksHarness,
  type FinishedReport,
  type LinksHarness,
  type TestOrg,
} from './links-harness.js';
import { reportShareCases } from './report-shares.cases.js';

describeEachImplementation('signed links and report shares', databaseImplementations(), (implementation) => {
  let harness: LinksHarness;
  let orgA: TestOrg;
  let orgB: TestOrg;
  let report: FinishedReport;

  beforeAll(async () => {
    harness = await openLinksHarness(implementation);
    orgA = await harness.org('Links A');
    orgB = await harness.org('Links B');
    report = await harness.finishedReport(orgA.orgId);
  });

  afterAll(async () => {
    await harness?.close();
  });

  const inject = (
    method: 'GET' | 'POST' | 'HEAD' | 'DELETE',
    url: string,
    headers: Record<string, string> = {},
    payload?: object,
  ) => harness.app.inject({ method, url, headers, ...(payload ? { payload } : {}) });

  async function mediaLink(mediaId: string, key = orgA.keys.viewer, payload?: object): Promise<string> {
    const response = await inject('POST', `/api/v1/media/${mediaId}/content-links`, bearer(key), payload);
    expect(response.statusCode, response.body).toBe(201);
    const body = response.json<{ url: string; expiresAt: string }>();
    expect(body.url).toMatch(
      new RegExp(`^/api/v1/signed/media/${mediaId}/content\\?org=.+&exp=\\d+&sig=[\\w-]{43}$`),
    );
    return body.url;
  }

  const withParam = (url: string, name: string, value: string) => {
    const parsed = new URL(url, 'http://x');
    parsed.searchParams.set(name, value);
    return `${parsed.pathname}?${parsed.searchParams.toString()}`;
  };

  function expectPrivateDownload(response: LightMyRequestResponse) {
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(String(response.headers['content-disposition'])).toMatch(/^attachment; /);
  }

  describe('signed media links', () => {
    it('issues a 5-minute link by default that serves the file without any credential', async () => {
      const created = await inject(
        'POST',
        `/api/v1/media/${report.mediaId}/content-links`,
        bearer(orgA.keys.viewer),
      );
      expect(created.statusCode, created.body).toBe(201);
      const { url, expiresAt } = created.json<{ url: string; expiresAt: string }>();
      expect(new Date(expiresAt).getTime()).toBe(harness.clock.now.getTime() + 300_000);
      const response = await inject('GET', url);
      expect(response.statusCode, response.body).toBe(200);
      expect(response.rawPayload.equals(report.bytes)).toBe(true);
      expectPrivateDownload(response);
      expect(String(response.headers['content-disposition'])).toContain('interview-with-source.mp4');
    });

    it('answers a range with 206 and the bytes of that range', async () => {
      const url = await mediaLink(report.mediaId);
      const response = await inject('GET', url, { range: 'bytes=100-1099' });
      expect(response.statusCode, response.body).toBe(206);
      expect(response.headers['content-range']).toBe(`bytes 100-1099/${report.bytes.length}`);
      expect(response.rawPayload.equals(report.bytes.subarray(100, 1100))).toBe(true);
      const head = await inject('HEAD', url);
      expect(head.statusCode).toBe(200);
      expect(head.headers['content-length']).toBe(String(report.bytes.length));
    });

    it('ignores cookies: a link works the same with or without a session cookie', async () => {
      const url = await mediaLink(report.mediaId);
      const response = await inject('GET', url, { cookie: '__Host-session=not-a-session' });
      expect(response.statusCode, response.body).toBe(200);
    });

    it('refuses a tampered signature, media id, organisation or expiry with 403 link-invalid', async () => {
      const url = await mediaLink(report.mediaId);
      const sig = new URL(url, 'http://x').searchParams.get('sig') ?? '';
      const other = await harness.finishedReport(orgA.orgId, { filename: 'other.mp4' });
      const tampered = [
        withParam(url, 'sig', (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1)),
        url.replace(report.mediaId, other.mediaId),
        withParam(url, 'org', orgB.orgId),
        withParam(url, 'exp', String(Math.floor(harness.clock.now.getTime() / 1000) + 3600 * 24)),
        withParam(url, 'share', '00000000-0000-4000-8000-000000000000'),
        withParam(url, 'sig', 'short'),
        withParam(url, 'exp', 'soon'),
        url.replace(/&sig=[^&]+/, ''),
      ];
      for (const bad of tampered) {
        const response = await inject('GET', bad);
        if (response.statusCode === 400) {
          // Only a link missing a parameter altogether fails the schema; nothing is served either way.
          expect(bad).not.toContain('sig=');
          continue;
        }
        expectProblem(response, 403, 'link-invalid');
      }
    });

    it('a link for one object does not open another, even of the same organisation and purpose', async () => {
      const other = await harness.finishedReport(orgA.orgId);
      const url = await mediaLink(other.mediaId);
      expectProblem(await inject('GET', url.replace(other.mediaId, report.mediaId)), 403, 'link-invalid');
    });

    it('expires: after `exp` the same link answers 403 link-expired (injected clock)', async () => {
      const url = await mediaLink(report.mediaId, orgA.keys.viewer, { expiresInSeconds: 60 });
      const start = harness.clock.now;
      try {
        harness.clock.now = new Date(start.getTime() + 59_000);
        expect((await inject('GET', url)).statusCode).toBe(200);
        harness.clock.now = new Date(start.getTime() + 60_000);
        expectProblem(await inject('GET', url), 403, 'link-expired');
      } finally {
        harness.clock.now = start;
      }
    });

    it('bounds the lifetime: more than an hour, or less than 10 s, is refused', async () => {
      for (const expiresInSeconds of [3601, 5, 0]) {
        const response = await inject(
          'POST',
          `/api/v1/media/${report.mediaId}/content-links`,
          bearer(orgA.keys.viewer),
          { expiresInSeconds },
        );
        expectProblem(response, 400);
      }
      const extra = await inject(
        'POST',
        `/api/v1/media/${report.mediaId}/content-links`,
        bearer(orgA.keys.viewer),
        {
          expiresInSeconds: 60,
          orgId: orgB.orgId,
        },
      );
      expectProblem(extra, 400);
    });

    it('is issued only to readers of the organisation: another organisation gets 404, no key 401', async () => {
      expectProblem(
        await inject('POST', `/api/v1/media/${report.mediaId}/content-links`, bearer(orgB.keys.admin)),
        404,
      );
      expectProblem(await inject('POST', `/api/v1/media/${report.mediaId}/content-links`), 401);
      expectProblem(
        await inject('POST', `/api/v1/media/${report.mediaId}/content-links`, bearer(orgA.keys.auditor)),
        403,
      );
    });

    it('a link to media deleted since answers 410 media-deleted', async () => {
      const doomed = await harness.finishedReport(orgA.orgId);
      const url = await mediaLink(doomed.mediaId);
      const deleted = await inject(
        'DELETE' as 'POST',
        `/api/v1/media/${doomed.mediaId}`,
        bearer(orgA.keys.analyst),
      );
      expect(deleted.statusCode, deleted.body).toBe(204);
      expectProblem(await inject('GET', url), 410, 'media-deleted');
      expectProblem(
        await inject('POST', `/api/v1/media/${doomed.mediaId}/content-links`, bearer(orgA.keys.viewer)),
        404,
      );
    });
  });

  describe('signed artifact links', () => {
    const artifactPath = () => `/api/v1/analyses/${report.analysisId}/artifacts/face-noise-mismatch/crop.pgm`;

    it('serves the artifact without credentials, as an attachment', async () => {
      const created = await inject('POST', `${artifactPath()}/links`, bearer(orgA.keys.viewer));
      expect(created.statusCode, created.body).toBe(201);
      const { url } = created.json<{ url: string }>();
      expect(url).toMatch(/^\/api\/v1\/signed\/analyses\/.+\/artifacts\/face-noise-mismatch\/crop\.pgm\?/);
      const response = await inject('GET', url);
      expect(response.statusCode, response.body).toBe(200);
      expect(response.rawPayload.equals(cropArtifact)).toBe(true);
      expectPrivateDownload(response);
    });

    it('binds the artifact name and the purpose: a renamed or re-purposed link is refused', async () => {
      const { url } = (await inject('POST', `${artifactPath()}/links`, bearer(orgA.keys.viewer))).json<{
        url: string;
      }>();
      expectProblem(await inject('GET', url.replace('crop.pgm', 'timeline.json')), 403, 'link-invalid');
      // The same query on the media route: same organisation, but another purpose and object.
      const query = url.slice(url.indexOf('?'));
      expectProblem(
        await inject('GET', `/api/v1/signed/media/${report.mediaId}/content${query}`),
        403,
        'link-invalid',
      );
    });

    it('refuses a link for an artifact that does not exist (404), and other organisations (404)', async () => {
      expectProblem(
        await inject(
          'POST',
          artifactPath().replace('crop.pgm', 'nope.bin') + '/links',
          bearer(orgA.keys.viewer),
        ),
        404,
        'artifact-not-found',
      );
      expectProblem(await inject('POST', `${artifactPath()}/links`, bearer(orgB.keys.admin)), 404);
    });
  });

  describe('logs', () => {
    it('never carry a signature: the request URL is logged with sig redacted', async () => {
      const url = await mediaLink(report.mediaId);
      const sig = new URL(url, 'http://x').searchParams.get('sig') ?? '';
      await inject('GET', url, { range: 'bytes=0-9' });
      const all = harness.logLines.join('');
      expect(all).toContain('/api/v1/signed/media/');
      expect(all).toContain('sig=[redacted]');
      expect(all).not.toContain(sig);
    });
  });
  reportShareCases(() => ({ harness, orgA, orgB, report }));
});
