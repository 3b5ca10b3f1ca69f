import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { resolveFfmpegBinaries } from '../../src/media/ffmpeg-binaries.js';

/**
 * Test media generated at test time with ffmpeg's lavfi sources: small, deterministic (every random
 * source is seeded) and quick. Shared by unit, contract and e2e tests.
 */

const execFileAsync = promisify(execFile);

// lavfi's `gradients` is left out: it differs from run to run even with a seed.
export type ClipSource = 'testsrc2' | 'mandelbrot' | 'life' | 'cellauto' | 'smptebars';
export type VideoCodec = 'libx264' | 'mpeg4' | 'mpeg2video' | 'mjpeg';
export type Container = 'mp4' | 'mov' | 'mkv' | 'avi' | 'ts';

export interface EncodeOptions {
  codec?: VideoCodec;
  /** Group of pictures: distance between keyframes (ignored by intra-only mjpeg). */
  gop?: number;
  /** libx264 constant rate factor (lower is better quality). */
  crf?: number;
  /** libx264 constant quantiser instead of a rate factor (0 lossless – 51 worst). */
  qp?: number;
  /** libx264 speed preset; veryfast when omitted. */
  preset?: X264Preset;
  /** Fixed quantiser for mpeg4, mpeg2video and mjpeg (2 best – 31 worst). */
  quality?: number;
  /** B-frames between references; the encoder default when omitted. */
  bFrames?: number;
  /** libx264 extra keyframes at scene changes; off gives a strictly regular GOP. */
  sceneCut?: boolean;
  /** Drops ffmpeg's own encoder/handler tags (`-fflags +bitexact`). */
  bitexact?: boolean;
  /** Container-level tags, e.g. `{ creation_time: '2024-05-01T10:00:00Z' }`. */
  metadata?: Record<string, string>;
  container?: Container;
  /** File name without extension; derived from the options when omitted. */
  name?: string;
}

export type X264Preset =
  'ultrafast' | 'superfast' | 'veryfast' | 'faster' | 'fast' | 'medium' | 'slow' | 'slower' | 'veryslow';

export interface ClipOptions extends EncodeOptions {
  seconds?: number;
  /** WIDTHxHEIGHT. */
  size?: string;
  fps?: number;
  source?: ClipSource;
  /** Seeds the random sources and the noise. */
  seed?: number;
  /** Temporal noise strength 0–100, like sensor noise. */
  noise?: number;
  /** Adds a sine tone as AAC (or PCM in AVI) of the same length. */
  audio?: boolean;
}

export interface MediaTempDir {
  dir: string;
  remove(): Promise<void>;
}

export async function createMediaTempDir(prefix = 'guardian-media-'): Promise<MediaTempDir> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

let ffmpegPath: Promise<string> | undefined;

/** Runs ffmpeg with an argument array (binary resolved like production: FFMPEG_PATH, PATH, npm package). */
export async function runFfmpeg(args: string[]): Promise<void> {
  ffmpegPath ??= resolveFfmpegBinaries({
    ffmpegPath: process.env.FFMPEG_PATH,
    ffprobePath: process.env.FFPROBE_PATH,
    searchPath: process.env.PATH ?? '',
  }).then((binaries) => binaries.ffmpeg.path);
  await execFileAsync(await ffmpegPath, ['-nostdin', '-hide_banner', '-loglevel', 'error', '-y', ...args], {
    maxBuffer: 16 * 1024 * 1024,
  });
}

