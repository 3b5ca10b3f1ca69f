import type { Box, FaceAnalysis } from '../../faces/face-types.js';
import { faceCropRect, imageTensor, resizeBilinear, type PixelRect } from '../../models/image-tensor.js';
import { aggregateScores } from '../../models/model-score.js';
import type { OnnxModel } from '../../models/onnx-model.js';
import type { Detector, DetectorContext, DetectorFinding, Evidence } from '../detector.js';
import type { SampledFrame } from '../frames/frame-sample.js';
import { round } from './statistics.js';
import { primaryVideoStream } from './video-stream.js';

/** One picture the model scored: a whole frame, or one face crop of it. */
interface ScoredItem {
  frame: SampledFrame;
  trackId: number | null;
  faceBox: Box | null;
  crop: PixelRect;
  uncalibrated: number;
  score: number;
}

/** What to crop from which frame, before the model runs. */
type CropPlan = { frame: SampledFrame; trackId: number | null; faceBox: Box | null; crop: PixelRect }[];

const evidenceItems = 3;

/**
 * An organisation's own classifier (an ONNX model with a verified card) as a detector: each sampled frame, or
 * each analysed face in it, is scored by the model and the scores aggregated as the card says.
 */
export function createOnnxModelDetector(model: OnnxModel): Detector {
  const { card } = model;
  return {
    id: `model:${card.name}`,
    // The hash is part of the version, so replacing the model file changes the pipeline version.
    version: `${card.version}+${model.sha256.slice(0, 12)}`,
    needs: card.crop.rule === 'face' ? ['frames', 'faces'] : ['frames'],
    strength: 'standard',
    description:
      card.description ??
      `Organisation-supplied ONNX model ${card.name} ${card.version}, scoring ${card.crop.rule === 'face' ? 'face crops' : 'whole frames'}.`,
    applicable({ probe }) {
      return primaryVideoStream(probe)
        ? { applicable: true }
        : { applicable: false, reason: 'the media has no picture for the model to score' };
    },
    analyze: (context) => analyze(model, context),
  };
}

async function analyze(model: OnnxModel, context: DetectorContext): Promise<DetectorFinding> {
  const { card } = model;
  const sample = await context.frames();
  const framesSampled = sample.frames.length;
  let plan: CropPlan;
  let faceNote: string | null = null;
  if (card.crop.rule === 'face') {
    const faces = await context.faces();
    const analysed = faces.tracks.filter((track) => track.analysed);
    if (analysed.length === 0) {
      const reason =
        faces.tracks.length === 0
          ? 'no face found'
          : `no face found large enough to analyse (${faces.tracks.length} smaller than ${faces.minFaceSizePixels} px)`;
      return abstain(model, reason, framesSampled);
    }
    plan = faceCrops(sample.frames, faces, card.crop.margin);
    faceNote = `${analysed.length} face track(s), crops of the face box plus ${round(card.crop.margin * 100, 1)} % margin`;
  } else {
    plan = sample.frames.map((frame) => ({
      frame,
      trackId: null,
      faceBox: null,
      crop: [0, 0, frame.width, frame.height],
    }));
  }
  if (plan.length === 0) return abstain(model, 'no sampled frame to score', framesSampled);

  const items: ScoredItem[] = [];
  for (const entry of plan) {
    context.signal.throwIfAborted();
    const resized = resizeBilinear(entry.frame, entry.crop, card.input.width, card.input.height);
    const { uncalibrated, score } = await model.score(imageTensor(resized, card.input));
    items.push({ ...entry, uncalibrated, score });
  }
  return finding(model, items, framesSampled, faceNote);
}

function faceCrops(frames: SampledFrame[], faces: FaceAnalysis, margin: number): CropPlan {
  const plan: CropPlan = [];
  for (const track of faces.tracks) {
    if (!track.analysed) continue;
    for (const observation of track.observations) {
      const frame = frames[observation.frameIndex];
      if (!frame) continue;
      const crop = faceCropRect(observation.box, margin, frame.width, frame.height);
      if (crop) plan.push({ frame, trackId: track.id, faceBox: observation.box, crop });
    }
  }
  return plan.sort((a, b) => a.frame.index - b.frame.index || (a.trackId ?? 0) - (b.trackId ?? 0));
}

