import { createHash } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/evidence/canonical-json.js';
import type { EvidenceBundle } from '../../src/evidence/evidence-bundle.js';
import {
  bearer,
  createOrganisationWithKeys,
  openPlatformApp,
  type PlatformApp,
  type RoleKeys,
} from '../authorization/platform-app.js';
import { expectProblem } from '../authorization/route-matrix.js';
import { createMediaTempDir, generateStill, type MediaTempDir } from '../helpers/media-fixtures.js';
import { documentText, loadPdf } from '../reporting/pdf-content.js';
import { analysisReport } from '../reporting/report-fixture.js';

const publicUrl = 'https://guardian.example.org';

let opened: PlatformApp;
let media: MediaTempDir;
let orgA: { orgId: string; keys: RoleKeys };
let orgB: { orgId: string; keys: RoleKeys };
let analysisId: string;
let mediaSha256: string;

const get = (url: string, key?: string): Promise<LightMyRequestResponse> =>
  opened.app.inject({ method: 'GET', url, ...(key ? { headers: bearer(key) } : {}) });
const pdfPath = () => `/api/v1/analyses/${analysisId}/report.pdf`;

beforeAll(async () => {
  // No worker runs (WORKER_CONCURRENCY=0): the analysis stays queued until the test completes it.
  opened = await openPlatformApp({ PUBLIC_URL: publicUrl });
  media = await createMediaTempDir('guardian-report-pdf-');
  orgA = await createOrganisationWithKeys(opened.platform, 'Report A');
  orgB = await createOrganisationWithKeys(opened.platform, 'Report B');
  const still = await generateStill(media.dir, { format: 'png', size: '64x48', name: 'still' });
  mediaSha256 = createHash('sha256').update(readFileSync(still)).digest('hex');
  const registered = await opened.platform.services.mediaService.upload({
    orgId: orgA.orgId,
    source: createReadStream(still),
    filename: 'Пресс-конференция 記者会見.png',
  });
  analysisId = registered.analysisId;
});

afterAll(async () => {
  await opened?.close();
  await media?.remove();
});

describe('GET /api/v1/analyses/:id/report.pdf', () => {
  it('answers 409 analysis-not-done while the analysis is queued', async () => {
    expectProblem(await get(pdfPath(), orgA.keys.viewer), 409, 'analysis-not-done');
  });

  it('serves the finished report as a PDF download that names the band and the statement digest', async () => {
    const report = analysisReport({ band: 'no_indicators', reasons: ['every applicable check scored low'] });
    report.media.sha256 = mediaSha256;
    expect(
      await opened.platform.repositories.analyses.complete(analysisId, { band: report.band, report }),
    ).toBe(true);
    const response = await get(pdfPath(), orgA.keys.viewer);
    expect(response.statusCode, response.body).toBe(200);
    expect(response.headers['content-type']).toBe('application/pdf');
    expect(response.headers['content-disposition']).toBe(
      `attachment; filename="guardian-report-${analysisId}.pdf"`,
    );
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(Number(response.headers['content-length'])).toBe(response.rawPayload.length);
    expect(response.rawPayload.subarray(0, 5).toString('latin1')).toBe('%PDF-');

    const bundle = (
      await get(`/api/v1/analyses/${analysisId}/evidence`, orgA.keys.viewer)
    ).json<EvidenceBundle>();
    const statementSha256 = createHash('sha256')
      .update(canonicalJson(bundle.statement), 'utf8')
      .digest('hex');
    const doc = await loadPdf(response.rawPayload);
    const lines = documentText(doc).split('\n');
    expect(lines).toContain('No indicators found by these checks');
    expect(lines).toContain(statementSha256);
    expect(lines).toContain(mediaSha256);
    expect(lines).toContain(String(bundle.leafIndex));
    expect(lines.join('')).toContain(
      `${publicUrl}/verify?leaf=${bundle.leafIndex}&statement=${statementSha256}`,
    );
    // The Cyrillic and Japanese name does not crash the standard fonts: shown as '?', exact in the title.
    expect(lines).toContain('?????-??????????? ????.png');
    expect(doc.getTitle()).toBe('Analysis report: Пресс-конференция 記者会見.png');
    // PDF dates hold whole seconds.
    expect(doc.getCreationDate()?.toISOString()).toBe(
      bundle.statement.completedAt.replace(/\.\d+Z$/, '.000Z'),
    );
    expect(lines).toContain(bundle.statement.completedAt);
  });

  it('gives the same bytes on a second request (nothing in the log moved)', async () => {
    const [first, second] = [await get(pdfPath(), orgA.keys.analyst), await get(pdfPath(), orgA.keys.admin)];
    expect(first.statusCode).toBe(200);
    expect(first.rawPayload.equals(second.rawPayload)).toBe(true);
  });

  it('answers 404 to another organisation and 401 without credentials, and 403 to an auditor', async () => {
    expectProblem(await get(pdfPath(), orgB.keys.admin), 404, 'not-found');
    expectProblem(await get(pdfPath()), 401, 'unauthenticated');
    expectProblem(await get(pdfPath(), orgA.keys.auditor), 403, 'forbidden');
  });

  it('answers 400 for an id that is not a UUID', async () => {
    expectProblem(
      await get('/api/v1/analyses/not-a-uuid/report.pdf', orgA.keys.viewer),
      400,
      'validation-failed',
    );
  });
});
