import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runGuardian, startGuardian, type RunningGuardian } from '../helpers/guardian-process.js';
import { leftoverFiles, type FileEntry } from './leftovers.js';
import { fuzzCases, type FuzzCase } from './mutations.js';
import { residentBytes, treeResidentBytes } from './process-memory.js';
import { generateSeedMedia } from './seed-media.js';
import { decodedVideoFrames } from './decode-oracle.js';

const MiB = 1024 * 1024;

export interface FuzzRunOptions {
  cases: number;
  runSeed: number;
  /** Uploads in flight at once (each with its own API key, so the per-key rate limit never interferes). */
  concurrency: number;
  /** From the 201 until the analysis must be `done`. */
  analysisBudgetMs: number;
  /** No new case starts after this; the run then drains what is in flight and stops. */
  maxRunMs: number;
  /** Allowed growth of the server's RSS over its level after the warm-up. */
  rssJumpLimitBytes: number;
  /** Only cases whose name contains this (replay). */
  only?: string;
  /** Violating cases are written here (file + JSON), when set. */
  failuresDir?: string;
  log?: (line: string) => void;
}

export type Violation =
  | 'server-error-5xx'
  | 'problem-without-code'
  | 'not-problem-json'
  | 'unexpected-status'
  | 'analysis-failed'
  | 'analysis-stuck'
  | 'done-without-band'
  | 'verdict-without-media'
  | 'request-error'
  | 'server-exited'
  | 'rss-jump'
  | 'temp-file-left';

export interface CaseResult {
  name: string;
  mutationClass: string;
  seed: string;
  sizeBytes: number;
  status: number | null;
  code: string | null;
  band: string | null;
  analysisStatus: string | null;
  /** Video frames ffmpeg decodes from the file (test oracle); checked for accepted files only. */
  decodedFrames: number | null;
  /** `analysis attempt failed` lines the server logged for this case's analysis. */
  failedAttempts: number;
  violations: { kind: Violation; detail: string }[];
  startedAt: number;
  endedAt: number;
}

export interface FuzzRunResult {
  runSeed: number;
  results: CaseResult[];
  leftovers: FileEntry[];
  rss: { afterWarmUpMiB: number; peakMiB: number; peakTreeMiB: number; peakTreeCase: string | null };
  durationMs: number;
  stoppedByTime: boolean;
  serverExitCode: number | null;
}

interface Lane {
  key: string;
}

/**
 * Runs the fuzz corpus through `POST /api/v1/media` of a real `guardian serve` child process (embedded
 * PGlite, embedded queue), and checks the property for every case.
 */
