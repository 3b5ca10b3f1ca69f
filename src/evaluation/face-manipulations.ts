import { blendPatch, ellipseMask } from './face-mask.js';
import {
  bilateralFilter,
  createImage,
  cropImage,
  gaussianBlur,
  growRect,
  pixelBounds,
  resizeImage,
  sampleBilinear,
  type Rect,
  type RgbImage,
} from './rgb-image.js';
import type { SeededRandom } from './seeded-random.js';

export const faceManipulationKinds = ['face-resample', 'face-smooth', 'face-jitter', 'face-splice'] as const;
export type FaceManipulationKind = (typeof faceManipulationKinds)[number];

/** A face from another image, pasted by `face-splice`. */
export interface DonorFace {
  name: string;
  image: RgbImage;
  box: Rect;
}

/** Changes the face region of a camera frame in place; pixels outside the face box never change. */
export interface FaceManipulation {
  kind: FaceManipulationKind;
  /** The drawn parameters, recorded with the item. */
  parameters: Record<string, number | string>;
  apply(frame: RgbImage, box: Rect, frameIndex: number): void;
}

export interface FaceManipulationOptions {
  random: SeededRandom;
  /** A still gets one larger geometric change; a video a small one per frame. */
  still: boolean;
  donor: DonorFace | null;
}

export function createFaceManipulation(
  kind: FaceManipulationKind,
  options: FaceManipulationOptions,
): FaceManipulation {
  switch (kind) {
    case 'face-resample':
      return resampleFace(options.random);
    case 'face-smooth':
      return smoothFace(options.random);
    case 'face-jitter':
      return jitterFace(options.random, options.still);
    case 'face-splice':
      if (!options.donor) throw new Error('face-splice needs a donor face from another source image');
      return spliceFace(options.random, options.donor);
  }
}

/** Down-sampled and up-sampled again, as a face generated at low resolution and pasted back. */
function resampleFace(random: SeededRandom): FaceManipulation {
  const factor = random.pick([0.5, 0.35]);
  const feather = random.between(0.15, 0.25);
  return {
    kind: 'face-resample',
    parameters: { factor, feather: round(feather) },
    apply(frame, box) {
      const region = pixelBounds(growRect(box, 2), frame);
      const crop = cropImage(frame, region);
      const small = resizeImage(
        crop,
        Math.max(2, Math.round(crop.width * factor)),
        Math.max(2, Math.round(crop.height * factor)),
      );
      blendPatch(
        frame,
        ellipseMask(box, frame, feather),
        resizeImage(small, crop.width, crop.height),
        region,
      );
    },
  };
}

/** Denoised (edge-preserving) or replaced by a smoothed render: the camera noise is gone from the face. */
function smoothFace(random: SeededRandom): FaceManipulation {
  const method = random.pick(['bilateral', 'gaussian'] as const);
  const sigma = method === 'bilateral' ? random.between(1.5, 2.5) : random.between(1.2, 2.4);
  const rangeSigma = random.between(18, 30);
  const feather = random.between(0.15, 0.25);
  return {
    kind: 'face-smooth',
    parameters: { method, sigma: round(sigma), rangeSigma: round(rangeSigma), feather: round(feather) },
    apply(frame, box) {
      const region = pixelBounds(growRect(box, Math.ceil(sigma * 3)), frame);
      const crop = cropImage(frame, region);
      const smoothed =
        method === 'bilateral' ? bilateralFilter(crop, sigma, rangeSigma) : gaussianBlur(crop, sigma);
      blendPatch(frame, ellipseMask(box, frame, feather), smoothed, region);
    },
  };
}

/**
 * A small random shift, rotation and scale of the face about its centre, drawn anew for every frame
 * (a face tracked and re-rendered frame by frame wobbles against its head).
 */
