import { resolveFfmpegBinaries, supportsFpsMode, type FfmpegBinaries } from './ffmpeg-binaries.js';
import { ffmpegInputArgs } from './ffmpeg-input.js';
import { normaliseProbe } from './ffprobe-json.js';
import type { MediaInput, MediaProbe, MediaTools, PacketInfo, RawFrame } from './media-probe.js';
import { MediaToolError } from './media-tool-error.js';
import { packetTableArgs, parsePacketTableLine, shiftToMediaTimeline } from './packet-table.js';
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
}

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
  return ffmpegMediaTools({ binaries, timeouts: { ...defaultMediaToolTimeouts, ...options.timeouts } });
}

type FrameRequest = { streamIndex: number; maxWidth: number; pixelFormat: 'gray' | 'rgb24' };

export function ffmpegMediaTools(deps: {
  binaries: FfmpegBinaries;
  timeouts: MediaToolTimeouts;
}): FfmpegMediaTools {
  const { binaries, timeouts } = deps;
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
        ...ffmpegInputArgs(input),
      ],
      idleTimeoutMs: timeouts.probeMs,
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
    signal?: AbortSignal,
  ): Promise<PacketInfo[]> {
    const run = startToolProcess({
      tool: 'ffprobe',
      binary: binaries.ffprobe.path,
      args: ['-hide_banner', '-v', 'error', ...packetTableArgs(streamIndex), ...ffmpegInputArgs(input)],
      idleTimeoutMs: timeouts.packetsMs,
      signal,
    });
    const table: PacketInfo[] = [];
    let startSeconds: number | null = null;
    for await (const line of readOutputLines(run)) {
      const parsed = parsePacketTableLine(line);
      if (parsed?.kind === 'packet') table.push(parsed.packet);
      else if (parsed?.kind === 'start') startSeconds = parsed.seconds;
    }
    return shiftToMediaTimeline(table, startSeconds);
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
    const stream = (await probe(input, signal)).streams.find(
      (candidate) => candidate.index === request.streamIndex,
    );
    if (stream?.type !== 'video') throw new Error(`stream ${request.streamIndex} is not a video stream`);
    const size = scaledFrameSize(stream, request.maxWidth);
    const format = request.pixelFormat;
    const timestamps = new ShowinfoTimestamps();
    const run = startToolProcess({
      tool: 'ffmpeg',
      binary: binaries.ffmpeg.path,
      args: [
        '-nostdin',
        '-hide_banner',
        '-nostats',
        '-loglevel',
        'info',
        ...ffmpegInputArgs(input, selection.inputOptions),
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

  return {
    binaries,
    versions: async () => ({ ffmpeg: binaries.ffmpeg.version, ffprobe: binaries.ffprobe.version }),
    probe,
    packets,
    keyframes(input, options, signal) {
      const limit = Math.max(0, Math.floor(options.limit));
      if (limit === 0) return noFrames();
      return decodeFrames(
        input,
        options,
        {
          // Decoders that ignore -skip_frame still pass only keyframes through the select filter.
          inputOptions: ['-skip_frame', 'nokey'],
          filters: ['select=key'],
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

// A zero limit asks for nothing, so no process is started.
async function* noFrames(): AsyncGenerator<RawFrame> {}

const seconds = (value: number): string => {
  if (!Number.isFinite(value) || value < 0) throw new Error(`not a valid time in seconds: ${value}`);
  return value.toFixed(6);
};
