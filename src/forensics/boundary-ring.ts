import { centroid, type Point } from './regions.js';

/** A frame's pixels as packed rgb24, the form sampled frames come in. */
export interface RgbFrame {
  width: number;
  height: number;
  data: Buffer;
}

/** Polar coordinates normalised to a closed outline: 1 is on the outline at every angle. */
export interface OutlinePolar {
  centre: Point;
  /** Distance from the centre to the outline at an angle (radians, atan2 convention). */
  radiusAt(angle: number): number;
}

/**
 * The outline as a radius function of angle around its centroid, interpolated between its vertices (the
 * face oval is star-shaped about its centre, so one radius per angle describes it).
 */
export function outlinePolar(outline: readonly Point[]): OutlinePolar {
  const centre = centroid(outline);
  const vertices = outline
    .map(([x, y]) => ({
      angle: Math.atan2(y - centre[1], x - centre[0]),
      radius: Math.hypot(x - centre[0], y - centre[1]),
    }))
    .sort((a, b) => a.angle - b.angle);
  const wrapped = [
    { ...vertices[vertices.length - 1]!, angle: vertices[vertices.length - 1]!.angle - 2 * Math.PI },
    ...vertices,
    { ...vertices[0]!, angle: vertices[0]!.angle + 2 * Math.PI },
  ];
  return {
    centre,
    radiusAt(angle) {
      let i = 1;
      while (i < wrapped.length - 1 && wrapped[i]!.angle < angle) i++;
      const a = wrapped[i - 1]!;
      const b = wrapped[i]!;
      const t = b.angle > a.angle ? (angle - a.angle) / (b.angle - a.angle) : 0;
      return a.radius + (b.radius - a.radius) * Math.min(1, Math.max(0, t));
    },
  };
}

export interface RingProfileOptions {
  /** Angular sectors around the centre. */
  sectors: number;
  /** Normalised radii of the first and last bin edges, and the bin width. */
  innerRadius: number;
  outerRadius: number;
  binWidth: number;
}

export const defaultRingOptions: RingProfileOptions = {
  sectors: 16,
  innerRadius: 0.3,
  outerRadius: 1.4,
  binWidth: 0.05,
};

/** What one (sector, radius) cell of the ring holds. */
export interface RingCell {
  pixels: number;
  /** Median Immerkær residual magnitude, in σ units of Gaussian noise (the local noise/residual level). */
  residual: number;
  /** Median gradient magnitude (grey levels per pixel): local sharpness. */
  sharpness: number;
  /** Mean BT.601 luma and chroma (Cb, Cr offsets from grey). */
  luma: number;
  cb: number;
  cr: number;
}

/** Cell statistics on a sector × radius grid around a face outline. */
export interface RingProfile {
  options: RingProfileOptions;
  /** Centre of each radius bin, normalised to the outline. */
  radii: number[];
  /** cells[sector][bin]; null where the cell had too few pixels or fell outside the frame. */
  cells: (RingCell | null)[][];
}

const minCellPixels = 24;
// Median |N(0, σ)| of Immerkær's response is 0.6745 · 6σ, whose mask has norm 6.
const residualToSigma = 1 / (0.6745 * 6);

/**
 * Residual, sharpness and colour of the frame on a polar grid normalised to the outline: bins of radius
 * (as a fraction of the outline's radius at that angle) across angular sectors, so that a contour
 * concentric with the face shows as a step at one radius in every sector.
 */
export function ringProfile(
  frame: RgbFrame,
  outline: readonly Point[],
  options: RingProfileOptions = defaultRingOptions,
): RingProfile {
  const polar = outlinePolar(outline);
  const { sectors, innerRadius, outerRadius, binWidth } = options;
  const bins = Math.round((outerRadius - innerRadius) / binWidth);
  const radii = Array.from({ length: bins }, (_, b) => innerRadius + (b + 0.5) * binWidth);
  const [cx, cy] = polar.centre;
  const maxRadius = Math.max(...outline.map(([x, y]) => Math.hypot(x - cx, y - cy))) * outerRadius;
  const { width, height, data } = frame;
  const left = Math.max(1, Math.floor(cx - maxRadius));
  const right = Math.min(width - 2, Math.ceil(cx + maxRadius));
  const top = Math.max(1, Math.floor(cy - maxRadius));
  const bottom = Math.min(height - 2, Math.ceil(cy + maxRadius));
  const luma = lumaWindow(data, width, left - 1, top - 1, right + 1, bottom + 1);
  const stride = right - left + 3;
  const at = (x: number, y: number) => (y - top + 1) * stride + (x - left + 1);
  const radiusTable = Array.from({ length: 720 }, (_, i) =>
    polar.radiusAt((i / 720) * 2 * Math.PI - Math.PI),
  );
  const collect = Array.from({ length: sectors * bins }, () => ({
    residuals: [] as number[],
    gradients: [] as number[],
    luma: 0,
    cb: 0,
    cr: 0,
  }));
  for (let y = top; y <= bottom; y++) {
    for (let x = left; x <= right; x++) {
      const angle = Math.atan2(y - cy, x - cx);
      const outlineRadius =
        radiusTable[Math.min(719, Math.floor(((angle + Math.PI) / (2 * Math.PI)) * 720))]!;
      const r = Math.hypot(x - cx, y - cy) / outlineRadius;
      if (r < innerRadius || r >= outerRadius) continue;
      const bin = Math.min(bins - 1, Math.floor((r - innerRadius) / binWidth));
      const sector = Math.min(sectors - 1, Math.floor(((angle + Math.PI) / (2 * Math.PI)) * sectors));
      const cell = collect[sector * bins + bin]!;
      const i = at(x, y);
      const residual =
        luma[i - stride - 1]! -
        2 * luma[i - stride]! +
        luma[i - stride + 1]! -
        2 * luma[i - 1]! +
        4 * luma[i]! -
        2 * luma[i + 1]! +
        luma[i + stride - 1]! -
        2 * luma[i + stride]! +
        luma[i + stride + 1]!;
      cell.residuals.push(Math.abs(residual));
      cell.gradients.push(Math.hypot(luma[i + 1]! - luma[i - 1]!, luma[i + stride]! - luma[i - stride]!) / 2);
      const p = (y * width + x) * 3;
      const [red, green, blue] = [data[p]!, data[p + 1]!, data[p + 2]!];
      cell.luma += luma[i]!;
      cell.cb += -0.168736 * red - 0.331264 * green + 0.5 * blue;
      cell.cr += 0.5 * red - 0.418688 * green - 0.081312 * blue;
    }
  }
  const cells = Array.from({ length: sectors }, (_, sector) =>
    radii.map((_, bin) => {
      const cell = collect[sector * bins + bin]!;
      const pixels = cell.residuals.length;
      if (pixels < minCellPixels) return null;
      return {
        pixels,
        residual: medianInPlace(cell.residuals) * residualToSigma,
        sharpness: medianInPlace(cell.gradients),
        luma: cell.luma / pixels,
        cb: cell.cb / pixels,
        cr: cell.cr / pixels,
      };
    }),
  );
  return { options, radii, cells };
}

