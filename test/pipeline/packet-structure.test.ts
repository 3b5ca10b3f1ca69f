import { describe, expect, it } from 'vitest';
import type { PacketInfo } from '../../src/media/media-probe.js';
import {
  framesInDisplayOrder,
  type DisplayFrame,
} from '../../src/pipeline/detectors/display-order-frames.js';
import { analyseGopCadence } from '../../src/pipeline/detectors/gop-cadence.js';
import {
  analysePredictionPeriodicity,
  type PeriodicityOptions,
} from '../../src/pipeline/detectors/prediction-periodicity.js';
import { chanceScore, periodicityFindings } from '../../src/pipeline/detectors/periodicity-findings.js';
import type { RefreshJudgement } from '../../src/pipeline/detectors/picture-refresh.js';
import { seededRandom } from '../../src/pipeline/detectors/statistics.js';
import { noisySizes, syntheticPackets } from './synthetic-packets.js';

const search = (currentGop: number | null): PeriodicityOptions => ({
  currentGop,
  minPeriod: 6,
  maxPeriod: 300,
  permutations: 40,
  seed: 7,
});

/** Multiplies the P-frames covering the given positions (where an earlier encoding had its I-frames). */
function plantAt(packets: PacketInfo[], positions: number[], factor: number): PacketInfo[] {
  const frames = framesInDisplayOrder(packets);
  const covering = new Set<number>();
  for (const position of positions) {
    const anchor = frames.slice(position).find((frame) => frame.role !== 'reordered');
    if (anchor?.role === 'forward') covering.add(anchor.timeSeconds as number);
  }
  return packets.map((packet) =>
    covering.has(packet.ptsTime as number)
      ? { ...packet, sizeBytes: Math.round(packet.sizeBytes * factor) }
      : packet,
  );
}

const grid = (from: number, to: number, period: number) =>
  Array.from({ length: Math.ceil((to - from) / period) }, (_, i) => from + i * period);

const plantPeriod = (packets: PacketInfo[], period: number, factor: number) =>
  plantAt(packets, grid(0, packets.length, period), factor);

describe('framesInDisplayOrder', () => {
  it('orders by presentation time and tells keyframes, forward references and reordered frames apart', () => {
    const packets = syntheticPackets({ frames: 9, gop: 9, bFrames: 2, size: (position) => 100 + position });
    expect(packets.map((packet) => Math.round(packet.ptsTime! * 25))).toEqual([0, 3, 1, 2, 6, 4, 5, 8, 7]);
    const frames = framesInDisplayOrder(packets);
    expect(frames.map((frame) => frame.sizeBytes)).toEqual([100, 101, 102, 103, 104, 105, 106, 107, 108]);
    expect(frames.map((frame) => frame.role)).toEqual([
      'intra',
      'reordered',
      'reordered',
      'forward',
      'reordered',
      'reordered',
      'forward',
      'reordered',
      'forward',
    ]);
  });

  it('drops empty placeholder packets and keeps decode order without timestamps', () => {
    const frames = framesInDisplayOrder([
      { ptsTime: null, dtsTime: null, sizeBytes: 500, keyframe: true },
      { ptsTime: null, dtsTime: null, sizeBytes: 0, keyframe: false },
      { ptsTime: null, dtsTime: null, sizeBytes: 90, keyframe: false },
    ]);
    expect(frames.map((frame) => [frame.sizeBytes, frame.role])).toEqual([
      [500, 'intra'],
      [90, 'forward'],
    ]);
  });
});

