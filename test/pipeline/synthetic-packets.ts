import type { PacketInfo } from '../../src/media/media-probe.js';
import { seededRandom } from '../../src/pipeline/detectors/statistics.js';

export type SyntheticRole = 'I' | 'P' | 'B';

/**
 * A packet table as an encoder with a fixed GOP and B-frames would write it (decode order, B-frames
 * after the reference they precede on screen), with sizes chosen per presentation position.
 */
export function syntheticPackets(options: {
  frames: number;
  gop: number;
  bFrames: number;
  fps?: number;
  size: (position: number, role: SyntheticRole) => number;
}): PacketInfo[] {
  const fps = options.fps ?? 25;
  const order: { position: number; role: SyntheticRole }[] = [];
  for (let gopStart = 0; gopStart < options.frames; gopStart += options.gop) {
    const gopEnd = Math.min(gopStart + options.gop, options.frames);
    order.push({ position: gopStart, role: 'I' });
    for (let previous = gopStart; previous < gopEnd - 1;) {
      const anchor = Math.min(previous + options.bFrames + 1, gopEnd - 1);
      order.push({ position: anchor, role: 'P' });
      for (let b = previous + 1; b < anchor; b++) order.push({ position: b, role: 'B' });
      previous = anchor;
    }
  }
  return order.map(({ position, role }, decodeIndex) => ({
    ptsTime: position / fps,
    dtsTime: (decodeIndex - options.bFrames) / fps,
    sizeBytes: Math.max(1, Math.round(options.size(position, role))),
    keyframe: role === 'I',
  }));
}

/** Typical sizes with multiplicative noise (log-sd 0.12, like consecutive P-frames of the generated clips), reproducible per seed. */
export function noisySizes(seed: number, spread = 0.12): (position: number, role: SyntheticRole) => number {
  const random = seededRandom(seed);
  const base: Record<SyntheticRole, number> = { I: 9000, P: 2400, B: 900 };
  return (_position, role) => base[role] * Math.exp(spread * gaussian(random));
}

function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}
