import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createArtifactCollector } from '../../src/pipeline/artifact-collector.js';
import type { DetectorArtifact } from '../../src/pipeline/detector.js';
import type { AnalysisReport, DetectorReport } from '../../src/pipeline/report.js';
import {
  bearer,
  createOrganisationWithKeys,
  openPlatformApp,
  type PlatformApp,
  type RoleKeys,
} from '../authorization/platform-app.js';
import { expectProblem } from '../authorization/route-matrix.js';
import { createMediaTempDir, generateClip, type MediaTempDir } from '../helpers/media-fixtures.js';

const timeline = Buffer.from('{"frames":[0.25,0.5]}');
const crop = Buffer.concat([Buffer.from('P5\n2 2\n255\n'), Buffer.from([0, 64, 128, 255])]);
const html = Buffer.from('<script>alert(1)</script>');
const scores = Buffer.from('[0.1]');

const detectorArtifacts: Record<string, DetectorArtifact[]> = {
  'face-noise-mismatch': [
    { name: 'noise-timeline.json', contentType: 'application/json', description: 'timeline', data: timeline },
    { name: 'crop.pgm', contentType: 'image/x-portable-graymap', description: 'face crop', data: crop },
    { name: 'page.html', contentType: 'text/html', description: 'a type never served as is', data: html },
  ],
  'model:redness': [
    { name: 'scores.json', contentType: 'application/json', description: 'scores', data: scores },
  ],
};

interface ListedArtifact {
  detector: string;
  name: string;
  contentType: string;
  sizeBytes: number;
  sha256: string;
  href: string | null;
  unavailableReason?: string;
}

let opened: PlatformApp;
let media: MediaTempDir;
let orgA: { orgId: string; keys: RoleKeys };
let orgB: { orgId: string; keys: RoleKeys };
let mediaId: string;
let analysisId: string;

const get = (url: string, key?: string): Promise<LightMyRequestResponse> =>
  opened.app.inject({ method: 'GET', url, ...(key ? { headers: bearer(key) } : {}) });
const listPath = () => `/api/v1/analyses/${analysisId}/artifacts`;

beforeAll(async () => {
  opened = await openPlatformApp();
  media = await createMediaTempDir('guardian-artifact-routes-');
  orgA = await createOrganisationWithKeys(opened.platform, 'Artifacts A');
  orgB = await createOrganisationWithKeys(opened.platform, 'Artifacts B');
  const clip = await generateClip(media.dir, { seconds: 1, size: '160x120' });
  const registered = await opened.platform.services.mediaService.upload({
    orgId: orgA.orgId,
    source: createReadStream(clip),
    filename: 'clip.mp4',
  });
  mediaId = registered.id;
  analysisId = registered.analysisId;
  // What a finished run leaves: the listing in the report, the bytes stored beside it.
  const delivered = new Map<string, Buffer>();
  const collector = createArtifactCollector({
    sink: (fullName, artifact) => void delivered.set(fullName, artifact.data),
  });
  const detectors: DetectorReport[] = [];
  for (const [id, artifacts] of Object.entries(detectorArtifacts)) {
    detectors.push({
      id,
      version: '1',
      strength: 'standard',
      applicable: true,
      score: 0.2,
      coverage: null,
      explanation: 'measured',
      evidence: [],
      measurements: {},
      durationMs: 1,
      artifacts: await collector.accept(id, artifacts),
    });
  }
  const report = { band: 'inconclusive', reasons: [], detectors } as unknown as AnalysisReport;
  await opened.platform.services.analysisArtifacts.save(analysisId, report, delivered);
  await opened.platform.repositories.analyses.complete(analysisId, { band: 'inconclusive', report });
});

afterAll(async () => {
  await opened?.close();
  await media?.remove();
});

