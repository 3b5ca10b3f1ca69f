import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sigmoid } from '../../src/models/model-score.js';
import { loadOnnxModel, type OnnxModel } from '../../src/models/onnx-model.js';
import { createOnnxModelDetector } from '../../src/pipeline/detectors/onnx-model.detector.js';
import type { Detector } from '../../src/pipeline/detector.js';
import {
  faceAnalysis,
  faceTrack,
  modelContext,
  paintedFrame,
  solidFrame,
  writeModelFixture,
} from '../helpers/model-card-fixture.js';
import type { ChannelMeanModelOptions } from '../helpers/tiny-onnx.js';

let dir: string;
const loaded: OnnxModel[] = [];
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'guardian-model-detector-'));
});
afterAll(async () => {
  await Promise.all(loaded.map((model) => model.release()));
  await rm(dir, { recursive: true, force: true });
});

async function detectorFor(
  name: string,
  options: Parameters<typeof writeModelFixture>[2] = {},
): Promise<{ detector: Detector; model: OnnxModel }> {
  const fixture = await writeModelFixture(dir, name, options);
  const model = await loadOnnxModel(fixture.cardPath);
  loaded.push(model);
  return { detector: createOnnxModelDetector(model), model };
}

const red: [number, number, number] = [255, 0, 0];
const green: [number, number, number] = [0, 255, 0];
const blue: [number, number, number] = [0, 0, 255];

describe('model detector on whole frames', () => {
  it('scores redder frames higher, as the redness model says, and aggregates by the card', async () => {
    const { detector, model } = await detectorFor('redness');
    expect(detector).toMatchObject({
      id: 'model:redness',
      version: `1.0.0+${model.sha256.slice(0, 12)}`,
      needs: ['frames'],
      strength: 'standard',
    });
    const context = modelContext([solidFrame(0, red), solidFrame(1, [128, 128, 128]), solidFrame(2, blue)]);
    expect(detector.applicable(context)).toEqual({ applicable: true });
    const finding = await detector.analyze(context);
    // logit = 8 · mean(red) − 4 on bytes scaled by 1/255.
    const expected = [sigmoid(4), sigmoid((8 * 128) / 255 - 4), sigmoid(-4)];
    expect(finding.perFrame?.map((entry) => entry.score)).toEqual(expected.map((v) => Number(v.toFixed(3))));
    expect(finding.perFrame?.map((entry) => entry.timeSeconds)).toEqual([0, 0.5, 1]);
    expect(finding.score).toBe(Number(((expected[0]! + expected[1]! + expected[2]!) / 3).toFixed(3)));
    expect(finding.coverage).toEqual({ unit: 'frames', analysed: 3, total: 3, fraction: 1 });
    expect(finding.evidence[0]).toMatchObject({ kind: 'model-score', timeSeconds: 0 });
    expect(finding.evidence[0]?.summary).toBe('Frame at 0.00 s: model score 0.982');
    expect(finding.measurements).toMatchObject({
      modelName: 'redness',
      modelVersion: '1.0.0',
      modelSha256: model.sha256,
      cropRule: 'full-frame',
      aggregation: 'mean',
      calibration: 'none',
      framesScored: 3,
      framesSampled: 3,
    });
    expect(finding.explanation).toContain(`Model card redness 1.0.0 (sha256 ${model.sha256.slice(0, 12)}…)`);
    expect(finding.artifacts?.[0]?.name).toBe('scores.json');
    // Deterministic: the same frames give the same finding.
    expect(await detector.analyze(context)).toEqual(finding);
  });

  it('takes colour order and layout from the card (softmax over logits, or probabilities as given)', async () => {
    // Model channel 0 against model channel 2; with BGR input, channel 2 is red.
    const model: ChannelMeanModelOptions = {
      weights: [
        [1, 0, 0],
        [0, 0, 1],
      ],
      bias: [0, 0],
      layout: 'NHWC',
    };
    const bgr = (card: Record<string, unknown>, kind: string) => {
      Object.assign(card.input as object, { colorOrder: 'BGR' });
      card.output = { name: 'logits', kind, manipulatedIndex: 1 };
    };
    const frames = [solidFrame(0, red), solidFrame(1, blue)];
    const softmaxed = await detectorFor('bgr-softmax', { model, edit: (card) => bgr(card, 'softmax') });
    const probabilities = await detectorFor('bgr-probability', {
      model: { ...model, softmax: true },
      edit: (card) => bgr(card, 'probability'),
    });
    for (const { detector } of [softmaxed, probabilities]) {
      const finding = await detector.analyze(modelContext(frames));
      // softmax([0, 1])[1] on the red frame, softmax([1, 0])[1] on the blue one.
      expect(finding.perFrame?.map((entry) => entry.score)).toEqual([0.731, 0.269]);
    }
  });

  it('applies the card’s calibration after the model', async () => {
    const { detector } = await detectorFor('calibrated', {
      edit: (card) => (card.calibration = { method: 'platt', a: -4, b: 2 }),
    });
    const finding = await detector.analyze(modelContext([solidFrame(0, red)]));
    const raw = sigmoid(4);
    expect(finding.measurements.uncalibratedScore).toBe(Number(raw.toFixed(3)));
    expect(finding.score).toBe(Number((1 / (1 + Math.exp(-4 * raw + 2))).toFixed(3)));
    expect(finding.measurements.calibration).toBe('platt');
    expect(finding.explanation).toContain('platt-calibrated');
  });

  it('is not applicable to media without a picture', async () => {
    const { detector } = await detectorFor('audio-only');
    const context = modelContext([], undefined, {
      formatName: 'wav',
      formatLongName: null,
      durationSeconds: 1,
      sizeBytes: null,
      bitRate: null,
      tags: {},
      streams: [],
    });
    expect(detector.applicable(context)).toEqual({
      applicable: false,
      reason: 'the media has no picture for the model to score',
    });
  });
});

