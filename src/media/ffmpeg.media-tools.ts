import { existsSync } from 'node:fs';
import { resolveFfmpegBinaries, supportsFpsMode, type FfmpegBinaries } from './ffmpeg-binaries.js';
import { ffmpegInputArgs } from './ffmpeg-input.js';
import { normaliseProbe } from './ffprobe-json.js';
import { defaultMediaLimits, type MediaLimits } from './media-limits.js';
import type { KnownStream, MediaInput, MediaProbe, MediaTools, RawFrame } from './media-probe.js';
import { MediaToolError } from './media-tool-error.js';
import { PacketScan, type PacketTable } from './packet-scan.js';
import { packetTableArgs, parsePacketTableLine } from './packet-table.js';
import { readRawFrames } from './raw-frame-reader.js';
import { bytesPerPixel, scaledFrameSize } from './scaled-frame-size.js';
import { ShowinfoTimestamps } from './showinfo-timestamps.js';
import { readAllOutput, readOutputLines, startToolProcess } from './tool-process.js';

/** Longest silence (no stdout while we wait for it) each kind of run is allowed before it is killed. */
export interface MediaToolTimeouts {
  probeMs: number;
  packetsMs: number;
  decodeMs: number;
}

export const defaultMediaToolTimeouts: MediaToolTimeouts = {
  probeMs: 60_000,
  packetsMs: 120_000,
  decodeMs: 120_000,
};

const maxProbeJsonBytes = 16 * 1024 * 1024;

export interface FfmpegMediaToolsOptions {
  /** FFMPEG_PATH. */
  ffmpegPath?: string;
  /** FFPROBE_PATH. */
  ffprobePath?: string;
  /** PATH to search when no explicit path is set; the process PATH when omitted. */
  searchPath?: string;
  timeouts?: Partial<MediaToolTimeouts>;
  /** Memory, time and picture-size caps applied to every run. */
  limits?: Pick<MediaLimits, 'toolMemoryMb' | 'toolTimeoutSeconds' | 'maxVideoPixels' | 'maxImagePixels'>;
  /** Where a one-time notice goes (e.g. that memory caps cannot be applied). */
  notice?: (message: string) => void;
  /** util-linux prlimit; a test may point elsewhere. */
  prlimitPath?: string;
}

const defaultPrlimitPath = '/usr/bin/prlimit';

export type FfmpegMediaTools = MediaTools & { readonly binaries: FfmpegBinaries };

/** Resolves the binaries (and their versions) once, then returns the MediaTools adapter over them. */
export async function createFfmpegMediaTools(
  options: FfmpegMediaToolsOptions = {},
): Promise<FfmpegMediaTools> {
  const binaries = await resolveFfmpegBinaries({
    ffmpegPath: options.ffmpegPath,
    ffprobePath: options.ffprobePath,
    searchPath: options.searchPath ?? process.env.PATH ?? '',
  });
  const limits = { ...defaultMediaLimits, ...options.limits };
  const prlimit = options.prlimitPath ?? defaultPrlimitPath;
  const capMemory = existsSync(prlimit);
  if (!capMemory)
    options.notice?.(
      `${prlimit} not found: ffmpeg/ffprobe run without the MEDIA_TOOL_MEMORY_MB address-space cap (install util-linux)`,
    );
  return ffmpegMediaTools({
    binaries,
    timeouts: { ...defaultMediaToolTimeouts, ...options.timeouts },
    run: {
      // One address-space cap per child; few malloc arenas so threads do not reserve the cap away.
      wrapper: capMemory ? [prlimit, `--as=${limits.toolMemoryMb * 1024 * 1024}`, '--'] : [],
      env: capMemory ? { MALLOC_ARENA_MAX: '2' } : {},
      wallClockMs: limits.toolTimeoutSeconds * 1000,
      maxPixels: Math.max(limits.maxVideoPixels, limits.maxImagePixels),
    },
  });
}

/** How every child runs: under a memory-cap wrapper, a wall clock, and decoders refusing larger pictures. */
export interface ToolRunPolicy {
  wrapper: string[];
  env: Record<string, string>;
  wallClockMs: number;
  /** Decoder `-max_pixels`: no frame larger than this is ever allocated. */
  maxPixels: number;
}

const unlimitedRuns: ToolRunPolicy = { wrapper: [], env: {}, wallClockMs: 3_600_000, maxPixels: 2 ** 31 - 1 };

type FrameRequest = {
  streamIndex: number;
  maxWidth: number;
  pixelFormat: 'gray' | 'rgb24';
  stream?: KnownStream;
};

