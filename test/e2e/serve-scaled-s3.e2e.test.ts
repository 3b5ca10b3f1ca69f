import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  databaseImplementations,
  describeEachImplementation,
  type TestDatabase,
} from '../helpers/databases.js';
import { startGuardian, type RunningGuardian } from '../helpers/guardian-process.js';
import { generateClip } from '../helpers/media-fixtures.js';
import { deleteRedisKeys, redisImplementation, uniqueRedisPrefix } from '../helpers/redis.js';
import { startLocalS3, type LocalS3 } from '../helpers/s3rver.js';
import {
  createOrgsAndKeys,
  expectCompleteReport,
  getJson,
  uploadMultipart,
  waitForAnalysis,
  type Keys,
} from './upload-flow.js';

const postgres = databaseImplementations().find((implementation) => implementation.name === 'postgres');
const redis = redisImplementation();
const scaled = {
  name: 'PostgreSQL + Redis + S3 (s3rver): two API servers and a worker, no shared directory',
  ...(postgres?.skipReason || redis.skipReason
    ? { skipReason: postgres?.skipReason ?? redis.skipReason }
    : {}),
};

describeEachImplementation('guardian scaled out on S3', [scaled], () => {
  const dir = mkdtempSync(join(tmpdir(), 'guardian-e2e-s3-'));
  const prefix = uniqueRedisPrefix('e2e-s3');
  const dataDirs = ['api-a', 'api-b', 'worker', 'cli'].map((name) => join(dir, name));
  let database: TestDatabase;
  let localS3: LocalS3;
  let servers: RunningGuardian[] = [];
  let worker: RunningGuardian;
  let env: NodeJS.ProcessEnv;
  let keys: Keys;
  let clip: Buffer;
  let clipPath: string;
  const stored: { mediaId: string; analysisId: string }[] = [];

  beforeAll(async () => {
    [database, localS3] = await Promise.all([postgres!.open(), startLocalS3({ prefix: 'guardian/' })]);
    await database.close();
    const { privateKey } = generateKeyPairSync('ed25519');
    env = {
      PORT: '0',
      MASTER_KEY: 'ef'.repeat(32),
      LOG_SIGNING_KEY: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      DATABASE_URL: database.settings.databaseUrl,
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: prefix,
      ...localS3.env,
    };
    const api = (index: number) =>
      startGuardian('serve', { ...env, DATA_DIR: dataDirs[index], WORKER_CONCURRENCY: '0' });
    // The first server migrates the database; the rest start together.
    const first = await api(0);
    let second: RunningGuardian;
    [second, worker, keys, clipPath] = await Promise.all([
      api(1),
      startGuardian('worker', { ...env, DATA_DIR: dataDirs[2] }),
      createOrgsAndKeys({ ...env, DATA_DIR: dataDirs[3] }),
      // The clip of the upload contract: a clean single encode, so the report is complete.
      generateClip(dir, { name: 'clip', seconds: 4, size: '640x360', fps: 25, gop: 25, audio: true }),
    ]);
    servers = [first, second];
    clip = readFileSync(clipPath);
  });

  afterAll(async () => {
    const codes = await Promise.all([...servers.map((server) => server.stop()), worker?.stop()]);
    await database?.destroy();
    await localS3?.close();
    await deleteRedisKeys(redis.url, prefix);
    rmSync(dir, { recursive: true, force: true });
    expect(codes).toEqual([0, 0, 0]);
  });

  const url = (index: number) => servers[index % 2]!.url ?? '';
  const auth = () => ({ authorization: `Bearer ${keys.analyst}` });

  it('continues a tus upload on whichever server gets the next PATCH', async () => {
    const created = await fetch(`${url(0)}/api/v1/uploads`, {
      method: 'POST',
      headers: {
        ...auth(),
        'Tus-Resumable': '1.0.0',
        'Upload-Length': String(clip.length),
        'Upload-Metadata': `filename ${Buffer.from('alternating.mp4').toString('base64')}`,
      },
    });
    expect(created.status).toBe(201);
    const location = created.headers.get('location') ?? '';
    const uploadId = location.split('/').at(-1) ?? '';
    // Not a multiple of the 64 KiB segment: servers resume from sealed partial tails as well as whole segments.
    const chunk = Math.ceil(clip.length / 5) + 7;
    let finished: Response | undefined;
    for (let offset = 0, index = 0; offset < clip.length; offset += chunk, index += 1) {
      const response = await fetch(`${url(index)}/api/v1/uploads/${uploadId}`, {
        method: 'PATCH',
        headers: {
          ...auth(),
          'Tus-Resumable': '1.0.0',
          'Upload-Offset': String(offset),
          'Content-Type': 'application/offset+octet-stream',
        },
        body: clip.subarray(offset, offset + chunk),
      });
      expect(response.status, await response.clone().text()).toBe(204);
      expect(Number(response.headers.get('upload-offset'))).toBe(Math.min(offset + chunk, clip.length));
      finished = response;
    }
    const mediaId = finished?.headers.get('guardian-media-id') ?? '';
    const analysisId = finished?.headers.get('guardian-analysis-id') ?? '';
    expect(mediaId).toMatch(/^[0-9a-f-]{36}$/);
    stored.push({ mediaId, analysisId });
    for (const index of [0, 1]) {
      const receipt = await getJson(url(index), keys.analyst, `/api/v1/uploads/${uploadId}`);
      expect(receipt.body).toMatchObject({ status: 'stored', mediaId, analysisId });
    }
  });

  it('takes a multipart upload straight to S3', async () => {
    const response = await uploadMultipart(url(1), keys.analyst, clipPath);
    const body = (await response.json()) as Record<string, string>;
    expect(response.status, JSON.stringify(body)).toBe(201);
    stored.push({ mediaId: body.id ?? '', analysisId: body.analysisId ?? '' });
  });

  it('analyses both on the worker and serves identical bytes from either server', async () => {
    expect(stored).toHaveLength(2);
    for (const [index, { mediaId, analysisId }] of stored.entries()) {
      expectCompleteReport(await waitForAnalysis(url(index), keys.analyst, analysisId));
      const download = await fetch(`${url(index + 1)}/api/v1/media/${mediaId}/content`, { headers: auth() });
      expect(download.status).toBe(200);
      expect(Buffer.from(await download.arrayBuffer()).equals(clip)).toBe(true);
    }
  });

  it('keeps blobs and staging in the bucket only, as ciphertext', async () => {
    for (const dataDir of dataDirs) {
      const entries = existsSync(dataDir) ? readdirSync(dataDir, { recursive: true }).map(String) : [];
      expect(
        entries.filter((entry) => /^(blobs|uploads)(\/|$)/.test(entry)),
        dataDir,
      ).toEqual([]);
    }
    const objects = await localS3.listAll();
    for (const { mediaId } of stored) {
      expect(objects).toContain(`guardian/blobs/media-${mediaId}.key`);
      expect(objects).toContain(`guardian/blobs/media-${mediaId}.sagb`);
    }
    expect(
      objects.filter((name) => name.startsWith('guardian/uploads/') && !name.endsWith('receipt.json')),
    ).toEqual([]);
    const payload = await localS3.objects.get(`guardian/blobs/media-${stored[1]!.mediaId}.sagb`);
    expect(payload!.includes(clip.subarray(0, 4096))).toBe(false);
  });
});
