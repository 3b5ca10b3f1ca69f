import type { FrameSample, SampledFrame } from '../pipeline/frames/frame-sample.js';
import type { FaceObservation } from './face-types.js';

/**
 * Which frames of a sample the face search reads. Sweep keyframes always. In a dense window, every
 * `stride`-th frame and the last (the anchors); the frames between two anchors only when either anchor
 * holds a face. A window without faces then costs a fifth of the search, and every frame near a face is
 * still searched, so a track's consecutive frames are all there; what can be missed is a face that comes
 * and goes between two anchors (under `stride` frames).
 */
export const windowSearchStride = 5;

type Detect = (frame: SampledFrame) => Promise<FaceObservation[]>;

/** Faces per frame of the sample, null where the policy did not search the frame. */
export async function searchSample(
  sample: FrameSample,
  detect: Detect,
  stride = windowSearchStride,
): Promise<(FaceObservation[] | null)[]> {
  const found: Promise<FaceObservation[] | null>[] = sample.frames.map(() => Promise.resolve(null));
  const inWindow = new Set(sample.windows.flatMap((window) => window.frameIndexes));
  for (const frame of sample.frames) if (!inWindow.has(frame.index)) found[frame.index] = detect(frame);
  for (const window of sample.windows) {
    const indexes = window.frameIndexes;
    const anchors = anchorPositions(indexes.length, stride);
    for (const position of anchors) found[indexes[position]!] = detect(sample.frames[indexes[position]!]!);
    for (let a = 0; a + 1 < anchors.length; a++) {
      const [from, to] = [anchors[a]!, anchors[a + 1]!];
      const gap = indexes.slice(from + 1, to);
      if (gap.length === 0) continue;
      const nearFace = Promise.all([found[indexes[from]!]!, found[indexes[to]!]!]).then(
        ([before, after]) => (before?.length ?? 0) + (after?.length ?? 0) > 0,
      );
      for (const index of gap)
        found[index] = nearFace.then((near) => (near ? detect(sample.frames[index]!) : null));
    }
  }
  return Promise.all(found);
}

/** Positions 0, stride, 2·stride… and the window's last. */
export function anchorPositions(length: number, stride: number): number[] {
  const anchors: number[] = [];
  for (let position = 0; position < length; position += stride) anchors.push(position);
  if (length > 0 && anchors.at(-1) !== length - 1) anchors.push(length - 1);
  return anchors;
}

/**
 * The same search fed frame by frame while the sample decodes: anchors are searched as they arrive, and the
 * frames after an anchor that holds a face too, so most of the search overlaps decoding. `finish` runs the
 * policy on the final sample through the cache, searching only what streaming did not reach.
 */
export function streamedWindowSearch(
  detect: Detect,
  samePlace: (a: SampledFrame, b: SampledFrame) => boolean,
  stride = windowSearchStride,
) {
  const cache = new Map<number, { frame: SampledFrame; faces: Promise<FaceObservation[]> }>();
  const cached = (frame: SampledFrame): Promise<FaceObservation[]> => {
    const seen = cache.get(frame.index);
    if (seen && samePlace(seen.frame, frame)) return seen.faces;
    const faces = detect(frame);
    // Awaited in finish() or never (a frame whose place changed): a rejection must not go unheard.
    faces.catch(() => undefined);
    cache.set(frame.index, { frame, faces });
    return faces;
  };
  const windows = new Map<number, { position: number; anchor: Promise<FaceObservation[]> | null }>();
  return {
    add(frame: SampledFrame): void {
      if (frame.windowId === null) {
        void cached(frame);
        return;
      }
      const window = windows.get(frame.windowId) ?? { position: 0, anchor: null };
      windows.set(frame.windowId, window);
      if (window.position % stride === 0) window.anchor = cached(frame);
      else
        void window.anchor?.then(
          (faces) => void (faces.length > 0 ? cached(frame) : undefined),
          () => undefined,
        );
      window.position += 1;
    },
    finish: (sample: FrameSample) => searchSample(sample, cached, stride),
  };
}