describe('model detector on face crops', () => {
  const faceCard = (margin: number) => (card: Record<string, unknown>) =>
    (card.crop = { rule: 'face', margin });

  it('abstains when no face was found, or none is large enough', async () => {
    const { detector } = await detectorFor('faces-none', { edit: faceCard(0.25) });
    expect(detector.needs).toEqual(['frames', 'faces']);
    const frames = [solidFrame(0, red), solidFrame(1, red)];
    const none = await detector.analyze(modelContext(frames, faceAnalysis([], 2)));
    expect(none).toMatchObject({
      score: null,
      abstainReason: 'no face found',
      coverage: { unit: 'frames', analysed: 0, total: 2, fraction: 0 },
    });
    const small = { ...faceTrack(1, frames, [2, 2, 4, 4]), analysed: false, reason: 'too small' };
    const tooSmall = await detector.analyze(modelContext(frames, faceAnalysis([small], 2)));
    expect(tooSmall.score).toBeNull();
    expect(tooSmall.abstainReason).toBe('no face found large enough to analyse (1 smaller than 8 px)');
  });

  it('crops the face box plus its margin: a known answer from a red ring around a green face', async () => {
    const { detector } = await detectorFor('faces-ring', { edit: faceCard(0.25) });
    const box: [number, number, number, number] = [20, 10, 16, 16];
    // Red in the margin ring [16, 6, 24, 24] minus the box, green in the box, blue elsewhere.
    const paint = (x: number, y: number): [number, number, number] => {
      const inBox = x >= 20 && x < 36 && y >= 10 && y < 26;
      const inCrop = x >= 16 && x < 40 && y >= 6 && y < 30;
      return inBox ? green : inCrop ? red : blue;
    };
    const frames = [
      paintedFrame(0, 64, 48, paint),
      paintedFrame(1, 64, 48, paint),
      solidFrame(2, red, 64, 48),
    ];
    const faces = faceAnalysis([faceTrack(7, frames.slice(0, 2), box)], 3);
    const finding = await detector.analyze(modelContext(frames, faces));
    // 24 → 8 samples every 3 pixels at 1, 4, …, 22: the outer ring of output pixels is red, 28 of 64.
    const expected = Number(sigmoid((8 * 28) / 64 - 4).toFixed(3));
    expect(finding.perFrame).toEqual([
      { timeSeconds: 0, score: expected },
      { timeSeconds: 0.5, score: expected },
    ]);
    expect(finding.coverage).toEqual({ unit: 'frames', analysed: 2, total: 3, fraction: 0.667 });
    expect(finding.evidence[0]?.data).toMatchObject({ trackId: 7, faceBox: box, crop: [16, 6, 24, 24] });
    expect(finding.evidence[0]?.summary).toBe(`Face 7 in the frame at 0.00 s: model score ${expected}`);
    expect(finding.explanation).toContain('2 face crop(s) in 2 of 3 sampled frames');
  });

  it('scores every face and shows each frame’s most suspicious one on the timeline', async () => {
    const { detector } = await detectorFor('faces-two', {
      edit: (card) => {
        faceCard(0)(card);
        card.aggregation = 'max';
      },
    });
    // Left half red, right half blue: a face on each side.
    const frame = paintedFrame(0, 64, 32, (x) => (x < 32 ? red : blue));
    const faces = faceAnalysis(
      [faceTrack(1, [frame], [4, 4, 16, 16]), faceTrack(2, [frame], [40, 4, 16, 16])],
      1,
    );
    const finding = await detector.analyze(modelContext([frame], faces));
    expect(finding.measurements.itemsScored).toBe(2);
    expect(finding.perFrame).toEqual([{ timeSeconds: 0, score: Number(sigmoid(4).toFixed(3)) }]);
    expect(finding.score).toBe(Number(sigmoid(4).toFixed(3)));
    expect(finding.evidence.map((item) => item.data?.trackId)).toEqual([1, 2]);
  });
});
