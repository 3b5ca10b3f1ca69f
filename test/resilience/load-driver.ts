import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import autocannon, { type AutocannonRequest, type AutocannonResult } from 'autocannon';
import { runGuardian, startGuardian, type RunningGuardian } from '../helpers/guardian-process.js';
import { databaseImplementations, type TestDatabase } from '../helpers/databases.js';
import { deleteRedisKeys, redisImplementation, uniqueRedisPrefix } from '../helpers/redis.js';

/**
 * The load suite's driver: a platform (embedded, or scaled with a separate worker), API keys enough to stay
 * under the per-key rate limit, and autocannon runs of reads and multipart uploads side by side.
 */

export type LoadMode = 'embedded' | 'scaled';

export interface LoadPlatform {
  mode: LoadMode;
  baseUrl: string;
  /** The API server's pid: its RSS is the memory figure. */
  serverPid: number;
  /** The environment the platform runs with (the CLI needs it too). */
  env: NodeJS.ProcessEnv;
  logs(): string;
  stop(): Promise<void>;
}

// Slow is measured as latency; only an upload not answered in 30 s counts as an error (a hang).
const uploadTimeoutMs = 30_000;

/** Why scaled mode cannot run here (no PostgreSQL or Redis configured), or null. */
export function scaledUnavailable(): string | null {
  const postgres = databaseImplementations().find((implementation) => implementation.name === 'postgres');
  return postgres?.skipReason ?? redisImplementation().skipReason ?? null;
}

/** `guardian serve` on embedded defaults, or API-only on a throwaway PostgreSQL database + Redis prefix with one `guardian worker`. */
export async function startLoadPlatform(mode: LoadMode, workDir: string): Promise<LoadPlatform> {
  const env: NodeJS.ProcessEnv = {
    DATA_DIR: join(workDir, `data-${mode}`),
    PORT: '0',
    WORKER_CONCURRENCY: '1',
    RECONCILE_INTERVAL_SECONDS: '5',
    LIFECYCLE_INTERVAL_SECONDS: '0',
  };
  if (mode === 'embedded') {
    const server = await startGuardian('serve', env);
    return platformOf(mode, server, [server], env, async () => {});
  }
  const postgres = databaseImplementations().find((implementation) => implementation.name === 'postgres')!;
  const redis = redisImplementation();
  const database: TestDatabase = await postgres.open();
  await database.close();
  const prefix = uniqueRedisPrefix('load');
  Object.assign(env, {
    DATABASE_URL: database.settings.databaseUrl,
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: prefix,
    MASTER_KEY: 'ab'.repeat(32),
  });
  const cleanup = async () => {
    await database.destroy();
    await deleteRedisKeys(redis.url, prefix);
  };
  let server: RunningGuardian | undefined;
  try {
    server = await startGuardian('serve', { ...env, WORKER_CONCURRENCY: '0' });
    const worker = await startGuardian('worker', env);
    return platformOf(mode, server, [server, worker], env, cleanup);
  } catch (error) {
    await server?.stop();
    await cleanup();
    throw error;
  }
}

function platformOf(
  mode: LoadMode,
  server: RunningGuardian,
  processes: RunningGuardian[],
  env: NodeJS.ProcessEnv,
  cleanup: () => Promise<void>,
): LoadPlatform {
  return {
    mode,
    env,
    baseUrl: server.url!,
    serverPid: server.process.pid!,
    logs: () => processes.map((running) => running.logs()).join('\n'),
    async stop() {
      const codes = await Promise.all(processes.map((running) => running.stop()));
      await cleanup();
      if (codes.some((code) => code !== 0)) throw new Error(`exit codes ${codes.join(', ')}`);
    },
  };
}

/**
 * An admin key (CLI) and `count` analyst keys of one organisation (API). The rate limit (600 requests a
 * minute per principal, not configurable) is never loosened: the load spreads over the keys instead.
 */
