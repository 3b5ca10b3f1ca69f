import { writeFile } from 'node:fs/promises';
import { openFrameSink, runTool, type FrameSink } from './ffmpeg-process.js';
import { encodeJpeg } from './jpeg-encoder.js';
import { imageFromBytes, resizeImage, type RgbImage } from './rgb-image.js';

export interface WriterTools {
  ffmpeg: string;
  signal: AbortSignal;
}

export interface VideoFormat {
  width: number;
  height: number;
  fps: number;
  crf: number;
  seconds: number;
  /** Seeds the soundtrack (room-tone noise), so twins carry the same audio. */
  audioSeed: number;
}

const quiet = ['-nostdin', '-hide_banner', '-v', 'error', '-y'];
// One thread: x264's output then depends on nothing but the input and these settings.
const x264 = (crf: number) => [
  '-c:v',
  'libx264',
  '-preset',
  'medium',
  '-crf',
  String(crf),
  '-pix_fmt',
  'yuv420p',
  '-threads',
  '1',
];

/** An H.264/AAC MP4 fed with rgb24 frames, like a phone clip: yuv420p, CRF, room-tone audio. */
export function openVideoWriter(path: string, format: VideoFormat, tools: WriterTools): FrameSink {
  const args = [
    ...quiet,
    ...[
      '-f',
      'rawvideo',
      '-pix_fmt',
      'rgb24',
      '-s',
      `${format.width}x${format.height}`,
      '-framerate',
      String(format.fps),
      '-i',
      'pipe:0',
    ],
    ...['-f', 'lavfi', '-i', `anoisesrc=d=${format.seconds}:c=pink:r=48000:a=0.02:s=${format.audioSeed}`],
    ...['-map', '0:v', '-map', '1:a', ...x264(format.crf), '-c:a', 'aac', '-b:a', '96k', '-ac', '1'],
    ...['-shortest', '-movflags', '+faststart', path],
  ];
  return openFrameSink(tools.ffmpeg, args, tools.signal);
}

export type StillFormat = 'jpeg-q90' | 'jpeg-q75' | 'png';

const jpegQuality: Record<Exclude<StillFormat, 'png'>, number> = { 'jpeg-q90': 90, 'jpeg-q75': 75 };

/** JPEG through our libjpeg-style encoder (IJG quality), PNG through ffmpeg. */
export async function writeStill(
  path: string,
  image: RgbImage,
  format: StillFormat,
  tools: WriterTools,
): Promise<void> {
  if (format !== 'png') {
    await writeFile(path, encodeJpeg(image, jpegQuality[format]));
    return;
  }
  const sink = openFrameSink(
    tools.ffmpeg,
    [
      ...quiet,
      ...['-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${image.width}x${image.height}`, '-i', 'pipe:0'],
      ...['-frames:v', '1', '-c:v', 'png', '-pix_fmt', 'rgb24', '-f', 'image2', path],
    ],
    tools.signal,
  );
  try {
    await sink.write(image.data);
    await sink.close();
  } catch (error) {
    sink.kill();
    throw error;
  }
}

/** The saved still decoded, halved in size (area averaging) and saved again in its own format. */
export async function resizeStill(
  input: string,
  output: string,
  format: StillFormat,
  size: { width: number; height: number },
  tools: WriterTools,
): Promise<void> {
  const decoded = await runTool(
    tools.ffmpeg,
    [...quiet, '-i', input, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'],
    tools.signal,
  );
  const image = imageFromBytes(size.width, size.height, decoded);
  const half = resizeImage(
    image,
    Math.max(1, Math.round(size.width / 2)),
    Math.max(1, Math.round(size.height / 2)),
  );
  await writeStill(output, half, format, tools);
}

export type VideoPost = 'crf23' | 'crf28' | 'resize-0.5';

/** A platform's second pass over an uploaded clip: re-encoded at a higher CRF, or halved in size. */
export async function postProcessVideo(
  input: string,
  output: string,
  post: VideoPost,
  tools: WriterTools,
): Promise<void> {
  const video =
    post === 'resize-0.5'
      ? ['-vf', 'scale=trunc(iw/4)*2:trunc(ih/4)*2:flags=bicubic', ...x264(20)]
      : x264(post === 'crf23' ? 23 : 28);
  await runTool(
    tools.ffmpeg,
    [...quiet, '-i', input, '-map', '0', ...video, '-c:a', 'copy', '-movflags', '+faststart', output],
    tools.signal,
  );
}

/** The same clip with its audio moved later by `delayMs` against the picture (timestamps only, no re-encode). */
export async function shiftAudio(
  input: string,
  output: string,
  delayMs: number,
  tools: WriterTools,
): Promise<void> {
  await runTool(
    tools.ffmpeg,
    [
      ...quiet,
      '-i',
      input,
      '-itsoffset',
      (delayMs / 1000).toFixed(3),
      '-i',
      input,
      '-map',
      '0:v',
      '-map',
      '1:a',
      '-c',
      'copy',
      '-movflags',
      '+faststart',
      output,
    ],
    tools.signal,
  );
}