describe('analysePredictionPeriodicity', () => {
  it('finds the GOP of an earlier encoding from spikes on the covering P-frames', () => {
    for (const seed of [1, 2, 3]) {
      const packets = plantPeriod(
        syntheticPackets({ frames: 300, gop: 25, bFrames: 3, size: noisySizes(seed) }),
        30,
        1.7,
      );
      const result = analysePredictionPeriodicity(framesInDisplayOrder(packets), search(25));
      expect(result?.steady).toMatchObject({ period: 30, phase: 0, exceedances: 0 });
      expect(result?.steady.relativeZ).toBeGreaterThan(4);
      expect(result?.steady.positions.length).toBeGreaterThanOrEqual(7);
      // A grid that jumps somewhere can imitate a steady one, but gains nothing beyond chance over it.
      expect(result?.shifted?.gain.relativeZ).toBeLessThan(2);
    }
  });

  it('reports the fundamental, not a multiple, of the earlier GOP', () => {
    const packets = plantPeriod(
      syntheticPackets({ frames: 300, gop: 50, bFrames: 0, size: noisySizes(4) }),
      12,
      1.6,
    );
    expect(analysePredictionPeriodicity(framesInDisplayOrder(packets), search(50))?.steady.period).toBe(12);
  });

  it('stays within chance on single-encoded noise', () => {
    for (const seed of [11, 12, 13, 14, 15]) {
      const packets = syntheticPackets({ frames: 300, gop: 25, bFrames: 3, size: noisySizes(seed) });
      const result = analysePredictionPeriodicity(framesInDisplayOrder(packets), search(25));
      expect(result?.steady.relativeZ).toBeLessThan(3);
      expect(result?.shifted?.relativeZ).toBeLessThan(3);
    }
  });

  it('does not mistake the current encoder’s own rhythm (a large first P-frame per GOP) for an earlier one', () => {
    const noise = noisySizes(21);
    const firstP = new Set(Array.from({ length: 20 }, (_, gop) => gop * 12 + 1));
    const packets = syntheticPackets({
      frames: 240,
      gop: 12,
      bFrames: 0,
      size: (position, role) => noise(position, role) * (firstP.has(position) ? 1.8 : 1),
    });
    const result = analysePredictionPeriodicity(framesInDisplayOrder(packets), search(12));
    expect(result?.steady.relativeZ).toBeLessThan(3);
  });

  it('does not mistake a large first P-frame per GOP for an earlier GOP when adaptive B-frames move it', () => {
    for (const seed of [41, 42, 43]) {
      const packets = adaptiveBFramePackets(seed, { frames: 600, gop: 30 });
      const result = analysePredictionPeriodicity(framesInDisplayOrder(packets), search(30));
      expect(result?.steady.relativeZ).toBeLessThan(3);
    }
  });

  it('measures how much the P-frames on the grid exceed their neighbours', () => {
    const planted = plantPeriod(
      syntheticPackets({ frames: 300, gop: 25, bFrames: 0, size: noisySizes(6, 0.02) }),
      30,
      1.7,
    );
    const result = analysePredictionPeriodicity(framesInDisplayOrder(planted), search(25));
    expect(result?.steady.spikeSize).toBeCloseTo(Math.log(1.7), 1);
  });

  it('finds where the grid of an earlier encoding jumps (footage joined before the re-encode)', () => {
    for (const seed of [31, 32, 33]) {
      const packets = syntheticPackets({ frames: 300, gop: 25, bFrames: 3, size: noisySizes(seed) });
      // Earlier I-frames every 12 frames up to 144, then every 12 from 150: a 6-frame jump at the join.
      const joined = plantAt(packets, [...grid(0, 144, 12), ...grid(150, 300, 12)], 1.7);
      const result = analysePredictionPeriodicity(framesInDisplayOrder(joined), search(25));
      expect(result?.shifted).toMatchObject({ period: 12, exceedances: 0 });
      expect(result?.shifted?.shiftAt).toBeGreaterThanOrEqual(144);
      expect(result?.shifted?.shiftAt).toBeLessThanOrEqual(156);
      expect(result?.shifted?.gain).toMatchObject({ exceedances: 0 });
      expect(result?.shifted?.gain.relativeZ).toBeGreaterThan(3);
    }
  });

  it('declines when there are too few P-frames', () => {
    const packets = syntheticPackets({ frames: 40, gop: 40, bFrames: 3, size: noisySizes(5) });
    expect(analysePredictionPeriodicity(framesInDisplayOrder(packets), search(null))).toBeNull();
  });
});

function frames(
  count: number,
  isKey: (position: number) => boolean,
  time: (position: number) => number,
): DisplayFrame[] {
  return Array.from({ length: count }, (_, index) => ({
    index,
    timeSeconds: time(index),
    sizeBytes: 1000,
    role: isKey(index) ? 'intra' : 'forward',
  }));
}

const at25fps = (position: number) => position / 25;

