import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { FrameSample, SampledFrame } from '../pipeline/frames/frame-sample.js';
import type { FaceFinder } from '../pipeline/run-inputs.js';
import type { FaceAnalysis, FaceObservation } from './face-types.js';
import { trackFaces } from './face-tracker.js';
import { createFileModelRouter, type TfIo } from './file-model-router.js';

export interface HumanFaceFinderOptions {
  /** Faces whose box's shorter side is smaller are listed as too small and not analysed. */
  minFaceSizePixels: number;
  maxFacesPerFrame: number;
}

export const defaultFaceFinderOptions: HumanFaceFinderOptions = {
  minFaceSizePixels: 48,
  maxFacesPerFrame: 6,
};

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

/**
 * Faces with @vladmandic/human on the tfjs WASM backend: BlazeFace detection, the 468-point mesh,
 * head pose and the face embedding. Models and WASM come from the installed packages (nothing downloads);
 * a backend other than WASM is refused rather than silently used (it is ~40× slower).
 */
export function createHumanFaceFinder(
  options: HumanFaceFinderOptions = defaultFaceFinderOptions,
): FaceFinder {
  let loaded: Promise<{ human: HumanInstance; models: Record<string, string> }> | undefined;
  // One Human instance serves every analysis in the process: detections run one at a time.
  let queue: Promise<unknown> = Promise.resolve();
  const load = () => (loaded ??= loadHuman(options));
  const detect = (frame: SampledFrame, signal: AbortSignal): Promise<FaceObservation[]> => {
    const run = queue.then(async () => {
      signal.throwIfAborted();
      const { human } = await load();
      return detectFaces(human, frame);
    });
    queue = run.catch(() => undefined);
    return run;
  };
  const analysis = async (sample: FrameSample, perFrame: FaceObservation[][]): Promise<FaceAnalysis> => ({
    tracks: trackFaces(perFrame, options.minFaceSizePixels),
    framesSearched: sample.frames.length,
    minFaceSizePixels: options.minFaceSizePixels,
    models: (await load()).models,
  });
  return {
    async find(sample: FrameSample, signal: AbortSignal): Promise<FaceAnalysis> {
      await load();
      const perFrame = await Promise.all(sample.frames.map((frame) => detect(frame, signal)));
      return analysis(sample, perFrame);
    },
    open(signal: AbortSignal) {
      const early = new Map<number, { frame: SampledFrame; faces: Promise<FaceObservation[]> }>();
      return {
        add(frame) {
          const faces = detect(frame, signal);
          // Awaited in finish(); a search whose frames never arrive must not leave a rejection unheard.
          faces.catch(() => undefined);
          early.set(frame.index, { frame, faces });
        },
        async finish(sample) {
          // A frame searched early counts only if it holds the same place: the search depends on it.
          const perFrame = await Promise.all(
            sample.frames.map((frame) => {
              const seen = early.get(frame.index);
              return seen && samePlace(seen.frame, frame) ? seen.faces : detect(frame, signal);
            }),
          );
          return analysis(sample, perFrame);
        },
      };
    },
  };
}

function samePlace(a: SampledFrame, b: SampledFrame): boolean {
  return (
    a.index === b.index &&
    a.timeSeconds === b.timeSeconds &&
    a.windowId === b.windowId &&
    a.keyframe === b.keyframe &&
    a.width === b.width &&
    a.height === b.height &&
    (a.data === b.data || a.data.equals(b.data))
  );
}

async function loadHuman(options: HumanFaceFinderOptions) {
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

async function detectFaces(human: HumanInstance, frame: SampledFrame): Promise<FaceObservation[]> {
  const tensor = human.tf.tensor(Int32Array.from(frame.data), [1, frame.height, frame.width, 3], 'int32');
  try {
    // The embedding is most of the cost: computed on sweep keyframes and every eighth frame of a window.
    const describe = frame.keyframe || frame.windowId === null || frame.index % 8 === 0;
    const result = await human.detect(tensor, { face: { description: { enabled: describe } } });
    if (result.error) throw new Error(`face detection failed: ${result.error}`);
    return result.face.map((face) => ({
      frameIndex: frame.index,
      timeSeconds: frame.timeSeconds,
      box: face.box.map(round2) as FaceObservation['box'],
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

const round2 = (value: number) => Math.round(value * 100) / 100;
const round4 = (value: number) => Math.round(value * 10000) / 10000;

function normalise(vector: number[]): number[] {
  const norm = Math.hypot(...vector);
  return norm > 0 ? vector.map((value) => round4(value / norm)) : [];
}
