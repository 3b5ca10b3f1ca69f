import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFfmpegMediaTools, type FfmpegMediaTools } from '../../src/media/ffmpeg.media-tools.js';
import type { Detector, DetectorContext, DetectorFinding } from '../../src/pipeline/detector.js';
import { fileDetectorContext } from '../helpers/detector-context.js';
import { createGopDoubleCompressionDetector } from '../../src/pipeline/detectors/gop-double-compression.detector.js';
import {
  createMediaTempDir,
  doubleEncode,
  generateClip,
  generateStill,
  runFfmpeg,
  splice,
  type ClipOptions,
  type MediaTempDir,
} from '../helpers/media-fixtures.js';

const tenSeconds: ClipOptions = { seconds: 10, size: '320x240', fps: 25 };

const cleanVariants: [string, ClipOptions][] = [
  ['testsrc2, GOP 25, crf 22', { ...tenSeconds, source: 'testsrc2', gop: 25, crf: 22 }],
  ['mandelbrot, GOP 30, crf 20', { ...tenSeconds, source: 'mandelbrot', gop: 30, crf: 20 }],
  [
    'noisy life, scene-cut keyframes, GOP 50',
    { ...tenSeconds, source: 'life', seed: 7, noise: 6, gop: 50, crf: 23, sceneCut: true },
  ],
  [
    'noisy testsrc2, MPEG-4 part 2, GOP 12',
    { ...tenSeconds, source: 'testsrc2', noise: 8, seed: 2, codec: 'mpeg4', gop: 12, quality: 5 },
  ],
];

/** First encoding coarser than the second: the usual history of an edited and re-exported clip. */
const doubleVariants: [string, ClipOptions, ClipOptions, number][] = [
  [
    'noisy testsrc2, H.264 GOP 12 → H.264 GOP 50',
    { ...tenSeconds, noise: 8, seed: 3, gop: 12, crf: 27, bFrames: 0 },
    { gop: 50, crf: 21 },
    12,
  ],
  [
    'mandelbrot, H.264 GOP 30 → H.264 GOP 25',
    { ...tenSeconds, source: 'mandelbrot', gop: 30, crf: 30 },
    { gop: 25, crf: 21 },
    30,
  ],
  [
    'mandelbrot, MPEG-4 GOP 18 → H.264 GOP 25',
    { ...tenSeconds, source: 'mandelbrot', codec: 'mpeg4', gop: 18, quality: 6 },
    { gop: 25, crf: 20 },
    18,
  ],
  [
    'noisy testsrc2, MPEG-4 GOP 18 → H.264 GOP 25',
    { ...tenSeconds, noise: 8, seed: 3, codec: 'mpeg4', gop: 18, quality: 6 },
    { gop: 25, crf: 20 },
    18,
  ],
  [
    'life, H.264 GOP 12 → H.264 GOP 50',
    { ...tenSeconds, source: 'life', seed: 7, gop: 12, crf: 27, bFrames: 0 },
    { gop: 50, crf: 21 },
    12,
  ],
];

/** Segments from different sources and encoders joined by stream copy (no re-encode): the join shows in the keyframe cadence. */
const copySpliceVariants: [string, ClipOptions[], number][] = [
  [
    'testsrc2 GOP 30 + mandelbrot GOP 25',
    [
      { seconds: 5, gop: 30, crf: 20 },
      { seconds: 5, source: 'mandelbrot', gop: 25, crf: 28 },
    ],
    5,
  ],
  [
    'life GOP 24 + noisy testsrc2 GOP 40',
    [
      { seconds: 5, source: 'life', seed: 3, gop: 24, crf: 23 },
      { seconds: 6, noise: 8, seed: 4, gop: 40, crf: 26 },
    ],
    5,
  ],
];

/** Two takes joined, then the whole encoded again: the join shows as a jump in the earlier GOP grid. */
const reencodedSplice: ClipOptions[] = [
  { seconds: 5, source: 'mandelbrot', gop: 12, crf: 28, bFrames: 0 },
  { seconds: 5, source: 'mandelbrot', gop: 12, crf: 28, bFrames: 0 },
];

let temp: MediaTempDir;
let tools: FfmpegMediaTools;
const detector: Detector = createGopDoubleCompressionDetector();
const files = new Map<string, string>();

beforeAll(async () => {
  temp = await createMediaTempDir();
  tools = await createFfmpegMediaTools();
  await Promise.all([
    ...cleanVariants.map(async ([name, options], i) =>
      files.set(name, await generateClip(temp.dir, { ...options, name: `clean${i}` })),
    ),
    ...doubleVariants.map(async ([name, first, second], i) =>
      files.set(
        name,
        await doubleEncode(
          temp.dir,
          { ...first, name: `double${i}` },
          { ...second, name: `double${i}-again` },
        ),
      ),
    ),
    ...copySpliceVariants.map(async ([name, segments], i) =>
      files.set(name, await splice(temp.dir, segments, { name: `splice${i}` })),
    ),
    splice(temp.dir, reencodedSplice, { name: 'splice-reencoded', reencode: { gop: 25, crf: 21 } }).then(
      (path) => files.set('re-encoded splice', path),
    ),
  ]);
});
afterAll(() => temp.remove());

