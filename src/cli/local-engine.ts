import type { Config } from '../config/config.schema.js';
import { createFfmpegMediaTools, type FfmpegMediaTools } from '../media/ffmpeg.media-tools.js';
import { mediaLimitsFromConfig } from '../media/media-limits.js';
import type { AnalysisPipeline } from '../pipeline/analysis-pipeline.js';

/**
 * The media tools and detection engine for a CLI verb that analyses in-process. `configured`: the
 * deployment's model cards and calibration file too (what `analyze` reports); otherwise raw detector scores
 * (what `eval` and `calibrate` measure).
 */
export async function openLocalEngine(
  config: Config,
  options: { configured: boolean },
): Promise<{ mediaTools: FfmpegMediaTools; pipeline: AnalysisPipeline }> {
  const limits = mediaLimitsFromConfig(config);
  // The ffmpeg/ffprobe version checks (child processes) run while the pipeline's modules load.
  const [mediaTools, { createDetectionEngine }, calibration] = await Promise.all([
    createFfmpegMediaTools({
      ffmpegPath: config.FFMPEG_PATH,
      ffprobePath: config.FFPROBE_PATH,
      limits,
      notice: (message) => console.error(`warning: ${message}`),
    }),
    import('../pipeline/detection-engine.js'),
    options.configured
      ? import('../pipeline/calibration.js').then((module) => module.calibrationFromConfig(config))
      : null,
  ]);
  const { pipeline } = await createDetectionEngine({
    mediaTools,
    limits,
    detectorThreads: config.DETECTOR_THREADS,
    ...(options.configured ? { modelCards: config.MODEL_CARDS, calibration } : {}),
  });
  return { mediaTools, pipeline };
}

/** Runs `work` with a signal that Ctrl-C aborts. */
export async function interruptible<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const abort = () => controller.abort(new Error('interrupted'));
  process.once('SIGINT', abort);
  try {
    return await work(controller.signal);
  } finally {
    process.off('SIGINT', abort);
  }
}
