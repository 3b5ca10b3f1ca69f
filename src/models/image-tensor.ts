import type { Box } from '../faces/face-types.js';
import type { ModelInputSpec } from './model-card.js';

/** Packed rgb24 pixels. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** A whole-pixel rectangle inside an image: left, top, width, height. */
export type PixelRect = [x: number, y: number, width: number, height: number];

/**
 * The face box grown by `margin` × its width on the left and right and × its height at the top and bottom,
 * rounded outwards to whole pixels and clamped to the frame. Null when nothing of it lies in the frame.
 */
export function faceCropRect(
  box: Box,
  margin: number,
  frameWidth: number,
  frameHeight: number,
): PixelRect | null {
  const [x, y, width, height] = box;
  const left = Math.max(0, Math.floor(x - margin * width));
  const top = Math.max(0, Math.floor(y - margin * height));
  const right = Math.min(frameWidth, Math.ceil(x + width + margin * width));
  const bottom = Math.min(frameHeight, Math.ceil(y + height + margin * height));
  return right > left && bottom > top ? [left, top, right - left, bottom - top] : null;
}

/**
 * Resizes a region of an image with bilinear interpolation, half-pixel centres and no antialiasing (the
 * convention of OpenCV's INTER_LINEAR), rounding to bytes like a uint8 image library does.
 */
export function resizeBilinear(image: RgbImage, rect: PixelRect, width: number, height: number): RgbImage {
  if (image.data.length !== image.width * image.height * 3) {
    throw new Error(`image data is ${image.data.length} bytes, not ${image.width}x${image.height} rgb24`);
  }
  const [left, top, regionWidth, regionHeight] = rect;
  if (
    left < 0 ||
    top < 0 ||
    regionWidth < 1 ||
    regionHeight < 1 ||
    left + regionWidth > image.width ||
    top + regionHeight > image.height
  ) {
    throw new Error(`region [${rect.join(', ')}] is not inside the ${image.width}x${image.height} image`);
  }
  const xs = samplePositions(regionWidth, width, left);
  const ys = samplePositions(regionHeight, height, top);
  const out = new Uint8Array(width * height * 3);
  const stride = image.width * 3;
  for (let oy = 0; oy < height; oy++) {
    const { low: y0, high: y1, weight: fy } = ys[oy] as SamplePosition;
    for (let ox = 0; ox < width; ox++) {
      const { low: x0, high: x1, weight: fx } = xs[ox] as SamplePosition;
      const a = y0 * stride + x0 * 3;
      const b = y0 * stride + x1 * 3;
      const c = y1 * stride + x0 * 3;
      const d = y1 * stride + x1 * 3;
      const o = (oy * width + ox) * 3;
      for (let channel = 0; channel < 3; channel++) {
        const upper =
          (1 - fx) * (image.data[a + channel] as number) + fx * (image.data[b + channel] as number);
        const lower =
          (1 - fx) * (image.data[c + channel] as number) + fx * (image.data[d + channel] as number);
        out[o + channel] = Math.round((1 - fy) * upper + fy * lower);
      }
    }
  }
  return { width, height, data: out };
}

interface SamplePosition {
  low: number;
  high: number;
  weight: number;
}

/** Source pixel pairs and weights for each output position along one axis, kept inside the region. */
function samplePositions(regionSize: number, outSize: number, offset: number): SamplePosition[] {
  const ratio = regionSize / outSize;
  return Array.from({ length: outSize }, (_, index) => {
    const source = Math.min(regionSize - 1, Math.max(0, (index + 0.5) * ratio - 0.5));
    const low = Math.floor(source);
    return {
      low: offset + low,
      high: offset + Math.min(low + 1, regionSize - 1),
      weight: source - low,
    };
  });
}

/**
 * The model's input tensor from an image already at the input size: channels in the card's colour order,
 * value = (byte × scale − mean[k]) / std[k] for the model's channel k, laid out NCHW or NHWC.
 */
export function imageTensor(image: RgbImage, input: ModelInputSpec): Float32Array {
  if (image.width !== input.width || image.height !== input.height) {
    throw new Error(
      `image is ${image.width}x${image.height}; the model takes ${input.width}x${input.height}`,
    );
  }
  const pixels = input.width * input.height;
  const tensor = new Float32Array(pixels * 3);
  const sourceChannel = input.colorOrder === 'RGB' ? [0, 1, 2] : [2, 1, 0];
  for (let channel = 0; channel < 3; channel++) {
    const from = sourceChannel[channel] as number;
    const mean = input.mean[channel] as number;
    const std = input.std[channel] as number;
    for (let pixel = 0; pixel < pixels; pixel++) {
      const value = ((image.data[pixel * 3 + from] as number) * input.scale - mean) / std;
      tensor[input.layout === 'NCHW' ? channel * pixels + pixel : pixel * 3 + channel] = value;
    }
  }
  return tensor;
}
