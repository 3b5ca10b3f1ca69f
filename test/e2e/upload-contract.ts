import { beforeAll, expect, it } from 'vitest';
import { writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import {
  h264SpsBomb,
  jpegClaimingHuge,
  jpegCut,
  mp4WithCutIndex,
  mp4WithoutSampleData,
  mp4WithSampleDataCut,
  pngClaiming,
} from '../helpers/hostile-media.js';
import { generateClip } from '../helpers/media-fixtures.js';
import {
  createOrgsAndKeys,
  expectCompleteReport,
  expectProblem,
  getJson,
  storedFiles,
  uploadMultipart,
  uploadProblem,
  uploadWithTus,
  waitForAnalysis,
  writeBadInputs,
  type Keys,
} from './upload-flow.js';

export interface RunningPlatform {
  baseUrl: string;
  env: NodeJS.ProcessEnv;
  dataDir: string;
  limitBytes: number;
  workDir: string;
}

/** The public upload → analysis contract, run against each deployment shape. */
export function describeUploadContract(platform: () => RunningPlatform): void {
  let keys: Keys;
  let clip: string;
  let mediaId: string;
  let analysisId: string;

  beforeAll(async () => {
    const { env, workDir } = platform();
    keys = await createOrgsAndKeys(env);
    clip = await generateClip(workDir, {
      name: 'clip',
      seconds: 4,
      size: '640x360',
      fps: 25,
      gop: 25,
      audio: true,
    });
  });

  it('answers health checks', async () => {
    const { baseUrl } = platform();
    expect((await getJson(baseUrl, null, '/livez')).status).toBe(200);
    const ready = await getJson(baseUrl, null, '/readyz');
    expect(ready.status, JSON.stringify(ready.body)).toBe(200);
  });

  it('takes a multipart upload and produces a report with a band and detector results', async () => {
    const { baseUrl } = platform();
    const response = await uploadMultipart(baseUrl, keys.analyst, clip);
    const body = (await response.json()) as Record<string, string>;
    expect(response.status, JSON.stringify(body)).toBe(201);
    expect(body.sha256).toMatch(/^[0-9a-f]{64}$/);
    mediaId = body.id ?? '';
    analysisId = body.analysisId ?? '';
    const analysis = await waitForAnalysis(baseUrl, keys.analyst, analysisId);
    expectCompleteReport(analysis);
    const media = await getJson(baseUrl, keys.viewer, `/api/v1/media/${mediaId}`);
    expect(media.status).toBe(200);
    expect(media.body.analysisId).toBe(analysisId);
  });

  it('keeps organisations apart and enforces roles', async () => {
    const { baseUrl } = platform();
    expectProblem(await getJson(baseUrl, keys.otherOrgAnalyst, `/api/v1/media/${mediaId}`), 404, 'not-found');
    expectProblem(
      await getJson(baseUrl, keys.otherOrgAnalyst, `/api/v1/analyses/${analysisId}`),
      404,
      'not-found',
    );
    expectProblem(await getJson(baseUrl, null, `/api/v1/analyses/${analysisId}`), 401, 'unauthenticated');
    expectProblem(
      await getJson(baseUrl, 'sag_not-a-real-key-000000000000', `/api/v1/media/${mediaId}`),
      401,
      'unauthenticated',
    );
    expectProblem(await uploadProblem(baseUrl, keys.viewer, clip, 'clip.mp4'), 403, 'forbidden');
  });

  it('rejects empty, HTML, truncated and oversized files with problem+json and keeps nothing', async () => {
    const { baseUrl, dataDir, limitBytes, workDir } = platform();
    const before = storedFiles(dataDir);
    const bad = writeBadInputs(workDir, clip, limitBytes);
    expectProblem(await uploadProblem(baseUrl, keys.analyst, bad.empty, 'empty.mp4'), 422, 'empty-file');
    expectProblem(
      await uploadProblem(baseUrl, keys.analyst, bad.html, 'page.mp4'),
      415,
      'unsupported-media-type',
    );
    expectProblem(
      await uploadProblem(baseUrl, keys.analyst, bad.truncated, 'truncated.mp4'),
      422,
      'media-truncated',
    );
    expectProblem(
      await uploadProblem(baseUrl, keys.analyst, bad.oversized, 'oversized.mp4'),
      413,
      'upload-too-large',
    );
    expect(storedFiles(dataDir)).toEqual(before);
  });

  it('refuses cut, empty-of-data and oversized-picture media with their 422 codes and keeps nothing', async () => {
    const { baseUrl, dataDir, workDir } = platform();
    const before = storedFiles(dataDir);
    const pngBomb = join(workDir, 'png-bomb.png');
    await writeFile(pngBomb, pngClaiming(65535, 65535, 4));
    const cases: [string, string][] = [
      [await mp4WithCutIndex(workDir), 'media-truncated'],
      [await mp4WithoutSampleData(workDir), 'media-truncated'],
      [await h264SpsBomb(workDir), 'media-dimensions-too-large'],
      [pngBomb, 'media-dimensions-too-large'],
      [await jpegClaimingHuge(workDir), 'media-dimensions-too-large'],
      [await jpegCut(workDir, 0.45), 'media-truncated'],
    ];
    for (const [path, code] of cases) {
      const problem = await uploadProblem(baseUrl, keys.analyst, path, basename(path));
      expectProblem(problem, 422, code);
      expect(String(problem.body.detail)).not.toMatch(/127\.0\.0\.1/);
    }
    expect(storedFiles(dataDir)).toEqual(before);
  });

  it('accepts an MP4 with 70% of its sample data missing, and its report says it is truncated', async () => {
    const { baseUrl, workDir } = platform();
    const partial = await mp4WithSampleDataCut(workDir, 0.3);
    const response = await uploadMultipart(baseUrl, keys.analyst, partial, 'partial.mp4');
    expect(response.status).toBe(201);
    const uploaded = (await response.json()) as { analysisId: string };
    const analysis = await waitForAnalysis(baseUrl, keys.analyst, uploaded.analysisId);
    const report = analysis.report as {
      integrity: { truncated: boolean; presentFraction: number; samplesClaimed: number };
      reasons: string[];
    };
    expect(report.integrity).toMatchObject({ truncated: true, samplesClaimed: 100 });
    expect(report.integrity.presentFraction).toBeGreaterThan(0.15);
    expect(report.integrity.presentFraction).toBeLessThan(0.45);
    expect(report.reasons[0]).toMatch(/^the file is truncated/);
  });

  it('takes a resumable tus upload and analyses it', async () => {
    const { baseUrl } = platform();
    const finished = await uploadWithTus(baseUrl, keys.analyst, clip);
    expect(finished.sha256).toMatch(/^[0-9a-f]{64}$/);
    expectCompleteReport(await waitForAnalysis(baseUrl, keys.analyst, String(finished.analysisId)));
  });
}
