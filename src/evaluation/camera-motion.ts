import { createImage, resizeImage, sampleBilinear, type Rect, type RgbImage } from './rgb-image.js';
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
  const work =
    shrink > 1.05
      ? resizeImage(source, Math.round(source.width / shrink), Math.round(source.height / shrink))
      : source;
  const ratio = work.width / source.width;
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
        const sy = window.y + (v + 0.5) * window.scale - 0.5;
        for (let u = 0; u < shot.width; u++) {
          sampleBilinear(work, window.x + (u + 0.5) * window.scale - 0.5, sy, sample);
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

const round = (value: number) => Number(value.toFixed(3));
