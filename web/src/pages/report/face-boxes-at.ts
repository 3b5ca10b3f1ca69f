import type { FaceBox, FaceTrack } from './report-shape.js';

export interface FaceBoxAt {
  trackId: number;
  box: FaceBox;
  /** When the frame this box comes from was sampled. */
  timeSeconds: number;
  analysed: boolean;
}

/**
 * Each face track's box in the sampled frame nearest to `timeSeconds`, when one lies within `toleranceSeconds`:
 * faces are known only in the frames the analysis sampled, so far from any sample nothing is drawn.
 */
export function faceBoxesAt(
  tracks: readonly FaceTrack[],
  timeSeconds: number,
  toleranceSeconds: number,
): FaceBoxAt[] {
  const found: FaceBoxAt[] = [];
  for (const track of tracks) {
    const nearest = nearestSample(track.boxes, timeSeconds);
    if (nearest && Math.abs(nearest.timeSeconds - timeSeconds) <= toleranceSeconds)
      found.push({
        trackId: track.id,
        box: nearest.box,
        timeSeconds: nearest.timeSeconds,
        analysed: track.analysed,
      });
  }
  return found;
}

function nearestSample<T extends { timeSeconds: number }>(samples: readonly T[], time: number): T | null {
  let best: T | null = null;
  for (const sample of samples) {
    if (!best || Math.abs(sample.timeSeconds - time) < Math.abs(best.timeSeconds - time)) best = sample;
  }
  return best;
}

/** Stretches of time where some face was seen in the sampled frames, samples closer than `joinSeconds` joined. */
export function faceSpans(
  tracks: readonly FaceTrack[],
  joinSeconds: number,
): { startSeconds: number; endSeconds: number }[] {
  const times = [...new Set(tracks.flatMap((track) => track.boxes.map((sample) => sample.timeSeconds)))];
  times.sort((a, b) => a - b);
  const spans: { startSeconds: number; endSeconds: number }[] = [];
  for (const time of times) {
    const last = spans.at(-1);
    if (last && time - last.endSeconds <= joinSeconds) last.endSeconds = time;
    else spans.push({ startSeconds: time, endSeconds: time });
  }
  return spans;
}
