import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '../../src/http/access-control.js';
import { createOrganisationWithKeys, type RoleKeys } from '../authorization/platform-app.js';
import { createMediaTempDir, generateStill, type MediaTempDir } from '../helpers/media-fixtures.js';
import { apiClient, openCachePlatform, runAnalysis, type CachePlatform } from './cache-harness.js';

// The embedded platform (PGlite, in-process cache), driven through its HTTP routes and services.
const clock = { now: new Date() };
const dataDir = await mkdtemp(join(tmpdir(), 'guardian-cache-'));
let opened: CachePlatform;
let api: ReturnType<typeof apiClient>;
let orgA: { orgId: string; name: string; keys: RoleKeys };
let orgB: { orgId: string; name: string; keys: RoleKeys };
let temp: MediaTempDir;
let clip: Buffer;
let first: { id: string; analysisId: string };

const hits = () => opened.platform.readCache.stats().hits;
const client = { ip: '192.0.2.1', userAgent: 'cache-test' };

beforeAll(async () => {
  opened = await openCachePlatform({ DATA_DIR: dataDir }, () => clock.now);
  api = apiClient(opened.app);
  orgA = await createOrganisationWithKeys(opened.platform, 'Cache A');
  orgB = await createOrganisationWithKeys(opened.platform, 'Cache B');
  temp = await createMediaTempDir();
  // A small still: its analysis runs in a moment.
  clip = await readFile(await generateStill(temp.dir));
  first = await api.upload(clip, orgA.keys.analyst, 'first.png');
});

afterAll(async () => {
  await opened?.close();
  await temp?.remove();
  await rm(dataDir, { recursive: true, force: true });
});

