/** Packed rgb24 pixels, the layout ffmpeg's rawvideo rgb24 reads and writes. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8ClampedArray;
}

/** Rectangle in pixel units; may be fractional (a face box moved by the camera). */
export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export function createImage(width: number, height: number): RgbImage {
  return { width, height, data: new Uint8ClampedArray(width * height * 3) };
}

export function cloneImage(image: RgbImage): RgbImage {
  return { width: image.width, height: image.height, data: new Uint8ClampedArray(image.data) };
}

export function imageFromBytes(width: number, height: number, bytes: Uint8Array): RgbImage {
  if (bytes.length !== width * height * 3)
    throw new Error(`expected ${width * height * 3} rgb24 bytes, got ${bytes.length}`);
  return { width, height, data: new Uint8ClampedArray(bytes.buffer, bytes.byteOffset, bytes.length) };
}

/** Whole-pixel bounds covering a fractional rectangle, clipped to the image. */
export function pixelBounds(rect: Rect, image: { width: number; height: number }): Rect {
  const left = Math.max(0, Math.floor(rect.x));
  const top = Math.max(0, Math.floor(rect.y));
  const right = Math.min(image.width, Math.ceil(rect.x + rect.width));
  const bottom = Math.min(image.height, Math.ceil(rect.y + rect.height));
  return { x: left, y: top, width: Math.max(0, right - left), height: Math.max(0, bottom - top) };
}

export function growRect(rect: Rect, margin: number): Rect {
  return {
    x: rect.x - margin,
    y: rect.y - margin,
    width: rect.width + 2 * margin,
    height: rect.height + 2 * margin,
  };
}

/** Bilinear sample at (x, y) in pixel-centre coordinates; outside the image the edge pixels repeat. */
export function sampleBilinear(image: RgbImage, x: number, y: number, out: Float32Array): void {
  const { width, height, data } = image;
  const cx = Math.min(Math.max(x, 0), width - 1);
  const cy = Math.min(Math.max(y, 0), height - 1);
  const x0 = Math.floor(cx);
  const y0 = Math.floor(cy);
  const x1 = Math.min(x0 + 1, width - 1);
  const y1 = Math.min(y0 + 1, height - 1);
  const fx = cx - x0;
  const fy = cy - y0;
  const a = (y0 * width + x0) * 3;
  const b = (y0 * width + x1) * 3;
  const c = (y1 * width + x0) * 3;
  const d = (y1 * width + x1) * 3;
  for (let channel = 0; channel < 3; channel++) {
    const top = data[a + channel]! + (data[b + channel]! - data[a + channel]!) * fx;
    const bottom = data[c + channel]! + (data[d + channel]! - data[c + channel]!) * fx;
    out[channel] = top + (bottom - top) * fy;
  }
}

export function cropImage(image: RgbImage, bounds: Rect): RgbImage {
  const crop = createImage(bounds.width, bounds.height);
  for (let row = 0; row < bounds.height; row++) {
    const start = ((bounds.y + row) * image.width + bounds.x) * 3;
    crop.data.set(image.data.subarray(start, start + bounds.width * 3), row * bounds.width * 3);
  }
  return crop;
}

/** Resizes with area averaging when shrinking (no aliasing) and bilinear interpolation when enlarging. */
export function resizeImage(image: RgbImage, width: number, height: number): RgbImage {
  const shrunk =
    width < image.width || height < image.height
      ? areaResize(image, Math.min(width, image.width), Math.min(height, image.height))
      : image;
  return shrunk.width === width && shrunk.height === height ? shrunk : bilinearResize(shrunk, width, height);
}

function bilinearResize(image: RgbImage, width: number, height: number): RgbImage {
  const resized = createImage(width, height);
  const sample = new Float32Array(3);
  const sx = image.width / width;
  const sy = image.height / height;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      sampleBilinear(image, (x + 0.5) * sx - 0.5, (y + 0.5) * sy - 0.5, sample);
      const at = (y * width + x) * 3;
      resized.data[at] = sample[0]!;
      resized.data[at + 1] = sample[1]!;
      resized.data[at + 2] = sample[2]!;
    }
  }
  return resized;
}

