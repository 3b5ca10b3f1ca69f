import { describe, expect, it } from 'vitest';
import type { FaceObservation } from '../../src/faces/face-types.js';
import type { MediaProbe, MediaTools } from '../../src/media/media-probe.js';
import { seededRandom } from '../../src/evaluation/seeded-random.js';
import { avOffsetScore, createAvOffsetDetector } from '../../src/pipeline/detectors/av-offset.detector.js';
import { mouthAperture } from '../../src/pipeline/detectors/mouth-aperture.js';
import type { FrameSample, SampledFrame } from '../../src/pipeline/frames/frame-sample.js';
import { detectorContext } from '../helpers/detector-context.js';
import { oneTrack } from '../helpers/synthetic-frames.js';

const fps = 25;
const video = { index: 0, type: 'video', codecName: 'h264', width: 320, height: 240, frameRate: fps };
const audio = { index: 1, type: 'audio', codecName: 'aac', sampleRate: 48000, channels: 1 };
const probeWith = (streams: object[]) =>
  ({ formatName: 'mov,mp4,m4a,3gp,3g2,mj2', durationSeconds: 6, streams }) as unknown as MediaProbe;

/** Loudness per frame number: irregular syllables, 0–1. */
const random = seededRandom(11);
const syllables = Array.from({ length: 200 }, () => (random.next() < 0.45 ? 0 : random.between(0.4, 1)));
const loudness = (frame: number) => syllables[frame] ?? 0;

/** Two dense windows of 25 frames (at 1.6 s and 3.6 s), each face's inner lips parted by `opening(frame)` px. */
function scene(opening: (frame: number) => number) {
  const frameNumbers = [
    ...Array.from({ length: 25 }, (_, i) => 40 + i),
    ...Array.from({ length: 25 }, (_, i) => 90 + i),
  ];
  const frames: SampledFrame[] = frameNumbers.map((number, index) => ({
    index,
    timeSeconds: number / fps,
    width: 320,
    height: 240,
    data: Buffer.alloc(0),
    scale: 1,
    keyframe: false,
    windowId: number < 90 ? 0 : 1,
  }));
  const sample: FrameSample = {
    frames,
    windows: [0, 1].map((id) => {
      const members = frames.filter((frame) => frame.windowId === id);
      return {
        id,
        startSeconds: members[0]!.timeSeconds,
        endSeconds: members.at(-1)!.timeSeconds,
        frameIndexes: members.map((frame) => frame.index),
      };
    }),
    plan: {} as FrameSample['plan'],
  };
  const faces = frames.map((frame, i) => meshFace(frame, opening(frameNumbers[i]!)));
  return { sample, faces: oneTrack(faces) };
}

function meshFace(frame: SampledFrame, opening: number): FaceObservation {
  const mesh: [number, number, number][] = Array.from({ length: 468 }, () => [0, 0, 0]);
  mesh[33] = [100, 100, 0];
  mesh[263] = [200, 100, 0];
  mesh[13] = [150, 180, 0];
  mesh[14] = [150, 180 + opening, 0];
  return {
    frameIndex: frame.index,
    timeSeconds: frame.timeSeconds,
    box: [90, 60, 120, 150],
    score: 0.99,
    mesh,
    rotation: null,
    embedding: [],
  };
}

/** Audio whose loudness follows `level(frame)` `delaySeconds` later: a ±value square wave. */
function audioTools(
  level: (frame: number) => number,
  delaySeconds: number,
  calls: unknown[] = [],
): MediaTools {
  return {
    audio: async (_input, options) => {
      calls.push(options);
      const samples = new Float32Array(Math.round(options.durationSeconds * options.sampleRate));
      for (let i = 0; i < samples.length; i++) {
        const time = options.startSeconds + i / options.sampleRate - delaySeconds;
        samples[i] = (i % 2 ? 0.3 : -0.3) * level(Math.floor(time * fps + 0.5));
      }
      return samples;
    },
  } as MediaTools;
}

async function analyse(options: {
  opening?: (frame: number) => number;
  level?: (frame: number) => number;
  delay?: number;
}) {
  const { sample, faces } = scene(options.opening ?? ((frame) => 30 * loudness(frame)));
  const context = detectorContext({
    input: 'clip.mp4',
    probe: probeWith([video, audio]),
    mediaTools: audioTools(options.level ?? loudness, options.delay ?? 0),
    frames: async () => sample,
    faces: async () => faces,
  });
  return createAvOffsetDetector().analyze(context);
}

