import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { SampledFrame } from '../pipeline/frames/frame-sample.js';
import { faceOvalIndexes, type FaceObservation } from './face-types.js';
import { createFileModelRouter, type TfIo } from './file-model-router.js';

/** One loaded Human: detection of one frame at a time, and the model versions and hashes it runs. */
export interface HumanRuntime {
  models: Record<string, string>;
  detect(frame: SampledFrame): Promise<FaceObservation[]>;
}

/** Loads Human with its models (seconds); the face finder does this in its worker thread. */
export async function openHumanRuntime(options: { maxFacesPerFrame: number }): Promise<HumanRuntime> {
  const { human, models } = await loadHuman(options);
  const pixels = reusableInt32();
  return { models, detect: (frame) => detectFaces(human, frame, pixels(frame.data)) };
}

const modelFiles = ['blazeface', 'facemesh', 'faceres'] as const;

interface HumanFace {
  box: [number, number, number, number];
  score: number;
  mesh: [number, number, number][];
  rotation?: { angle: { pitch: number; yaw: number; roll: number } } | null;
  embedding?: number[];
}
interface HumanInstance {
  tf: {
    getBackend(): string;
    tensor(values: Int32Array, shape: number[], dtype: 'int32'): { dispose(): void };
    io: TfIo;
  };
  version: string;
  load(): Promise<void>;
  init(): Promise<void>;
  detect(input: unknown, config?: object): Promise<{ face: HumanFace[]; error?: string | null }>;
}

async function loadHuman(options: { maxFacesPerFrame: number }) {
  const require = createRequire(import.meta.url);
  // The package's exports map hides the WASM build and the models: resolve them beside its main entry.
  const humanDist = dirname(require.resolve('@vladmandic/human'));
  const wasmDirectory = dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
  const { Human } = require(join(humanDist, 'human.node-wasm.js')) as {
    Human: new (config: object) => HumanInstance;
  };
  const modelDirectory = join(humanDist, '..', 'models');
  const human = new Human({
    backend: 'wasm',
    wasmPath: `${wasmDirectory}/`,
    wasmPlatformFetch: false,
    modelBasePath: `file://${modelDirectory}/`,
    debug: false,
    warmup: 'none',
    // Every frame is analysed on its own: no result caching or skipped frames, so scores are reproducible.
    cacheSensitivity: 0,
    filter: { enabled: false },
    face: {
      enabled: true,
      detector: {
        rotation: false,
        maxDetected: options.maxFacesPerFrame,
        minConfidence: 0.5,
        skipFrames: 0,
        skipTime: 0,
        return: false,
      },
      mesh: { enabled: true },
      iris: { enabled: false },
      description: { enabled: true, skipFrames: 0, skipTime: 0 },
      emotion: { enabled: false },
      antispoof: { enabled: false },
      liveness: { enabled: false },
      gear: { enabled: false },
      attention: { enabled: false },
    },
    body: { enabled: false },
    hand: { enabled: false },
    object: { enabled: false },
    gesture: { enabled: false },
    segmentation: { enabled: false },
  });
  human.tf.io.registerLoadRouter(createFileModelRouter(human.tf.io));
  await human.load();
  await human.init();
  const backend = human.tf.getBackend();
  if (backend !== 'wasm') throw new Error(`face models run on the ${backend} backend, not wasm`);
  const models: Record<string, string> = { human: human.version };
  for (const name of modelFiles) {
    const bytes = await readFile(join(modelDirectory, `${name}.bin`));
    models[name] = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  }
  return { human, models };
}

/**
 * The frame's bytes as int32 (tfjs has no uint8 tensors) in one array reused from frame to frame: a fresh
 * 11 MB array per 720p frame cost more than the face search on a faceless frame. The tensor copies it.
 */
function reusableInt32(): (bytes: Uint8Array) => Int32Array {
  let scratch = new Int32Array(0);
  return (bytes) => {
    if (scratch.length !== bytes.length) scratch = new Int32Array(bytes.length);
    for (let i = 0; i < bytes.length; i++) scratch[i] = bytes[i]!;
    return scratch;
  };
}

async function detectFaces(
  human: HumanInstance,
  frame: SampledFrame,
  pixels: Int32Array,
): Promise<FaceObservation[]> {
  const tensor = human.tf.tensor(pixels, [1, frame.height, frame.width, 3], 'int32');
  try {
    // The embedding is most of the cost: computed on sweep keyframes and every eighth frame of a window.
    const describe = frame.keyframe || frame.windowId === null || frame.index % 8 === 0;
    const result = await human.detect(tensor, { face: { description: { enabled: describe } } });
    if (result.error) throw new Error(`face detection failed: ${result.error}`);
    return result.face.map((face) => ({
      frameIndex: frame.index,
      timeSeconds: frame.timeSeconds,
      box: faceBox(face.box, face.mesh).map(round2) as FaceObservation['box'],
      score: round2(face.score),
      mesh: face.mesh.map(([x, y, z]) => [round2(x), round2(y), round2(z)]),
      rotation: face.rotation?.angle
        ? {
            pitch: round4(face.rotation.angle.pitch),
            yaw: round4(face.rotation.angle.yaw),
            roll: round4(face.rotation.angle.roll),
          }
        : null,
      embedding: normalise(face.embedding ?? []),
    }));
  } finally {
    tensor.dispose();
  }
}

/**
 * The face itself (forehead to chin, ear to ear) from the mesh's face oval; Human's own box is the enlarged
 * crop its mesh model reads, about twice the face.
 */
function faceBox(detectorBox: readonly number[], mesh: readonly (readonly number[])[]): number[] {
  if (mesh.length < 468) return [...detectorBox];
  const xs = faceOvalIndexes.map((index) => mesh[index]![0]!);
  const ys = faceOvalIndexes.map((index) => mesh[index]![1]!);
  const [left, top] = [Math.min(...xs), Math.min(...ys)];
  return [left, top, Math.max(...xs) - left, Math.max(...ys) - top];
}

const round2 = (value: number) => Math.round(value * 100) / 100;
const round4 = (value: number) => Math.round(value * 10000) / 10000;

function normalise(vector: number[]): number[] {
  const norm = Math.hypot(...vector);
  return norm > 0 ? vector.map((value) => round4(value / norm)) : [];
}
