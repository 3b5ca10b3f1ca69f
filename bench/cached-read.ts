import { randomBytes } from 'node:crypto';
import autocannon, { type AutocannonRequest, type AutocannonResult } from 'autocannon';
import { Redis } from 'ioredis';
import { repoRoot, type BenchSettings } from './bench-settings.js';
import type { Cleanup } from './cleanup.js';
import type { GeneratedMedia } from './media.js';
import { uploadMultipart, waitForDone } from './platform-client.js';
import { runGuardian, startPlatform, type PlatformProcess } from './platform-process.js';
import { createBenchDatabase, type BenchDatabase } from './postgres.js';
import { withServerLog } from './processes.js';
import { startServerProcess } from './server-process.js';

export interface LoadRun {
  requestsPerSecond: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  requests: number;
  /** Answers other than 2xx, connection errors and timeouts: any of them voids the run. */
  non2xx: number;
  errors: number;
}

export interface CachedReadFigures {
  /** embedded: PGlite and the in-process cache; scaled: PostgreSQL and the Redis cache. */
  mode: 'embedded' | 'scaled';
  connections: number;
  durationSeconds: number;
  /** Viewer keys the requests rotate through: the per-key rate limit (600/min) must never answer 429. */
  apiKeys: number;
  reportBytes: number;
  hello: LoadRun;
  cachedReport: LoadRun;
  /** cachedReport / hello requests per second (P4). */
  ratio: number;
  /** The cached report at half its measured maximum, fixed with autocannon's overallRate. */
  halfLoad: LoadRun & { rate: number };
}

const connections = 10;
const warmUpSeconds = 2;
const apiKeyCount = 300;

/**
 * P4: a finished report GET served from the read cache vs. a bare Fastify hello route, both child processes
 * of this bench on loopback, same autocannon connections, duration and request headers (the API keys rotate
 * on both), measured back to back in this run; then the report at half its maximum rate for the p99.
 */
export async function measureCachedRead(
  still: GeneratedMedia,
  durationSeconds: number,
  cleanup: Cleanup,
  scaled?: { databaseUrl: string; redis: { url: string; keyPrefix: string } },
): Promise<CachedReadFigures> {
  const platform = await startPlatform({
    cleanup,
    workerConcurrency: 1,
    maxUploadBytes: 64 * 1024 * 1024,
    ...(scaled ? { databaseUrl: scaled.databaseUrl, redis: scaled.redis } : {}),
  });
  try {
    const { analysisId, keys } = await finishedReport(platform, still, cleanup);
    const report = await request(`${platform.url}/api/v1/analyses/${analysisId}`, {
      headers: { authorization: `Bearer ${keys[0]}` },
    });
    const reportBytes = (await report.arrayBuffer()).byteLength;
    const hello = await startServerProcess({
      args: ['--import', 'tsx', 'bench/hello-server.ts'],
      cwd: repoRoot,
      env: process.env,
      cleanup,
      urlFromLine: (line) =>
        line.startsWith('{"url"') ? ((JSON.parse(line) as { url?: string }).url ?? null) : null,
      startTimeoutMs: 30_000,
      stopTimeoutMs: 10_000,
    });
    try {
      const helloUrl = `${hello.url}/hello`;
      const reportUrl = `${platform.url}/api/v1/analyses/${analysisId}`;
      const load = (url: string, seconds: number, overallRate?: number) =>
        run(url, keys, seconds, overallRate);
      // JIT warm-up on both; the report's first GET fills the cache.
      await load(helloUrl, warmUpSeconds);
      await load(reportUrl, warmUpSeconds);
      const helloRun = await load(helloUrl, durationSeconds);
      const cachedReport = await load(reportUrl, durationSeconds);
      const rate = Math.max(1, Math.floor(cachedReport.requestsPerSecond / 2));
      const halfLoad = { ...(await load(reportUrl, durationSeconds, rate)), rate };
      for (const [name, figures] of [
        ['hello', helloRun],
        ['cached report', cachedReport],
        ['half load', halfLoad],
      ] as const) {
        if (figures.non2xx > 0 || figures.errors > 0)
          throw new Error(`${name} run: ${figures.non2xx} non-2xx answers, ${figures.errors} errors`);
      }
      return {
        mode: scaled ? 'scaled' : 'embedded',
        connections,
        durationSeconds,
        apiKeys: keys.length,
        reportBytes,
        hello: helloRun,
        cachedReport,
        ratio: cachedReport.requestsPerSecond / helloRun.requestsPerSecond,
        halfLoad,
      };
    } finally {
      await hello.stop();
    }
  } catch (error) {
    throw await withServerLog(error, platform.logTail);
  } finally {
    await platform.stop();
  }
}

