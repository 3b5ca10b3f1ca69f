import type { Detector } from './detector.js';
import { createGopDoubleCompressionDetector } from './detectors/gop-double-compression.detector.js';
import { createFrameDuplicationDetector } from './detectors/frame-duplication.detector.js';
import { createFaceNoiseMismatchDetector } from './detectors/face-noise-mismatch.detector.js';
import { createFaceResamplingDetector } from './detectors/face-resampling.detector.js';
import { createFaceTemporalDetector } from './detectors/face-temporal.detector.js';
import { createFaceBlinkPoseDetector } from './detectors/face-blink-pose.detector.js';
import { createFaceBlendBoundaryDetector } from './detectors/face-blend-boundary.detector.js';
import { createMetadataTracesDetector } from './detectors/metadata-traces.detector.js';
import { createAvOffsetDetector } from './detectors/av-offset.detector.js';
import { createC2paProvenanceDetector } from './detectors/c2pa-provenance.detector.js';
import { createImageMetadataDetector } from './detectors/image-metadata.detector.js';
import { createJpegCompressionDetector } from './detectors/jpeg-compression.detector.js';

/** The detectors every deployment runs, in report order. */
export function defaultDetectors(deps: { now?: () => Date } = {}): Detector[] {
  return [
    createGopDoubleCompressionDetector(),
    createFrameDuplicationDetector(),
    createMetadataTracesDetector({ now: deps.now ?? (() => new Date()) }),
    createFaceNoiseMismatchDetector(),
    createFaceResamplingDetector(),
    createFaceTemporalDetector(),
    createFaceBlinkPoseDetector(),
    createFaceBlendBoundaryDetector(),
    createAvOffsetDetector(),
    createJpegCompressionDetector(),
    createImageMetadataDetector({ now: deps.now ?? (() => new Date()) }),
    createC2paProvenanceDetector(),
  ];
}
