/** The example tables of ITU T.81 Annex K, as the IJG library (libjpeg, libjpeg-turbo) scales them by quality. */

/** Luminance table K.1, natural (row-major) order. */
export const standardLuminanceTable = Uint16Array.from([
  16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22,
  29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103,
  121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
]);

/** Chrominance table K.2, natural order. */
export const standardChrominanceTable = Uint16Array.from([
  17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99,
  99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
  99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
]);

/** libjpeg's jpeg_quality_scaling: percentage applied to the base table. */
export function ijgScaleFactor(quality: number): number {
  const q = Math.min(100, Math.max(1, Math.round(quality)));
  return q < 50 ? Math.floor(5000 / q) : 200 - 2 * q;
}

/** The table libjpeg writes for `quality` (with force_baseline: steps clamped to 1–255). */
export function ijgTable(base: Uint16Array, quality: number): Uint16Array {
  const scale = ijgScaleFactor(quality);
  return base.map((value) => Math.min(255, Math.max(1, Math.floor((value * scale + 50) / 100))));
}
