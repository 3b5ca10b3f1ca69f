import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FaceAnalysis, FaceTrack } from '../../src/faces/face-types.js';
import type { MediaProbe, MediaTools } from '../../src/media/media-probe.js';
import { goldenTensor } from '../../src/models/golden-input.js';
import type { DetectorContext } from '../../src/pipeline/detector.js';
import type { FrameSample, SampledFrame } from '../../src/pipeline/frames/frame-sample.js';
import { detectorContext } from './detector-context.js';
import { channelMeanModel, channelMeanReference, type ChannelMeanModelOptions } from './tiny-onnx.js';

/** The channel-mean model whose logit is 8·mean(red) − 4 on inputs scaled to 0–1. */
export const rednessModel: ChannelMeanModelOptions = { weights: [[8, 0, 0]], bias: [-4] };

export interface ModelFixture {
  cardPath: string;
  modelPath: string;
  sha256: string;
  card: Record<string, unknown>;
}

/**
 * Writes a channel-mean model and its card (correct hash, golden pairs from seeds 1 and 2 computed by the
 * closed-form reference, not by ONNX Runtime) into `dir`; `edit` changes the card before it is written.
 */
export async function writeModelFixture(
  dir: string,
  name: string,
  options: {
    model?: ChannelMeanModelOptions;
    size?: number;
    edit?: (card: Record<string, unknown>) => void;
  } = {},
): Promise<ModelFixture> {
  const model = options.model ?? rednessModel;
  const size = options.size ?? model.size ?? 8;
  const bytes = channelMeanModel({ ...model, size });
  const modelPath = join(dir, `${name}.onnx`);
  await writeFile(modelPath, bytes);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const golden = [1, 2].map((seed) => ({
    input: { seed },
    output: channelMeanReference(model, goldenTensor(seed, 3 * size * size)),
  }));
  const card: Record<string, unknown> = {
    name,
    version: '1.0.0',
    file: `${name}.onnx`,
    sha256,
    input: {
      name: model.inputName ?? 'image',
      layout: model.layout ?? 'NCHW',
      width: size,
      height: size,
      colorOrder: 'RGB',
      scale: 1 / 255,
      mean: [0, 0, 0],
      std: [1, 1, 1],
    },
    crop: { rule: 'full-frame' },
    output: { name: model.outputName ?? 'logits', kind: 'logit', manipulatedIndex: 0 },
    aggregation: 'mean',
    golden,
  };
  options.edit?.(card);
  const cardPath = join(dir, `${name}.card.json`);
  await writeFile(cardPath, JSON.stringify(card, null, 2));
  return { cardPath, modelPath, sha256, card };
}

/** A frame filled by `paint(x, y)` → [r, g, b]. */
export function paintedFrame(
  index: number,
  width: number,
  height: number,
  paint: (x: number, y: number) => [number, number, number],
): SampledFrame {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data.set(paint(x, y), (y * width + x) * 3);
  }
  return { index, timeSeconds: index * 0.5, width, height, data, scale: 1, keyframe: true, windowId: null };
}

export const solidFrame = (index: number, rgb: [number, number, number], width = 32, height = 24) =>
  paintedFrame(index, width, height, () => rgb);

export function frameSample(frames: SampledFrame[]): FrameSample {
  const first = frames[0];
  return {
    frames,
    windows: [],
    plan: {
      kind: 'video',
      totalFrames: frames.length,
      framesDecoded: frames.length,
      keyframesDecoded: frames.length,
      windows: [],
      secondsCovered: frames.length * 0.5,
      durationSeconds: frames.length * 0.5,
      decodeWidth: first?.width ?? 0,
      decodeHeight: first?.height ?? 0,
    },
  };
}

/** One track with a face at `box` in each listed frame. */
export function faceTrack(
  id: number,
  frames: SampledFrame[],
  box: [number, number, number, number],
): FaceTrack {
  return {
    id,
    observations: frames.map((frame) => ({
      frameIndex: frame.index,
      timeSeconds: frame.timeSeconds,
      box,
      score: 0.99,
      mesh: [],
      rotation: null,
      embedding: [],
    })),
    sizePixels: Math.min(box[2], box[3]),
    analysed: true,
  };
}

export function faceAnalysis(tracks: FaceTrack[], framesSearched: number): FaceAnalysis {
  return { tracks, framesSearched, minFaceSizePixels: 8, models: {} };
}

const videoProbe: MediaProbe = {
  formatName: 'mov,mp4,m4a,3gp,3g2,mj2',
  formatLongName: null,
  durationSeconds: 2,
  sizeBytes: null,
  bitRate: null,
  tags: {},
  streams: [
    {
      index: 0,
      type: 'video',
      codecName: 'h264',
      codecLongName: null,
      profile: null,
      width: 32,
      height: 24,
      pixelFormat: 'yuv420p',
      frameRate: 2,
      durationSeconds: 2,
      frameCount: 4,
      bitRate: null,
      sampleRate: null,
      channels: null,
      tags: {},
    },
  ],
};

/** A context whose frames (and faces) are the synthetic ones given; the model detector reads nothing else. */
export function modelContext(
  frames: SampledFrame[],
  faces?: FaceAnalysis,
  probe = videoProbe,
): DetectorContext {
  return detectorContext({
    input: '/nonexistent/synthetic.mp4',
    probe,
    mediaTools: {} as MediaTools,
    frames: () => Promise.resolve(frameSample(frames)),
    ...(faces ? { faces: () => Promise.resolve(faces) } : {}),
  });
}
