import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  databaseImplementations,
  describeEachImplementation,
  type TestDatabase,
} from '../helpers/databases.js';
import { startGuardian, type RunningGuardian } from '../helpers/guardian-process.js';
import { deleteRedisKeys, redisImplementation, uniqueRedisPrefix } from '../helpers/redis.js';
import { parseExposition, sumOf } from './exposition.js';

const postgres = databaseImplementations().find((implementation) => implementation.name === 'postgres');
const redis = redisImplementation();
const scaled = {
  name: 'a separate guardian worker on PostgreSQL + Redis',
  ...(postgres?.skipReason || redis.skipReason
    ? { skipReason: postgres?.skipReason ?? redis.skipReason }
    : {}),
};

describeEachImplementation('/metrics of guardian worker', [scaled], () => {
  const dir = mkdtempSync(join(tmpdir(), 'guardian-worker-metrics-'));
  const prefix = uniqueRedisPrefix('metrics');
  let database: TestDatabase;
  let worker: RunningGuardian;
  const env: NodeJS.ProcessEnv = {
    DATA_DIR: join(dir, 'data'),
    MASTER_KEY: 'ef'.repeat(32),
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: prefix,
    LIFECYCLE_INTERVAL_SECONDS: '0',
  };

  beforeAll(async () => {
    database = await postgres!.open();
    await database.close();
    env.DATABASE_URL = database.settings.databaseUrl;
    worker = await startGuardian('worker', env);
  });

  afterAll(async () => {
    const code = await worker?.stop();
    await database?.destroy();
    await deleteRedisKeys(redis.url, prefix);
    rmSync(dir, { recursive: true, force: true });
    expect(code).toBe(0);
  });

  it('serves its own listener with the pool, BullMQ queue and process gauges', async () => {
    expect(worker.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const response = await fetch(worker.metricsUrl!);
    expect(response.status).toBe(200);
    const { samples } = parseExposition(await response.text());
    expect(
      sumOf(samples, 'guardian_process_info', { role: 'worker', database: 'postgres', queue: 'bullmq' }),
    ).toBe(1);
    expect(sumOf(samples, 'guardian_db_pool_connections', { state: 'total' })).toBeGreaterThanOrEqual(1);
    // The scrape's own queries may be queued for a connection at that instant: present is what counts.
    expect(samples.filter((sample) => sample.name === 'guardian_db_pool_waiting_requests')).toHaveLength(1);
    const analysisStates = samples.filter(
      (sample) => sample.name === 'guardian_queue_jobs' && sample.labels.job_name === 'analysis.run',
    );
    expect(analysisStates.map((sample) => sample.labels.state).sort()).toEqual([
      'active',
      'delayed',
      'waiting',
    ]);
    const errors = samples.filter((sample) => sample.name === 'guardian_metrics_collect_errors_total');
    expect(errors.filter((sample) => sample.value > 0)).toEqual([]);
  });
});
