import {
  createImage,
  gaussianBlur,
  resizeImage,
  sampleBilinear,
  type Rect,
  type RgbImage,
} from './rgb-image.js';
import type { SeededRandom } from './seeded-random.js';

/** Output pixel (u, v) shows source point (x + (u + 0.5)·scale − 0.5, y + (v + 0.5)·scale − 0.5). */
interface CameraWindow {
  x: number;
  y: number;
  scale: number;
}

export interface CameraShot {
  width: number;
  height: number;
  frameCount: number;
  fps: number;
}

/** A slow pan and zoom ("Ken Burns") over a still, with a little hand shake: the face moves and scales over the clip. */
export interface Camera {
  frame(index: number): RgbImage;
  faceBox(index: number): Rect;
  /** Recorded with the item. */
  parameters: Record<string, number>;
}

export function createKenBurnsCamera(
  source: RgbImage,
  face: Rect,
  shot: CameraShot,
  random: SeededRandom,
): Camera {
  const faceShare = random.between(0.4, 0.5);
  const zoom = random.between(1.06, 1.15);
  const zoomIn = random.next() < 0.5;
  const startScale = face.height / (faceShare * shot.height);
  const endScale = zoomIn ? startScale / zoom : startScale * zoom;
  // Work from a copy no finer than the finest output sampling: bilinear shrinking would alias.
  const shrink = Math.max(1, Math.min(startScale, endScale));
  const scaled =
    shrink > 1.05
      ? resizeImage(source, Math.round(source.width / shrink), Math.round(source.height / shrink))
      : source;
  const ratio = scaled.width / source.width;
  const workFace = {
    x: face.x * ratio,
    y: face.y * ratio,
    width: face.width * ratio,
    height: face.height * ratio,
  };
  const faceCentre = { x: workFace.x + workFace.width / 2, y: workFace.y + workFace.height / 2 };
  const drift = () => ({ x: random.between(-0.08, 0.08), y: random.between(-0.05, 0.05) });
  const [from, to] = [drift(), drift()];
  const shake = {
    amplitude: random.between(0.3, 0.9),
    f1: random.between(0.4, 0.9),
    f2: random.between(1.3, 2.1),
    p1: random.between(0, 2 * Math.PI),
    p2: random.between(0, 2 * Math.PI),
  };

  const windowAt = (index: number): CameraWindow => {
    const progress = shot.frameCount > 1 ? (1 - Math.cos((Math.PI * index) / (shot.frameCount - 1))) / 2 : 0;
    const scale = (startScale + (endScale - startScale) * progress) * ratio;
    const t = index / shot.fps;
    const wobble = (phase: number) =>
      shake.amplitude *
      (Math.sin(2 * Math.PI * shake.f1 * t + phase) + 0.5 * Math.sin(2 * Math.PI * shake.f2 * t + phase * 2));
    const width = shot.width * scale;
    const height = shot.height * scale;
    const offsetX = (from.x + (to.x - from.x) * progress) * width;
    const offsetY = (from.y + (to.y - from.y) * progress) * height;
    return {
      x: faceCentre.x + offsetX - width / 2 + wobble(shake.p1) * scale,
      y: faceCentre.y + offsetY - height / 2 + wobble(shake.p2) * scale,
      scale,
    };
  };

  const scene = extendScene(scaled, scenePadding(windowAt, shot, scaled));

  return {
    parameters: {
      faceShare: round(faceShare),
      zoom: round(zoomIn ? zoom : 1 / zoom),
      driftX: round(to.x - from.x),
      driftY: round(to.y - from.y),
      shakePixels: round(shake.amplitude),
    },
    frame(index) {
      const window = windowAt(index);
      const frame = createImage(shot.width, shot.height);
      const sample = new Float32Array(3);
      for (let v = 0; v < shot.height; v++) {
        const sy = scene.top + window.y + (v + 0.5) * window.scale - 0.5;
        for (let u = 0; u < shot.width; u++) {
          sampleBilinear(scene.image, scene.left + window.x + (u + 0.5) * window.scale - 0.5, sy, sample);
          const at = (v * shot.width + u) * 3;
          frame.data[at] = sample[0]!;
          frame.data[at + 1] = sample[1]!;
          frame.data[at + 2] = sample[2]!;
        }
      }
      return frame;
    },
    faceBox(index) {
      const window = windowAt(index);
      return {
        x: (workFace.x - window.x) / window.scale,
        y: (workFace.y - window.y) / window.scale,
        width: workFace.width / window.scale,
        height: workFace.height / window.scale,
      };
    },
  };
}

interface Padding {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

/** How far the camera's view reaches past the picture on each side, over the whole clip. */
function scenePadding(windowAt: (index: number) => CameraWindow, shot: CameraShot, image: RgbImage): Padding {
  const padding = { left: 0, top: 0, right: 0, bottom: 0 };
  for (let index = 0; index < shot.frameCount; index++) {
    const window = windowAt(index);
    padding.left = Math.max(padding.left, Math.ceil(-window.x) + 2);
    padding.top = Math.max(padding.top, Math.ceil(-window.y) + 2);
    padding.right = Math.max(
      padding.right,
      Math.ceil(window.x + shot.width * window.scale - image.width) + 2,
    );
    padding.bottom = Math.max(
      padding.bottom,
      Math.ceil(window.y + shot.height * window.scale - image.height) + 2,
    );
  }
  return padding;
}

const seamPixels = 24;

/**
 * The picture on a larger canvas whose margins are an out-of-focus continuation of its edges (as in a
 * portrait photo framed for 16:9): no smeared edge lines, and no second, mirrored face.
 */
function extendScene(image: RgbImage, padding: Padding): { image: RgbImage; left: number; top: number } {
  if (padding.left <= 2 && padding.top <= 2 && padding.right <= 2 && padding.bottom <= 2)
    return { image, left: 0, top: 0 };
  const width = image.width + padding.left + padding.right;
  const height = image.height + padding.top + padding.bottom;
  const canvas = createImage(width, height);
  const sample = new Float32Array(3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      sampleBilinear(image, x - padding.left, y - padding.top, sample);
      canvas.data.set(sample, (y * width + x) * 3);
    }
  }
  const blurred = resizeImage(
    gaussianBlur(resizeImage(canvas, Math.ceil(width / 8), Math.ceil(height / 8)), 2.5),
    width,
    height,
  );
  // Inside the picture its own pixels, fading into the blurred margin over the last pixels of each padded edge.
  const edgeDistance = (x: number, y: number) =>
    Math.min(
      padding.left > 2 ? x - padding.left : Infinity,
      padding.top > 2 ? y - padding.top : Infinity,
      padding.right > 2 ? padding.left + image.width - 1 - x : Infinity,
      padding.bottom > 2 ? padding.top + image.height - 1 - y : Infinity,
    );
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const weight = Math.min(1, Math.max(0, edgeDistance(x, y) / seamPixels));
      const at = (y * width + x) * 3;
      for (let channel = 0; channel < 3; channel++)
        canvas.data[at + channel] =
          canvas.data[at + channel]! * weight + blurred.data[at + channel]! * (1 - weight);
    }
  }
  return { image: canvas, left: padding.left, top: padding.top };
}

const round = (value: number) => Number(value.toFixed(3));
