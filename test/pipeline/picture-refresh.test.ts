import { describe, expect, it } from 'vitest';
import { judgeRefresh, RefreshMeter, type GreyFrame } from '../../src/pipeline/detectors/picture-refresh.js';
import { seededRandom } from '../../src/pipeline/detectors/statistics.js';

const [width, height] = [128, 96];
const frameCount = 200;
const period = 20;
const keyframes = [0, 50, 100, 150];
const noAnchors = Int32Array.from({ length: frameCount }, (_, position) => position);

/**
 * Textured grey pictures with a little noise on every frame. `refresh` frames change their coding noise
 * everywhere (a picture coded afresh keeps its new noise until the next one); `event` frames change a
 * 32×32 square only (content that changes in a rhythm).
 */
function pictures(
  seed: number,
  marks: { refresh?: (index: number) => boolean; event?: (index: number) => boolean },
) {
  const random = seededRandom(seed);
  const texture = Uint8Array.from({ length: width * height }, () => 40 + Math.floor(random() * 170));
  let coding = new Int8Array(width * height);
  let square = 0;
  const frames: GreyFrame[] = [];
  for (let index = 0; index < frameCount; index++) {
    if (marks.refresh?.(index)) coding = Int8Array.from(coding, () => Math.round((random() - 0.5) * 24));
    if (marks.event?.(index)) square = square === 0 ? 60 : 0;
    const data = new Uint8Array(width * height);
    for (let pixel = 0; pixel < data.length; pixel++) {
      const [x, y] = [pixel % width, Math.floor(pixel / width)];
      const inSquare = x >= 16 && x < 48 && y >= 16 && y < 48 ? square : 0;
      const grain = Math.round((random() - 0.5) * 3);
      data[pixel] = Math.max(
        0,
        Math.min(255, (texture[pixel] as number) + (coding[pixel] as number) + inSquare + grain),
      );
    }
    frames.push({ index, width, height, data });
  }
  return frames;
}

function measure(frames: GreyFrame[]): Float32Array {
  const meter = new RefreshMeter(frameCount);
  for (const frame of frames) meter.add(frame);
  return meter.shares;
}

const grid = Array.from({ length: frameCount / period }, (_, tooth) => 5 + tooth * period);
const onGrid = (index: number) => (index - 5) % period === 0;
const isKeyframe = (index: number) => keyframes.includes(index);

describe('RefreshMeter', () => {
  it('sees nearly every textured block jump on a picture coded afresh, and few elsewhere', () => {
    const shares = measure(pictures(1, { refresh: (index) => onGrid(index) || isKeyframe(index) }));
    expect(shares[25]).toBeGreaterThan(0.9);
    expect(shares[50]).toBeGreaterThan(0.9);
    expect(shares[30]).toBeLessThan(0.05);
    // The first and last frames have no frame on one side, so they are not measured.
    expect(Number.isNaN(shares[0] as number)).toBe(true);
    expect(Number.isNaN(shares[frameCount - 1] as number)).toBe(true);
  });

  it('sees only the changed part jump when the content changes', () => {
    const shares = measure(pictures(2, { event: onGrid }));
    // 16 of the 192 blocks lie in the square.
    expect(shares[25]).toBeCloseTo(16 / 192, 2);
  });

  it('measures nothing across a gap in the frames', () => {
    const frames = pictures(3, { refresh: onGrid }).filter((frame) => frame.index !== 25);
    const shares = measure(frames);
    expect([24, 25, 26].map((index) => Number.isNaN(shares[index] as number))).toEqual([true, true, true]);
  });
});

describe('judgeRefresh', () => {
  const layout = { teeth: grid, keyframes, anchors: noAnchors, margin: 1 };

  it('confirms a grid of pictures coded afresh, like the keyframes', () => {
    const shares = measure(pictures(4, { refresh: (index) => onGrid(index) || isKeyframe(index) }));
    const judgement = judgeRefresh(shares, layout);
    expect(judgement).toMatchObject({ verdict: 'whole-picture', teethJudged: 10 });
    expect(judgement.teethShare).toBeGreaterThan(0.9);
    expect(judgement.reason).toMatch(/whole pictures coded afresh$/);
  });

  it('does not confirm content that changes in a rhythm', () => {
    const shares = measure(pictures(5, { event: onGrid, refresh: isKeyframe }));
    const judgement = judgeRefresh(shares, layout);
    expect(judgement.verdict).toBe('unconfirmed');
    expect(judgement.keyframeShare).toBeGreaterThan(0.9);
    expect(judgement.reason).toMatch(/no sign of whole pictures coded afresh$/);
  });

  it('confirms nothing without a keyframe to compare with', () => {
    const shares = measure(pictures(8, { refresh: (index) => onGrid(index) || isKeyframe(index) }));
    expect(judgeRefresh(shares, { ...layout, keyframes: [0] }).verdict).toBe('unconfirmed');
  });

  it('does not confirm a grid that stands out far less than the keyframes do', () => {
    // A third of the picture refreshed on the grid: 3 × the ordinary share, but a third of a keyframe's.
    const shares = measure(pictures(6, { refresh: isKeyframe }));
    for (const tooth of grid) shares[tooth] = 0.3;
    for (const [index, share] of shares.entries())
      if (!Number.isNaN(share) && !grid.includes(index) && !isKeyframe(index)) shares[index] = 0.1;
    for (const keyframe of keyframes.slice(1)) shares[keyframe] = 1;
    expect(judgeRefresh(shares, layout).verdict).toBe('unconfirmed');
    for (const keyframe of keyframes.slice(1)) shares[keyframe] = 0.5;
    expect(judgeRefresh(shares, layout).verdict).toBe('whole-picture');
  });

  it('looks at the span up to the frame that carries a grid position’s spike (B-frames before their P-frame)', () => {
    const shares = measure(pictures(7, { refresh: (index) => onGrid(index - 2) || isKeyframe(index) }));
    const exact = judgeRefresh(shares, layout);
    expect(exact.verdict).toBe('unconfirmed');
    // Positions 5, 6 and 7 are shown by B, B and P: the refresh on 7 counts for the grid position 5.
    const anchors = Int32Array.from(noAnchors, (position) => (onGrid(position) ? position + 2 : position));
    expect(judgeRefresh(shares, { ...layout, anchors, margin: 3 }).verdict).toBe('whole-picture');
  });

  it('says so when too few frames were decoded to compare', () => {
    const shares = new Float32Array(frameCount).fill(Number.NaN);
    shares.fill(0.02, 0, 30);
    expect(judgeRefresh(shares, layout)).toMatchObject({
      verdict: 'unconfirmed',
      teethShare: null,
      reason: 'too few decoded frames to compare (2 on the grid, 22 elsewhere)',
    });
  });
});
