import type { MediaProbe } from '../../src/media/media-probe.js';
import type { Box, FaceAnalysis, FaceObservation } from '../../src/faces/face-types.js';
import type { FrameSample, SampledFrame } from '../../src/pipeline/frames/frame-sample.js';

/** Deterministic uniform [0, 1) (mulberry32). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/**
 * A grey scene with smooth texture (sinusoids, so block matching has something to lock on), offset by
 * (shiftX, shiftY) px, plus Gaussian "sensor" noise of sigma grey levels.
 */
export function sceneFrame(
  width: number,
  height: number,
  options: { sigma: number; seed: number; shiftX?: number; shiftY?: number },
): Float32Array {
  const random = seededRandom(options.seed);
  const pixels = new Float32Array(width * height);
  const sx = options.shiftX ?? 0;
  const sy = options.shiftY ?? 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const u = x - sx;
      const v = y - sy;
      const scene = 120 + 40 * Math.sin(u / 9) * Math.cos(v / 13) + 25 * Math.sin((u + 2 * v) / 23);
      pixels[y * width + x] = scene + options.sigma * gaussian(random);
    }
  }
  return pixels;
}

/** 3×3 box blur of the pixels inside the ellipse inscribed in `box` (a smoothed face). */
export function blurEllipse(pixels: Float32Array, width: number, box: Box): Float32Array {
  const out = Float32Array.from(pixels);
  const [bx, by, bw, bh] = box;
  const height = pixels.length / width;
  for (let y = Math.max(1, Math.floor(by)); y < Math.min(height - 1, by + bh); y++) {
    for (let x = Math.max(1, Math.floor(bx)); x < Math.min(width - 1, bx + bw); x++) {
      const nx = (x - bx - bw / 2) / (bw / 2);
      const ny = (y - by - bh / 2) / (bh / 2);
      if (nx * nx + ny * ny > 1) continue;
      let sum = 0;
      for (let dy = -1; dy <= 1; dy++)
        for (let dx = -1; dx <= 1; dx++) sum += pixels[(y + dy) * width + x + dx]!;
      out[y * width + x] = sum / 9;
    }
  }
  return out;
}

/** Grey pixels as an rgb24 frame of a sample. */
export function greyFrame(
  pixels: Float32Array,
  width: number,
  fields: { index: number; timeSeconds: number; windowId: number | null; keyframe?: boolean },
): SampledFrame {
  const height = pixels.length / width;
  const data = Buffer.alloc(width * height * 3);
  for (let i = 0; i < pixels.length; i++) {
    const value = Math.max(0, Math.min(255, Math.round(pixels[i]!)));
    data[3 * i] = value;
    data[3 * i + 1] = value;
    data[3 * i + 2] = value;
  }
  return { width, height, data, scale: 1, keyframe: fields.keyframe ?? false, ...fields };
}

/** A face observation with only a box (the detectors then use the inscribed ellipse). */
export function boxFace(frame: SampledFrame, box: Box): FaceObservation {
  return {
    frameIndex: frame.index,
    timeSeconds: frame.timeSeconds,
    box,
    score: 0.99,
    mesh: [],
    rotation: null,
    embedding: [],
  };
}

export function sampleOf(frames: SampledFrame[], kind: 'video' | 'image' = 'video'): FrameSample {
  const windowed = frames.filter((frame) => frame.windowId !== null);
  return {
    frames,
    windows: windowed.length
      ? [
          {
            id: 0,
            startSeconds: windowed[0]!.timeSeconds,
            endSeconds: windowed[windowed.length - 1]!.timeSeconds,
            frameIndexes: windowed.map((frame) => frame.index),
          },
        ]
      : [],
    plan: {
      kind,
      totalFrames: frames.length,
      framesDecoded: frames.length,
      keyframesDecoded: frames.filter((f) => f.keyframe).length,
      windows: [],
      secondsCovered: 0,
      durationSeconds: null,
      decodeWidth: frames[0]?.width ?? 0,
      decodeHeight: frames[0]?.height ?? 0,
    },
  };
}

export function oneTrack(faces: FaceObservation[], sizePixels = 100): FaceAnalysis {
  return {
    tracks: faces.length ? [{ id: 1, observations: faces, sizePixels, analysed: true }] : [],
    framesSearched: faces.length,
    minFaceSizePixels: 48,
    models: {},
  };
}

/** The probe of a one-stream picture: a PNG still (`image2`) or an H.264 video in MP4, as ffprobe names them. */
export function pictureProbe(kind: 'png' | 'h264', width: number, height: number): MediaProbe {
  return {
    formatName: kind === 'png' ? 'image2' : 'mov,mp4,m4a,3gp,3g2,mj2',
    streams: [{ index: 0, type: 'video', codecName: kind, width, height }],
  } as unknown as MediaProbe;
}