/** A synthetic clip encoded once. */
export async function generateClip(dir: string, options: ClipOptions = {}): Promise<string> {
  const clip = withClipDefaults(options);
  const output = join(dir, `${options.name ?? clipName(clip, options)}.${containerOf(options)}`);
  const [width, height] = clip.size.split('x');
  const filters = [
    clip.noise > 0 ? `noise=alls=${clip.noise}:allf=t:all_seed=${clip.seed}` : null,
    pixelFormatFilter(options),
  ];
  await runFfmpeg([
    ...['-f', 'lavfi', '-i', sourceGraph(clip, `${width}x${height}`)],
    ...(clip.audio
      ? ['-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${clip.seconds}`]
      : []),
    ...['-vf', filters.filter(Boolean).join(',')],
    ...encoderArgs(options),
    ...(clip.audio ? audioArgs(options) : []),
    ...muxArgs(options),
    output,
  ]);
  return output;
}

/** A clip encoded with `first` settings, decoded and encoded again with `second` (a re-encode). */
export async function doubleEncode(dir: string, first: ClipOptions, second: EncodeOptions): Promise<string> {
  const firstName = first.name ?? clipName(withClipDefaults(first), first);
  const original = await generateClip(dir, { ...first, name: `${firstName}-first` });
  return encodeFile(dir, original, {
    ...second,
    name: second.name ?? `${firstName}-then-${encodeName(second)}`,
  });
}

/** An existing media file decoded and encoded with `options` (its audio copied). */
export async function encodeFile(dir: string, input: string, options: EncodeOptions): Promise<string> {
  const output = join(dir, `${options.name ?? `encoded-${encodeName(options)}`}.${containerOf(options)}`);
  await runFfmpeg([
    '-i',
    input,
    '-vf',
    pixelFormatFilter(options),
    ...encoderArgs(options),
    '-c:a',
    'copy',
    ...muxArgs(options),
    output,
  ]);
  return output;
}

/**
 * Segments (each encoded on its own, as from different sources) joined end to end. Without `reencode`
 * the joined stream is copied, keeping each segment's GOP and quantisation; with it the join is
 * decoded and encoded once more.
 */
export async function splice(
  dir: string,
  segments: ClipOptions[],
  options: { reencode?: EncodeOptions; name?: string; container?: Container } = {},
): Promise<string> {
  const parts: string[] = [];
  for (const [index, segment] of segments.entries()) {
    // MPEG-TS keeps SPS/PPS in-band, so differently encoded H.264 segments stay decodable after a copy.
    parts.push(
      await generateClip(dir, {
        ...segment,
        container: 'ts',
        name: `${options.name ?? 'splice'}-part${index}`,
      }),
    );
  }
  const list = join(dir, `${options.name ?? 'splice'}-list.txt`);
  await writeFile(list, parts.map((part) => `file '${part.replaceAll("'", "'\\''")}'\n`).join(''));
  const container = options.container ?? options.reencode?.container ?? 'mp4';
  const output = join(dir, `${options.name ?? 'splice'}.${container}`);
  const encoding = options.reencode
    ? ['-vf', pixelFormatFilter(options.reencode), ...encoderArgs(options.reencode), '-c:a', 'aac']
    : ['-c', 'copy'];
  await runFfmpeg([
    '-f',
    'concat',
    '-safe',
    '0',
    '-i',
    list,
    ...encoding,
    ...muxArgs({ ...options.reencode, container }),
    output,
  ]);
  return output;
}

export type StillFormat = 'png' | 'jpeg' | 'webp' | 'bmp' | 'tiff' | 'gif' | 'avif';

/** One synthetic picture as an image file. */
export async function generateStill(
  dir: string,
  options: { format?: StillFormat; size?: string; name?: string } = {},
): Promise<string> {
  const format = options.format ?? 'png';
  const extension = format === 'jpeg' ? 'jpg' : format;
  const output = join(dir, `${options.name ?? `still-${format}`}.${extension}`);
  const codec = format === 'avif' ? ['-c:v', 'libaom-av1', '-still-picture', '1', '-cpu-used', '8'] : [];
  await runFfmpeg([
    ...['-f', 'lavfi', '-i', `testsrc2=size=${options.size ?? '160x120'}:rate=1`],
    ...['-frames:v', '1', ...codec, ...(format === 'jpeg' ? ['-pix_fmt', 'yuvj420p'] : [])],
    output,
  ]);
  return output;
}

type ClipSettings = Required<
  Pick<ClipOptions, 'seconds' | 'size' | 'fps' | 'source' | 'seed' | 'noise' | 'audio'>
>;

function withClipDefaults(options: ClipOptions): ClipSettings {
  return {
    seconds: options.seconds ?? 4,
    size: options.size ?? '320x240',
    fps: options.fps ?? 25,
    source: options.source ?? 'testsrc2',
    seed: options.seed ?? 1,
    noise: options.noise ?? 0,
    audio: options.audio ?? false,
  };
}

function sourceGraph(clip: ClipSettings, size: string): string {
  const { fps, seconds, seed } = clip;
  switch (clip.source) {
    case 'testsrc2':
      return `testsrc2=size=${size}:rate=${fps}:duration=${seconds}`;
    case 'mandelbrot':
      return `mandelbrot=size=${size}:rate=${fps},trim=duration=${seconds}`;
    case 'life':
      return `life=size=${size}:rate=${fps}:seed=${seed}:ratio=0.3:mold=10:life_color=#e0e0d0:death_color=#203040,trim=duration=${seconds}`;
    case 'cellauto':
      return `cellauto=size=${size}:rate=${fps}:seed=${seed},trim=duration=${seconds}`;
    case 'smptebars':
      return `smptebars=size=${size}:rate=${fps}:duration=${seconds}`;
  }
}

function encoderArgs(options: EncodeOptions): string[] {
  const codec = options.codec ?? 'libx264';
  const gop = String(options.gop ?? 25);
  const bFrames = options.bFrames === undefined ? [] : ['-bf', String(options.bFrames)];
  const bitexact = options.bitexact ? ['-flags:v', '+bitexact'] : [];
  switch (codec) {
    case 'libx264': {
      const keyframes = options.sceneCut ? [] : ['-keyint_min', gop, '-sc_threshold', '0'];
      const rate =
        options.qp === undefined ? ['-crf', String(options.crf ?? 23)] : ['-qp', String(options.qp)];
      return [
        '-c:v',
        'libx264',
        '-preset',
        options.preset ?? 'veryfast',
        ...rate,
        '-g',
        gop,
        ...keyframes,
        ...bFrames,
        ...bitexact,
      ];
    }
    case 'mpeg4':
    case 'mpeg2video':
      return ['-c:v', codec, '-q:v', String(options.quality ?? 4), '-g', gop, ...bFrames, ...bitexact];
    case 'mjpeg':
      return ['-c:v', 'mjpeg', '-q:v', String(options.quality ?? 4), ...bitexact];
  }
}

function pixelFormatFilter(options: EncodeOptions): string {
  return options.codec === 'mjpeg' ? 'format=yuvj420p' : 'format=yuv420p';
}

function audioArgs(options: EncodeOptions): string[] {
  return containerOf(options) === 'avi' ? ['-c:a', 'pcm_s16le'] : ['-c:a', 'aac', '-b:a', '64k'];
}

function muxArgs(options: EncodeOptions): string[] {
  const metadata = Object.entries(options.metadata ?? {}).flatMap(([key, value]) => [
    '-metadata',
    `${key}=${value}`,
  ]);
  const bitexact = options.bitexact ? ['-fflags', '+bitexact', '-map_metadata', '-1'] : [];
  return [...bitexact, ...metadata];
}

function containerOf(options: EncodeOptions): Container {
  return options.container ?? (options.codec === 'mjpeg' ? 'avi' : 'mp4');
}

function clipName(clip: ClipSettings, encoding: EncodeOptions): string {
  return `${clip.source}-s${clip.seed}-n${clip.noise}-${clip.seconds}s-${encodeName(encoding)}`;
}

function encodeName(options: EncodeOptions): string {
  const preset = options.preset ? `-${options.preset}` : '';
  return `${options.codec ?? 'libx264'}${preset}-g${options.gop ?? 25}-q${options.qp ?? options.crf ?? options.quality ?? 'd'}`;
}
