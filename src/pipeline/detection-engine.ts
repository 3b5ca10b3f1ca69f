import type { Tracer } from '@opentelemetry/api';
import type { MediaLimits } from '../media/media-limits.js';
import type { MediaTools } from '../media/media-probe.js';
import { createAnalysisPipeline, type AnalysisPipeline } from './analysis-pipeline.js';
import type { Calibration } from './calibration.js';
import { defaultDetectors } from './default-detectors.js';
import { createMediaIntakeCheck, type MediaIntakeCheck } from './media-intake.js';
import { createHumanFaceFinder } from '../faces/human-face-finder.js';
import { createFfmpegFrameSampler } from './frames/ffmpeg-frame-sampler.js';
import type { FaceFinder } from './run-inputs.js';
import { createDetectorPool } from './pool/detector-pool.js';

export interface DetectionEngineDeps {
  mediaTools: MediaTools;
  limits: MediaLimits;
  /** Shared by engines in one process (the face models load once); a new one by default. */
  faceFinder?: FaceFinder;
  /** Model card paths (MODEL_CARDS); each model is verified here and runs as one more detector. */
  modelCards?: readonly string[];
  /** CALIBRATION_FILE or the project's default, loaded (`calibrationFromConfig`); absent: no percentiles. */
  calibration?: Calibration | null;
  /** Spans for each detector run, under the job's span; absent: nothing is traced. */
  tracer?: Tracer;
  /** DETECTOR_THREADS: threads the pixel detectors run in; 0 or absent: one per processor. */
  detectorThreads?: number;
}

/** The analysis pipeline every entry point runs (server workers and `guardian analyze`), built one way. */
export interface DetectionEngine {
  pipeline: AnalysisPipeline;
  /** The same check the pipeline runs, for refusing bad media at upload. */
  intake: MediaIntakeCheck;
  /** Stops the face search and detector threads: a stopped server must not be held open by them. */
  close(): Promise<void>;
}

export async function createDetectionEngine(deps: DetectionEngineDeps): Promise<DetectionEngine> {
  const intake = createMediaIntakeCheck({ limits: deps.limits });
  const frameSampler = createFfmpegFrameSampler({ mediaTools: deps.mediaTools });
  const faceFinder = deps.faceFinder ?? createHumanFaceFinder();
  // Imported only when configured: ONNX Runtime's native library stays unloaded otherwise.
  const modelDetectors = deps.modelCards?.length
    ? await import('../models/model-detectors.js').then(({ loadModelDetectors }) =>
        loadModelDetectors(deps.modelCards ?? []),
      )
    : [];
  const detectorPool = createDetectorPool({ threads: deps.detectorThreads ?? 0 });
  const pipeline = createAnalysisPipeline({
    mediaTools: deps.mediaTools,
    detectors: [...defaultDetectors().map(detectorPool.wrap), ...modelDetectors],
    intake,
    frameSampler,
    faceFinder,
    calibration: deps.calibration ?? null,
    ...(deps.tracer ? { tracer: deps.tracer } : {}),
  });
  const close = async () => {
    await Promise.all([faceFinder.close?.(), detectorPool.close()]);
  };
  return { pipeline, intake, close };
}