export async function runFuzz(options: FuzzRunOptions): Promise<FuzzRunResult> {
  const log = options.log ?? (() => undefined);
  const started = Date.now();
  const workDir = mkdtempSync(join(tmpdir(), 'guardian-fuzz-'));
  const dataDir = join(workDir, 'data');
  const serverTmpDir = join(workDir, 'server-tmp');
  mkdirSync(serverTmpDir);
  mkdirSync(join(workDir, 'accepted'));
  let server: RunningGuardian | null = null;
  try {
    const seeds = await generateSeedMedia(join(workDir, 'seeds'));
    const env = {
      DATA_DIR: dataDir,
      PORT: '0',
      // The server's os.tmpdir() and its ffmpeg children's: what is left here was left by the platform.
      TMPDIR: serverTmpDir,
      WORKER_CONCURRENCY: String(Math.max(2, Math.ceil(options.concurrency / 2))),
      MAX_UPLOAD_BYTES: String(16 * MiB),
      RECONCILE_INTERVAL_SECONDS: '10',
    };
    log(`seed media ready in ${seconds(started)} s`);
    server = await startGuardian('serve', env, 180_000);
    log(`server up in ${seconds(started)} s (pid ${String(server.process.pid)})`);
    const baseUrl = server.url ?? '';
    const pid = server.process.pid ?? 0;
    const failedAttempts = watchFailedAttempts(server);

    const org = await runGuardian(['org', 'create', 'Fuzz'], env);
    if (org.code !== 0) throw new Error(`org create failed: ${org.stderr}`);
    // One admin key through the CLI (slow: a process each), then one analyst key per lane through the API.
    const admin = await runGuardian(
      ['apikey', 'create', '--org', 'Fuzz', '--name', 'fuzz admin', '--role', 'admin'],
      env,
    );
    if (admin.code !== 0) throw new Error(`apikey create failed: ${admin.stderr}`);
    const adminKey = admin.stdout.trim().split('\n').at(-1) ?? '';
    const lanes: Lane[] = [];
    for (let i = 0; i < options.concurrency; i++) {
      const created = await fetch(`${baseUrl}/api/v1/api-keys`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: `fuzz lane ${i}`, role: 'analyst' }),
      });
      const body = parseJson(await created.text());
      if (created.status !== 201 || typeof body?.key !== 'string')
        throw new Error(`api key: ${created.status}`);
      lanes.push({ key: body.key });
    }
    log(`API keys ready in ${seconds(started)} s`);
    const inFlight = new Set<CaseResult>();
    const memory = { afterWarmUp: 0, peak: 0, peakTree: 0, peakTreeCase: null as string | null };
    let warmedUp = false;
    const sampler = setInterval(() => {
      const rss = residentBytes(pid);
      if (rss === null) return;
      memory.peak = Math.max(memory.peak, rss);
      const tree = treeResidentBytes(pid);
      if (tree > memory.peakTree) {
        memory.peakTree = tree;
        memory.peakTreeCase = [...inFlight].map((result) => result.name).join(' | ') || null;
      }
      if (warmedUp && rss > memory.afterWarmUp + options.rssJumpLimitBytes) {
        for (const result of inFlight) {
          if (!result.violations.some((v) => v.kind === 'rss-jump'))
            addViolation(
              result,
              'rss-jump',
              `server RSS ${mib(rss)} MiB, ${mib(rss - memory.afterWarmUp)} MiB over the warm level`,
            );
        }
      }
    }, 200);

    const results: CaseResult[] = [];
    const acceptedMediaIds = new Set<string>();
    let serverExited = false;
    server.process.once('exit', () => (serverExited = true));

    const runCase = async (lane: Lane, fuzzCase: FuzzCase): Promise<CaseResult> => {
      const result: CaseResult = {
        name: fuzzCase.name,
        mutationClass: fuzzCase.mutationClass,
        seed: fuzzCase.seed,
        sizeBytes: fuzzCase.bytes.length,
        status: null,
        code: null,
        band: null,
        analysisStatus: null,
        decodedFrames: null,
        failedAttempts: 0,
        violations: [],
        startedAt: Date.now(),
        endedAt: 0,
      };
      inFlight.add(result);
      try {
        await checkCase(baseUrl, lane.key, fuzzCase, result, {
          budgetMs: options.analysisBudgetMs,
          acceptedMediaIds,
          casePath: join(
            workDir,
            'accepted',
            `${results.length}-${Math.random().toString(36).slice(2)}.${fuzzCase.extension}`,
          ),
        });
      } catch (error) {
        addViolation(result, serverExited ? 'server-exited' : 'request-error', errorText(error));
      } finally {
        inFlight.delete(result);
        result.endedAt = Date.now();
      }
      return result;
    };

    // Warm-up: each seed unchanged, one at a time, so the RSS reference includes a finished analysis of each.
    const generator = fuzzCases(seeds, options.runSeed);
    const warmUp = seeds.map(() => generator.next().value as FuzzCase);
    for (const fuzzCase of warmUp) results.push(await runCase(lanes[0]!, fuzzCase));
    memory.afterWarmUp = residentBytes(pid) ?? 0;
    warmedUp = true;
    const warmUpDone = Date.now();
    log(
      `warm-up done in ${seconds(started)} s: server RSS ${mib(memory.afterWarmUp)} MiB (peak so far ${mib(memory.peak)} MiB)`,
    );
    const cases = selectCases(generator, options.cases, options.only);

    let next = 0;
    let stoppedByTime = false;
    await Promise.all(
      lanes.map(async (lane) => {
        for (;;) {
          if (serverExited) return;
          if (Date.now() - started > options.maxRunMs) {
            stoppedByTime = true;
            return;
          }
          const fuzzCase = cases[next++];
          if (!fuzzCase) return;
          const result = await runCase(lane, fuzzCase);
          results.push(result);
          if (result.violations.length > 0) {
            log(
              `VIOLATION ${result.name}: ${result.violations.map((v) => `${v.kind} (${v.detail})`).join('; ')}`,
            );
            saveFailure(options.failuresDir, fuzzCase, result);
          }
          if (results.length % 50 === 0)
            log(
              `${results.length} cases, ${Math.round((Date.now() - started) / 1000)} s, server RSS peak ${mib(memory.peak)} MiB`,
            );
        }
      }),
    );
    clearInterval(sampler);
    log(`${results.length - warmUp.length} cases after the warm-up in ${seconds(warmUpDone)} s`);
    for (const result of results) result.failedAttempts = failedAttempts.get(result.name) ?? 0;

    // Give the server a moment to finish deleting rejected blobs, then look for anything left behind.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const leftovers = leftoverFiles({ dataDir, serverTmpDir, acceptedMediaIds });
    for (const file of leftovers) {
      const suspects = results.filter(
        (r) => r.startedAt - 1000 <= file.modifiedAt && file.modifiedAt <= r.endedAt + 1000,
      );
      for (const suspect of suspects)
        addViolation(suspect, 'temp-file-left', file.path.replace(workDir, '<run>'));
    }
    const serverExitCode = serverExited ? server.process.exitCode : await server.stop();
    server = null;
    return {
      runSeed: options.runSeed,
      results,
      leftovers,
      rss: {
        afterWarmUpMiB: mib(memory.afterWarmUp),
        peakMiB: mib(memory.peak),
        peakTreeMiB: mib(memory.peakTree),
        peakTreeCase: memory.peakTreeCase,
      },
      durationMs: Date.now() - started,
      stoppedByTime,
      serverExitCode,
    };
  } finally {
    await server?.stop('SIGKILL');
    rmSync(workDir, { recursive: true, force: true });
  }

  function watchFailedAttempts(running: RunningGuardian): Map<string, number> {
    // Keyed by analysis id while running; re-keyed by case name in checkCase via analysisCases.
    const counts = new Map<string, number>();
    let pending = '';
    running.process.stdout?.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.includes('analysis attempt failed')) continue;
        const analysisId = /"analysisId":"([^"]+)"/.exec(line)?.[1];
        const name = analysisId ? analysisCases.get(analysisId) : undefined;
        if (name) counts.set(name, (counts.get(name) ?? 0) + 1);
      }
    });
    return counts;
  }
}

