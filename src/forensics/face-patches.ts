import type { FaceObservation } from '../faces/face-types.js';
import { faceOutline, polygonBox } from './face-regions.js';
import { centroid, insidePolygon, scaleBox, scalePolygon } from './regions.js';
import { residualMargin } from './resampling-pmap.js';
import type { SquarePatch } from './spectrum.js';

/** Top-left corner and side of a square in frame pixels. */
export interface Square {
  left: number;
  top: number;
  size: number;
}

export interface FacePatchLayout {
  face: Square;
  /** Every square of the same size on a grid over the frame around the face, nearest first. */
  surround: Square[];
}

const patchSizes = [128, 64, 32] as const;
const minSurroundPatches = 2;

/**
 * The largest square (128, 64 or 32 px, plus the residuals' margin) whose corners lie inside
 * the face oval shrunk to 90% (most of it clear of a blended seam), and equally sized squares of the frame outside 1.5× the
 * oval's box, the nearest first. Null when no size gives a face square and at least two surround squares.
 */
export function facePatchLayout(
  face: FaceObservation,
  width: number,
  height: number,
): FacePatchLayout | null {
  const outline = faceOutline(face);
  const inner = scalePolygon(outline, 0.9);
  const [cx, cy] = centroid(outline);
  const [bx, by, bw, bh] = scaleBox(polygonBox(outline), 1.5);
  for (const size of patchSizes) {
    const outer = size + 2 * residualMargin;
    const left = Math.round(cx - outer / 2);
    const top = Math.round(cy - outer / 2);
    const corners: [number, number][] = [
      [left, top],
      [left + outer, top],
      [left, top + outer],
      [left + outer, top + outer],
    ];
    if (!corners.every(([x, y]) => insidePolygon(x, y, inner))) continue;
    if (left < 0 || top < 0 || left + outer > width || top + outer > height) continue;
    const surround: Square[] = [];
    for (let y = 0; y + outer <= height; y += outer) {
      for (let x = 0; x + outer <= width; x += outer) {
        const clear = x + outer <= bx || x >= bx + bw || y + outer <= by || y >= by + bh;
        if (clear) surround.push({ left: x, top: y, size: outer });
      }
    }
    if (surround.length < minSurroundPatches) continue;
    const distance = (s: Square) => Math.hypot(s.left + outer / 2 - cx, s.top + outer / 2 - cy);
    surround.sort((a, b) => distance(a) - distance(b));
    return { face: { left, top, size: outer }, surround };
  }
  return null;
}

/** BT.601 luma of a square of packed rgb24 pixels. */
export function lumaSquare(rgb: Buffer, width: number, square: Square): SquarePatch {
  const { left, top, size } = square;
  const data = new Float64Array(size * size);
  for (let y = 0; y < size; y++) {
    let p = ((top + y) * width + left) * 3;
    for (let x = 0; x < size; x++, p += 3)
      data[y * size + x] = 0.299 * rgb[p]! + 0.587 * rgb[p + 1]! + 0.114 * rgb[p + 2]!;
  }
  return { size, data };
}

/** The square without the residuals' margin. */
export function innerPatch(padded: SquarePatch): SquarePatch {
  const size = padded.size - 2 * residualMargin;
  const data = new Float64Array(size * size);
  for (let y = 0; y < size; y++) {
    const start = (y + residualMargin) * padded.size + residualMargin;
    data.set(padded.data.subarray(start, start + size), y * size);
  }
  return { size, data };
}

/** Too dark, too bright or too flat to carry camera noise (sky clipped to white, black borders). */
export function isFeatureless(patch: SquarePatch): boolean {
  const n = patch.data.length;
  const mean = patch.data.reduce((sum, value) => sum + value, 0) / n;
  const variance = patch.data.reduce((sum, value) => sum + (value - mean) ** 2, 0) / n;
  return mean < 16 || mean > 240 || variance < 0.25;
}