function finding(
  model: OnnxModel,
  items: ScoredItem[],
  framesSampled: number,
  faceNote: string | null,
): DetectorFinding {
  const { card } = model;
  const score = round(
    aggregateScores(
      items.map((item) => item.score),
      card.aggregation,
    ),
  );
  const uncalibrated = round(
    aggregateScores(
      items.map((item) => item.uncalibrated),
      card.aggregation,
    ),
  );
  // The timeline shows each frame's most suspicious face.
  const byFrame = new Map<number, { timeSeconds: number; score: number }>();
  for (const item of items) {
    const current = byFrame.get(item.frame.index);
    if (!current || item.score > current.score)
      byFrame.set(item.frame.index, { timeSeconds: item.frame.timeSeconds, score: item.score });
  }
  const perFrame = [...byFrame.entries()]
    .sort(([a], [b]) => a - b)
    .map(([, entry]) => ({ timeSeconds: entry.timeSeconds, score: round(entry.score) }));
  const scores = items.map((item) => item.score);
  const framesScored = byFrame.size;
  return {
    score,
    coverage: coverage(framesScored, framesSampled),
    perFrame,
    evidence: topItems(items),
    explanation: explain(model, { score, items: items.length, framesScored, framesSampled, faceNote }),
    measurements: {
      ...cardMeasurements(model),
      itemsScored: items.length,
      framesScored,
      framesSampled,
      uncalibratedScore: uncalibrated,
      minScore: round(Math.min(...scores)),
      maxScore: round(Math.max(...scores)),
      score,
    },
    artifacts: [
      {
        name: 'scores.json',
        contentType: 'application/json',
        description: `Every score of model ${card.name}: frame, time, face track, crop and score.`,
        data: Buffer.from(
          JSON.stringify(
            items.map((item) => ({
              frameIndex: item.frame.index,
              timeSeconds: item.frame.timeSeconds,
              trackId: item.trackId,
              crop: item.crop,
              uncalibrated: round(item.uncalibrated, 6),
              score: round(item.score, 6),
            })),
          ),
        ),
      },
    ],
  };
}

function topItems(items: ScoredItem[]): Evidence[] {
  return [...items]
    .sort((a, b) => b.score - a.score || a.frame.index - b.frame.index)
    .slice(0, evidenceItems)
    .map((item) => ({
      kind: 'model-score',
      summary: `${item.trackId === null ? 'Frame' : `Face ${item.trackId} in the frame`} at ${item.frame.timeSeconds.toFixed(2)} s: model score ${round(item.score)}`,
      timeSeconds: item.frame.timeSeconds,
      data: {
        frameIndex: item.frame.index,
        trackId: item.trackId,
        faceBox: item.faceBox,
        crop: item.crop,
        uncalibrated: round(item.uncalibrated, 6),
        score: round(item.score, 6),
      },
    }));
}

function explain(
  model: OnnxModel,
  facts: {
    score: number;
    items: number;
    framesScored: number;
    framesSampled: number;
    faceNote: string | null;
  },
): string {
  const { card } = model;
  const what = facts.faceNote
    ? `${facts.items} face crop(s) in ${facts.framesScored} of ${facts.framesSampled} sampled frames (${facts.faceNote})`
    : `${facts.framesScored} of ${facts.framesSampled} sampled frames`;
  const calibration = card.calibration ? `, ${card.calibration.method}-calibrated` : '';
  return (
    `${modelName(model)} scored ${what}, resized to ${card.input.width}×${card.input.height}; the ${card.aggregation} of the scores${calibration} is ${facts.score}. ` +
    'The score is the model’s own judgement: at start-up the platform verified the model file’s hash and that it reproduces its reference outputs, not how accurate it is on media like this.'
  );
}

function abstain(model: OnnxModel, reason: string, framesSampled: number): DetectorFinding {
  return {
    score: null,
    abstainReason: reason,
    coverage: coverage(0, framesSampled),
    evidence: [],
    explanation: `${modelName(model)} gave no score: ${reason}.`,
    measurements: { ...cardMeasurements(model), itemsScored: 0, framesScored: 0, framesSampled },
  };
}

const modelName = (model: OnnxModel) =>
  `Model card ${model.card.name} ${model.card.version} (sha256 ${model.sha256.slice(0, 12)}…)`;

function coverage(framesScored: number, framesSampled: number) {
  return {
    unit: 'frames',
    analysed: framesScored,
    total: framesSampled,
    fraction: framesSampled > 0 ? round(framesScored / framesSampled) : 0,
  };
}

function cardMeasurements(model: OnnxModel): Record<string, string | number> {
  const { card } = model;
  return {
    modelName: card.name,
    modelVersion: card.version,
    modelSha256: model.sha256,
    inputSize: `${card.input.width}x${card.input.height}`,
    cropRule: card.crop.rule,
    ...(card.crop.rule === 'face' ? { cropMargin: card.crop.margin } : {}),
    outputKind: card.output.kind,
    aggregation: card.aggregation,
    calibration: card.calibration?.method ?? 'none',
  };
}
