import type { MediaProbe } from '../media/media-probe.js';
import type { PacketTable } from '../media/packet-scan.js';
import { framesInDisplayOrder, keyframePositions } from './detectors/display-order-frames.js';
import { median } from './detectors/statistics.js';
import { intraOnlyCodecs, isStillImage, primaryVideoStream } from './detectors/video-stream.js';
import { defaultFusionPolicy } from './fusion.js';
import type { DetectorReport } from './report.js';

/**
 * How the media is compressed and how much forensic signal that leaves, in the report ahead of the
 * verdict: heavy compression removes the fine detail and noise most picture checks read, so a clean
 * result on such a file says less. Field names are a public contract.
 */
export interface CompressionProfile {
  kind: 'video' | 'image';
  codec: string | null;
  profile: string | null;
  width: number | null;
  height: number | null;
  /** Video bits per second: measured from the packets in the file, else as the container declares. */
  bitrate: number | null;
  frameRate: number | null;
  /** bitrate / (width × height × frameRate): bits spent per pixel of each frame. */
  bitRatePerPixelPerFrame: number | null;
  /** Median keyframe interval in frames. */
  gopLength: number | null;
  /** Whether frames are shown before frames decoded ahead of them (B-frames). */
  bFrames: boolean | null;
  /** From the GOP detector's re-encode and edit scores; null when it did not judge the media. */
  reencodeEvidence: 'none' | 'weak' | 'strong' | null;
  forensicSignal: 'high' | 'medium' | 'low' | null;
  /** One line on why. */
  forensicSignalReason: string | null;
}

/**
 * Bits per pixel relative to H.264 for the same picture quality (rough figures from codec comparisons):
 * 0.05 bits per pixel in HEVC keeps about as much as 0.075 in H.264.
 */
const h264Equivalence: Record<string, number> = {
  h264: 1,
  hevc: 1.5,
  vp9: 1.5,
  av1: 2,
  vvc: 2.5,
  vp8: 0.9,
  mpeg4: 0.6,
  msmpeg4v3: 0.6,
  msmpeg4v2: 0.6,
  h263: 0.6,
  mpeg2video: 0.5,
  mpeg1video: 0.4,
};
/** Intra-only codecs spend bits on every frame alone: about a quarter of H.264's efficiency. */
const intraOnlyEquivalence = 0.25;

/**
 * H.264-equivalent bits per pixel and frame: camera originals spend 0.15–0.4; platforms re-encode to
 * 0.05–0.1; below 0.05 most fine detail and sensor noise is gone.
 */
const highSignalBpp = 0.15;
const lowSignalBpp = 0.05;

export interface CompressionInputs {
  probe: MediaProbe;
  /** The packet table of the primary video stream, when it was read. */
  packets: PacketTable | null;
  /** The gop-double-compression detector's report, when it ran. */
  gopReport: DetectorReport | null;
}

/** Null for media without a picture (audio only). */
export function compressionProfile({
  probe,
  packets,
  gopReport,
}: CompressionInputs): CompressionProfile | null {
  const video = primaryVideoStream(probe);
  if (!video) return null;
  const size = { codec: video.codecName, profile: video.profile, width: video.width, height: video.height };
  if (isStillImage(probe, video)) {
    return {
      kind: 'image',
      ...size,
      bitrate: null,
      frameRate: null,
      bitRatePerPixelPerFrame: null,
      gopLength: null,
      bFrames: null,
      reencodeEvidence: null,
      forensicSignal: null,
      forensicSignalReason: null,
    };
  }
  const bitrate = measuredBitrate(packets) ?? video.bitRate;
  const pixelsPerSecond =
    video.width && video.height && video.frameRate ? video.width * video.height * video.frameRate : null;
  const bpp = bitrate !== null && pixelsPerSecond ? bitrate / pixelsPerSecond : null;
  const frames = packets ? framesInDisplayOrder(packets.packets) : null;
  const keyframes = frames ? keyframePositions(frames) : [];
  const intervals = keyframes.slice(1).map((position, i) => position - (keyframes[i] as number));
  const reencodeEvidence = evidenceOf(gopReport);
  const signal = forensicSignal(bpp, video.codecName, reencodeEvidence);
  return {
    kind: 'video',
    ...size,
    bitrate: bitrate === null ? null : Math.round(bitrate),
    frameRate: video.frameRate,
    bitRatePerPixelPerFrame: bpp === null ? null : Number(bpp.toPrecision(3)),
    gopLength: intervals.length ? median(intervals) : null,
    bFrames: frames && frames.length > 0 ? frames.some((frame) => frame.role === 'reordered') : null,
    reencodeEvidence,
    forensicSignal: signal?.level ?? null,
    forensicSignalReason: signal?.reason ?? null,
  };
}

/** Bits per second over the packets present in the file; null without timing. */
function measuredBitrate(packets: PacketTable | null): number | null {
  if (!packets || packets.firstTimeSeconds === null || packets.lastTimeSeconds === null) return null;
  const seconds = packets.lastTimeSeconds - packets.firstTimeSeconds + (packets.meanFrameSeconds ?? 0);
  return seconds > 0 && packets.presentPackets > 1 ? (packets.presentBytes * 8) / seconds : null;
}

function evidenceOf(report: DetectorReport | null): CompressionProfile['reencodeEvidence'] {
  if (!report?.applicable || report.score === null) return null;
  const scores = [report.measurements.reencodeScore, report.measurements.editScore].filter(
    (value): value is number => typeof value === 'number',
  );
  const score = Math.max(0, ...scores);
  if (score >= defaultFusionPolicy.strongScore) return 'strong';
  return score >= defaultFusionPolicy.lowScore ? 'weak' : 'none';
}

function forensicSignal(
  bpp: number | null,
  codec: string | null,
  reencode: CompressionProfile['reencodeEvidence'],
): { level: 'high' | 'medium' | 'low'; reason: string } | null {
  if (bpp === null) return null;
  const factor = intraOnlyCodecs.has(codec ?? '')
    ? intraOnlyEquivalence
    : (h264Equivalence[codec ?? ''] ?? 1);
  const equivalent = bpp * factor;
  const levels = ['low', 'medium', 'high'] as const;
  let level = equivalent >= highSignalBpp ? 2 : equivalent >= lowSignalBpp ? 1 : 0;
  const spent = `${equivalent.toFixed(3)} H.264-equivalent bits per pixel`;
  const reasons = [
    `${spent}: heavy compression removed much fine detail and sensor noise, so picture checks have little to read`,
    `${spent}: moderate compression, as platforms apply; fine detail and noise are partly removed`,
    `${spent}: light compression, as cameras record; fine detail and noise are largely kept`,
  ];
  let reason = reasons[level] as string;
  if (reencode === 'strong' && level > 0) {
    level -= 1;
    reason += '; but the file was encoded at least twice, and each encoding removes more';
  }
  return { level: levels[level] as 'high' | 'medium' | 'low', reason };
}
