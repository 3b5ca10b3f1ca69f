import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import {
  databaseImplementations,
  describeEachImplementation,
  type TestDatabase,
} from '../helpers/databases.js';
import { startGuardian, type RunningGuardian } from '../helpers/guardian-process.js';
import { deleteRedisKeys, redisImplementation, uniqueRedisPrefix } from '../helpers/redis.js';
import { describeUploadContract } from './upload-contract.js';

const limitBytes = 3 * 1024 * 1024;
const postgres = databaseImplementations().find((implementation) => implementation.name === 'postgres');
const redis = redisImplementation();
const scaled = {
  name: 'PostgreSQL + Redis with an API-only server and a separate worker',
  ...(postgres?.skipReason || redis.skipReason
    ? { skipReason: postgres?.skipReason ?? redis.skipReason }
    : {}),
};

describeEachImplementation('guardian serve scaled out', [scaled], () => {
  const dir = mkdtempSync(join(tmpdir(), 'guardian-e2e-scaled-'));
  const prefix = uniqueRedisPrefix('e2e');
  const masterKey = 'cd'.repeat(32);
  let database: TestDatabase;
  let server: RunningGuardian;
  let worker: RunningGuardian;
  const env: NodeJS.ProcessEnv = {
    DATA_DIR: join(dir, 'data'),
    PORT: '0',
    MAX_UPLOAD_BYTES: String(limitBytes),
    MASTER_KEY: masterKey,
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: prefix,
  };

  beforeAll(async () => {
    database = await postgres!.open();
    await database.close();
    env.DATABASE_URL = database.settings.databaseUrl;
    // The API process runs no analysis: reports can only come from the separate worker.
    server = await startGuardian('serve', { ...env, WORKER_CONCURRENCY: '0' });
    worker = await startGuardian('worker', env);
  });

  afterAll(async () => {
    const codes = await Promise.all([server?.stop(), worker?.stop()]);
    await database?.destroy();
    await deleteRedisKeys(redis.url, prefix);
    rmSync(dir, { recursive: true, force: true });
    expect(codes).toEqual([0, 0]);
  });

  describeUploadContract(() => ({
    baseUrl: server.url ?? '',
    env,
    dataDir: env.DATA_DIR ?? '',
    limitBytes,
    workDir: dir,
  }));
});
