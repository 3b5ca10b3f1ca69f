import type { FrameSample, SampledFrame } from '../pipeline/frames/frame-sample.js';
import type { FaceFinder } from '../pipeline/run-inputs.js';
import type { FaceAnalysis, FaceObservation } from './face-types.js';
import { trackFaces } from './face-tracker.js';
import { openFaceThread } from './face-thread-client.js';
import { searchSample, streamedWindowSearch } from './window-face-search.js';

export interface HumanFaceFinderOptions {
  /** Faces whose box's shorter side is smaller are listed as too small and not analysed. */
  minFaceSizePixels: number;
  maxFacesPerFrame: number;
}

export const defaultFaceFinderOptions: HumanFaceFinderOptions = {
  minFaceSizePixels: 48,
  maxFacesPerFrame: 6,
};

/**
 * Faces with @vladmandic/human on the tfjs WASM backend: BlazeFace detection, the 468-point mesh,
 * head pose and the face embedding. Models and WASM come from the installed packages (nothing downloads);
 * a backend other than WASM is refused rather than silently used (it is ~40× slower). Inference runs in
 * one worker thread (one Human instance, one frame at a time), so decoding and detectors go on meanwhile.
 */
export function createHumanFaceFinder(
  options: HumanFaceFinderOptions = defaultFaceFinderOptions,
): FaceFinder {
  // One thread serves every analysis in the process, started on first use.
  let thread: ReturnType<typeof openFaceThread> | undefined;
  const load = () => (thread ??= openFaceThread({ maxFacesPerFrame: options.maxFacesPerFrame })).ready;
  const detect = async (frame: SampledFrame, signal: AbortSignal): Promise<FaceObservation[]> => {
    signal.throwIfAborted();
    await load();
    return thread!.detect(frame, signal);
  };
  const analysis = async (perFrame: (FaceObservation[] | null)[]): Promise<FaceAnalysis> => ({
    tracks: trackFaces(
      perFrame.map((faces) => faces ?? []),
      options.minFaceSizePixels,
    ),
    framesSearched: perFrame.filter((faces) => faces !== null).length,
    minFaceSizePixels: options.minFaceSizePixels,
    models: await load(),
  });
  return {
    async close() {
      const closing = thread;
      thread = undefined;
      await closing?.close();
    },
    async find(sample: FrameSample, signal: AbortSignal): Promise<FaceAnalysis> {
      await load();
      return analysis(await searchSample(sample, (frame) => detect(frame, signal)));
    },
    open(signal: AbortSignal) {
      // A frame searched early counts only if it holds the same place: the search depends on it.
      const search = streamedWindowSearch((frame) => detect(frame, signal), samePlace);
      return {
        add: (frame) => search.add(frame),
        finish: async (sample) => analysis(await search.finish(sample)),
      };
    },
  };
}

function samePlace(a: SampledFrame, b: SampledFrame): boolean {
  return (
    a.index === b.index &&
    a.timeSeconds === b.timeSeconds &&
    a.windowId === b.windowId &&
    a.keyframe === b.keyframe &&
    a.width === b.width &&
    a.height === b.height &&
    (a.data === b.data || a.data.equals(b.data))
  );
}