function jitterFace(random: SeededRandom, still: boolean): FaceManipulation {
  const shiftPixels = still ? random.between(1.5, 3) : random.between(0.5, 1.2);
  const rotationDegrees = still ? random.between(1, 2.5) : random.between(0.3, 1);
  const scaleSpread = still ? random.between(0.02, 0.04) : random.between(0.005, 0.015);
  const feather = random.between(0.15, 0.25);
  return {
    kind: 'face-jitter',
    parameters: {
      shiftPixels: round(shiftPixels),
      rotationDegrees: round(rotationDegrees),
      scaleSpread: round(scaleSpread),
      feather: round(feather),
    },
    apply(frame, box, frameIndex) {
      const draw = random.fork(`frame-${frameIndex}`);
      const sign = () => (draw.next() < 0.5 ? -1 : 1);
      // Stills take the full drawn magnitude; video frames a normal spread of it.
      const amount = () => (still ? sign() * (0.6 + 0.4 * draw.next()) : draw.gaussian());
      const dx = amount() * shiftPixels;
      const dy = amount() * shiftPixels;
      const angle = (amount() * rotationDegrees * Math.PI) / 180;
      const scale = 1 + amount() * scaleSpread;
      const region = pixelBounds(box, frame);
      // The untouched surroundings the warp reads from (a rotated corner reaches outside the box).
      const origin = pixelBounds(growRect(box, shiftPixels * 4 + box.width * 0.1), frame);
      const source = cropImage(frame, origin);
      const cx = box.x + box.width / 2;
      const cy = box.y + box.height / 2;
      const cos = Math.cos(angle) / scale;
      const sin = Math.sin(angle) / scale;
      const patch = createImage(region.width, region.height);
      const sample = new Float32Array(3);
      for (let row = 0; row < region.height; row++) {
        for (let column = 0; column < region.width; column++) {
          // Inverse map: where in the untouched frame this output pixel comes from.
          const ox = region.x + column - cx - dx;
          const oy = region.y + row - cy - dy;
          const sx = cx + cos * ox + sin * oy - origin.x;
          const sy = cy - sin * ox + cos * oy - origin.y;
          sampleBilinear(source, sx, sy, sample);
          const at = (row * region.width + column) * 3;
          patch.data[at] = sample[0]!;
          patch.data[at + 1] = sample[1]!;
          patch.data[at + 2] = sample[2]!;
        }
      }
      blendPatch(frame, ellipseMask(box, frame, feather), patch, region);
    },
  };
}

/**
 * The face of another image resized into the box, its colours matched to the face it covers, blended
 * with a feathered ellipse: the usual face-swap composite, carrying none of this camera's noise.
 */
function spliceFace(random: SeededRandom, donor: DonorFace): FaceManipulation {
  const feather = random.between(0.2, 0.35);
  const donorCrop = cropImage(donor.image, pixelBounds(donor.box, donor.image));
  return {
    kind: 'face-splice',
    parameters: { donor: donor.name, feather: round(feather) },
    apply(frame, box) {
      const region = pixelBounds(box, frame);
      if (region.width < 2 || region.height < 2) return;
      const mask = ellipseMask(box, frame, feather);
      const patch = resizeImage(donorCrop, region.width, region.height);
      matchColours(patch, cropImage(frame, region), mask.weights);
      blendPatch(frame, mask, patch, region);
    },
  };
}

/** Shifts and scales each channel of `patch` to the weighted mean and spread of `target`. */
function matchColours(patch: RgbImage, target: RgbImage, weights: Float32Array): void {
  for (let channel = 0; channel < 3; channel++) {
    const from = weightedStats(patch, weights, channel);
    const to = weightedStats(target, weights, channel);
    const gain = from.spread > 1 ? to.spread / from.spread : 1;
    for (let i = channel; i < patch.data.length; i += 3)
      patch.data[i] = (patch.data[i]! - from.mean) * gain + to.mean;
  }
}

function weightedStats(image: RgbImage, weights: Float32Array, channel: number) {
  let total = 0;
  let sum = 0;
  let squares = 0;
  for (let i = 0; i < weights.length; i++) {
    const value = image.data[i * 3 + channel]!;
    total += weights[i]!;
    sum += weights[i]! * value;
    squares += weights[i]! * value * value;
  }
  if (total === 0) return { mean: 0, spread: 0 };
  const mean = sum / total;
  return { mean, spread: Math.sqrt(Math.max(0, squares / total - mean * mean)) };
}

const round = (value: number) => Number(value.toFixed(3));
