import { describe, expect, it } from 'vitest';
import type { FaceObservation } from '../../src/faces/face-types.js';
import {
  blinkScore,
  blinkStatistics,
  eyeAspectRatio,
  eyeLandmarks,
} from '../../src/pipeline/detectors/face-blink.js';
import {
  createFaceBlinkPoseDetector,
  driftScore,
  poseDisagreementScore,
} from '../../src/pipeline/detectors/face-blink-pose.detector.js';
import {
  centralFaceIndexes,
  rigidCentralIndexes,
} from '../../src/pipeline/detectors/head-pose-consistency.js';
import type { SampledFrame } from '../../src/pipeline/frames/frame-sample.js';
import { detectorContext } from '../helpers/detector-context.js';
import { oneTrack, sampleOf, seededRandom, pictureProbe } from '../helpers/synthetic-frames.js';

type Point = [number, number, number];

const probe = pictureProbe('h264', 640, 480);

/** A face-like cloud of 468 points (px, centred): a half ellipsoid, with both eyes drawn at a given opening. */
function faceShape(eyeOpening: number): Point[] {
  const random = seededRandom(11);
  const points = Array.from({ length: 468 }, (): Point => {
    const u = 2 * random() - 1;
    const v = 2 * random() - 1;
    const depth = Math.sqrt(Math.max(0, 1 - u * u * 0.8 - v * v * 0.8));
    return [60 * u, 80 * v, 45 * depth];
  });
  const drawEye = (eye: (typeof eyeLandmarks)['left' | 'right'], centreX: number) => {
    const [outer, inner] = eye.corners;
    points[outer] = [centreX - 15, -20, 30];
    points[inner] = [centreX + 15, -20, 30];
    eye.upper.forEach((index, i) => (points[index] = [centreX + (i ? 5 : -5), -20 - 15 * eyeOpening, 32]));
    eye.lower.forEach((index, i) => (points[index] = [centreX + (i ? 5 : -5), -20 + 15 * eyeOpening, 32]));
  };
  drawEye(eyeLandmarks.right, -28);
  drawEye(eyeLandmarks.left, 28);
  return points;
}

const yawRotate = ([x, y, z]: Point, degrees: number): Point => {
  const a = (degrees * Math.PI) / 180;
  return [x * Math.cos(a) + z * Math.sin(a), y, -x * Math.sin(a) + z * Math.cos(a)];
};

/** Frame pixels with depth in FaceMesh's units (its 192 px input, a crop about twice the face). */
function meshAt(shape: Point[], headYaw: number, centralYaw: number, slide = 0): FaceObservation['mesh'] {
  const central = new Set(centralFaceIndexes);
  const sliding = new Set(rigidCentralIndexes);
  const turned = shape.map((point, i) => {
    const [x, y, z] = yawRotate(point, central.has(i) ? centralYaw : headYaw);
    return [sliding.has(i) ? x + slide : x, y, z] as Point;
  });
  const ys = turned.map((p) => p[1]);
  const depthUnits = 192 / (2 * (Math.max(...ys) - Math.min(...ys)));
  return turned.map(([x, y, z]) => [320 + x, 240 + y, z * depthUnits]);
}

/**
 * Twelve sweep keyframes over 6 s and one dense 1 s window at 30 fps, the head turning from −20° to 20°;
 * `swap` makes the central face turn only half as far, and `blinkAt` closes the eyes for three window frames.
 */
function clip(options: {
  swap: boolean;
  blinkAt?: number;
  meshes?: number;
  turn?: number;
  /** Px the eye corners and nose slide sideways, alternating from one window frame to the next. */
  slide?: number;
}) {
  const times = [
    ...Array.from({ length: 12 }, (_, i) => ({ t: i * 0.5, windowId: null })),
    ...Array.from({ length: 30 }, (_, i) => ({ t: 2 + i / 30, windowId: 0 })),
  ].sort((a, b) => a.t - b.t);
  const frames: SampledFrame[] = times.map(({ t, windowId }, index) => ({
    index,
    timeSeconds: t,
    width: 640,
    height: 480,
    data: Buffer.alloc(0),
    scale: 1,
    keyframe: windowId === null,
    windowId,
  }));
  const faces = frames.slice(0, options.meshes ?? frames.length).map((frame): FaceObservation => {
    const turn = options.turn ?? 20;
    const yaw = -turn + (2 * turn * frame.timeSeconds) / 6;
    const windowIndex = frame.windowId === null ? -1 : Math.round((frame.timeSeconds - 2) * 30);
    const blinking =
      options.blinkAt !== undefined && windowIndex >= options.blinkAt && windowIndex < options.blinkAt + 3;
    return {
      frameIndex: frame.index,
      timeSeconds: frame.timeSeconds,
      box: [260, 160, 120, 160],
      score: 0.99,
      mesh: meshAt(
        faceShape(blinking ? 0.05 : 0.3),
        yaw,
        options.swap ? yaw / 2 : yaw,
        windowIndex % 2 ? (options.slide ?? 0) : 0,
      ),
      rotation: null,
      embedding: [],
    };
  });
  return { frames, faces };
}

