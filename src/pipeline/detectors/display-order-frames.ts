import type { PacketInfo } from '../../media/media-probe.js';

/**
 * What a packet is, read from the packet table alone: `intra` (keyframe); `forward` when it is shown
 * after every frame decoded before it (a P-frame, or any frame when there is no reordering);
 * `reordered` when it is shown before an already decoded frame (a B-frame).
 */
export type FrameRole = 'intra' | 'forward' | 'reordered';

export interface DisplayFrame {
  /** Position in presentation order. */
  index: number;
  timeSeconds: number | null;
  sizeBytes: number;
  role: FrameRole;
}

/** Video packets in presentation order with their roles; empty packets (dropped-frame placeholders) are left out. */
export function framesInDisplayOrder(packets: readonly PacketInfo[]): DisplayFrame[] {
  let latestShown = Number.NEGATIVE_INFINITY;
  const decoded = packets
    .filter((packet) => packet.sizeBytes > 0)
    .map((packet, decodeIndex) => {
      const time = packet.ptsTime ?? packet.dtsTime;
      const advances = time === null || time > latestShown;
      if (time !== null && time > latestShown) latestShown = time;
      const role: FrameRole = packet.keyframe ? 'intra' : advances ? 'forward' : 'reordered';
      return { decodeIndex, time, sizeBytes: packet.sizeBytes, role };
    });
  // Without timestamps presentation order is unknown; decode order is the best remaining guess.
  const ordered = decoded.every((frame) => frame.time !== null)
    ? [...decoded].sort((a, b) => (a.time as number) - (b.time as number) || a.decodeIndex - b.decodeIndex)
    : decoded;
  return ordered.map((frame, index) => ({
    index,
    timeSeconds: frame.time,
    sizeBytes: frame.sizeBytes,
    role: frame.role,
  }));
}

/** Presentation-order positions of the keyframes. */
export const keyframePositions = (frames: readonly DisplayFrame[]): number[] =>
  frames.filter((frame) => frame.role === 'intra').map((frame) => frame.index);