describe('analyseGopCadence', () => {
  it('finds the change from one regular GOP to another where two encodings were joined', () => {
    const keys = new Set([0, 30, 60, 90, 120, 125, 150, 175, 200, 225]);
    const result = analyseGopCadence(frames(250, (position) => keys.has(position), at25fps));
    expect(result.gopLengths).toEqual([30, 30, 30, 30, 5, 25, 25, 25, 25]);
    expect(result.score).toBe(0.75);
    expect(result.findings[0]).toMatchObject({
      kind: 'gop-cadence-change',
      timeSeconds: 5,
      data: { before: 30, after: 25 },
    });
  });

  it('finds nothing in a regular cadence with steady timing', () => {
    const result = analyseGopCadence(frames(250, (position) => position % 25 === 0, at25fps));
    expect(result).toMatchObject({ dominantGop: 25, regularity: 1, score: 0, findings: [] });
  });

  it('notes a keyframe off an otherwise regular cadence, weakly', () => {
    const keys = new Set([0, 25, 50, 60, 85, 110, 135, 160, 185, 210]);
    const result = analyseGopCadence(frames(250, (position) => keys.has(position), at25fps));
    expect(result.findings.map((finding) => finding.kind)).toEqual(['irregular-keyframes']);
    expect(result.score).toBe(0.15);
  });

  it('finds a frame-rate change at a keyframe, once', () => {
    const time = (position: number) => (position < 150 ? position / 25 : 6 + (position - 150) / 30);
    const result = analyseGopCadence(frames(300, (position) => position % 25 === 0, time));
    const changes = result.findings.filter((finding) => finding.kind === 'frame-rate-change');
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ timeSeconds: 6, data: { fpsBefore: 25, fpsAfter: 30 } });
  });

  it('finds a gap in presentation time', () => {
    const time = (position: number) => (position < 100 ? position / 25 : (position + 12) / 25);
    const result = analyseGopCadence(frames(250, (position) => position % 25 === 0, time));
    expect(result.findings.map((finding) => finding.kind)).toEqual(['timestamp-gap']);
    expect(result.findings[0]?.timeSeconds).toBeCloseTo(99 / 25, 6);
  });
});

/** GOPs whose runs of B-frames vary (0–3, as an encoder's adaptive B-frame decision), the first P-frame after each keyframe three times the others. */
function adaptiveBFramePackets(seed: number, options: { frames: number; gop: number }): PacketInfo[] {
  const random = seededRandom(seed);
  const noise = noisySizes(seed);
  const packets: PacketInfo[] = [];
  for (let gopStart = 0; gopStart < options.frames; gopStart += options.gop) {
    const gopEnd = Math.min(gopStart + options.gop, options.frames);
    packets.push({
      ptsTime: gopStart / 25,
      dtsTime: null,
      sizeBytes: Math.round(noise(gopStart, 'I')),
      keyframe: true,
    });
    let first = true;
    for (let previous = gopStart; previous < gopEnd - 1;) {
      const anchor = Math.min(previous + 1 + Math.floor(random() * 4), gopEnd - 1);
      const size = noise(anchor, 'P') * (first ? 3 : 1);
      packets.push({ ptsTime: anchor / 25, dtsTime: null, sizeBytes: Math.round(size), keyframe: false });
      for (let b = previous + 1; b < anchor; b++)
        packets.push({
          ptsTime: b / 25,
          dtsTime: null,
          sizeBytes: Math.round(noise(b, 'B')),
          keyframe: false,
        });
      previous = anchor;
      first = false;
    }
  }
  return packets;
}

describe('periodicityFindings', () => {
  const judgement = (verdict: RefreshJudgement['verdict']): RefreshJudgement => ({
    verdict,
    teethShare: 0.3,
    keyframeShare: 0.4,
    ordinaryShare: 0.03,
    teethJudged: 10,
    reason: verdict === 'whole-picture' ? 'seen' : 'not seen',
  });
  const planted = (factor: number, spread = 0.12) => {
    const packets = plantPeriod(
      syntheticPackets({ frames: 300, gop: 25, bFrames: 0, size: noisySizes(8, spread) }),
      30,
      factor,
    );
    const frames = framesInDisplayOrder(packets);
    return { frames, result: analysePredictionPeriodicity(frames, search(25)) };
  };

  it('scores a grid the pictures confirm in full, and one they do not as a weak indication', () => {
    const { frames, result } = planted(1.7);
    const confirmed = periodicityFindings(result, frames, 25, {
      steady: judgement('whole-picture'),
      shifted: null,
    });
    expect(confirmed.reencodeScore).toBe(chanceScore(result!.steady));
    expect(confirmed.reencodeScore).toBeGreaterThan(0.5);
    expect(confirmed.summary).toMatch(/decoded pictures confirm it \(seen\)/);
    const unconfirmed = periodicityFindings(result, frames, 25, {
      steady: judgement('unconfirmed'),
      shifted: null,
    });
    expect(unconfirmed.reencodeScore).toBe(0.5);
    expect(unconfirmed.summary).toMatch(/do not confirm an earlier encoding \(not seen\)/);
    expect(periodicityFindings(result, frames, 25).reencodeScore).toBe(0.5);
  });

  it('does not count spikes too small to be whole pictures coded afresh, however regular', () => {
    const { frames, result } = planted(1.02, 0.002);
    expect(result?.steady.relativeZ).toBeGreaterThan(5);
    const findings = periodicityFindings(result, frames, 25, {
      steady: judgement('whole-picture'),
      shifted: null,
    });
    expect(findings.reencodeScore).toBe(0);
    expect(findings.evidence).toEqual([]);
    expect(findings.summary).toMatch(/by only 1.8%: too little for a whole picture coded afresh/);
  });
});
