import { availableParallelism } from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import type { Box } from '../../src/faces/face-types.js';
import type { DetectorContext } from '../../src/pipeline/detector.js';
import { defaultDetectors } from '../../src/pipeline/default-detectors.js';
import { runDetector } from '../../src/pipeline/detector-runner.js';
import type { SampledFrame } from '../../src/pipeline/frames/frame-sample.js';
import { createDetectorPool, detectorThreadCount } from '../../src/pipeline/pool/detector-pool.js';
import { pooledDetectorFactories } from '../../src/pipeline/pool/pooled-detectors.js';
import { detectorContext } from '../helpers/detector-context.js';
import {
  blurEllipse,
  boxFace,
  greyFrame,
  oneTrack,
  pictureProbe,
  sampleOf,
  sceneFrame,
} from '../helpers/synthetic-frames.js';

const width = 640;
const height = 480;
const faceBox: Box = [240, 140, 160, 190];
const probe = pictureProbe('h264', width, height);

const pool = createDetectorPool({ threads: 2 });
afterAll(() => pool.close());

/** A dense window of frames whose face was smoothed after the noise was there, in shared memory as decoded. */
function smoothedFaceFrames(count: number): SampledFrame[] {
  return Array.from({ length: count }, (_, index) => {
    const frame = greyFrame(
      blurEllipse(sceneFrame(width, height, { sigma: 5, seed: index + 1 }), width, faceBox),
      width,
      { index, timeSeconds: index / 30, windowId: 0, keyframe: index === 0 },
    );
    const shared = Buffer.from(new SharedArrayBuffer(frame.data.length));
    frame.data.copy(shared);
    return { ...frame, data: shared };
  });
}

function contextOf(frames: SampledFrame[], signal = new AbortController().signal): DetectorContext {
  const faces = oneTrack(frames.map((frame) => boxFace(frame, faceBox)));
  return {
    ...detectorContext({
      input: 'unused',
      probe,
      mediaTools: undefined as never,
      frames: async () => sampleOf(frames),
      faces: async () => faces,
    }),
    signal,
  };
}

describe('detector thread pool', () => {
  it('gives every pooled detector the finding it gives on the main thread, artifacts included', async () => {
    const context = contextOf(smoothedFaceFrames(6));
    const pooled = defaultDetectors().filter((detector) => detector.id in pooledDetectorFactories);
    expect(pooled.map((detector) => detector.id).sort()).toEqual(Object.keys(pooledDetectorFactories).sort());
    for (const detector of pooled) {
      expect(pool.wrap(detector)).not.toBe(detector);
      const [direct, inThread] = await Promise.all([
        detector.analyze(context),
        pool.wrap(detector).analyze(context),
      ]);
      expect(inThread, detector.id).toEqual(direct);
      for (const artifact of inThread.artifacts ?? []) expect(Buffer.isBuffer(artifact.data)).toBe(true);
    }
    // The smoothed face is what face-noise-mismatch is for: the thread really measured it.
    const noise = await pool.wrap(pooled.find((d) => d.id === 'face-noise-mismatch')!).analyze(context);
    expect(noise.score).toBeGreaterThanOrEqual(0.7);
  });

  it('leaves detectors that read media tools or files on the main thread', () => {
    for (const detector of defaultDetectors().filter((d) => !(d.id in pooledDetectorFactories)))
      expect(pool.wrap(detector)).toBe(detector);
  });

  it('reports a detector that throws in its thread as failed, with its message', async () => {
    const frames = smoothedFaceFrames(2);
    const faces = oneTrack([{ ...boxFace(frames[0]!, faceBox), frameIndex: 7 }]);
    const context = { ...contextOf(frames), faces: async () => faces };
    const detector = pool.wrap(defaultDetectors().find((d) => d.id === 'face-noise-mismatch')!);
    const outcome = await runDetector(detector, context);
    expect(outcome.report.applicable).toBe(true);
    expect(outcome.report.score).toBeNull();
    expect(outcome.report.reason).toBe('detector failed: face observation points at missing frame 7');
  });

  it('stops a detector whose analysis is aborted in its thread, and runs the next one', async () => {
    const controller = new AbortController();
    const frames = smoothedFaceFrames(40);
    const detector = pool.wrap(defaultDetectors().find((d) => d.id === 'face-blend-boundary')!);
    const running = runDetector(detector, contextOf(frames, controller.signal));
    setTimeout(() => controller.abort(new Error('analysis cancelled')), 50);
    await expect(running).rejects.toThrow();
    expect(controller.signal.aborted).toBe(true);
    const after = await runDetector(detector, contextOf(frames.slice(0, 3)));
    expect(after.report.reason ?? '').not.toMatch(/detector failed/);
    expect(after.report.applicable).toBe(true);
  });

  it('sizes itself to the processors this process may use unless told', () => {
    expect(detectorThreadCount(0)).toBe(availableParallelism());
    expect(detectorThreadCount(3)).toBe(3);
    expect(pool.threads).toBe(2);
  });
});
