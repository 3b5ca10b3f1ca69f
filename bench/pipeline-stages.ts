import { readFile } from 'node:fs/promises';
import { loadConfig } from '../src/config/load-config.js';
import { createFfmpegMediaTools } from '../src/media/ffmpeg.media-tools.js';
import { mediaLimitsFromConfig } from '../src/media/media-limits.js';
import { analyzeFile } from '../src/pipeline/analyze-file.js';
import type { StagePhase } from '../src/pipeline/analysis-pipeline.js';
import { createDetectionEngine } from '../src/pipeline/detection-engine.js';
import type { FaceFinder } from '../src/pipeline/run-inputs.js';
import { createHumanFaceFinder } from '../src/faces/human-face-finder.js';
import type { Cleanup } from './cleanup.js';
import { timeDecode, type GeneratedMedia } from './media.js';

/** One clip through the in-process pipeline (all default detectors), timed stage by stage. */
export interface PipelineStageFigures {
  clip: string;
  decodeBaselineMs: number;
  /**
   * CPU time (user + system, every thread and every reaped child process) of the baseline ffmpeg and of
   * the analysis: the work itself, which a busy machine does not inflate the way it inflates wall time.
   */
  decodeBaselineCpuMs: number;
  reportCpuMs: number;
  /** Of reportCpuMs: ffmpeg and ffprobe children (probe, packet table, decoding); the rest is this process. */
  reportChildCpuMs: number;
  /** Of this process's share: its main thread (detectors, frame reading); the rest is the face thread and helpers. */
  reportMainThreadCpuMs: number;
  /** Analysis start → preliminary band published; null when the pipeline published none. */
  preliminaryMs: number | null;
  preliminaryBand: string | null;
  reportMs: number;
  band: string;
  /** Every progress event, in order, with its time since the analysis started. */
  events: { atMs: number; stage: string; phase: StagePhase; progress: number }[];
  /** Time inside each detector's analyze() as the report gives it (includes waiting for frames or faces). */
  detectorMs: Record<string, number>;
  /** Wall time from the frame sampler's and the face search's start to their end (they overlap). */
  framesMs: number | null;
  facesMs: number | null;
  facesFound: number | null;
}

/**
 * The pipeline in this process (no server, no CLI start-up) on each clip, beside the same-run decode
 * baseline: where the time of a report goes. The face models load before the clock starts, as in a worker.
 */
export async function measurePipelineStages(
  clips: { name: string; media: GeneratedMedia }[],
  clipSeconds: number,
  cleanup: Cleanup,
): Promise<PipelineStageFigures[]> {
  const config = loadConfig({ ...process.env, DATABASE_URL: undefined, REDIS_URL: undefined });
  const limits = mediaLimitsFromConfig(config);
  const mediaTools = await createFfmpegMediaTools({
    ffmpegPath: config.FFMPEG_PATH,
    ffprobePath: config.FFPROBE_PATH,
    limits,
  });
  const faceFinder = createHumanFaceFinder();
  // The engine every entry point builds (no model cards, no calibration: raw detector figures).
  const { pipeline } = await createDetectionEngine({ mediaTools, limits, faceFinder });
  // Loads the face models (seconds) outside the measured runs: a worker has them loaded already.
  await warmFaceModels(faceFinder);
  const boundMs = 120_000 + clipSeconds * 10_000;
  const results: PipelineStageFigures[] = [];
  for (const { name, media } of clips) {
    const beforeBaseline = await cpuMs();
    const decodeBaselineMs = await timeDecode(media.path, boundMs, cleanup);
    const beforeReport = await cpuMs();
    const decodeBaselineCpuMs = beforeReport.children - beforeBaseline.children;
    const events: PipelineStageFigures['events'] = [];
    let preliminary: { atMs: number; band: string } | null = null;
    const started = performance.now();
    const since = () => Math.round(performance.now() - started);
    const report = await analyzeFile(media.path, {
      pipeline,
      signal: AbortSignal.timeout(boundMs),
      onProgress: (stage, progress, phase) => void events.push({ atMs: since(), stage, phase, progress }),
      onPreliminary: (band) => void (preliminary ??= { atMs: since(), band: band.band }),
    });
    const reportMs = performance.now() - started;
    const afterReport = await cpuMs();
    const reportChildCpuMs = afterReport.children - beforeReport.children;
    const reportMainThreadCpuMs = afterReport.mainThread - beforeReport.mainThread;
    const reportCpuMs = afterReport.self - beforeReport.self + reportChildCpuMs;
    const prelim = preliminary as { atMs: number; band: string } | null;
    results.push({
      clip: name,
      decodeBaselineMs,
      decodeBaselineCpuMs,
      reportCpuMs,
      reportChildCpuMs,
      reportMainThreadCpuMs,
      preliminaryMs: prelim?.atMs ?? null,
      preliminaryBand: prelim?.band ?? null,
      reportMs,
      band: report.band,
      events,
      detectorMs: Object.fromEntries(report.detectors.map((detector) => [detector.id, detector.durationMs])),
      framesMs: span(events, 'frames'),
      facesMs: span(events, 'faces'),
      facesFound: report.faces?.length ?? null,
    });
  }
  return results;
}

/** This process's CPU time (all threads; its main thread), and its children's it has waited for, from /proc. */
async function cpuMs(): Promise<{ self: number; mainThread: number; children: number }> {
  const [whole, main] = await Promise.all([
    statTimes('/proc/self/stat'),
    statTimes(`/proc/self/task/${process.pid}/stat`),
  ]);
  return { self: whole.self, mainThread: main.self, children: whole.children };
}

async function statTimes(path: string): Promise<{ self: number; children: number }> {
  const stat = await readFile(path, 'utf8');
  // Fields after the parenthesised command name; utime, stime, cutime, cstime are the 14th to 17th.
  const fields = stat
    .slice(stat.lastIndexOf(')') + 2)
    .split(' ')
    .map(Number);
  const tickMs = 1000 / clockTicksPerSecond;
  const [utime, stime, cutime, cstime] = fields.slice(11, 15) as [number, number, number, number];
  return { self: (utime + stime) * tickMs, children: (cutime + cstime) * tickMs };
}

// USER_HZ: 100 on every Linux this runs on (getconf CLK_TCK).
const clockTicksPerSecond = 100;

function span(events: PipelineStageFigures['events'], stage: string): number | null {
  const started = events.find((event) => event.stage === stage && event.phase === 'started');
  const finished = events.find((event) => event.stage === stage && event.phase === 'finished');
  return started && finished ? finished.atMs - started.atMs : null;
}

async function warmFaceModels(faceFinder: FaceFinder): Promise<void> {
  const frame = {
    index: 0,
    timeSeconds: 0,
    width: 64,
    height: 64,
    data: Buffer.alloc(64 * 64 * 3),
    scale: 1,
    keyframe: true,
    windowId: null,
  };
  await faceFinder.find(
    { frames: [frame], windows: [], plan: {} as never } as never,
    AbortSignal.timeout(120_000),
  );
}
