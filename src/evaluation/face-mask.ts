import { pixelBounds, type Rect, type RgbImage } from './rgb-image.js';

/** Blend weights (0–1) over whole-pixel bounds; every pixel outside the bounds keeps weight 0. */
export interface FaceMask {
  bounds: Rect;
  weights: Float32Array;
}

/**
 * An ellipse inscribed in the face box, fading to 0 at its rim over `feather` of its radius, so a
 * manipulation changes no pixel outside the box and leaves no hard seam.
 */
export function ellipseMask(box: Rect, image: { width: number; height: number }, feather: number): FaceMask {
  const bounds = pixelBounds(box, image);
  const weights = new Float32Array(bounds.width * bounds.height);
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  const inner = 1 - feather;
  for (let row = 0; row < bounds.height; row++) {
    for (let column = 0; column < bounds.width; column++) {
      const dx = (bounds.x + column + 0.5 - cx) / (box.width / 2);
      const dy = (bounds.y + row + 0.5 - cy) / (box.height / 2);
      const radius = Math.sqrt(dx * dx + dy * dy);
      let weight = 0;
      if (radius <= inner) weight = 1;
      else if (radius < 1) {
        const t = (1 - radius) / feather;
        weight = t * t * (3 - 2 * t);
      }
      weights[row * bounds.width + column] = weight;
    }
  }
  return { bounds, weights };
}

/** frame = frame × (1 − w) + patch × w over the mask; `patch` is placed with its top-left at `origin`. */
export function blendPatch(
  frame: RgbImage,
  mask: FaceMask,
  patch: RgbImage,
  origin: { x: number; y: number },
): void {
  const { bounds, weights } = mask;
  for (let row = 0; row < bounds.height; row++) {
    const y = bounds.y + row;
    const patchRow = y - origin.y;
    if (patchRow < 0 || patchRow >= patch.height) continue;
    for (let column = 0; column < bounds.width; column++) {
      const weight = weights[row * bounds.width + column]!;
      if (weight === 0) continue;
      const x = bounds.x + column;
      const patchColumn = x - origin.x;
      if (patchColumn < 0 || patchColumn >= patch.width) continue;
      const at = (y * frame.width + x) * 3;
      const from = (patchRow * patch.width + patchColumn) * 3;
      for (let channel = 0; channel < 3; channel++) {
        frame.data[at + channel] =
          frame.data[at + channel]! * (1 - weight) + patch.data[from + channel]! * weight;
      }
    }
  }
}
