import { postToSink, startBaselineSink } from './baseline-sink-process.js';
import type { Cleanup } from './cleanup.js';
import type { GeneratedMedia } from './media.js';
import { uploadMultipart, uploadTus, type TimedUpload } from './platform-client.js';
import { createApiKey, startPlatform } from './platform-process.js';
import { withServerLog } from './processes.js';
import { startRssSampler, type RssFigures } from './rss.js';

export interface UploadRun {
  elapsedMs: number;
  /** Decimal megabytes (10^6 bytes) per second. */
  megabytesPerSecond: number;
  rss: RssFigures;
}

export interface UploadThroughputFigures {
  bytes: number;
  baseline: UploadRun;
  multipart: UploadRun & { ratio: number };
  /** Optional path: a failure here is reported, not fatal. */
  tus: (UploadRun & { ratio: number; chunkBytes: number }) | { error: string; chunkBytes: number };
}

// The chunk size the README suggests for large files.
const tusChunkBytes = 64 * 2 ** 20;

/** A bare node:http → disk + fsync sink vs. the platform's multipart and tus uploads of the same real MP4. */
export async function measureUploadThroughput(
  file: GeneratedMedia,
  cleanup: Cleanup,
): Promise<UploadThroughputFigures> {
  // Even a slow disk moves 5 MB/s; beyond that something hangs.
  const boundMs = Math.ceil(60_000 + (file.bytes / 5e6) * 1000);
  const run = (elapsedMs: number, rss: RssFigures): UploadRun => ({
    elapsedMs,
    megabytesPerSecond: file.bytes / 1e6 / (elapsedMs / 1000),
    rss,
  });

  const sink = await startBaselineSink(cleanup);
  const sinkSampler = startRssSampler(sink.pid);
  let baseline: UploadRun;
  try {
    const elapsedMs = await postToSink(sink.url, file.path, boundMs);
    baseline = run(elapsedMs, sinkSampler.stop());
  } finally {
    sinkSampler.stop();
    await sink.stop();
  }

  const multipartUpload = await onPlatform(file, cleanup, (url, key) =>
    uploadMultipart(url, key, file.path, boundMs),
  );
  const multipart = run(multipartUpload.elapsedMs, multipartUpload.rss);

  let tus: UploadThroughputFigures['tus'];
  try {
    const tusUpload = await onPlatform(file, cleanup, (url, key) =>
      uploadTus(url, key, file.path, { chunkBytes: tusChunkBytes, timeoutMs: boundMs }),
    );
    const figures = run(tusUpload.elapsedMs, tusUpload.rss);
    tus = { ...figures, ratio: figures.elapsedMs / baseline.elapsedMs, chunkBytes: tusChunkBytes };
  } catch (error) {
    tus = { error: error instanceof Error ? error.message : String(error), chunkBytes: tusChunkBytes };
  }

  return {
    bytes: file.bytes,
    baseline,
    multipart: { ...multipart, ratio: multipart.elapsedMs / baseline.elapsedMs },
    tus,
  };
}

/** One upload on a fresh API-only platform (no analysis workers, so only hash + encrypt + store + probe run). */
async function onPlatform(
  file: GeneratedMedia,
  cleanup: Cleanup,
  upload: (url: string, key: string) => Promise<TimedUpload>,
): Promise<TimedUpload & { rss: RssFigures }> {
  const platform = await startPlatform({ cleanup, workerConcurrency: 0, maxUploadBytes: file.bytes * 2 });
  const sampler = startRssSampler(platform.pid);
  try {
    const key = await createApiKey(platform, cleanup);
    const done = await upload(platform.url, key);
    return { ...done, rss: sampler.stop() };
  } catch (error) {
    throw await withServerLog(error, platform.logTail);
  } finally {
    sampler.stop();
    await platform.stop();
  }
}
