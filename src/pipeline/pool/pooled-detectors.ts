import type { Detector } from '../detector.js';
import { createFaceBlendBoundaryDetector } from '../detectors/face-blend-boundary.detector.js';
import { createFaceBlinkPoseDetector } from '../detectors/face-blink-pose.detector.js';
import { createFaceNoiseMismatchDetector } from '../detectors/face-noise-mismatch.detector.js';
import { createFaceResamplingDetector } from '../detectors/face-resampling.detector.js';
import { createFaceTemporalDetector } from '../detectors/face-temporal.detector.js';

/**
 * The detectors that run in the detector thread pool: pure pixel and landmark computation over the shared
 * frames and the face tracks, reading nothing else of their context (no media tools, no input file). Both
 * sides build them from here, so the thread runs the very detector the report names.
 */
export const pooledDetectorFactories: Readonly<Record<string, () => Detector>> = {
  'face-noise-mismatch': createFaceNoiseMismatchDetector,
  'face-resampling': createFaceResamplingDetector,
  'face-temporal': createFaceTemporalDetector,
  'face-blink-pose': createFaceBlinkPoseDetector,
  'face-blend-boundary': createFaceBlendBoundaryDetector,
};
