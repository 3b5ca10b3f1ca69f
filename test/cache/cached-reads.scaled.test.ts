import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createOrganisationWithKeys, type RoleKeys } from '../authorization/platform-app.js';
import {
  databaseImplementations,
  describeEachImplementation,
  type TestDatabase,
} from '../helpers/databases.js';
import { createMediaTempDir, generateStill, type MediaTempDir } from '../helpers/media-fixtures.js';
import { deleteRedisKeys, redisImplementation, uniqueRedisPrefix } from '../helpers/redis.js';
import { apiClient, openCachePlatform, type CachePlatform } from './cache-harness.js';

const postgres = databaseImplementations().find((implementation) => implementation.name === 'postgres');
const redis = redisImplementation();
const scaled = {
  name: 'PostgreSQL + Redis, two API servers',
  ...(postgres?.skipReason || redis.skipReason
    ? { skipReason: postgres?.skipReason ?? redis.skipReason }
    : {}),
};

describeEachImplementation('cached reads shared by API servers', [scaled], () => {
  const prefix = uniqueRedisPrefix('cache');
  let dataDir: string;
  let database: TestDatabase;
  let one: CachePlatform;
  let two: CachePlatform;
  let org: { orgId: string; name: string; keys: RoleKeys };
  let temp: MediaTempDir;
  let still: Buffer;
  let clockAheadMs = 0;
  const apiKeyCacheSeconds = 5;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'guardian-cache-scaled-'));
    database = await postgres!.open();
    await database.close();
    const env = {
      DATA_DIR: dataDir,
      DATABASE_URL: database.settings.databaseUrl ?? '',
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: prefix,
      MASTER_KEY: 'ab'.repeat(32),
      API_KEY_CACHE_SECONDS: String(apiKeyCacheSeconds),
    };
    // Real time, moved forward by the test that waits out API_KEY_CACHE_SECONDS.
    const now = () => new Date(Date.now() + clockAheadMs);
    one = await openCachePlatform(env, now);
    two = await openCachePlatform(env, now);
    org = await createOrganisationWithKeys(one.platform, 'Cache scaled');
    temp = await createMediaTempDir();
    still = await readFile(await generateStill(temp.dir));
  });

  afterAll(async () => {
    await one?.close();
    await two?.close();
    await database?.destroy();
    await deleteRedisKeys(redis.url, prefix);
    await temp?.remove();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('uses Redis on both servers', () => {
    expect([one.platform.readCache.kind, two.platform.readCache.kind]).toEqual(['redis', 'redis']);
  });

  it('a write through one server invalidates the reply the other has cached', async () => {
    const apiOne = apiClient(one.app);
    const apiTwo = apiClient(two.app);
    const media = await apiOne.upload(still, org.keys.analyst, 'one.png');

    // Server two caches the page and the failed report...
    const page = await apiTwo.listBody(org.keys.viewer);
    const hitsBefore = two.platform.readCache.stats().hits;
    expect(await apiTwo.listBody(org.keys.viewer)).toBe(page);
    expect(two.platform.readCache.stats().hits).toBe(hitsBefore + 1);
    // ...and server one, which cached nothing of it, serves the same bytes from Redis.
    expect(await apiOne.listBody(org.keys.viewer)).toBe(page);

    // A status change on server one (the queue gave up on the analysis) is seen by server two at once.
    await one.platform.services.analysisService.onJobExhausted(
      { analysisId: media.analysisId, orgId: org.orgId },
      { jobId: media.analysisId, attempts: 3, cause: 'worker-lost', error: 'killed' },
    );
    expect((await apiTwo.list(org.keys.viewer))[0]?.latestAnalysis).toMatchObject({ status: 'failed' });
    const report = await apiTwo.reportBody(media.analysisId, org.keys.viewer);
    expect(JSON.parse(report)).toMatchObject({ status: 'failed' });

    // A legal hold set through server one shows on server two's cached report.
    const hold = await apiOne.request('PUT', `/api/v1/media/${media.id}/legal-hold`, org.keys.admin, {
      reason: 'case 9',
    });
    expect(hold.statusCode, hold.body).toBe(200);
    expect(
      JSON.parse(await apiTwo.reportBody(media.analysisId, org.keys.viewer)).mediaLegalHold,
    ).toMatchObject({
      reason: 'case 9',
    });
    await apiOne.request('DELETE', `/api/v1/media/${media.id}/legal-hold`, org.keys.admin);

    // An upload and a deletion through server two: server one's cached page follows.
    await apiOne.list(org.keys.viewer);
    const second = await apiTwo.upload(still, org.keys.analyst, 'two.png');
    expect((await apiOne.list(org.keys.viewer)).map((item) => item.id)).toEqual([second.id, media.id]);
    expect((await apiTwo.request('DELETE', `/api/v1/media/${media.id}`, org.keys.analyst)).statusCode).toBe(
      204,
    );
    expect((await apiOne.list(org.keys.viewer)).map((item) => item.id)).toEqual([second.id]);
  });

  it('an API key revoked through one server fails there at once, and on the other once its cached check lapses', async () => {
    const created = await one.platform.services.apiKeyService.create({
      orgName: org.name,
      name: 'revoked across servers',
      role: 'viewer',
    });
    const status = async (server: CachePlatform) =>
      (await apiClient(server.app).request('GET', '/api/v1/media', created.key)).statusCode;
    expect([await status(one), await status(two)]).toEqual([200, 200]);

    await one.platform.services.apiKeyService.revoke(org.orgId, created.id);
    expect(await status(one)).toBe(401);
    // The documented trade-off (docs/caching.md): server two still trusts its check of the key for a while...
    expect(await status(two)).toBe(200);
    clockAheadMs = apiKeyCacheSeconds * 1000 + 1;
    try {
      // ...and never past API_KEY_CACHE_SECONDS.
      expect(await status(two)).toBe(401);
    } finally {
      clockAheadMs = 0;
    }
  });
});