describe('cached reads on the embedded platform', () => {
  it('is the in-process cache', () => {
    expect(opened.platform.readCache.kind).toBe('memory');
  });

  it('serves the first media page from the cache, byte for byte what the uncached route sends', async () => {
    const miss = await api.listBody(orgA.keys.viewer);
    const before = hits();
    const hit = await api.listBody(orgA.keys.viewer);
    expect(hits()).toBe(before + 1);
    expect(hit).toBe(miss);
    // A filtered read is never cached; with a filter every item passes, it is the same reply, serialized anew.
    expect(await api.listBody(orgA.keys.viewer, '?status=queued')).toBe(hit);
    expect(hits()).toBe(before + 1);
    // The reply does not depend on the role: every reader gets the same bytes.
    expect(await api.listBody(orgA.keys.admin)).toBe(hit);
    expect(await api.listBody(orgA.keys.analyst)).toBe(hit);
  });

  it('refuses a role that may not read, cached or not', async () => {
    expect((await api.request('GET', '/api/v1/media', orgA.keys.auditor)).statusCode).toBe(403);
    expect(
      (await api.request('GET', `/api/v1/analyses/${first.analysisId}`, orgA.keys.auditor)).statusCode,
    ).toBe(403);
  });

  it('shows an upload at once', async () => {
    await api.list(orgA.keys.viewer);
    const second = await api.upload(clip, orgA.keys.analyst, 'second.png');
    expect((await api.list(orgA.keys.viewer)).map((item) => item.id)).toEqual([second.id, first.id]);
    // Cleaned up for the next cases: deleting it is a write path of its own.
    expect((await api.request('DELETE', `/api/v1/media/${second.id}`, orgA.keys.analyst)).statusCode).toBe(
      204,
    );
    expect((await api.list(orgA.keys.viewer)).map((item) => item.id)).toEqual([first.id]);
    expect((await api.request('GET', `/api/v1/media/${second.id}`, orgA.keys.viewer)).statusCode).toBe(404);
  });

  it('never caches a live analysis, and shows the finished report as soon as it is written', async () => {
    const queued = await api.reportBody(first.analysisId, orgA.keys.viewer);
    expect(JSON.parse(queued)).toMatchObject({ status: 'queued' });
    const before = hits();
    expect(await api.reportBody(first.analysisId, orgA.keys.viewer)).toBe(queued);
    expect(hits()).toBe(before);

    await runAnalysis(opened.platform, orgA.orgId, first.analysisId);
    const done = await api.reportBody(first.analysisId, orgA.keys.viewer);
    expect(JSON.parse(done)).toMatchObject({ status: 'done', band: expect.any(String) });
    expect(await api.reportBody(first.analysisId, orgA.keys.analyst)).toBe(done);
    expect(hits()).toBe(before + 1);
    const [item] = await api.list(orgA.keys.viewer);
    expect(item?.latestAnalysis).toMatchObject({ id: first.analysisId, status: 'done' });
  });

  it('shows a legal hold set and released on the report and the list', async () => {
    await api.reportBody(first.analysisId, orgA.keys.viewer);
    const set = await api.request('PUT', `/api/v1/media/${first.id}/legal-hold`, orgA.keys.admin, {
      reason: 'case 7',
    });
    expect(set.statusCode, set.body).toBe(200);
    expect(JSON.parse(await api.reportBody(first.analysisId, orgA.keys.viewer)).mediaLegalHold).toMatchObject(
      {
        reason: 'case 7',
      },
    );
    expect((await api.list(orgA.keys.viewer))[0]?.legalHold).toBe(true);
    expect(
      (await api.request('DELETE', `/api/v1/media/${first.id}/legal-hold`, orgA.keys.admin)).statusCode,
    ).toBe(204);
    expect(JSON.parse(await api.reportBody(first.analysisId, orgA.keys.viewer)).mediaLegalHold).toBeNull();
    expect((await api.list(orgA.keys.viewer))[0]?.legalHold).toBe(false);
  });

  it('shows a re-run, and a failed analysis', async () => {
    await api.list(orgA.keys.viewer);
    const rerun = await api.request('POST', `/api/v1/media/${first.id}/analyses`, orgA.keys.analyst);
    expect(rerun.statusCode, rerun.body).toBe(202);
    const rerunId = rerun.json<{ id: string }>().id;
    expect((await api.list(orgA.keys.viewer))[0]?.latestAnalysis).toMatchObject({
      id: rerunId,
      status: 'queued',
    });
    // The queue gives up on it: it fails, through the same path a worker's last attempt takes.
    await opened.platform.services.analysisService.onJobExhausted(
      { analysisId: rerunId, orgId: orgA.orgId },
      { jobId: rerunId, attempts: 3, cause: 'worker-lost', error: 'killed' },
    );
    expect((await api.list(orgA.keys.viewer))[0]?.latestAnalysis).toMatchObject({
      id: rerunId,
      status: 'failed',
    });
    const failed = await api.reportBody(rerunId, orgA.keys.viewer);
    expect(JSON.parse(failed)).toMatchObject({ status: 'failed', error: { code: 'worker-lost' } });
    expect(await api.reportBody(rerunId, orgA.keys.viewer)).toBe(failed);
  });

  it('keeps organisations apart: their own lists, and another organisation’s report is a 404 even when cached', async () => {
    const listA = await api.listBody(orgA.keys.viewer);
    await api.reportBody(first.analysisId, orgA.keys.viewer);
    expect(JSON.parse(await api.listBody(orgB.keys.viewer))).toEqual({ items: [], nextCursor: null });
    const foreign = await api.request('GET', `/api/v1/analyses/${first.analysisId}`, orgB.keys.admin);
    expect(foreign.statusCode).toBe(404);
    expect(foreign.body).not.toContain(first.id);
    const uploadB = await api.upload(clip, orgB.keys.analyst, 'b.png');
    expect((await api.list(orgB.keys.viewer)).map((item) => item.id)).toEqual([uploadB.id]);
    // B's write left A's cached page in place.
    const before = hits();
    expect(await api.listBody(orgA.keys.viewer)).toBe(listA);
    expect(hits()).toBe(before + 1);
  });

  it('drops what the retention job shreds', async () => {
    const doomed = await api.upload(clip, orgB.keys.analyst, 'old.png');
    const policy = await api.request('PUT', '/api/v1/organisation/retention-policy', orgB.keys.admin, {
      mediaRetentionDays: 1,
    });
    expect(policy.statusCode, policy.body).toBe(200);
    expect((await api.list(orgB.keys.viewer)).map((item) => item.id)).toContain(doomed.id);
    clock.now = new Date(clock.now.getTime() + 2 * 86_400_000);
    const run = await opened.platform.services.retentionService.run();
    expect(run.shredded).toBe(2);
    expect(await api.list(orgB.keys.viewer)).toEqual([]);
  });

  it('shows an erased uploader’s pseudonym', async () => {
    const { platform } = opened;
    const email = `uploader-${randomUUID().slice(0, 8)}@example.org`;
    const user = await platform.services.userService.create(
      { orgId: orgA.orgId, email, password: 'correct horse battery staple', role: 'analyst' },
      { actor: { type: 'cli', id: null } },
    );
    const uploaded = await platform.services.mediaService.upload({
      orgId: orgA.orgId,
      source: Readable.from([clip]),
      filename: 'by-user.png',
      uploader: { type: 'user', id: user.id },
    });
    // Held, so the erasure keeps it and only the uploader's name changes.
    await api.request('PUT', `/api/v1/media/${uploaded.id}/legal-hold`, orgA.keys.admin, { reason: 'keep' });
    const labelOf = async () =>
      (await api.list(orgA.keys.viewer)).find((item) => item.id === uploaded.id)?.uploader?.label;
    expect(await labelOf()).toBe(email);
    const erased = await api.request('POST', `/api/v1/users/${user.id}/erasure`, orgA.keys.admin, {
      confirmEmail: email,
    });
    expect(erased.statusCode, erased.body).toBe(200);
    expect(await labelOf()).toBe(`erased-${user.id}@erased.invalid`);
  });

  it('invalidates through the services a write path reaches without HTTP', async () => {
    // The principal an admin API key gives: the path the erasure route takes, without the route.
    const keyId = randomUUID();
    const principal: Principal = {
      orgId: orgA.orgId,
      orgName: orgA.name,
      role: 'admin',
      actor: { type: 'api-key', keyId },
    };
    await api.list(orgA.keys.viewer);
    await opened.platform.services.legalHoldService.release(principal, first.id, client);
    await opened.platform.services.storedMediaService.delete(principal, first.id, client);
    expect((await api.list(orgA.keys.viewer)).map((item) => item.id)).not.toContain(first.id);
  });
});
