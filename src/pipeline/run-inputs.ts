import type { FaceAnalysis } from '../faces/face-types.js';
import type { MediaInput, MediaProbe } from '../media/media-probe.js';
import type { FrameSample } from './frames/frame-sample.js';

export interface FrameSampleRequest {
  input: MediaInput;
  probe: MediaProbe;
  sizeBytes: number;
  signal: AbortSignal;
}

/** Decodes the frames of a sampling plan once per run. */
export interface FrameSampler {
  sample(request: FrameSampleRequest): Promise<FrameSample>;
}

/** Finds and tracks faces in sampled frames. */
export interface FaceFinder {
  find(sample: FrameSample, signal: AbortSignal): Promise<FaceAnalysis>;
}

export interface RunInputs {
  frames(): Promise<FrameSample>;
  faces(): Promise<FaceAnalysis>;
}

/** What the run decoded and found, for the report; null where nothing asked for it or it failed (detectors say why). */
export interface RunInputsSummary {
  plan: FrameSample['plan'] | null;
  faces: FaceAnalysis | null;
}

export interface RunInputsOptions {
  /** Hears each input start and finish (`frames`, `faces`), whether it succeeded or not. */
  onStage?: (stage: 'frames' | 'faces', phase: 'started' | 'finished') => unknown;
}

/** Frames and faces for one run, computed on first use and shared by every detector that needs them. */
export function createRunInputs(
  deps: { frameSampler: FrameSampler; faceFinder: FaceFinder },
  request: FrameSampleRequest,
  options: RunInputsOptions = {},
): RunInputs & { summary(): Promise<RunInputsSummary> } {
  let frames: Promise<FrameSample> | undefined;
  let faces: Promise<FaceAnalysis> | undefined;
  const staged = <T>(stage: 'frames' | 'faces', work: () => Promise<T>): Promise<T> => {
    options.onStage?.(stage, 'started');
    const result = work();
    const finished = () => void options.onStage?.(stage, 'finished');
    result.then(finished, finished);
    return result;
  };
  const sampled = () => (frames ??= staged('frames', () => deps.frameSampler.sample(request)));
  return {
    frames: sampled,
    faces: () =>
      (faces ??= sampled().then((sample) =>
        staged('faces', () => deps.faceFinder.find(sample, request.signal)),
      )),
    async summary() {
      const settle = async <T>(value: Promise<T> | undefined) => (value ? value.catch(() => null) : null);
      return { plan: (await settle(frames))?.plan ?? null, faces: await settle(faces) };
    },
  };
}
