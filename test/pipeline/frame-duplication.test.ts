import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFfmpegMediaTools, type FfmpegMediaTools } from '../../src/media/ffmpeg.media-tools.js';
import { createFrameDuplicationDetector } from '../../src/pipeline/detectors/frame-duplication.detector.js';
import { framesInDisplayOrder } from '../../src/pipeline/detectors/display-order-frames.js';
import { defaultRepeatScan, scanFrameRepeats } from '../../src/pipeline/detectors/frame-repeats.js';
import { fileDetectorContext } from '../helpers/detector-context.js';
import { createMediaTempDir, runFfmpeg, type MediaTempDir } from '../helpers/media-fixtures.js';
import { noisySizes, syntheticPackets, type SyntheticRole } from './synthetic-packets.js';

// 640×360: 40 × 23 blocks of 16×16; the noisy clips' P-frames (2400 B) carry ≈ 2.6 bytes per block.
const macroblocks = 40 * 23;
const options = { ...defaultRepeatScan, macroblocks };

function scan(size: (position: number, role: SyntheticRole) => number, bFrames = 2) {
  return scanFrameRepeats(
    framesInDisplayOrder(syntheticPackets({ frames: 180, gop: 60, bFrames, size })),
    options,
  );
}

/** Noisy video whose listed positions are repeats: coded as (nearly) all-skip pictures. */
function withRepeats(frozen: readonly number[], seed = 3) {
  const typical = noisySizes(seed);
  return (position: number, role: SyntheticRole) =>
    frozen.includes(position) ? 24 : typical(position, role);
}

describe('frame repeats from packet sizes', () => {
  it('finds every frozen stretch in noisy video, P- and B-frames alike', () => {
    const result = scan(withRepeats([20, 21, 22, 100, 101, 150]));
    expect(result.runs.map((run) => [run.firstIndex, run.frames])).toEqual([
      [20, 3],
      [100, 2],
      [150, 1],
    ]);
    expect(result.periodicSpacing).toBeNull();
    expect(result.examined).toBeGreaterThan(150);
  });

  it('finds nothing in noisy video without repeats', () => {
    for (const seed of [1, 2, 3, 4, 5]) expect(scan(noisySizes(seed)).repeats).toEqual([]);
  });

  it('examines nothing in static, clean video, where every predicted frame is tiny', () => {
    const result = scan((_position, role) => (role === 'I' ? 9000 : 20));
    expect(result.examined).toBe(0);
    expect(result.repeats).toEqual([]);
  });

  it('does not call a still frame frozen when only a few neighbours are busy (a mostly static scene)', () => {
    // Every sixth frame carries motion; the others are as small as a repeat.
    const result = scan((position, role) => (role === 'I' ? 9000 : position % 6 === 0 ? 4000 : 20), 0);
    expect(result.repeats).toEqual([]);
  });

  it('keeps a large repeat out: a frame at 15% of its neighbours is not all-skip', () => {
    const typical = noisySizes(7);
    const result = scan((position, role) =>
      position === 90 ? 0.15 * typical(position, role) : typical(position, role),
    );
    expect(result.repeats).toEqual([]);
  });

  it('reads repeats at one steady spacing as frame-rate conversion', () => {
    const frozen = Array.from({ length: 30 }, (_, i) => 7 + i * 5).filter((position) => position % 60 !== 0);
    const result = scan(withRepeats(frozen));
    expect(result.runs.length).toBeGreaterThanOrEqual(25);
    expect(result.periodicSpacing).toBe(5);
  });
});

describe('frame-duplication on encoded clips', () => {
  let temp: MediaTempDir;
  let tools: FfmpegMediaTools;
  const detector = createFrameDuplicationDetector();

  beforeAll(async () => {
    temp = await createMediaTempDir();
    tools = await createFfmpegMediaTools();
  }, 30_000);
  afterAll(() => temp.remove());

  /** Noisy testsrc2, 8 s at 25 fps, with the given frames replaced by the one before (after the noise, as an edit would). */
  async function clip(name: string, freezes: readonly [first: number, last: number][]): Promise<string> {
    const path = join(temp.dir, `${name}.mp4`);
    // freezeframes replaces from its second input: each freeze splits the stream and feeds both copies in.
    const graph = freezes.reduce(
      (chain, [first, last], i) =>
        `${chain},split[a${i}][b${i}];[a${i}][b${i}]freezeframes=first=${first}:last=${last}:replace=${first - 1}`,
      'testsrc2=size=640x360:rate=25:duration=8,noise=alls=8:allf=t',
    );
    await runFfmpeg([
      ...['-f', 'lavfi', '-i', graph],
      ...[
        '-c:v',
        'libx264',
        '-preset',
        'veryfast',
        '-crf',
        '23',
        '-g',
        '50',
        '-bf',
        '2',
        '-pix_fmt',
        'yuv420p',
        path,
      ],
    ]);
    return path;
  }

  async function analyse(path: string) {
    const context = await fileDetectorContext(path, { probe: await tools.probe(path), mediaTools: tools });
    expect(detector.applicable(context)).toEqual({ applicable: true });
    return detector.analyze(context);
  }

  it('finds three frozen stretches in a noisy clip and names where they are', async () => {
    const finding = await analyse(
      await clip('frozen', [
        [30, 32],
        [101, 102],
        [160, 163],
      ]),
    );
    expect(finding.score).toBe(0.9);
    expect(finding.evidence.map((evidence) => evidence.data?.firstFrame)).toEqual([30, 101, 160]);
    expect(finding.evidence[0]?.timeSeconds).toBeCloseTo(1.2, 2);
    expect(finding.explanation).toMatch(/3 frozen stretches/);
  }, 60_000);

  it('scores the untouched twin 0', async () => {
    const finding = await analyse(await clip('twin', []));
    expect(finding.score).toBe(0);
    expect(finding.coverage.fraction).toBeGreaterThan(0.9);
  }, 60_000);

  it('abstains on a still picture coded as video, where every predicted frame is tiny', async () => {
    const path = join(temp.dir, 'static.mp4');
    await runFfmpeg([
      ...['-f', 'lavfi', '-i', 'smptebars=size=640x360:rate=25:duration=6'],
      ...['-c:v', 'libx264', '-preset', 'veryfast', '-crf', '23', '-pix_fmt', 'yuv420p', path],
    ]);
    const finding = await analyse(path);
    expect(finding.score).toBeNull();
    expect(finding.abstainReason).toMatch(/carry enough bytes/);
  }, 60_000);
});