async function contextFor(path: string): Promise<DetectorContext> {
  return fileDetectorContext(path, { probe: await tools.probe(path), mediaTools: tools });
}

async function analyse(path: string): Promise<DetectorFinding> {
  const context = await contextFor(path);
  expect(detector.applicable(context)).toEqual({ applicable: true });
  return detector.analyze(context);
}

describe('gop-double-compression on generated media', () => {
  const scores = { clean: [] as number[], double: [] as number[], spliced: [] as number[] };

  it.each(cleanVariants)('finds nothing in a single encode: %s', async (name) => {
    const finding = await analyse(files.get(name) as string);
    expect(finding.score).toBeLessThanOrEqual(0.1);
    expect(finding.coverage).toMatchObject({ unit: 'video packets', fraction: 1, analysed: 250 });
    expect(finding.evidence.filter((item) => item.kind === 'prediction-periodicity')).toEqual([]);
    scores.clean.push(finding.score as number);
  });

  it.each(doubleVariants)(
    'finds the earlier GOP of a re-encode: %s',
    async (name, _first, _second, firstGop) => {
      const finding = await analyse(files.get(name) as string);
      expect(finding.score).toBeGreaterThanOrEqual(0.4);
      expect(finding.measurements.estimatedOriginalGop).toBe(firstGop);
      expect(finding.evidence[0]).toMatchObject({
        kind: 'prediction-periodicity',
        data: { estimatedOriginalGop: firstGop },
      });
      scores.double.push(finding.score as number);
    },
  );

  it.each(copySpliceVariants)(
    'finds the join of a stream-copy splice: %s',
    async (name, _segments, joinSeconds) => {
      const finding = await analyse(files.get(name) as string);
      expect(finding.score).toBeGreaterThanOrEqual(0.7);
      const join = finding.evidence.find((item) => item.kind === 'gop-cadence-change');
      expect(join?.timeSeconds).toBeCloseTo(joinSeconds, 1);
      scores.spliced.push(finding.score as number);
    },
  );

  it('finds the join of a splice that was re-encoded afterwards, from the jump in the earlier GOP grid', async () => {
    const finding = await analyse(files.get('re-encoded splice') as string);
    expect(finding.score).toBeGreaterThanOrEqual(0.4);
    expect(finding.measurements.shiftedPeriod).toBe(12);
    const shift = finding.evidence.find((item) => item.kind === 'earlier-gop-shift');
    // The new grid's first tooth comes within one earlier GOP (12 frames) after the join at 5 s.
    expect(shift?.timeSeconds).toBeGreaterThanOrEqual(5);
    expect(shift?.timeSeconds).toBeLessThanOrEqual(5 + 12 / 25);
    scores.spliced.push(finding.score as number);
  });

  it('scores every re-encoded and spliced variant clearly above every clean one', () => {
    expect(scores.clean).toHaveLength(cleanVariants.length);
    expect(scores.double).toHaveLength(doubleVariants.length);
    const cleanest = Math.max(...scores.clean);
    expect(Math.min(...scores.double)).toBeGreaterThan(cleanest + 0.3);
    expect(scores.spliced).toHaveLength(copySpliceVariants.length + 1);
    expect(Math.min(...scores.spliced)).toBeGreaterThan(cleanest + 0.3);
  });
});

describe('gop-double-compression abstains honestly', () => {
  it('is not applicable to intra-only MJPEG, a still image, audio, or a clip too short to judge', async () => {
    const mjpeg = await generateClip(temp.dir, { seconds: 3, codec: 'mjpeg', name: 'intra-only' });
    const still = await generateStill(temp.dir, { format: 'png' });
    const tone = join(temp.dir, 'tone.wav');
    await runFfmpeg(['-f', 'lavfi', '-i', 'sine=duration=1', tone]);
    const short = await generateClip(temp.dir, { seconds: 1, name: 'one-second' });
    const reasons = await Promise.all(
      [mjpeg, still, tone, short].map(async (path) => {
        const applicability = detector.applicable(await contextFor(path));
        return applicability.applicable ? 'applicable' : applicability.reason;
      }),
    );
    expect(reasons).toEqual([
      'mjpeg is intra-only: every frame is coded on its own, there is no GOP',
      'a still image has no group of pictures',
      'no video stream',
      'too short: about 25 frames, at least 60 are needed',
    ]);
  });

  it('abstains with a reason when an inter-frame codec was used with keyframes only', async () => {
    const allIntra = await generateClip(temp.dir, { seconds: 3, gop: 1, name: 'all-intra-h264' });
    const finding = await analyse(allIntra);
    expect(finding.score).toBeNull();
    expect(finding.abstainReason).toMatch(/every frame is a keyframe/);
  });
});
