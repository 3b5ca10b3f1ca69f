import type { MediaLimits } from '../media/media-limits.js';
import type { MediaTools } from '../media/media-probe.js';
import { createAnalysisPipeline, type AnalysisPipeline } from './analysis-pipeline.js';
import type { Calibration } from './calibration.js';
import { defaultDetectors } from './default-detectors.js';
import { createMediaIntakeCheck, type MediaIntakeCheck } from './media-intake.js';
import type { FaceFinder, FrameSampler } from './run-inputs.js';

export interface DetectionEngineDeps {
  mediaTools: MediaTools;
  limits: MediaLimits;
  /** CALIBRATION_FILE, loaded (`calibrationFromConfig`); absent: reports carry no percentiles. */
  calibration?: Calibration | null;
}

/** The analysis pipeline every entry point runs (server workers and `guardian analyze`), built one way. */
export interface DetectionEngine {
  pipeline: AnalysisPipeline;
  /** The same check the pipeline runs, for refusing bad media at upload. */
  intake: MediaIntakeCheck;
}

export async function createDetectionEngine(deps: DetectionEngineDeps): Promise<DetectionEngine> {
  const intake = createMediaIntakeCheck({ limits: deps.limits });
  const frameSampler: FrameSampler = {
    sample: () => Promise.reject(new Error('frame sampling is not built yet')),
  };
  const faceFinder: FaceFinder = {
    find: () => Promise.reject(new Error('face finding is not built yet')),
  };
  const pipeline = createAnalysisPipeline({
    mediaTools: deps.mediaTools,
    detectors: defaultDetectors(),
    intake,
    frameSampler,
    faceFinder,
    calibration: deps.calibration ?? null,
  });
  return { pipeline, intake };
}