async function analyse(options: Parameters<typeof clip>[0], kind: 'video' | 'image' = 'video') {
  const { frames, faces } = clip(options);
  const context = detectorContext({
    input: 'unused',
    probe,
    mediaTools: undefined as never,
    frames: async () => sampleOf(frames, kind),
    faces: async () => oneTrack(faces, 120),
  });
  return createFaceBlinkPoseDetector().analyze(context);
}

describe('eye aspect ratio and blinks', () => {
  it('reads the lid opening over the eye width from the mesh', () => {
    const mesh = meshAt(faceShape(0.3), 0, 0);
    expect(eyeAspectRatio(mesh, eyeLandmarks.left)).toBeCloseTo(0.3, 6);
    expect(eyeAspectRatio(mesh, eyeLandmarks.right)).toBeCloseTo(0.3, 6);
  });

  it('counts dips as blinks, notes a one-eyed one, and a long closure as eyes kept shut', () => {
    const series = Array.from({ length: 90 }, (_, i) => {
      const closed = (i >= 20 && i < 23) || (i >= 50 && i < 80);
      const oneEye = i >= 40 && i < 42;
      return { timeSeconds: i / 30, left: closed || oneEye ? 0.05 : 0.3, right: closed ? 0.06 : 0.29 };
    });
    const statistics = blinkStatistics([series])!;
    expect(statistics.blinks.map((b) => [b.timeSeconds, b.oneEyed])).toEqual([
      [20 / 30, false],
      [40 / 30, true],
    ]);
    expect(statistics.longClosures).toBe(1);
    expect(statistics.observedSeconds).toBeCloseTo(3, 6);
    expect(statistics.blinksPerMinute).toBe(40);
  });

  it('scores blink absence only after a minute of face, and then only modestly', () => {
    expect(blinkScore({ observedSeconds: 8, blinksPerMinute: 0 })).toBeNull();
    expect(blinkScore({ observedSeconds: 90, blinksPerMinute: 0 })).toBe(0.5);
    expect(blinkScore({ observedSeconds: 90, blinksPerMinute: 12 })).toBe(0);
  });
});

describe('face-blink-pose', () => {
  it('maps pose disagreement to a score', () => {
    expect(poseDisagreementScore(0.5)).toBe(0);
    expect(poseDisagreementScore(10)).toBeGreaterThanOrEqual(0.7);
    expect(driftScore(0.9)).toBe(0);
    expect(driftScore(6)).toBeGreaterThanOrEqual(0.7);
  });

  it('finds the central face turning with the head, and reports a blink without scoring it', async () => {
    const finding = await analyse({ swap: false, blinkAt: 10 });
    expect(finding.score).toBeLessThan(0.3);
    expect(finding.measurements.poseDisagreementDegrees).toBeLessThan(0.5);
    expect(finding.measurements.centralDriftPercent).toBeLessThan(0.1);
    expect(finding.measurements.blinks).toBe(1);
    expect(finding.measurements.blinkScored).toBe(false);
    expect(finding.coverage).toMatchObject({ analysed: 42, total: 42 });
    expect(finding.evidence.map((e) => e.kind)).toEqual([
      'central-face-drift',
      'head-pose-disagreement',
      'blinks',
    ]);
  });

  it('flags a central face that turns less than its head', async () => {
    const finding = await analyse({ swap: true });
    expect(finding.score).toBeGreaterThanOrEqual(0.7);
    expect(finding.measurements.poseDisagreementDegrees).toBeGreaterThan(4);
  });

  it('flags a central face that slides inside its contour from frame to frame', async () => {
    // 10 px on a face whose box's shorter side is 120 px: 8% of the face size at every window step.
    const finding = await analyse({ swap: false, turn: 2, slide: 10 });
    expect(finding.measurements.centralDriftPercent).toBeCloseTo(8.3, 1);
    expect(finding.measurements.poseDisagreementDegrees).toBeNull();
    expect(finding.score).toBeGreaterThanOrEqual(0.7);
    expect(finding.evidence.map((e) => e.kind)).toContain('head-pose-not-judged');
  });

  it('abstains without consecutive frames, when the head does not turn either', async () => {
    const { frames, faces } = clip({ swap: true, turn: 2 });
    const sweepOnly = frames.filter((frame) => frame.windowId === null);
    const context = detectorContext({
      input: 'unused',
      probe,
      mediaTools: undefined as never,
      frames: async () => ({ ...sampleOf(frames), windows: [] }),
      faces: async () =>
        oneTrack(
          faces.filter((face) => sweepOnly.some((f) => f.index === face.frameIndex)),
          120,
        ),
    });
    const finding = await createFaceBlinkPoseDetector().analyze(context);
    expect(finding.score).toBeNull();
    expect(finding.abstainReason).toMatch(/the head turned at most/);
    expect(finding.abstainReason).toMatch(/no face was followed for 60 s/);
  });

  it('abstains when too few faces carry a mesh, and does not apply to a still', async () => {
    const few = await analyse({ swap: true, meshes: 3 });
    expect(few.score).toBeNull();
    expect(few.abstainReason).toMatch(/carried a mesh in 3 sampled frames, fewer than 5/);
    const still = await analyse({ swap: true }, 'image');
    expect(still.notApplicableReason).toMatch(/still image/);
  });
});
