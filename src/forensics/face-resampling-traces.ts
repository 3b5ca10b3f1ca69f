import type { FaceObservation } from '../faces/face-types.js';
import { facePatchLayout, innerPatch, isFeatureless, lumaSquare, type Square } from './face-patches.js';
import { periodicExcess, resamplingPeak, residualMargin, type PeriodicExcess } from './resampling-pmap.js';
import { powerSpectrum, radialSpectrum, fineDetailFalloff, type SquarePatch } from './spectrum.js';

const surroundPatches = 4;

interface PatchTraces {
  prominence: Float64Array;
  radial: Float64Array;
  falloff: number;
}

/** Resampling traces of one face in one frame, each set against equally sized squares of the frame around it. */
export interface FaceResamplingTraces {
  patchSize: number;
  face: Square;
  periodic: PeriodicExcess;
  /** Surround's fine-detail falloff minus the face's (ln): positive when the face lost its finest detail. */
  falloffDeficit: number;
  faceFalloff: number;
  surroundFalloff: number;
  faceRadial: Float64Array;
  surroundRadial: Float64Array;
  /** The face's p-map peak prominence, for the artifact. */
  faceProminence: Float64Array;
}

/** Null when the face has no usable square inside its oval or the frame has too little usable surround. */
export function faceResamplingTraces(
  rgb: Buffer,
  width: number,
  height: number,
  face: FaceObservation,
  options: { blockGrid: boolean },
): FaceResamplingTraces | null {
  const layout = facePatchLayout(face, width, height);
  if (!layout) return null;
  const facePatch = lumaSquare(rgb, width, layout.face);
  if (isFeatureless(facePatch)) return null;
  const surround: PatchTraces[] = [];
  for (const square of layout.surround) {
    if (surround.length === surroundPatches) break;
    const patch = lumaSquare(rgb, width, square);
    if (!isFeatureless(patch)) surround.push(patchTraces(patch));
  }
  if (surround.length < 2) return null;
  const inside = patchTraces(facePatch);
  const size = facePatch.size - 2 * residualMargin;
  const surroundFalloff = middle(surround.map((s) => s.falloff));
  const surroundRadial = inside.radial.map((_, bin) => middle(surround.map((s) => s.radial[bin]!)));
  return {
    patchSize: size,
    face: layout.face,
    periodic: periodicExcess(
      inside.prominence,
      surround.map((s) => s.prominence),
      size,
      options,
    ),
    falloffDeficit: surroundFalloff - inside.falloff,
    faceFalloff: inside.falloff,
    surroundFalloff,
    faceRadial: inside.radial,
    surroundRadial,
    faceProminence: inside.prominence,
  };
}

function patchTraces(padded: SquarePatch): PatchTraces {
  const radial = radialSpectrum(powerSpectrum(innerPatch(padded)), padded.size - 2 * residualMargin);
  return { prominence: resamplingPeak(padded).prominence, radial, falloff: fineDetailFalloff(radial) };
}

function middle(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const half = sorted.length >> 1;
  return sorted.length % 2 ? sorted[half]! : (sorted[half - 1]! + sorted[half]!) / 2;
}