export async function provisionKeys(platform: LoadPlatform, count: number): Promise<string[]> {
  const { env } = platform;
  const org = await runGuardian(['org', 'create', 'Load'], env);
  if (org.code !== 0) throw new Error(`org create: ${org.stderr}`);
  const created = await runGuardian(
    ['apikey', 'create', '--org', 'Load', '--name', 'load admin', '--role', 'admin'],
    env,
  );
  const admin = created.stdout.trim().split('\n').at(-1)?.trim() ?? '';
  if (created.code !== 0 || !admin.startsWith('sag_')) throw new Error(`apikey create: ${created.stderr}`);
  const keys: string[] = [];
  for (let index = 0; index < count; index += 1) {
    const response = await fetch(`${platform.baseUrl}/api/v1/api-keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: `load analyst ${index}`, role: 'analyst' }),
    });
    const body = (await response.json()) as { key?: string };
    if (response.status !== 201 || !body.key) throw new Error(`api key create answered ${response.status}`);
    keys.push(body.key);
  }
  return keys;
}

/** A multipart/form-data body with the clip as field `file`, as a browser or `fetch(FormData)` sends it. */
export function multipartBody(clipPath: string): { body: Buffer; contentType: string } {
  const boundary = `----guardian-load-${Date.now().toString(16)}`;
  const body = Buffer.concat([
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="load-clip.mp4"\r\n` +
        'Content-Type: video/mp4\r\n\r\n',
    ),
    readFileSync(clipPath),
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { body, contentType: `multipart/form-data; boundary=${boundary}` };
}

export interface RunFigures {
  requests: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  non2xx: number;
  /** Socket errors and timeouts (autocannon counts timeouts among its errors). */
  errors: number;
  statusCodes: Record<string, number>;
}

export interface LoadSpec {
  baseUrl: string;
  keys: string[];
  seconds: number;
  /** JSON reads: the analysis and media lists and a report (GET /api/v1/analyses/:id). */
  readConnections: number;
  readRate?: number;
  /** The report as a PDF (GET /api/v1/analyses/:id/report.pdf): rendered per request, so measured apart. */
  pdfConnections?: number;
  pdfRate?: number;
  /** Multipart uploads (POST /api/v1/media): this many clients, each uploading again once answered... */
  uploadClients?: number;
  /** ...or one upload every uploadIntervalMs, answered or not (autocannon's rates go no lower than 1/s). */
  uploadIntervalMs?: number;
  /** Finished analyses whose report and PDF the reads fetch. */
  analysisIds: string[];
  upload: { body: Buffer; contentType: string };
}

export interface LoadResult {
  reads: RunFigures;
  pdf: RunFigures;
  uploads: RunFigures;
  /** Analysis ids of the uploads answered 201. */
  accepted: string[];
  /** The first few upload failures (status and problem code, or the socket error), for the test's message. */
  uploadFailures: string[];
}

/** The JSON reads a client makes, in turn: the lists (first page, filtered) and a finished report. */
export function readPaths(analysisIds: string[]): (turn: number) => string {
  return (turn) => {
    switch (turn % 4) {
      case 0:
        return '/api/v1/analyses';
      case 1:
        return '/api/v1/media';
      case 2:
        return '/api/v1/analyses?status=done&limit=10';
      default:
        return `/api/v1/analyses/${analysisIds[turn % analysisIds.length]}`;
    }
  };
}

/**
 * Reads and PDFs with autocannon, uploads with fetch (each upload is awaited: none is cut off when the run
 * ends, so every 201 is known), all at once and each with its own latency figures.
 */
export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  let keyTurn = 0;
  const nextKey = () => spec.keys[(keyTurn += 1) % spec.keys.length]!;
  const readPath = readPaths(spec.analysisIds);
  let readTurn = 0;
  let pdfTurn = 0;
  const get = (connections: number, path: (turn: number) => string, rate?: number) =>
    connections > 0
      ? autocannon({
          url: spec.baseUrl,
          connections,
          duration: spec.seconds,
          timeout: 10,
          ...(rate ? { overallRate: rate } : {}),
          requests: [
            {
              method: 'GET',
              setupRequest: (request: AutocannonRequest) => ({
                ...request,
                path: path((readTurn += 1)),
                headers: { authorization: `Bearer ${nextKey()}` },
              }),
            },
          ],
        }).then(figuresOf)
      : Promise.resolve(noRequests());
  const [reads, pdf, uploads] = await Promise.all([
    get(spec.readConnections, readPath, spec.readRate),
    get(
      spec.pdfConnections ?? 0,
      () => {
        pdfTurn += 1;
        return `/api/v1/analyses/${spec.analysisIds[pdfTurn % spec.analysisIds.length]}/report.pdf`;
      },
      spec.pdfRate,
    ),
    runUploads(spec, nextKey),
  ]);
  return { reads, pdf, ...uploads };
}

