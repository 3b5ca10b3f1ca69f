import type { DetectorFlagDecision } from '../flags/detector-flags.js';
import type { ArtifactListing } from './artifact-collector.js';
import type { CalibrationBuiltFrom } from './calibration.js';
import type { CompressionProfile } from './compression-profile.js';
import type { Coverage, DetectorStrength, Evidence } from './detector.js';
import type { Box } from '../faces/face-types.js';
import type { SamplingPlan } from './frames/frame-sample.js';
import type { MediaIntegrity } from './media-intake.js';

export type Band = 'indicators_found' | 'inconclusive' | 'no_indicators' | 'not_analyzable';

/** One detector's entry in the report. Field names are a public contract: add freely, never rename. */
export interface DetectorReport {
  id: string;
  version: string;
  /** `weak`: a cue that is reported but cannot set the band on its own. */
  strength: DetectorStrength;
  applicable: boolean;
  /** Present when not applicable or when the detector abstained. */
  reason?: string;
  score: number | null;
  coverage: Coverage | null;
  explanation: string;
  evidence: Evidence[];
  measurements: Record<string, number | string | boolean | null>;
  perFrame?: { timeSeconds: number; score: number }[];
  /**
   * What the detector computed besides its score (timelines, crops, residual maps, spectra), present when
   * it computed any: listed here, the bytes stored beside the report (`GET .../artifacts`).
   */
  artifacts?: ArtifactListing[];
  durationMs: number;
  /**
   * 0–100: the score is higher than this share of the authentic reference scores of this detector
   * version (CALIBRATION_FILE, else the project's default reference); null without a reference or a score.
   * Set by the pipeline.
   */
  percentile?: number | null;
  /** Calibrated probability of manipulation, only with labelled calibration data for this detector version; else null. */
  probability?: number | null;
}

export interface AnalysisReport {
  schemaVersion: 1;
  pipelineVersion: string;
  createdAt: string;
  /**
   * How the media is compressed and how much forensic signal that leaves (read it before the band: a
   * clean result on heavily compressed media says less); null for media without a picture.
   */
  compression: CompressionProfile | null;
  band: Band;
  /** Plain-words reasons for the band. */
  reasons: string[];
  media: {
    sha256: string;
    sizeBytes: number;
    formatName: string;
    durationSeconds: number | null;
    video: {
      codec: string | null;
      width: number | null;
      height: number | null;
      frameRate: number | null;
    } | null;
    audio: { codec: string | null; sampleRate: number | null; channels: number | null } | null;
  };
  /**
   * What of the media is really in the file (samples inside it, keyframes that decode); null when the
   * file could not be probed. Partly present media is analysed on the present part only.
   */
  integrity: MediaIntegrity | null;
  /** Which frames were decoded (keyframes across the video, dense windows); null when none were. */
  sampling: SamplingPlan | null;
  /** Faces found in the sampled frames, tracked across them; null when no face search ran. */
  faces: FaceTrackReport[] | null;
  detectors: DetectorReport[];
  /**
   * Overall share of the media the applicable detectors looked at (0–1): mean over applicable detectors,
   * times the share of the claimed samples present in the file.
   */
  coverage: number;
  versions: {
    pipeline: string;
    node: string;
    ffmpeg: string;
    ffprobe: string;
    detectors: Record<string, string>;
    /** Face model versions and sha256 of their weights, when faces were searched. */
    faceModels: Record<string, string> | null;
    /**
     * The calibration file behind percentiles and probabilities: `projectDefault` when it is the reference
     * shipped with the project (CALIBRATION_FILE unset), `builtFrom` what its reference media were when the
     * file records it; null with `CALIBRATION_FILE=none`.
     */
    calibration: {
      sha256: string;
      source: string;
      projectDefault: boolean;
      builtFrom: CalibrationBuiltFrom | null;
    } | null;
    /**
     * The feature flags that chose which flag-gated detectors ran for this organisation (see
     * docs/feature-flags.md); absent when the run had no flag decisions (`guardian analyze`).
     */
    featureFlags?: (DetectorFlagDecision & { ran: boolean })[];
  };
  disclaimer: string;
}

/** One face track in the report: where the face was in each sampled frame it was seen in. */
export interface FaceTrackReport {
  id: number;
  framesSeen: number;
  /** Median shorter side of the face box, in decoded-frame pixels. */
  sizePixels: number;
  /** False when the face was too small to analyse (`reason` says so). */
  analysed: boolean;
  reason?: string;
  boxes: { timeSeconds: number; box: Box; score: number }[];
}