/** Each target pixel is the area-weighted mean of the source pixels it covers. */
function areaResize(image: RgbImage, width: number, height: number): RgbImage {
  const columns = areaWeights(image.width, width);
  const rows = areaWeights(image.height, height);
  const resized = createImage(width, height);
  const line = new Float32Array(image.width * 3);
  for (let y = 0; y < height; y++) {
    line.fill(0);
    for (const [sourceRow, weight] of rows[y]!) {
      const start = sourceRow * image.width * 3;
      for (let i = 0; i < image.width * 3; i++) line[i] = line[i]! + image.data[start + i]! * weight;
    }
    for (let x = 0; x < width; x++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (const [sourceColumn, weight] of columns[x]!) {
        r += line[sourceColumn * 3]! * weight;
        g += line[sourceColumn * 3 + 1]! * weight;
        b += line[sourceColumn * 3 + 2]! * weight;
      }
      const at = (y * width + x) * 3;
      resized.data[at] = r;
      resized.data[at + 1] = g;
      resized.data[at + 2] = b;
    }
  }
  return resized;
}

function areaWeights(sourceSize: number, targetSize: number): [number, number][][] {
  const scale = sourceSize / targetSize;
  return Array.from({ length: targetSize }, (_, index) => {
    const start = index * scale;
    const end = start + scale;
    const weights: [number, number][] = [];
    for (let source = Math.floor(start); source < Math.min(sourceSize, Math.ceil(end)); source++) {
      const overlap = Math.min(end, source + 1) - Math.max(start, source);
      if (overlap > 0) weights.push([source, overlap / scale]);
    }
    return weights;
  });
}

/** Separable Gaussian blur, edges repeated. */
export function gaussianBlur(image: RgbImage, sigma: number): RgbImage {
  const radius = Math.max(1, Math.ceil(sigma * 3));
  const kernel = Array.from({ length: 2 * radius + 1 }, (_, i) =>
    Math.exp(-((i - radius) ** 2) / (2 * sigma ** 2)),
  );
  const total = kernel.reduce((sum, value) => sum + value, 0);
  const weights = kernel.map((value) => value / total);
  const { width, height } = image;
  const pass = new Float32Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let channel = 0; channel < 3; channel++) {
        let sum = 0;
        for (let k = -radius; k <= radius; k++) {
          const sx = Math.min(width - 1, Math.max(0, x + k));
          sum += image.data[(y * width + sx) * 3 + channel]! * weights[k + radius]!;
        }
        pass[(y * width + x) * 3 + channel] = sum;
      }
    }
  }
  const blurred = createImage(width, height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let channel = 0; channel < 3; channel++) {
        let sum = 0;
        for (let k = -radius; k <= radius; k++) {
          const sy = Math.min(height - 1, Math.max(0, y + k));
          sum += pass[(sy * width + x) * 3 + channel]! * weights[k + radius]!;
        }
        blurred.data[(y * width + x) * 3 + channel] = sum;
      }
    }
  }
  return blurred;
}

/** Edge-preserving smoothing (bilateral filter on colour distance): flattens noise and skin texture, keeps contours. */
export function bilateralFilter(image: RgbImage, sigmaSpace: number, sigmaRange: number): RgbImage {
  const radius = Math.max(1, Math.ceil(sigmaSpace * 1.5));
  const { width, height, data } = image;
  const spatial = new Float32Array((2 * radius + 1) ** 2);
  let taps = 0;
  for (let dy = -radius; dy <= radius; dy++)
    for (let dx = -radius; dx <= radius; dx++)
      spatial[taps++] = Math.exp(-(dx * dx + dy * dy) / (2 * sigmaSpace ** 2));
  // exp() looked up by squared colour distance in steps of 8 (the distance never exceeds 3·255²).
  const range = new Float32Array(Math.ceil((3 * 255 * 255) / 8) + 1);
  for (let i = 0; i < range.length; i++) range[i] = Math.exp((-i * 8) / (2 * sigmaRange ** 2));
  const filtered = createImage(width, height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const centre = (y * width + x) * 3;
      let r = 0;
      let g = 0;
      let b = 0;
      let total = 0;
      let k = 0;
      for (let dy = -radius; dy <= radius; dy++) {
        const sy = Math.min(height - 1, Math.max(0, y + dy));
        for (let dx = -radius; dx <= radius; dx++, k++) {
          const sx = Math.min(width - 1, Math.max(0, x + dx));
          const at = (sy * width + sx) * 3;
          const dr = data[at]! - data[centre]!;
          const dg = data[at + 1]! - data[centre + 1]!;
          const db = data[at + 2]! - data[centre + 2]!;
          const weight = spatial[k]! * range[(dr * dr + dg * dg + db * db) >> 3]!;
          r += data[at]! * weight;
          g += data[at + 1]! * weight;
          b += data[at + 2]! * weight;
          total += weight;
        }
      }
      filtered.data[centre] = r / total;
      filtered.data[centre + 1] = g / total;
      filtered.data[centre + 2] = b / total;
    }
  }
  return filtered;
}