const analysisCases = new Map<string, string>();

/** The next `count` cases, or with `only` the first `count` whose name contains it (searching a bounded prefix). */
function selectCases(generator: Generator<FuzzCase>, count: number, only: string | undefined): FuzzCase[] {
  const selected: FuzzCase[] = [];
  for (let scanned = 0; selected.length < count && scanned < 200_000; scanned++) {
    const next = generator.next();
    if (next.done) break;
    if (!only || next.value.name.includes(only)) selected.push(next.value);
  }
  return selected;
}

async function checkCase(
  baseUrl: string,
  key: string,
  fuzzCase: FuzzCase,
  result: CaseResult,
  context: { budgetMs: number; acceptedMediaIds: Set<string>; casePath: string },
): Promise<void> {
  const { budgetMs, acceptedMediaIds } = context;
  let response: Response;
  for (let attempt = 0; ; attempt++) {
    const form = new FormData();
    form.set('file', new Blob([fuzzCase.bytes]), `fuzz.${fuzzCase.extension}`);
    response = await fetch(`${baseUrl}/api/v1/media`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}` },
      body: form,
      signal: AbortSignal.timeout(budgetMs),
    });
    // The harness's own pace, not the file: wait and send it again.
    if (response.status !== 429 || attempt >= 5) break;
    await response.body?.cancel();
    await sleep(1000 * Number(response.headers.get('retry-after') ?? 2));
  }
  result.status = response.status;
  const contentType = response.headers.get('content-type') ?? '';
  const text = await response.text();
  const body = parseJson(text);
  if (response.status >= 500) {
    addViolation(
      result,
      'server-error-5xx',
      `${response.status} ${String(body?.code ?? text.slice(0, 200))}`,
    );
    return;
  }
  if (response.status >= 400) {
    result.code = typeof body?.code === 'string' ? body.code : null;
    if (!contentType.startsWith('application/problem+json'))
      addViolation(result, 'not-problem-json', `${response.status} ${contentType}`);
    else if (!result.code || !/^[a-z][a-z0-9-]*$/.test(result.code))
      addViolation(result, 'problem-without-code', `${response.status} ${text.slice(0, 200)}`);
    return;
  }
  if (response.status !== 201 || typeof body?.analysisId !== 'string' || typeof body.id !== 'string') {
    addViolation(result, 'unexpected-status', `${response.status} ${text.slice(0, 200)}`);
    return;
  }
  acceptedMediaIds.add(body.id);
  analysisCases.set(body.analysisId, fuzzCase.name);
  // Decoded while the platform analyses: a verdict needs media that is really there.
  writeFileSync(context.casePath, fuzzCase.bytes);
  const decoded = decodedVideoFrames(context.casePath).finally(() =>
    rmSync(context.casePath, { force: true }),
  );
  const deadline = Date.now() + budgetMs;
  for (;;) {
    const poll = await fetch(`${baseUrl}/api/v1/analyses/${body.analysisId}`, {
      headers: { authorization: `Bearer ${key}` },
    });
    if (poll.status === 429) {
      await poll.body?.cancel();
      await sleep(1000);
      continue;
    }
    const analysis = parseJson(await poll.text());
    if (poll.status !== 200 || !analysis) {
      addViolation(
        result,
        poll.status >= 500 ? 'server-error-5xx' : 'unexpected-status',
        `GET analysis: ${poll.status}`,
      );
      return;
    }
    result.analysisStatus = String(analysis.status);
    if (analysis.status === 'done') {
      result.band = typeof analysis.band === 'string' ? analysis.band : null;
      if (!result.band) addViolation(result, 'done-without-band', JSON.stringify(analysis).slice(0, 200));
      result.decodedFrames = await decoded;
      if (result.decodedFrames === 0 && result.band !== 'not_analyzable')
        addViolation(
          result,
          'verdict-without-media',
          `band ${String(result.band)} but ffmpeg decodes no video frame`,
        );
      return;
    }
    if (analysis.status === 'failed') {
      const error = analysis.error as { code?: string; detail?: string } | undefined;
      addViolation(
        result,
        'analysis-failed',
        `${error?.code ?? '?'}: ${String(error?.detail ?? JSON.stringify(analysis)).slice(0, 200)}`,
      );
      return;
    }
    if (Date.now() > deadline) {
      addViolation(
        result,
        'analysis-stuck',
        `still ${String(analysis.status)} (stage ${String(analysis.stage)}) after ${budgetMs} ms`,
      );
      return;
    }
    await sleep(300);
  }
}

function addViolation(result: CaseResult, kind: Violation, detail: string): void {
  result.violations.push({ kind, detail });
}

function saveFailure(dir: string | undefined, fuzzCase: FuzzCase, result: CaseResult): void {
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  const file = fuzzCase.name.replace(/[^A-Za-z0-9.=#@+-]+/g, '_').slice(0, 180);
  writeFileSync(join(dir, `${file}.${fuzzCase.extension}`), fuzzCase.bytes);
  writeFileSync(join(dir, `${file}.json`), `${JSON.stringify(result, null, 2)}\n`);
}

function parseJson(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

const seconds = (since: number) => Math.round((Date.now() - since) / 100) / 10;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const mib = (bytes: number) => Math.round(bytes / MiB);
const errorText = (error: unknown) =>
  (error instanceof Error ? `${error.name}: ${error.message}` : String(error)).slice(0, 300);