async function runUploads(
  spec: LoadSpec,
  nextKey: () => string,
): Promise<{ uploads: RunFigures; accepted: string[]; uploadFailures: string[] }> {
  const latencies: number[] = [];
  const statusCodes: Record<string, number> = {};
  const accepted: string[] = [];
  const uploadFailures: string[] = [];
  let errors = 0;
  const one = async () => {
    const started = performance.now();
    try {
      const response = await fetch(`${spec.baseUrl}/api/v1/media`, {
        method: 'POST',
        headers: { authorization: `Bearer ${nextKey()}`, 'content-type': spec.upload.contentType },
        body: spec.upload.body,
        signal: AbortSignal.timeout(uploadTimeoutMs),
      });
      const body = await response.text();
      latencies.push(performance.now() - started);
      statusCodes[response.status] = (statusCodes[response.status] ?? 0) + 1;
      if (response.status === 201) accepted.push((JSON.parse(body) as { analysisId: string }).analysisId);
      else if (uploadFailures.length < 5) uploadFailures.push(`${response.status} ${body.slice(0, 200)}`);
    } catch (error) {
      errors += 1;
      const cause = (error as { cause?: { code?: string } }).cause?.code ?? '';
      if (uploadFailures.length < 5) uploadFailures.push(`${String(error)} ${cause}`.trim());
    }
  };
  const started = performance.now();
  const running = () => performance.now() - started < spec.seconds * 1000;
  if (spec.uploadIntervalMs) {
    const pending: Promise<void>[] = [];
    for (let turn = 0; running(); turn += 1) {
      pending.push(one());
      const next = started + (turn + 1) * spec.uploadIntervalMs;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - performance.now())));
    }
    await Promise.all(pending);
  } else {
    const client = async () => {
      while (running()) await one();
    };
    await Promise.all(Array.from({ length: spec.uploadClients ?? 0 }, client));
  }
  const seconds = (performance.now() - started) / 1000;
  const sorted = latencies.sort((a, b) => a - b);
  const at = (share: number) =>
    Math.round(sorted[Math.min(sorted.length - 1, Math.ceil(share * sorted.length) - 1)] ?? 0);
  const non2xx = Object.entries(statusCodes)
    .filter(([code]) => !code.startsWith('2'))
    .reduce((sum, [, count]) => sum + count, 0);
  return {
    uploads: {
      requests: latencies.length + errors,
      perSecond: latencies.length / seconds,
      p50Ms: at(0.5),
      p99Ms: at(0.99),
      maxMs: Math.round(sorted.at(-1) ?? 0),
      non2xx,
      errors,
      statusCodes,
    },
    accepted,
    uploadFailures,
  };
}

function noRequests(): RunFigures {
  return { requests: 0, perSecond: 0, p50Ms: 0, p99Ms: 0, maxMs: 0, non2xx: 0, errors: 0, statusCodes: {} };
}

function figuresOf(result: AutocannonResult): RunFigures {
  return {
    requests: result.requests.total,
    perSecond: result.requests.total / result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    maxMs: result.latency.max,
    non2xx: result.non2xx,
    errors: result.errors,
    statusCodes: Object.fromEntries(
      Object.entries(result.statusCodeStats).map(([code, stats]) => [code, stats.count]),
    ),
  };
}

export interface RssSample {
  atMs: number;
  mib: number;
}

