import type { FaceAnalysis } from '../faces/face-types.js';
import type { MediaInput, MediaProbe } from '../media/media-probe.js';
import type { FrameSample, SampledFrame } from './frames/frame-sample.js';

export interface FrameSampleRequest {
  input: MediaInput;
  probe: MediaProbe;
  sizeBytes: number;
  signal: AbortSignal;
  /** Keyframe times of the primary video stream, when the packet table was read: windows start at them. */
  keyframeTimes?: readonly number[];
  /**
   * Hears frames while decoding goes on, each once its place in the sample is final (same index, time and
   * window as in the sample returned), so work on them can overlap the decoding of the rest. Optional for
   * a sampler; not every frame need be heard.
   */
  onFrame?: (frame: SampledFrame) => void;
}

/** Decodes the frames of a sampling plan once per run. */
export interface FrameSampler {
  sample(request: FrameSampleRequest): Promise<FrameSample>;
}

/** Finds and tracks faces in sampled frames. */
export interface FaceFinder {
  find(sample: FrameSample, signal: AbortSignal): Promise<FaceAnalysis>;
  /**
   * Optional: a search fed frame by frame while they decode; `finish` returns exactly what `find` would for
   * the sample (frames it was not given, or given with another place, are searched then).
   */
  open?(signal: AbortSignal): FaceSearch;
  /** Optional: ends what the finder keeps running between searches (its thread); a later search starts it again. */
  close?(): Promise<void>;
}

export interface FaceSearch {
  add(frame: SampledFrame): void;
  finish(sample: FrameSample): Promise<FaceAnalysis>;
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
  const sampled = (onFrame?: (frame: SampledFrame) => void) =>
    (frames ??= staged('frames', () => deps.frameSampler.sample({ ...request, onFrame })));
  const found = () => {
    // Asked for before the frames: faces are searched while the rest decodes, when the finder can.
    const search = frames ? undefined : deps.faceFinder.open?.(request.signal);
    if (!search)
      return sampled().then((sample) => staged('faces', () => deps.faceFinder.find(sample, request.signal)));
    let searching = false;
    const add = (frame: SampledFrame) => {
      if (!searching) options.onStage?.('faces', 'started');
      searching = true;
      search.add(frame);
    };
    return sampled(add).then((sample) => {
      if (!searching) options.onStage?.('faces', 'started');
      const result = search.finish(sample);
      const finished = () => void options.onStage?.('faces', 'finished');
      result.then(finished, finished);
      return result;
    });
  };
  return {
    frames: () => sampled(),
    faces: () => (faces ??= found()),
    async summary() {
      const settle = async <T>(value: Promise<T> | undefined) => (value ? value.catch(() => null) : null);
      return { plan: (await settle(frames))?.plan ?? null, faces: await settle(faces) };
    },
  };
}
