import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  createOrganisationWithKeys,
  openPlatformApp,
  type RoleKeys,
} from '../authorization/platform-app.js';
import { createMediaTempDir, generateClip, type MediaTempDir } from '../helpers/media-fixtures.js';
import { expectProblem, multipartBody } from './fake-app.js';

const opened = await openPlatformApp();
const { app, platform } = opened;
let orgA: { orgId: string; keys: RoleKeys };
let orgB: { orgId: string; keys: RoleKeys };
let temp: MediaTempDir;
let clip: Buffer;
let uploaded: { id: string; analysisId: string };

const get = (url: string, key: string) => app.inject({ method: 'GET', url, headers: bearer(key) });
const rerun = (id: string, key: string) =>
  app.inject({
    method: 'POST',
    url: `/api/v1/media/${id}/analyses`,
    headers: { ...bearer(key), 'user-agent': 'rerun-test/1.0' },
    remoteAddress: '192.0.2.7',
  });

beforeAll(async () => {
  orgA = await createOrganisationWithKeys(platform, 'History A');
  orgB = await createOrganisationWithKeys(platform, 'History B');
  temp = await createMediaTempDir();
  clip = await readFile(await generateClip(temp.dir, { seconds: 1, fps: 5 }));
  const { payload, headers } = multipartBody('file', clip, '50%_off [final].mp4');
  const response = await app.inject({
    method: 'POST',
    url: '/api/v1/media',
    payload,
    headers: { ...headers, ...bearer(orgA.keys.analyst) },
  });
  expect(response.statusCode, response.body).toBe(201);
  uploaded = response.json();
});

afterAll(async () => {
  await opened.close();
  await temp.remove();
});

describe('GET /api/v1/media', () => {
  it('lists the upload with its name, size, type, uploader and latest analysis', async () => {
    const response = await get('/api/v1/media?limit=10', orgA.keys.viewer);
    expect(response.statusCode, response.body).toBe(200);
    expect(response.headers['cache-control']).toMatch(/no-store/);
    const body = response.json<{ items: Record<string, unknown>[]; nextCursor: string | null }>();
    expect(body.nextCursor).toBeNull();
    const key = await platform.database.db
      .selectFrom('api_keys')
      .select(['id', 'name'])
      .where('org_id', '=', orgA.orgId)
      .where('role', '=', 'analyst')
      .executeTakeFirstOrThrow();
    expect(body.items).toEqual([
      {
        id: uploaded.id,
        sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
        sizeBytes: clip.length,
        mimeType: 'video/mp4',
        originalFilename: '50%_off [final].mp4',
        createdAt: expect.any(String),
        uploader: { type: 'api-key', id: key.id, label: key.name },
        legalHold: false,
        latestAnalysis: { id: uploaded.analysisId, status: 'queued', band: null },
      },
    ]);
    const byUploader = await get(
      `/api/v1/media?uploader=${key.id}&q=${encodeURIComponent('%_OFF')}`,
      orgA.keys.viewer,
    );
    expect(byUploader.json<{ items: unknown[] }>().items).toHaveLength(1);
    const miss = await get(`/api/v1/media?q=${encodeURIComponent('0%_x')}`, orgA.keys.viewer);
    expect(miss.json<{ items: unknown[] }>().items).toHaveLength(0);
  });

  it("shows nothing of another organisation's media, with or without filters", async () => {
    for (const url of [
      '/api/v1/media',
      '/api/v1/analyses',
      '/api/v1/media?q=off',
      '/api/v1/analyses?status=queued',
    ]) {
      const response = await get(url, orgB.keys.admin);
      expect(response.statusCode, url).toBe(200);
      expect(response.json(), url).toEqual({ items: [], nextCursor: null });
    }
  });

  it('pages with an opaque cursor and refuses a bad one with 400 invalid-cursor', async () => {
    const org = await createOrganisationWithKeys(platform, 'History paging');
    const ids: string[] = [];
    for (let index = 0; index < 5; index += 1) {
      const id = randomUUID();
      ids.push(id);
      await platform.repositories.media.insert(platform.database.db, {
        id,
        org_id: org.orgId,
        sha256: 'cd'.repeat(32),
        size_bytes: 10,
        mime_type: 'image/png',
        original_filename: `still-${index}.png`,
        blob_key: `media-${id}`,
        status: 'stored',
        probe: '{}',
      });
    }
    const seen: string[] = [];
    let url = '/api/v1/media?limit=2';
    for (let pages = 0; pages < 10; pages += 1) {
      const page = (await get(url, org.keys.viewer)).json<{
        items: { id: string }[];
        nextCursor: string | null;
      }>();
      seen.push(...page.items.map((item) => item.id));
      if (!page.nextCursor) break;
      expect(page.nextCursor).toMatch(/^[A-Za-z0-9_-]+$/);
      url = `/api/v1/media?limit=2&cursor=${page.nextCursor}`;
    }
    expect([...seen].sort()).toEqual([...ids].sort());
    expect(new Set(seen).size).toBe(5);
    expectProblem(await get('/api/v1/media?cursor=garbage!', org.keys.viewer), 400, 'invalid-cursor');
    const mediaCursor = (await get('/api/v1/media?limit=1', org.keys.viewer)).json<{ nextCursor: string }>()
      .nextCursor;
    expectProblem(
      await get(`/api/v1/analyses?cursor=${mediaCursor}`, org.keys.viewer),
      400,
      'invalid-cursor',
    );
  });

  it.each([
    ['limit=0', 'validation-failed'],
    ['limit=101', 'validation-failed'],
    ['band=authentic', 'validation-failed'],
    ['status=paused', 'validation-failed'],
    ['from=yesterday', 'validation-failed'],
    ['uploader=not-a-uuid', 'validation-failed'],
    ['orgId=00000000-0000-0000-0000-000000000000', 'validation-failed'],
    ['from=2025-02-01T00:00:00Z&to=2025-01-01T00:00:00Z', 'invalid-date-range'],
  ])('refuses ?%s with 400 %s', async (query, code) => {
    expectProblem(await get(`/api/v1/media?${query}`, orgA.keys.viewer), 400, code);
    expectProblem(await get(`/api/v1/analyses?${query}`, orgA.keys.viewer), 400, code);
  });
});