describe('GET /api/v1/analyses/:id/artifacts', () => {
  it('lists every artifact in report order with its digest and where to fetch it', async () => {
    const response = await get(listPath(), orgA.keys.viewer);
    expect(response.statusCode, response.body).toBe(200);
    const body = response.json<{ analysisId: string; status: string; artifacts: ListedArtifact[] }>();
    expect(body).toMatchObject({ analysisId, status: 'done' });
    expect(body.artifacts.map((artifact) => [artifact.detector, artifact.name, artifact.href])).toEqual([
      [
        'face-noise-mismatch',
        'noise-timeline.json',
        `/api/v1/analyses/${analysisId}/artifacts/face-noise-mismatch/noise-timeline.json`,
      ],
      [
        'face-noise-mismatch',
        'crop.pgm',
        `/api/v1/analyses/${analysisId}/artifacts/face-noise-mismatch/crop.pgm`,
      ],
      [
        'face-noise-mismatch',
        'page.html',
        `/api/v1/analyses/${analysisId}/artifacts/face-noise-mismatch/page.html`,
      ],
      [
        'model:redness',
        'scores.json',
        `/api/v1/analyses/${analysisId}/artifacts/model%3Aredness/scores.json`,
      ],
    ]);
    expect(body.artifacts[1]).toMatchObject({
      contentType: 'image/x-portable-graymap',
      sizeBytes: crop.length,
      sha256: createHash('sha256').update(crop).digest('hex'),
    });
  });

  it('answers 404 to another organisation, 401 without credentials and 403 to an auditor', async () => {
    expectProblem(await get(listPath(), orgB.keys.admin), 404, 'not-found');
    expectProblem(await get(listPath()), 401, 'unauthenticated');
    expectProblem(await get(listPath(), orgA.keys.auditor), 403, 'forbidden');
  });
});

describe('GET /api/v1/analyses/:id/artifacts/:detector/:name', () => {
  const fetchPath = (detector: string, name: string) =>
    `${listPath()}/${encodeURIComponent(detector)}/${encodeURIComponent(name)}`;

  it('serves JSON as JSON, inline, with nosniff and a sandboxing CSP', async () => {
    const response = await get(fetchPath('face-noise-mismatch', 'noise-timeline.json'), orgA.keys.viewer);
    expect(response.statusCode, response.body).toBe(200);
    expect(response.rawPayload).toEqual(timeline);
    expect(response.headers).toMatchObject({
      'content-type': 'application/json',
      'x-content-type-options': 'nosniff',
      'content-security-policy': "default-src 'none'; sandbox",
      'content-length': String(timeline.length),
    });
    expect(response.headers['content-disposition']).toBeUndefined();
  });

  it('serves anything else as an attachment, and unknown types as bytes', async () => {
    const pgm = await get(fetchPath('face-noise-mismatch', 'crop.pgm'), orgA.keys.analyst);
    expect(pgm.statusCode, pgm.body).toBe(200);
    expect(pgm.rawPayload).toEqual(crop);
    expect(pgm.headers['content-type']).toBe('image/x-portable-graymap');
    expect(pgm.headers['content-disposition']).toBe('attachment; filename="crop.pgm"');
    const page = await get(fetchPath('face-noise-mismatch', 'page.html'), orgA.keys.viewer);
    expect(page.rawPayload).toEqual(html);
    expect(page.headers['content-type']).toBe('application/octet-stream');
    expect(page.headers['content-disposition']).toBe('attachment; filename="page.html"');
    expect(page.headers['content-security-policy']).toBe("default-src 'none'; sandbox");
  });

  it('takes a detector id with a colon, percent-encoded', async () => {
    const response = await get(fetchPath('model:redness', 'scores.json'), orgA.keys.viewer);
    expect(response.statusCode, response.body).toBe(200);
    expect(response.rawPayload).toEqual(scores);
  });

  it('answers 404 artifact-not-found for an unknown artifact, 404 to another organisation, 401 without credentials', async () => {
    expectProblem(
      await get(fetchPath('face-noise-mismatch', 'other.json'), orgA.keys.viewer),
      404,
      'artifact-not-found',
    );
    expectProblem(await get(fetchPath('nobody', 'crop.pgm'), orgA.keys.viewer), 404, 'artifact-not-found');
    expectProblem(await get(fetchPath('face-noise-mismatch', 'crop.pgm'), orgB.keys.admin), 404, 'not-found');
    expectProblem(await get(fetchPath('face-noise-mismatch', 'crop.pgm')), 401, 'unauthenticated');
  });
});

describe('after the media is deleted', () => {
  it('lists the artifacts as shredded and serves none of them', async () => {
    const deleted = await opened.app.inject({
      method: 'DELETE',
      url: `/api/v1/media/${mediaId}`,
      headers: bearer(orgA.keys.analyst),
    });
    expect(deleted.statusCode, deleted.body).toBe(204);
    const listed = (await get(listPath(), orgA.keys.viewer)).json<{ artifacts: ListedArtifact[] }>();
    expect(listed.artifacts).toHaveLength(4);
    for (const artifact of listed.artifacts)
      expect(artifact).toMatchObject({
        href: null,
        unavailableReason: 'shredded when the media was deleted',
      });
    expectProblem(
      await get(`${listPath()}/face-noise-mismatch/crop.pgm`, orgA.keys.viewer),
      404,
      'artifact-not-found',
    );
  });
});