function lumaWindow(data: Buffer, width: number, left: number, top: number, right: number, bottom: number) {
  const stride = right - left + 1;
  const out = new Float32Array(stride * (bottom - top + 1));
  for (let y = top; y <= bottom; y++) {
    for (let x = left; x <= right; x++) {
      const p = (y * width + x) * 3;
      out[(y - top) * stride + (x - left)] = 0.299 * data[p]! + 0.587 * data[p + 1]! + 0.114 * data[p + 2]!;
    }
  }
  return out;
}

function medianInPlace(values: number[]): number {
  values.sort((a, b) => a - b);
  const middle = values.length >> 1;
  return values.length % 2 ? values[middle]! : (values[middle - 1]! + values[middle]!) / 2;
}

export type RingFeature = 'residual' | 'sharpness';

/** A step in one feature's log level across a contour at one normalised radius, agreed on by the sectors. */
export interface ConcentricStep {
  /** Normalised radius of the contour. */
  radius: number;
  /** Median over sectors of (log level just outside − log level just inside): > 0 means smoother inside. */
  step: number;
  /** Sectors measured on both sides of the contour, and the share of them stepping the same way by > 0.2. */
  sectors: number;
  agreement: number;
  /** Each sector's step at that radius (null where a side had no cells). */
  perSector: (number | null)[];
}

/**
 * The contour, among the candidate radii, across which the log level of `feature` rises most consistently
 * (median over sectors of the mean outside window minus the mean inside window). Null when fewer than
 * half of the sectors can be measured at any candidate radius.
 */
export function concentricStep(
  profile: RingProfile,
  feature: RingFeature,
  candidates: { from: number; to: number; window: number },
  sectorQuantile = 0.5,
): ConcentricStep | null {
  const { radii, cells } = profile;
  const logLevel = cells.map((sector) =>
    sector.map((cell) => (cell ? Math.log(Math.max(cell[feature], 0.05)) : null)),
  );
  const half = profile.options.binWidth / 2;
  let best: ConcentricStep | null = null;
  for (let b = 0; b < radii.length; b++) {
    const radius = radii[b]! - half;
    if (radius < candidates.from - 1e-9 || radius > candidates.to + 1e-9) continue;
    const perSector = logLevel.map((levels) => {
      const inside = windowMean(levels, radii, radius - candidates.window, radius);
      const outside = windowMean(levels, radii, radius, radius + candidates.window);
      return inside === null || outside === null ? null : outside - inside;
    });
    const measured = perSector.filter((value): value is number => value !== null);
    if (measured.length < cells.length / 2) continue;
    const step = quantile(measured, sectorQuantile);
    const agreement =
      measured.filter((value) => Math.sign(value) === Math.sign(step) && Math.abs(value) > 0.2).length /
      measured.length;
    if (!best || step > best.step) best = { radius, step, sectors: measured.length, agreement, perSector };
  }
  return best;
}

function windowMean(levels: (number | null)[], radii: number[], from: number, to: number): number | null {
  let sum = 0;
  let count = 0;
  for (let b = 0; b < radii.length; b++) {
    const level = levels[b];
    if (radii[b]! <= from || radii[b]! >= to || level === null || level === undefined) continue;
    sum += level;
    count++;
  }
  return count >= 2 ? sum / count : null;
}

/** The q-quantile (0–1, nearest rank below) of the values. */
function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * (sorted.length - 1) + 1e-9))]!;
}

/**
 * Median over sectors of the chroma distance (Cb, Cr, grey levels) between the windows just inside and
 * just outside a contour: how much the colour changes across it.
 */
export function colourJump(profile: RingProfile, radius: number, window: number): number | null {
  const jumps = profile.cells.flatMap((sector) => {
    const side = (from: number, to: number) => {
      const cells = sector.filter((cell, b) => cell && profile.radii[b]! > from && profile.radii[b]! < to);
      if (cells.length < 2) return null;
      const cb = cells.reduce((sum, cell) => sum + cell!.cb, 0) / cells.length;
      const cr = cells.reduce((sum, cell) => sum + cell!.cr, 0) / cells.length;
      return [cb, cr] as const;
    };
    const inside = side(radius - window, radius);
    const outside = side(radius, radius + window);
    return inside && outside ? [Math.hypot(outside[0] - inside[0], outside[1] - inside[1])] : [];
  });
  return jumps.length ? quantile(jumps, 0.5) : null;
}
