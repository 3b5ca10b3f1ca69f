import type { paths } from '../../api/schema.js';
import type { Band } from '../../components/band-words.js';

export type AnalysisView =
  paths['/api/v1/analyses/{id}']['get']['responses'][200]['content']['application/json'];
export type DetectorResult = AnalysisView['detectors'][number];
export type ArtifactList =
  paths['/api/v1/analyses/{id}/artifacts']['get']['responses'][200]['content']['application/json'];
export type ArtifactEntry = ArtifactList['artifacts'][number];

/*
 * The OpenAPI schema carries the full report as an open object (`report: Record<string, unknown>`), so the
 * parts this page reads are declared here after src/pipeline/report.ts; every field is read defensively
 * because reports stored by older pipelines may lack newer ones.
 */
export type FaceBox = [x: number, y: number, width: number, height: number];

export interface FaceTrack {
  id: number;
  framesSeen: number;
  sizePixels: number;
  analysed: boolean;
  reason?: string;
  boxes: { timeSeconds: number; box: FaceBox; score: number }[];
}

export interface CompressionProfile {
  kind: 'video' | 'image';
  codec: string | null;
  profile: string | null;
  width: number | null;
  height: number | null;
  bitrate: number | null;
  frameRate: number | null;
  bitRatePerPixelPerFrame: number | null;
  gopLength: number | null;
  bFrames: boolean | null;
  reencodeEvidence: 'none' | 'weak' | 'strong' | null;
  forensicSignal: 'high' | 'medium' | 'low' | null;
  forensicSignalReason: string | null;
}

export interface SamplingPlan {
  kind: 'video' | 'image';
  totalFrames: number;
  framesDecoded: number;
  windows: { startSeconds: number; endSeconds: number; frames: number }[];
  secondsCovered: number;
  durationSeconds: number | null;
  decodeWidth: number;
  decodeHeight: number;
}

export interface MediaFacts {
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
}

export interface MediaIntegrity {
  truncated: boolean;
  presentFraction: number;
  claimedDurationSeconds: number | null;
  presentDurationSeconds: number | null;
}

export interface Evidence {
  kind: string;
  summary: string;
  timeSeconds?: number;
}

/** The report's own detector entry: the API schema's fields plus what the page reads beyond them. */
export interface DetectorReport extends DetectorResult {
  strength?: 'weak' | 'standard';
  evidence?: Evidence[];
  perFrame?: { timeSeconds: number; score: number }[];
  percentile?: number | null;
  probability?: number | null;
}

export interface CalibrationVersion {
  projectDefault: boolean;
  source: string;
}

export interface ReportView {
  band: Band;
  reasons: string[];
  coverage: number | null;
  compression: CompressionProfile | null;
  media: MediaFacts | null;
  integrity: MediaIntegrity | null;
  sampling: SamplingPlan | null;
  faces: FaceTrack[] | null;
  detectors: DetectorReport[];
  calibration: CalibrationVersion | null;
  pipelineVersion: string | null;
  createdAt: string | null;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function objectOrNull<T>(value: unknown): T | null {
  return isObject(value) ? (value as T) : null;
}

function isFaceTrack(value: unknown): value is FaceTrack {
  return isObject(value) && typeof value.id === 'number' && Array.isArray(value.boxes);
}

/** The finished analysis as the page shows it; null until the analysis is done with a band. */
export function readReport(analysis: AnalysisView): ReportView | null {
  if (analysis.status !== 'done' || analysis.band === null) return null;
  const report = analysis.report ?? {};
  const versions = objectOrNull<Record<string, unknown>>(report.versions);
  const detectors = Array.isArray(report.detectors)
    ? (report.detectors as DetectorReport[])
    : (analysis.detectors as DetectorReport[]);
  return {
    band: analysis.band,
    reasons: analysis.reasons,
    coverage: analysis.coverage,
    compression: objectOrNull<CompressionProfile>(report.compression),
    media: objectOrNull<MediaFacts>(report.media),
    integrity: objectOrNull<MediaIntegrity>(report.integrity),
    sampling: objectOrNull<SamplingPlan>(report.sampling),
    faces: Array.isArray(report.faces) ? report.faces.filter(isFaceTrack) : null,
    detectors,
    calibration: objectOrNull<CalibrationVersion>(versions?.calibration),
    pipelineVersion: typeof report.pipelineVersion === 'string' ? report.pipelineVersion : null,
    createdAt: typeof report.createdAt === 'string' ? report.createdAt : null,
  };
}
