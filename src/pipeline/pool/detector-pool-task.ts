import type { FaceAnalysis } from '../../faces/face-types.js';
import type { MediaProbe, MediaTools } from '../../media/media-probe.js';
import type { Detector, DetectorContext, DetectorFinding } from '../detector.js';
import type { FrameSample } from '../frames/frame-sample.js';
import { pooledDetectorFactories } from './pooled-detectors.js';

/** What the main thread sends: everything a pooled detector reads, frames in shared memory. */
export interface DetectorPoolTask {
  detectorId: string;
  sizeBytes: number;
  probe: MediaProbe;
  sample: FrameSample;
  faces: FaceAnalysis;
}

const detectors = new Map<string, Detector>();

/** Runs in a pool thread: the detector's own analyze() over the task's inputs. */
export default async function analyzeInThread(task: DetectorPoolTask): Promise<DetectorFinding> {
  const detector = detectorFor(task.detectorId);
  const sample = {
    ...task.sample,
    frames: task.sample.frames.map((frame) => ({ ...frame, data: asBuffer(frame.data) })),
  };
  const context: DetectorContext = {
    input: 'detector-thread:no-input',
    sizeBytes: task.sizeBytes,
    probe: task.probe,
    mediaTools: noMediaTools,
    // An abort ends the whole thread (the pool terminates it): nothing here needs to listen.
    signal: new AbortController().signal,
    frames: async () => sample,
    faces: async () => task.faces,
  };
  return detector.analyze(context);
}

function detectorFor(id: string): Detector {
  let detector = detectors.get(id);
  if (!detector) {
    const create = pooledDetectorFactories[id];
    if (!create) throw new Error(`detector ${id} does not run in the detector thread pool`);
    detector = create();
    detectors.set(id, detector);
  }
  return detector;
}

/** Structured cloning turns a Buffer into a plain Uint8Array over the same (shared) memory. */
function asBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** Pooled detectors read only frames, faces and the probe; a call here is a detector wrongly pooled. */
const noMediaTools = new Proxy({} as MediaTools, {
  get: (_target, name) => () => {
    throw new Error(`media tools (${String(name)}) are not available in a detector thread`);
  },
});