describe('POST /api/v1/media/:id/analyses', () => {
  it('answers 409 analysis-in-progress while the upload analysis is queued, then 202 with a new run once it ended', async () => {
    const busy = await rerun(uploaded.id, orgA.keys.analyst);
    const problem = expectProblem(busy, 409, 'analysis-in-progress');
    expect(problem.analysisId).toBe(uploaded.analysisId);

    await platform.repositories.analyses.fail(uploaded.analysisId, {
      code: 'analysis-failed',
      detail: 'test',
    });
    const response = await rerun(uploaded.id, orgA.keys.admin);
    expect(response.statusCode, response.body).toBe(202);
    const created = response.json<{ id: string; mediaId: string; status: string; pipelineVersion: string }>();
    expect(created).toMatchObject({
      mediaId: uploaded.id,
      status: 'queued',
      pipelineVersion: platform.pipeline.version,
    });
    expect(created.id).not.toBe(uploaded.analysisId);
    expect(response.headers.location).toBe(`/api/v1/analyses/${created.id}`);

    // The job is queued (embedded queue: a row in the same transaction as the analysis).
    expect(await platform.queue.isPending('analysis.run', created.id)).toBe(true);
    const media = (await get(`/api/v1/media/${uploaded.id}`, orgA.keys.viewer)).json();
    expect(media).toMatchObject({ analysisId: created.id, analysisStatus: 'queued' });
    const runs = (await get('/api/v1/analyses', orgA.keys.viewer)).json<{
      items: { id: string; run: number }[];
    }>();
    expect(runs.items.filter((item) => [created.id, uploaded.analysisId].includes(item.id))).toEqual([
      expect.objectContaining({ id: created.id, run: 2, status: 'queued' }),
      expect.objectContaining({
        id: uploaded.analysisId,
        run: 1,
        status: 'failed',
        errorCode: 'analysis-failed',
      }),
    ]);
    expectProblem(await rerun(uploaded.id, orgA.keys.analyst), 409, 'analysis-in-progress');

    const audit = (await get('/api/v1/audit-events?limit=50', orgA.keys.admin)).json<{
      events: Record<string, unknown>[];
    }>();
    const reruns = audit.events.filter((event) => event.action === 'analysis.rerun');
    expect(reruns).toHaveLength(1);
    expect(reruns[0]).toMatchObject({
      outcome: 'success',
      actor: { type: 'api-key' },
      target: { type: 'analysis', id: created.id },
      ip: '192.0.2.7',
      userAgent: 'rerun-test/1.0',
      details: { mediaId: uploaded.id, run: 2 },
    });
    expect(await platform.auditLog.verify()).toMatchObject({ ok: true });
  });

  it('refuses viewers and auditors (403), other organisations and unknown media (404)', async () => {
    for (const role of ['viewer', 'auditor'] as const)
      expectProblem(await rerun(uploaded.id, orgA.keys[role]), 403, 'forbidden');
    expectProblem(await rerun(uploaded.id, orgB.keys.admin), 404, 'not-found');
    expectProblem(await rerun(randomUUID(), orgA.keys.admin), 404, 'not-found');
    expectProblem(await rerun('not-a-uuid', orgA.keys.admin), 400, 'validation-failed');
  });
});