/** P4 on PostgreSQL + Redis (a fresh database and key prefix, both removed afterwards); skipped without them. */
export async function measureScaledCachedRead(
  still: GeneratedMedia,
  settings: Pick<BenchSettings, 'postgresAdminUrl' | 'redisUrl' | 'loadSeconds'>,
  cleanup: Cleanup,
): Promise<CachedReadFigures | { skipped: string }> {
  let database: BenchDatabase;
  try {
    database = await createBenchDatabase(settings.postgresAdminUrl);
  } catch (error) {
    return { skipped: `no PostgreSQL at the BENCH_DATABASE_URL host: ${String(error)}` };
  }
  const redis = new Redis(settings.redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true });
  const keyPrefix = `guardian-bench-${randomBytes(4).toString('hex')}`;
  try {
    await redis.connect().catch((error: unknown) => {
      throw new Error(`no Redis at BENCH_REDIS_URL: ${String(error)}`);
    });
    return await measureCachedRead(still, settings.loadSeconds, cleanup, {
      databaseUrl: database.url,
      redis: { url: settings.redisUrl, keyPrefix },
    });
  } catch (error) {
    if (error instanceof Error && error.message.startsWith('no Redis')) return { skipped: error.message };
    throw error;
  } finally {
    if (redis.status === 'ready') {
      const keys = await redis.keys(`${keyPrefix}*`);
      if (keys.length > 0) await redis.unlink(...keys);
      await redis.quit();
    } else redis.disconnect();
    await database.drop();
  }
}

/** An admin key (CLI), a finished analysis of the still, and viewer keys (API) to spread the rate limit. */
async function finishedReport(
  platform: PlatformProcess,
  still: GeneratedMedia,
  cleanup: Cleanup,
): Promise<{ analysisId: string; keys: string[] }> {
  await runGuardian(['org', 'create', 'Bench'], platform.env, cleanup);
  const created = await runGuardian(
    ['apikey', 'create', '--org', 'Bench', '--name', 'bench admin', '--role', 'admin'],
    platform.env,
    cleanup,
  );
  const admin = created.stdout.trim().split('\n').at(-1)?.trim() ?? '';
  const upload = await uploadMultipart(platform.url, admin, still.path, 60_000);
  await waitForDone(platform.url, admin, upload.analysisId, { intervalMs: 100, timeoutMs: 120_000 });
  const keys: string[] = [];
  for (let index = 0; index < apiKeyCount; index += 1) {
    const response = await request(`${platform.url}/api/v1/api-keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: `bench viewer ${index}`, role: 'viewer' }),
    });
    const body = (await response.json()) as { key?: string };
    if (response.status !== 201 || !body.key) throw new Error(`api key create answered ${response.status}`);
    keys.push(body.key);
  }
  return { analysisId: upload.analysisId, keys };
}

/** fetch, with the request and the network error's cause named when it fails. */
async function request(url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(60_000) });
  } catch (error) {
    const cause = (error as { cause?: { message?: string; code?: string } }).cause;
    const detail = cause ? `${cause.code ?? ''} ${cause.message ?? ''}`.trim() : String(error);
    throw new Error(`${init.method ?? 'GET'} ${new URL(url).pathname} failed: ${detail}`, { cause: error });
  }
}

async function run(url: string, keys: string[], seconds: number, overallRate?: number): Promise<LoadRun> {
  let next = 0;
  // The same rotating Authorization header on both targets: the client does the same work for each.
  const rotate = (request: AutocannonRequest): AutocannonRequest => {
    next = (next + 1) % keys.length;
    return { ...request, headers: { ...request.headers, authorization: `Bearer ${keys[next]}` } };
  };
  const result: AutocannonResult = await autocannon({
    url,
    connections,
    duration: seconds,
    ...(overallRate ? { overallRate } : {}),
    requests: [{ method: 'GET', setupRequest: rotate }],
  });
  return {
    requestsPerSecond: result.requests.total / result.duration,
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}
