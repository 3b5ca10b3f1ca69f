import type { FaceAnalysis } from '../faces/face-types.js';
import type { MediaInput, MediaProbe, MediaTools } from '../media/media-probe.js';
import type { FrameSample } from './frames/frame-sample.js';

/** What a detector consumes; the pipeline prepares each kind once and shares it. */
/**
 * What a detector reads. `pictures`: it decodes pictures of its own, beyond the shared sample (so, like
 * `frames` and `faces`, it is not done early enough for the preliminary band).
 */
export type DetectorNeed = 'probe' | 'packets' | 'frames' | 'faces' | 'audio' | 'pictures';

export interface DetectorContext {
  input: MediaInput;
  /** Size of the input in bytes: packets whose bytes lie past it are not there and never scored. */
  sizeBytes: number;
  probe: MediaProbe;
  mediaTools: MediaTools;
  signal: AbortSignal;
  /** Frames decoded once per run by the sampling plan and shared; rejects for media without a picture. */
  frames(): Promise<FrameSample>;
  /** Faces found in the sampled frames and tracked across them; computed once per run. */
  faces(): Promise<FaceAnalysis>;
}

export type DetectorStrength = 'weak' | 'standard';

export type Applicability = { applicable: true } | { applicable: false; reason: string };

export interface Coverage {
  /** What was counted: packets, frames, seconds, fields... */
  unit: string;
  analysed: number;
  total: number;
  /** analysed / total, 0–1. */
  fraction: number;
}

export interface Evidence {
  kind: string;
  /** Plain words: what was seen and where. */
  summary: string;
  timeSeconds?: number;
  data?: Record<string, unknown>;
}

export interface DetectorFinding {
  /** 0–1, higher means stronger indication of manipulation; null when the detector abstains. */
  score: number | null;
  /** Why the detector abstained despite being applicable (too little data...). */
  abstainReason?: string;
  /** Set when looking showed the detector does not apply (no face found): reported as not applicable. */
  notApplicableReason?: string;
  coverage: Coverage;
  perFrame?: { timeSeconds: number; score: number }[];
  evidence: Evidence[];
  /** What was measured, in plain words, for the report reader. */
  explanation: string;
  /** Raw measurements behind the score, for reproducibility. */
  measurements: Record<string, number | string | boolean | null>;
  /** What the detector computed (timelines, crops, residual maps, spectra), stored encrypted with the report. */
  artifacts?: DetectorArtifact[];
}

export interface DetectorArtifact {
  /** File name, unique within the detector: [a-z0-9-]+ plus an extension (.json, .png, .pgm). */
  name: string;
  contentType: string;
  /** One line: what it shows. */
  description: string;
  data: Buffer;
}

export interface Detector {
  readonly id: string;
  readonly version: string;
  readonly needs: readonly DetectorNeed[];
  /** One line on what it looks for. */
  readonly description: string;
  /** Weak cues (trivially edited metadata, encoder tags) are reported but never move the band on their own. */
  readonly strength: DetectorStrength;
  applicable(context: DetectorContext): Applicability;
  analyze(context: DetectorContext): Promise<DetectorFinding>;
}
