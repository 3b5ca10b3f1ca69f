import type { PacketTable } from './packet-scan.js';

/** Normalised ffprobe result: computed once per media and passed along (never probed twice). */
export interface MediaProbe {
  formatName: string;
  formatLongName: string | null;
  durationSeconds: number | null;
  sizeBytes: number | null;
  bitRate: number | null;
  /** Container-level tags (encoder, creation_time, major_brand, ...), keys lower-cased. */
  tags: Record<string, string>;
  streams: ProbeStream[];
}

export interface ProbeStream {
  index: number;
  type: 'video' | 'audio' | 'subtitle' | 'data' | 'attachment' | 'unknown';
  codecName: string | null;
  codecLongName: string | null;
  profile: string | null;
  width: number | null;
  height: number | null;
  pixelFormat: string | null;
  /** Average frame rate in frames per second, when known. */
  frameRate: number | null;
  durationSeconds: number | null;
  frameCount: number | null;
  bitRate: number | null;
  sampleRate: number | null;
  channels: number | null;
  tags: Record<string, string>;
  /** Display-matrix rotation in degrees (a multiple of 90 in practice), when the stream carries one. */
  rotationDegrees?: number;
  /** Sample (pixel) aspect ratio as a number, when known. */
  sampleAspectRatio?: number;
  /** Cover art or a thumbnail stored as a video stream, not motion video. */
  attachedPicture?: boolean;
  /** Coded picture size the decoder works at (ffprobe coded_width × coded_height), when known. */
  codedSize?: { width: number; height: number };
  /** Picture size the H.264/HEVC sequence parameter set in the extradata declares, when there is one. */
  parameterSetSize?: { width: number; height: number };
}

/** One row of the packet table (read without decoding), in decode order; times on the media timeline (0 = container start). */
export interface PacketInfo {
  ptsTime: number | null;
  dtsTime: number | null;
  sizeBytes: number;
  keyframe: boolean;
}

export interface RawFrame {
  /** Presentation time in seconds on the media timeline (0 = container start), the axis of `window` and packets. */
  timeSeconds: number;
  width: number;
  height: number;
  /** Packed 8-bit pixels in the requested pixel format (gray: 1 byte/pixel, rgb24: 3). */
  data: Buffer;
}

/** Media input: a local path or a URL ffmpeg can read (the blob gateway serves decrypted ranges on loopback). */
export type MediaInput = string;

export interface MediaTools {
  /** Versions of the binaries in use, recorded in every report. */
  versions(): Promise<{ ffmpeg: string; ffprobe: string }>;
  probe(input: MediaInput, signal?: AbortSignal): Promise<MediaProbe>;
  /**
   * The stream's packet table, streamed: counts over every packet, and the first present packets kept
   * (a packet is present when its bytes lie inside the file of `sizeBytes`).
   */
  packets(
    input: MediaInput,
    streamIndex: number,
    options: { sizeBytes: number | null },
    signal?: AbortSignal,
  ): Promise<PacketTable>;
  /** Whether one frame decodes from the keyframe at or before timeSeconds, within timeoutMs. */
  decodesAt(
    input: MediaInput,
    request: { streamIndex: number; timeSeconds: number; timeoutMs: number },
    signal?: AbortSignal,
  ): Promise<boolean>;
  /**
   * Decodes keyframes only, scaled to fit maxWidth, straight to raw frames through a pipe; with
   * minIntervalSeconds, a keyframe closer than that to the previous one taken is skipped.
   */
  keyframes(
    input: MediaInput,
    options: {
      streamIndex: number;
      maxWidth: number;
      pixelFormat: 'gray' | 'rgb24';
      limit: number;
      minIntervalSeconds?: number;
      stream?: KnownStream;
    },
    signal?: AbortSignal,
  ): AsyncIterable<RawFrame>;
  /** Decodes every frame in [startSeconds, startSeconds + durationSeconds). */
  window(
    input: MediaInput,
    options: {
      streamIndex: number;
      startSeconds: number;
      durationSeconds: number;
      maxWidth: number;
      pixelFormat: 'gray' | 'rgb24';
      stream?: KnownStream;
    },
    signal?: AbortSignal,
  ): AsyncIterable<RawFrame>;
  /**
   * Decodes [startSeconds, startSeconds + durationSeconds) of an audio stream to mono float samples at
   * sampleRate, with silence wherever the stream has no samples (before it starts, after it ends).
   */
  audio(
    input: MediaInput,
    options: { streamIndex: number; startSeconds: number; durationSeconds: number; sampleRate: number },
    signal?: AbortSignal,
  ): Promise<Float32Array>;
}

/** The stream as the caller already probed it: the decode then starts without probing the file again. */
export type KnownStream = Pick<
  ProbeStream,
  'index' | 'type' | 'width' | 'height' | 'rotationDegrees' | 'sampleAspectRatio'
>;
