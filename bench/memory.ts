import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Cleanup } from './cleanup.js';
import type { GeneratedMedia } from './media.js';
import { uploadMultipart } from './platform-client.js';
import { createApiKey, startPlatform } from './platform-process.js';
import { createBenchDatabase, type BenchDatabase } from './postgres.js';
import { withServerLog } from './processes.js';
import { readStatusKiB, resetPeak, startRssSampler, type RssSampler } from './rss.js';

export interface ServeMemory {
  /** Spawn → "serving" logged. */
  startMs: number;
  /** VmHWM at the end of the idle window: the highest resident set since exec, start-up included. */
  peakMiB: number | null;
  /** Highest polled sum over the server and its children (ffmpeg/ffprobe version checks, an initdb child). */
  treePeakMiB: number | null;
  /** Median VmRSS over the second half of the idle window. */
  idleMiB: number;
  /** How the embedded database came to be (template, initdb, or null: it existed / PostgreSQL). */
  createdFrom: string | null;
}

export interface UploadMemory {
  /** Median VmRSS of the idle server just before the upload. */
  beforeMiB: number;
  /** Highest resident set during the upload, until its 201. */
  peakMiB: number;
  addedMiB: number;
  peakSource: 'VmHWM' | 'polled';
  elapsedMs: number;
}

export interface MemoryFigures {
  idleSeconds: number;
  uploadBytes: number;
  embedded: { firstStart: ServeMemory; restarted: ServeMemory; upload: UploadMemory };
  scaled: { idle: ServeMemory; upload: UploadMemory } | { skipped: string };
}

export interface MemorySettings {
  idleSeconds: number;
  postgresAdminUrl: string;
}

const toMiB = (kib: number | null) => (kib === null ? null : kib / 1024);

/** `guardian serve` as users start it: first start, restart, scaled mode, and a large upload in each mode. */
export async function measureMemory(
  uploadFile: GeneratedMedia,
  settings: MemorySettings,
  cleanup: Cleanup,
): Promise<MemoryFigures> {
  const maxUploadBytes = uploadFile.bytes * 2;
  const dataDir = mkdtempSync(join(tmpdir(), 'guardian-bench-memory-'));
  const removeDataDir = cleanup.add(() => rmSync(dataDir, { recursive: true, force: true }));
  try {
    // Default settings (one in-process worker) for the idle figures; the uploads run on API-only servers
    // so that no analysis of the uploaded file is counted as upload memory.
    const server = { cleanup, workerConcurrency: 1, maxUploadBytes, dataDir };
    const firstStart = await observeServe(server, settings.idleSeconds);
    const restarted = await observeServe(server, settings.idleSeconds);
    const upload = await observeUpload({ ...server, workerConcurrency: 0 }, uploadFile);
    return {
      idleSeconds: settings.idleSeconds,
      uploadBytes: uploadFile.bytes,
      embedded: { firstStart, restarted, upload },
      scaled: await measureScaled(uploadFile, settings, cleanup),
    };
  } finally {
    removeDataDir();
  }
}

async function measureScaled(
  uploadFile: GeneratedMedia,
  settings: MemorySettings,
  cleanup: Cleanup,
): Promise<MemoryFigures['scaled']> {
  let database: BenchDatabase;
  try {
    database = await createBenchDatabase(settings.postgresAdminUrl);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { skipped: `no PostgreSQL at ${redacted(settings.postgresAdminUrl)}: ${reason}` };
  }
  try {
    const server = {
      cleanup,
      workerConcurrency: 1,
      maxUploadBytes: uploadFile.bytes * 2,
      databaseUrl: database.url,
    };
    const idle = await observeServe(server, settings.idleSeconds);
    const upload = await observeUpload({ ...server, workerConcurrency: 0 }, uploadFile);
    return { idle, upload };
  } finally {
    await database.drop();
  }
}

type ServeOptions = Omit<Parameters<typeof startPlatform>[0], 'onSpawn'>;

/** Starts `serve`, leaves it idle for idleSeconds, reads its memory, stops it. */
async function observeServe(options: ServeOptions, idleSeconds: number): Promise<ServeMemory> {
  const watch: { sampler?: RssSampler } = {};
  const started = performance.now();
  const platform = await startPlatform({
    ...options,
    onSpawn: (pid) => (watch.sampler = startRssSampler(pid)),
  });
  const startMs = performance.now() - started;
  try {
    const idleMiB = await idleResidentMiB(platform.pid, idleSeconds);
    const figures = watch.sampler?.stop();
    return {
      startMs,
      peakMiB: figures?.hwmMiB ?? null,
      treePeakMiB: figures?.treeSampledPeakMiB ?? null,
      idleMiB,
      createdFrom: createdFrom(platform.logText()),
    };
  } catch (error) {
    throw await withServerLog(error, platform.logTail);
  } finally {
    watch.sampler?.stop();
    await platform.stop();
  }
}

/** One multipart upload of the file; the peak is the kernel's VmHWM, reset just before the upload starts. */
async function observeUpload(options: ServeOptions, file: GeneratedMedia): Promise<UploadMemory> {
  const platform = await startPlatform(options);
  try {
    const key = await createApiKey(platform, options.cleanup);
    const beforeMiB = await idleResidentMiB(platform.pid, 4);
    const kernelPeak = resetPeak(platform.pid);
    const sampler = startRssSampler(platform.pid);
    const upload = await uploadMultipart(
      platform.url,
      key,
      file.path,
      Math.ceil(60_000 + (file.bytes / 5e6) * 1000),
    ).finally(() => sampler.stop());
    const polled = sampler.stop();
    const peakMiB = (kernelPeak ? polled.hwmMiB : polled.sampledPeakMiB) ?? Number.NaN;
    return {
      beforeMiB,
      peakMiB,
      addedMiB: peakMiB - beforeMiB,
      peakSource: kernelPeak ? 'VmHWM' : 'polled',
      elapsedMs: upload.elapsedMs,
    };
  } catch (error) {
    throw await withServerLog(error, platform.logTail);
  } finally {
    await platform.stop();
  }
}

/** Median VmRSS over the second half of `seconds` of watching, sampled every 250 ms. */
async function idleResidentMiB(pid: number, seconds: number): Promise<number> {
  const samples: number[] = [];
  const until = performance.now() + seconds * 1000;
  const secondHalf = performance.now() + (seconds * 1000) / 2;
  while (performance.now() < until) {
    await sleep(250);
    const rss = toMiB(readStatusKiB(pid, 'VmRSS'));
    if (rss === null) throw new Error(`process ${pid} exited while idle`);
    if (performance.now() >= secondHalf) samples.push(rss);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)] ?? Number.NaN;
}

function createdFrom(log: string): string | null {
  for (const line of log.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const entry = JSON.parse(line) as { msg?: unknown; from?: unknown };
      if (entry.msg === 'created the embedded database' && typeof entry.from === 'string') return entry.from;
    } catch {
      // not a log line of ours
    }
  }
  return null;
}

function redacted(url: string): string {
  const parsed = new URL(url);
  parsed.password = parsed.password ? '***' : '';
  return parsed.toString();
}