export function ffmpegMediaTools(deps: {
  binaries: FfmpegBinaries;
  timeouts: MediaToolTimeouts;
  run?: ToolRunPolicy;
}): FfmpegMediaTools {
  const { binaries, timeouts } = deps;
  const policy = deps.run ?? unlimitedRuns;
  const capped = { wrapper: policy.wrapper, env: policy.env, wallClockMs: policy.wallClockMs };
  const maxPixels = ['-max_pixels', String(policy.maxPixels)];
  const passthrough = supportsFpsMode(binaries.ffmpeg.version)
    ? ['-fps_mode', 'passthrough']
    : ['-vsync', 'passthrough'];

  async function probe(input: MediaInput, signal?: AbortSignal): Promise<MediaProbe> {
    const run = startToolProcess({
      tool: 'ffprobe',
      binary: binaries.ffprobe.path,
      args: [
        '-hide_banner',
        '-v',
        'error',
        '-print_format',
        'json',
        '-show_format',
        '-show_streams',
        // Stream extradata, where the H.264/HEVC parameter sets declare the coded size.
        '-show_data',
        ...ffmpegInputArgs(input, maxPixels),
      ],
      idleTimeoutMs: timeouts.probeMs,
      ...capped,
      signal,
    });
    const output = await readAllOutput(run, maxProbeJsonBytes);
    try {
      return normaliseProbe(JSON.parse(output.toString('utf8')));
    } catch (error) {
      throw new MediaToolError({
        tool: 'ffprobe',
        failure: 'output',
        exitCode: 0,
        stderrTail: run.stderrTail(),
        detail: `printed output that is not a probe result (${(error as Error).message.split('\n')[0]})`,
        cause: error,
      });
    }
  }

  async function packets(
    input: MediaInput,
    streamIndex: number,
    options: { sizeBytes: number | null },
    signal?: AbortSignal,
  ): Promise<PacketTable> {
    const run = startToolProcess({
      tool: 'ffprobe',
      binary: binaries.ffprobe.path,
      args: ['-hide_banner', '-v', 'error', ...packetTableArgs(streamIndex), ...ffmpegInputArgs(input)],
      idleTimeoutMs: timeouts.packetsMs,
      ...capped,
      signal,
    });
    // Folded while streaming: a file of millions of packets costs counters, not a row each.
    const scan = new PacketScan(options.sizeBytes);
    let startSeconds: number | null = null;
    for await (const line of readOutputLines(run)) {
      const parsed = parsePacketTableLine(line);
      if (parsed?.kind === 'packet') scan.add(parsed.packet, parsed.posBytes);
      else if (parsed?.kind === 'start') startSeconds = parsed.seconds;
    }
    return scan.finish(startSeconds);
  }

  async function decodesAt(
    input: MediaInput,
    request: { streamIndex: number; timeSeconds: number; timeoutMs: number },
    signal?: AbortSignal,
  ): Promise<boolean> {
    const thumbnailBytes = 16 * 16;
    const run = startToolProcess({
      tool: 'ffmpeg',
      binary: binaries.ffmpeg.path,
      args: [
        ...ffmpegBaseArgs('error'),
        // Input seeking lands on the keyframe at or before the time; its first decoded frame is the answer.
        // No seek at 0: image demuxers cannot seek and would then yield nothing.
        // One frame: one decoder thread, not a frame-threaded decoder set up for a stream.
        ...ffmpegInputArgs(input, [
          ...maxPixels,
          '-threads',
          '1',
          ...(request.timeSeconds > 0 ? ['-noaccurate_seek', '-ss', seconds(request.timeSeconds)] : []),
        ]),
        '-map',
        `0:${request.streamIndex}`,
        '-an',
        '-sn',
        '-dn',
        '-frames:v',
        '1',
        '-vf',
        'scale=16:16,format=gray',
        '-f',
        'rawvideo',
        'pipe:1',
      ],
      idleTimeoutMs: Math.min(timeouts.decodeMs, request.timeoutMs),
      ...capped,
      wallClockMs: Math.min(policy.wallClockMs, request.timeoutMs),
      signal,
    });
    try {
      return (await readAllOutput(run, thumbnailBytes * 4)).length >= thumbnailBytes;
    } catch (error) {
      if (error instanceof MediaToolError) return false;
      throw error;
    }
  }

  async function* decodeFrames(
    input: MediaInput,
    request: FrameRequest,
    selection: {
      inputOptions: string[];
      /** Filters before scaling; showinfo stays last so its frame numbers match stdout. */
      filters: string[];
      outputOptions: string[];
      timeOffsetSeconds: number;
      endSeconds: number;
    },
    signal?: AbortSignal,
  ): AsyncGenerator<RawFrame> {
    const stream =
      request.stream?.index === request.streamIndex
        ? request.stream
        : (await probe(input, signal)).streams.find((candidate) => candidate.index === request.streamIndex);
    if (stream?.type !== 'video') throw new Error(`stream ${request.streamIndex} is not a video stream`);
    const size = scaledFrameSize(stream, request.maxWidth);
    const format = request.pixelFormat;
    const timestamps = new ShowinfoTimestamps();
    const run = startToolProcess({
      tool: 'ffmpeg',
      binary: binaries.ffmpeg.path,
      args: [
        ...ffmpegBaseArgs('info'),
        ...ffmpegInputArgs(input, [...maxPixels, ...selection.inputOptions]),
        '-map',
        `0:${request.streamIndex}`,
        '-an',
        '-sn',
        '-dn',
        ...passthrough,
        '-vf',
        [
          ...selection.filters,
          `scale=${size.width}:${size.height}:flags=area`,
          `format=${format}`,
          'showinfo',
        ].join(','),
        ...selection.outputOptions,
        '-f',
        'rawvideo',
        '-pix_fmt',
        format,
        'pipe:1',
      ],
      idleTimeoutMs: timeouts.decodeMs,
      ...capped,
      signal,
      onStderrLine: timestamps.accept,
    });
    const close = () => timestamps.close();
    run.finished.then(close, close);
    yield* readRawFrames(run, timestamps, {
      size,
      bytesPerPixel: bytesPerPixel(format),
      timeOffsetSeconds: selection.timeOffsetSeconds,
      endSeconds: selection.endSeconds,
      timestampWaitMs: timeouts.decodeMs,
    });
  }

  async function audio(
    input: MediaInput,
    request: { streamIndex: number; startSeconds: number; durationSeconds: number; sampleRate: number },
    signal?: AbortSignal,
  ): Promise<Float32Array> {
    const sampleCount = Math.round(request.durationSeconds * request.sampleRate);
    if (sampleCount <= 0) return new Float32Array(0);
    const run = startToolProcess({
      tool: 'ffmpeg',
      binary: binaries.ffmpeg.path,
      args: [
        ...ffmpegBaseArgs('error'),
        ...ffmpegInputArgs(input, [
          '-ss',
          seconds(request.startSeconds),
          '-t',
          seconds(request.durationSeconds),
        ]),
        '-map',
        `0:${request.streamIndex}`,
        '-vn',
        '-sn',
        '-dn',
        // Sample 0 is the span's start: audio that begins later (a delayed track) is preceded by silence.
        '-af',
        'aresample=async=1:first_pts=0,apad',
        '-ac',
        '1',
        '-ar',
        String(request.sampleRate),
        '-t',
        seconds(request.durationSeconds),
        '-f',
        'f32le',
        'pipe:1',
      ],
      idleTimeoutMs: timeouts.decodeMs,
      ...capped,
      signal,
    });
    const bytes = await readAllOutput(run, (sampleCount + request.sampleRate) * 4);
    const samples = new Float32Array(sampleCount);
    const available = Math.min(sampleCount, Math.floor(bytes.length / 4));
    for (let i = 0; i < available; i++) samples[i] = bytes.readFloatLE(i * 4);
    return samples;
  }

  return {
    binaries,
    versions: async () => ({ ffmpeg: binaries.ffmpeg.version, ffprobe: binaries.ffprobe.version }),
    probe,
    packets,
    decodesAt,
    audio,
    keyframes(input, options, signal) {
      const limit = Math.max(0, Math.floor(options.limit));
      if (limit === 0) return noFrames();
      return decodeFrames(
        input,
        options,
        {
          // Decoders that ignore -skip_frame still pass only keyframes through the select filter.
          inputOptions: ['-skip_frame', 'nokey'],
          filters: [keyframeSelection(options.minIntervalSeconds ?? 0)],
          outputOptions: ['-frames:v', String(limit)],
          timeOffsetSeconds: 0,
          endSeconds: Number.POSITIVE_INFINITY,
        },
        signal,
      );
    },
    window(input, options, signal) {
      return decodeFrames(
        input,
        options,
        {
          inputOptions: ['-ss', seconds(options.startSeconds), '-t', seconds(options.durationSeconds)],
          filters: [],
          outputOptions: [],
          timeOffsetSeconds: options.startSeconds,
          endSeconds: options.startSeconds + options.durationSeconds,
        },
        signal,
      );
    },
  };
}

/** Keyframes, each at least `interval` seconds after the previous one selected (quoted: the expression has commas). */
function keyframeSelection(interval: number): string {
  if (!(interval > 0)) return 'select=key';
  return `select='key*(isnan(prev_selected_t)+gte(t-prev_selected_t,${seconds(interval)}))'`;
}

/** Every ffmpeg run: no stdin, no banner or progress lines, only messages at `loglevel` on stderr. */
const ffmpegBaseArgs = (loglevel: 'error' | 'info') => [
  '-nostdin',
  '-hide_banner',
  '-nostats',
  '-loglevel',
  loglevel,
];

// A zero limit asks for nothing, so no process is started.
async function* noFrames(): AsyncGenerator<RawFrame> {}

const seconds = (value: number): string => {
  if (!Number.isFinite(value) || value < 0) throw new Error(`not a valid time in seconds: ${value}`);
  return value.toFixed(6);
};
