import { createKenBurnsCamera, type CameraShot } from './camera-motion.js';
import {
  createFaceManipulation,
  type DonorFace,
  type FaceManipulation,
  type FaceManipulationKind,
} from './face-manipulations.js';
import { cloneImage, type Rect, type RgbImage } from './rgb-image.js';
import type { SeededRandom } from './seeded-random.js';
import { createSensorNoise, type NoiseLevel } from './sensor-noise.js';
import type { SourceImage } from './source-images.js';

/** One camera frame (noise included) and its manipulated copies, which differ from it inside the face box only. */
export interface TwinFrame {
  index: number;
  faceBox: Rect;
  authentic: RgbImage;
  manipulated: Map<FaceManipulationKind, RgbImage>;
}

export interface TwinRenderer {
  manipulations: FaceManipulation[];
  /** Camera and noise parameters, recorded with the items. */
  parameters: Record<string, number | string>;
  /** Where the face is in a frame, without rendering it. */
  faceBox(index: number): Rect;
  frame(index: number): TwinFrame;
}

export interface TwinRequest {
  source: SourceImage;
  /** The face pasted by face-splice (another source image); null leaves face-splice out. */
  donor: SourceImage | null;
  kinds: readonly FaceManipulationKind[];
  noise: NoiseLevel;
  random: SeededRandom;
}

/**
 * The camera's noisy frames come first, then each manipulation works on a copy of them: a replaced face
 * loses the camera's noise or brings its own, as it would in a real edit of a real recording.
 */
export function createVideoTwins(request: TwinRequest, shot: CameraShot): TwinRenderer {
  const camera = createKenBurnsCamera(
    request.source.image,
    request.source.face,
    shot,
    request.random.fork('camera'),
  );
  return twins(request, false, camera.parameters, {
    image: (index) => camera.frame(index),
    face: (index) => camera.faceBox(index),
  });
}

/** A still: the source image at its own size, with sensor noise, and its manipulated copies. */
export function createStillTwins(request: TwinRequest): TwinRenderer {
  return twins(
    request,
    true,
    {},
    {
      image: () => cloneImage(request.source.image),
      face: () => request.source.face,
    },
  );
}

function twins(
  request: TwinRequest,
  still: boolean,
  cameraParameters: Record<string, number>,
  capture: { image: (index: number) => RgbImage; face: (index: number) => Rect },
): TwinRenderer {
  const noise = createSensorNoise(request.noise, request.random.fork('noise'));
  const donor: DonorFace | null = request.donor
    ? { name: request.donor.name, image: request.donor.image, box: request.donor.face }
    : null;
  const manipulations = request.kinds
    .filter((kind) => kind !== 'face-splice' || donor)
    .map((kind) => createFaceManipulation(kind, { random: request.random.fork(kind), still, donor }));
  return {
    manipulations,
    parameters: { ...cameraParameters, noise: request.noise },
    faceBox: capture.face,
    frame(index) {
      const image = capture.image(index);
      const face = capture.face(index);
      noise.apply(image, index);
      const manipulated = new Map<FaceManipulationKind, RgbImage>();
      for (const manipulation of manipulations) {
        const copy = cloneImage(image);
        manipulation.apply(copy, face, index);
        manipulated.set(manipulation.kind, copy);
      }
      return { index, faceBox: face, authentic: image, manipulated };
    },
  };
}
