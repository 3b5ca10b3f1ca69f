import type { PacketInfo } from './media-probe.js';
import { shiftToMediaTimeline } from './packet-table.js';

/** Packets kept for detectors; the GOP detector reads at most this many (memory stays bounded whatever the file holds). */
export const maxKeptPackets = 12_000;
/** Keyframe times kept for the decode spot-check (thinned evenly as more arrive). */
const maxKeyframeTimes = 256;

/** One stream's packet table, read once while streaming: the present packets a detector may use plus running counts. */
export interface PacketTable {
  /** The first present packets in decode order, at most maxKeptPackets; times on the media timeline. */
  packets: PacketInfo[];
  /** Packets the demuxer listed. */
  listedPackets: number;
  /** Listed packets whose bytes lie inside the file (offset + size ≤ file size). */
  presentPackets: number;
  presentBytes: number;
  presentKeyframes: number;
  /** Times (pts, else dts) of present keyframes, evenly thinned to a bounded list, ascending in decode order. */
  keyframeTimes: number[];
  /** Earliest and latest presentation time among present packets. */
  firstTimeSeconds: number | null;
  lastTimeSeconds: number | null;
  /** Mean spacing of consecutive present packet times, for the length of the last frame. */
  meanFrameSeconds: number | null;
}

/** Folds packet rows into a PacketTable in constant memory. */
export class PacketScan {
  private readonly kept: PacketInfo[] = [];
  private listed = 0;
  private present = 0;
  private bytes = 0;
  private keyframes = 0;
  private keyTimes: number[] = [];
  private keyStride = 1;
  private first: number | null = null;
  private last: number | null = null;
  private previousDts: number | null = null;
  private spacingSum = 0;
  private spacings = 0;

  constructor(
    /** File size in bytes; null when unknown (then every listed packet counts as present). */
    private readonly sizeBytes: number | null,
    private readonly keep = maxKeptPackets,
  ) {}

  add(packet: PacketInfo, posBytes: number | null): void {
    this.listed += 1;
    if (!this.isPresent(packet, posBytes)) return;
    this.present += 1;
    this.bytes += packet.sizeBytes;
    if (this.kept.length < this.keep) this.kept.push(packet);
    const time = packet.ptsTime ?? packet.dtsTime;
    if (time !== null) {
      this.first = this.first === null ? time : Math.min(this.first, time);
      this.last = this.last === null ? time : Math.max(this.last, time);
    }
    if (packet.dtsTime !== null) {
      if (this.previousDts !== null && packet.dtsTime > this.previousDts) {
        this.spacingSum += packet.dtsTime - this.previousDts;
        this.spacings += 1;
      }
      this.previousDts = packet.dtsTime;
    }
    if (packet.keyframe) this.addKeyframe(time ?? 0);
  }

  private isPresent(packet: PacketInfo, posBytes: number | null): boolean {
    // ffprobe lists a packet only once it read it, so without an offset to check it counts as present.
    if (this.sizeBytes === null || posBytes === null) return true;
    return posBytes + packet.sizeBytes <= this.sizeBytes;
  }

  /** Keeps every keyStride-th keyframe; when the list is full, halves it and doubles the stride. */
  private addKeyframe(time: number): void {
    this.keyframes += 1;
    if ((this.keyframes - 1) % this.keyStride !== 0) return;
    this.keyTimes.push(time);
    if (this.keyTimes.length >= maxKeyframeTimes) {
      this.keyTimes = this.keyTimes.filter((_, index) => index % 2 === 0);
      this.keyStride *= 2;
    }
  }

  /** startSeconds: the container start time, which ffprobe prints after the packets. */
  finish(startSeconds: number | null): PacketTable {
    const shift = startSeconds ?? 0;
    const onTimeline = (time: number | null) =>
      time === null || !shift ? time : Math.round((time - shift) * 1e6) / 1e6;
    return {
      packets: shiftToMediaTimeline(this.kept, startSeconds),
      listedPackets: this.listed,
      presentPackets: this.present,
      presentBytes: this.bytes,
      presentKeyframes: this.keyframes,
      keyframeTimes: this.keyTimes.map((time) => Math.max(0, onTimeline(time) as number)),
      firstTimeSeconds: onTimeline(this.first),
      lastTimeSeconds: onTimeline(this.last),
      meanFrameSeconds: this.spacings ? this.spacingSum / this.spacings : null,
    };
  }
}