describe('av-offset', () => {
  it('maps the offset to a score: up to 120 ms is nothing, 240 ms and more is full', () => {
    expect(avOffsetScore(0)).toBe(0);
    expect(avOffsetScore(0.12)).toBe(0);
    expect(avOffsetScore(0.18)).toBeCloseTo(0.5, 6);
    expect(avOffsetScore(-0.3)).toBe(1);
    expect(avOffsetScore(0.24)).toBe(1);
  });

  it('measures the inner-lip gap against the eye-corner distance', () => {
    const { sample } = scene(() => 0);
    expect(mouthAperture(meshFace(sample.frames[0]!, 25))).toBeCloseTo(0.25, 9);
    expect(mouthAperture({ ...meshFace(sample.frames[0]!, 25), mesh: [] })).toBeNull();
  });

  it('finds the mouth and the sound in step: score 0', async () => {
    const finding = await analyse({});
    expect(finding.score).toBe(0);
    expect(finding.measurements).toMatchObject({ stepLagMs: 0, trackId: 1 });
    expect(finding.measurements.peakCorrelation as number).toBeGreaterThan(0.95);
    expect(finding.coverage).toMatchObject({ analysed: 50, total: 50, fraction: 1 });
    expect(finding.explanation).toMatch(/cannot see small lip-sync errors, dubbing/);
  });

  it('flags sound 320 ms late, and sound 280 ms early', async () => {
    const late = await analyse({ delay: 0.32 });
    expect(late.score).toBe(1);
    expect(late.measurements.stepLagMs).toBe(320);
    expect(late.evidence[0]!.summary).toMatch(/3[12]\d ms later \(the audio lags the picture\)/);
    const early = await analyse({ delay: -0.28 });
    expect(early.score).toBe(1);
    expect(early.measurements.stepLagMs).toBe(-280);
  });

  it('does not apply without a moving mouth, to silence or a steady hum; abstains on unrelated sound', async () => {
    const still = await analyse({ opening: () => 8 });
    expect(still.score).toBeNull();
    expect(still.notApplicableReason).toMatch(/^no speaking mouth: the mouth barely moves/);
    const silent = await analyse({ level: () => 0.001 });
    expect(silent.notApplicableReason).toMatch(/^no sound to match: the audio is silent/);
    const hum = await analyse({ level: (frame) => 0.8 + 0.05 * loudness(frame) });
    expect(hum.notApplicableReason).toMatch(/^no speech-like sound: its loudness hardly varies/);
    const other = seededRandom(99);
    const unrelated = Array.from({ length: 300 }, () => other.next());
    const noMatch = await analyse({ level: (frame) => unrelated[frame] ?? 0 });
    expect(noMatch.score).toBeNull();
    expect(noMatch.abstainReason).toMatch(/the offset cannot be told$/);
  });

  it('does not apply without audio (nothing decoded), and is not applicable without a face', async () => {
    const calls: unknown[] = [];
    const detector = createAvOffsetDetector();
    const silentFilm = detectorContext({
      input: 'clip.mp4',
      probe: probeWith([video]),
      mediaTools: audioTools(loudness, 0, calls),
    });
    expect(detector.applicable(silentFilm)).toEqual({
      applicable: false,
      reason: 'the media has no audio stream',
    });
    const { sample } = scene(() => 0);
    const faceless = detectorContext({
      input: 'clip.mp4',
      probe: probeWith([video, audio]),
      mediaTools: audioTools(loudness, 0, calls),
      frames: async () => sample,
      faces: async () => oneTrack([]),
    });
    expect((await detector.analyze(faceless)).notApplicableReason).toMatch(/^no face found/);
    expect(calls).toEqual([]);
  });

  it('decodes only the windows with a second either side, mono at 8 kHz', async () => {
    const calls: { startSeconds: number; durationSeconds: number; sampleRate: number }[] = [];
    const { sample, faces } = scene((frame) => 30 * loudness(frame));
    const context = detectorContext({
      input: 'clip.mp4',
      probe: probeWith([video, audio]),
      mediaTools: audioTools(loudness, 0, calls),
      frames: async () => sample,
      faces: async () => faces,
    });
    await createAvOffsetDetector().analyze(context);
    expect(calls).toHaveLength(2);
    expect(calls[0]).toMatchObject({ streamIndex: 1, sampleRate: 8000 });
    expect(calls[0]!.startSeconds).toBeCloseTo(1.6 - 1.04, 6);
    expect(calls[0]!.durationSeconds).toBeCloseTo(0.96 + 2.08, 6);
  });
});
