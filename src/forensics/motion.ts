import type { Box } from '../faces/face-types.js';
import type { Plane } from './luma.js';

/** Mean absolute difference between a's pixels in `region` and b's pixels shifted by (dx, dy); Infinity when out of frame. */
function matchCost(a: Plane, b: Plane, region: Box, dx: number, dy: number, step: number): number {
  const [x0, y0, width, height] = region.map(Math.round) as Box;
  if (x0 + dx < 0 || y0 + dy < 0 || x0 + width + dx > b.width || y0 + height + dy > b.height) return Infinity;
  let sum = 0;
  let count = 0;
  for (let y = y0; y < y0 + height; y += step) {
    const rowA = y * a.width;
    const rowB = (y + dy) * b.width + dx;
    for (let x = x0; x < x0 + width; x += step) {
      sum += Math.abs(a.data[rowA + x]! - b.data[rowB + x]!);
      count++;
    }
  }
  return count ? sum / count : Infinity;
}

/**
 * Where the content of `region` in frame a went in frame b: integer block matching over ±maxShift
 * (coarse sparse pass, then a dense one around the best), refined to a fraction of a pixel with an
 * equiangular fit through the costs either side.
 */
export function estimateShift(
  a: Plane,
  b: Plane,
  region: Box,
  maxShift: number,
): { dx: number; dy: number } | null {
  const inFrame: Box = clampBox(region, a.width, a.height, maxShift + 2);
  if (inFrame[2] < 16 || inFrame[3] < 16) return null;
  let best = { dx: 0, dy: 0, cost: Infinity };
  for (let dy = -maxShift; dy <= maxShift; dy += 2) {
    for (let dx = -maxShift; dx <= maxShift; dx += 2) {
      const cost = matchCost(a, b, inFrame, dx, dy, 3);
      if (cost < best.cost) best = { dx, dy, cost };
    }
  }
  const coarse = best;
  best = { ...coarse, cost: Infinity };
  for (let dy = coarse.dy - 2; dy <= coarse.dy + 2; dy++) {
    for (let dx = coarse.dx - 2; dx <= coarse.dx + 2; dx++) {
      const cost = matchCost(a, b, inFrame, dx, dy, 1);
      if (cost < best.cost) best = { dx, dy, cost };
    }
  }
  if (!Number.isFinite(best.cost)) return null;
  const cost = (dx: number, dy: number) => matchCost(a, b, inFrame, dx, dy, 1);
  return {
    dx: best.dx + equiangularOffset(cost(best.dx - 1, best.dy), best.cost, cost(best.dx + 1, best.dy)),
    dy: best.dy + equiangularOffset(cost(best.dx, best.dy - 1), best.cost, cost(best.dx, best.dy + 1)),
  };
}

/** Vertex of the symmetric V through (-1, left), (0, centre), (1, right): absolute-difference costs are V-shaped, not parabolic. */
function equiangularOffset(left: number, centre: number, right: number): number {
  const slope = Math.max(left, right) - centre;
  if (!Number.isFinite(slope) || slope <= 0) return 0;
  return Math.max(-0.5, Math.min(0.5, (left - right) / (2 * slope)));
}

function clampBox([x, y, width, height]: Box, frameWidth: number, frameHeight: number, margin: number): Box {
  const left = Math.max(margin, x);
  const top = Math.max(margin, y);
  const right = Math.min(frameWidth - margin, x + width);
  const bottom = Math.min(frameHeight - margin, y + height);
  return [left, top, Math.max(0, right - left), Math.max(0, bottom - top)];
}
