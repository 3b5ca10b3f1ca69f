import type { Cleanup } from './cleanup.js';
import { timeDecode, type GeneratedMedia } from './media.js';
import { uploadMultipart, waitForDone, watchPreliminaryBands } from './platform-client.js';
import { createApiKey, embeddedEnv, runGuardian, startPlatform } from './platform-process.js';
import { withServerLog } from './processes.js';
import { startRssSampler, type RssFigures, type RssSampler } from './rss.js';

export interface TimeToReportFigures {
  decodeBaselineMs: number;
  platform: {
    uploadMs: number;
    analysisMs: number;
    totalMs: number;
    /** total / decode baseline. */
    ratio: number;
    band: string;
    /** Upload start → `analysis.preliminary` on the events WebSocket; null when none came. */
    preliminaryMs: number | null;
    preliminaryRatio: number | null;
    preliminaryBand: string | null;
    polls: number;
    rateLimitedPolls: number;
    rss: RssFigures;
  };
  analyzeCli: {
    elapsedMs: number;
    ratio: number;
    band: string;
    /** `guardian help` from source: roughly the Node + tsx start-up inside elapsedMs. */
    startupMs: number;
    rss: RssFigures;
  };
}

const pollIntervalMs = 100;

/** Decode-only ffmpeg vs. upload-to-report on a running platform vs. `guardian analyze --json`, same clip. */
export async function measureTimeToReport(
  clip: GeneratedMedia,
  clipSeconds: number,
  cleanup: Cleanup,
): Promise<TimeToReportFigures> {
  // Bounds grow with the clip so a long clip on a slow machine is not cut off, but a hang still ends.
  const boundMs = 120_000 + clipSeconds * 10_000;
  const decodeBaselineMs = await timeDecode(clip.path, boundMs, cleanup);
  const platform = await measurePlatform(clip, boundMs, cleanup);
  const analyzeCli = await measureAnalyzeCli(clip, boundMs, cleanup);
  return {
    decodeBaselineMs,
    platform: {
      ...platform,
      ratio: platform.totalMs / decodeBaselineMs,
      preliminaryRatio: platform.preliminaryMs === null ? null : platform.preliminaryMs / decodeBaselineMs,
    },
    analyzeCli: { ...analyzeCli, ratio: analyzeCli.elapsedMs / decodeBaselineMs },
  };
}

async function measurePlatform(clip: GeneratedMedia, boundMs: number, cleanup: Cleanup) {
  const platform = await startPlatform({ cleanup, workerConcurrency: 1, maxUploadBytes: clip.bytes * 2 });
  const sampler = startRssSampler(platform.pid);
  try {
    const key = await createApiKey(platform, cleanup);
    const events = await watchPreliminaryBands(platform.url, key);
    const started = performance.now();
    const upload = await uploadMultipart(platform.url, key, clip.path, boundMs);
    const outcome = await waitForDone(platform.url, key, upload.analysisId, {
      intervalMs: pollIntervalMs,
      timeoutMs: boundMs,
    }).finally(() => events.close());
    const totalMs = outcome.doneAt - started;
    const preliminary = events.seen(upload.analysisId);
    return {
      uploadMs: upload.elapsedMs,
      analysisMs: totalMs - upload.elapsedMs,
      totalMs,
      band: outcome.band,
      preliminaryMs: preliminary ? preliminary.at - started : null,
      preliminaryBand: preliminary?.band ?? null,
      polls: outcome.polls,
      rateLimitedPolls: outcome.rateLimitedPolls,
      rss: sampler.stop(),
    };
  } catch (error) {
    throw await withServerLog(error, platform.logTail);
  } finally {
    sampler.stop();
    await platform.stop();
  }
}

async function measureAnalyzeCli(clip: GeneratedMedia, boundMs: number, cleanup: Cleanup) {
  const watch: { sampler?: RssSampler } = {};
  const run = runGuardian(['analyze', clip.path, '--json'], embeddedEnv(), cleanup, {
    timeoutMs: boundMs,
    onSpawn: (pid) => (watch.sampler = startRssSampler(pid)),
  });
  // Stopped after exit, so VmHWM is gone with the process; the polled peak remains.
  const result = await run.finally(() => watch.sampler?.stop());
  const rss = watch.sampler?.stop();
  if (!rss) throw new Error('guardian analyze never started');
  const report = JSON.parse(result.stdout) as { band?: unknown };
  const startup = await runGuardian(['help'], embeddedEnv(), cleanup);
  return { elapsedMs: result.elapsedMs, band: String(report.band), startupMs: startup.elapsedMs, rss };
}