/** VmRSS of a process from /proc every intervalMs (Linux), until stopped. */
export function sampleRss(pid: number, intervalMs = 1000): { stop(): RssSample[] } {
  const started = performance.now();
  const samples: RssSample[] = [];
  const sample = () => {
    let status: string;
    try {
      status = readFileSync(`/proc/${pid}/status`, 'utf8');
    } catch {
      return; // the process is gone: the test fails on its own account
    }
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
    if (match?.[1]) samples.push({ atMs: performance.now() - started, mib: Number(match[1]) / 1024 });
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return samples;
    },
  };
}

export interface MemoryFigures {
  /** Mean RSS over the second fifth of the soak (the first is warm-up: JIT, caches, connection pools). */
  earlyMiB: number;
  /** Mean RSS over the last fifth. */
  lateMiB: number;
  /** late / early − 1. */
  growth: number;
  /** Least-squares slope of RSS over the second half of the soak. */
  secondHalfSlopeMiBPerMin: number;
  peakMiB: number;
}

/**
 * "Flat" memory, as this suite defines it: the mean RSS of the soak's last fifth within 10% of its second
 * fifth's (for 5 minutes: the last minute against the second). The slope over the second half is reported
 * beside it; the GC's sawtooth makes a slope over a few minutes noisy, so it is not the criterion.
 */
export function memoryFigures(samples: RssSample[]): MemoryFigures {
  const end = samples.at(-1)?.atMs ?? 0;
  const mean = (from: number, to: number) => {
    const window = samples.filter((sample) => sample.atMs >= from && sample.atMs <= to);
    return window.reduce((sum, sample) => sum + sample.mib, 0) / Math.max(1, window.length);
  };
  const earlyMiB = mean(end / 5, (2 * end) / 5);
  const lateMiB = mean((4 * end) / 5, end);
  const half = samples.filter((sample) => sample.atMs >= end / 2);
  const meanT = half.reduce((sum, sample) => sum + sample.atMs, 0) / Math.max(1, half.length);
  const meanM = half.reduce((sum, sample) => sum + sample.mib, 0) / Math.max(1, half.length);
  const covariance = half.reduce((sum, sample) => sum + (sample.atMs - meanT) * (sample.mib - meanM), 0);
  const variance = half.reduce((sum, sample) => sum + (sample.atMs - meanT) ** 2, 0);
  return {
    earlyMiB,
    lateMiB,
    growth: lateMiB / earlyMiB - 1,
    secondHalfSlopeMiBPerMin: variance > 0 ? (covariance / variance) * 60_000 : 0,
    peakMiB: Math.max(...samples.map((sample) => sample.mib)),
  };
}

interface AnalysisItem {
  id: string;
  mediaId: string;
  status: string;
}

/** Every analysis of the organisation, through the list route's cursor. */
export async function listAllAnalyses(baseUrl: string, keys: string[]): Promise<AnalysisItem[]> {
  const items: AnalysisItem[] = [];
  let cursor: string | null = null;
  let turn = 0;
  do {
    const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
    const response = await fetch(`${baseUrl}/api/v1/analyses?limit=100${query}`, {
      headers: { authorization: `Bearer ${keys[(turn += 1) % keys.length]}` },
    });
    if (response.status !== 200) throw new Error(`analysis list answered ${response.status}`);
    const page = (await response.json()) as { items: AnalysisItem[]; nextCursor: string | null };
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return items;
}

/**
 * Waits (bounded) until none of the organisation's analyses is queued or running; returns them and how long
 * the queue took to drain.
 */
export async function waitForDrain(
  baseUrl: string,
  keys: string[],
  timeoutMs: number,
): Promise<{ analyses: AnalysisItem[]; drainMs: number }> {
  const started = performance.now();
  for (;;) {
    const analyses = await listAllAnalyses(baseUrl, keys);
    if (analyses.every((analysis) => analysis.status === 'done' || analysis.status === 'failed'))
      return { analyses, drainMs: Math.round(performance.now() - started) };
    if (performance.now() - started > timeoutMs) {
      const pending = analyses.filter((analysis) => analysis.status !== 'done').length;
      throw new Error(`${pending} of ${analyses.length} analyses not finished after ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}
