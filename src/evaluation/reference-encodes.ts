import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { runTool } from './ffmpeg-process.js';
import { writeStill, type StillFormat } from './media-writer.js';
import { imageFromBytes } from './rgb-image.js';

/**
 * Faceless authentic media for the default calibration reference, each encoded once: lavfi test patterns
 * through x264 at several presets, rate factors and GOPs, the opencv-doc sample videos, and opencv-doc
 * sample photos halved (which washes out any earlier JPEG grid) and saved once.
 */

export interface EncodeTools {
  ffmpeg: string;
  ffprobe: string;
  signal: AbortSignal;
}

interface X264Setting {
  preset: string;
  rate: ['-crf' | '-qp', number];
  gop: number;
  /** Extra keyframes at scene changes (x264's default); off gives a strictly regular GOP. */
  sceneCut: boolean;
  /** B-frames; the preset's default when absent. */
  bFrames?: number;
}

const x264Settings: X264Setting[] = [
  { preset: 'ultrafast', rate: ['-crf', 23], gop: 250, sceneCut: true },
  { preset: 'veryfast', rate: ['-crf', 28], gop: 30, sceneCut: false, bFrames: 0 },
  { preset: 'medium', rate: ['-crf', 23], gop: 60, sceneCut: false },
  { preset: 'medium', rate: ['-crf', 18], gop: 250, sceneCut: true, bFrames: 3 },
  { preset: 'slow', rate: ['-crf', 20], gop: 48, sceneCut: false, bFrames: 2 },
  { preset: 'faster', rate: ['-qp', 12], gop: 25, sceneCut: false },
];

const settingName = (setting: X264Setting) =>
  `${setting.preset}-${setting.rate[0].slice(1)}${setting.rate[1]}-g${setting.gop}${setting.bFrames === undefined ? '' : `-bf${setting.bFrames}`}`;

// One thread: x264's output then depends on nothing but the input and these settings.
const x264Args = (setting: X264Setting) => [
  ...['-c:v', 'libx264', '-preset', setting.preset, setting.rate[0], String(setting.rate[1])],
  ...['-g', String(setting.gop), '-pix_fmt', 'yuv420p', '-threads', '1'],
  ...(setting.sceneCut ? [] : ['-keyint_min', String(setting.gop), '-sc_threshold', '0']),
  ...(setting.bFrames === undefined ? [] : ['-bf', String(setting.bFrames)]),
];

const quiet = ['-nostdin', '-hide_banner', '-v', 'error', '-y'];

/** lavfi sources (`gradients` is left out: it differs from run to run even with a seed). */
const patterns = [
  {
    name: 'testsrc2',
    source: 'testsrc2',
    graph: (size: string, fps: number) => `testsrc2=size=${size}:rate=${fps}`,
  },
  {
    name: 'cellauto',
    source: 'cellauto',
    graph: (size: string, fps: number) => `cellauto=size=${size}:rate=${fps}:seed=5`,
  },
  {
    name: 'mandelbrot',
    source: 'mandelbrot',
    graph: (size: string, fps: number) => `mandelbrot=size=${size}:rate=${fps}`,
  },
  {
    name: 'testsrc2-noise',
    source: 'testsrc2',
    graph: (size: string, fps: number) => `testsrc2=size=${size}:rate=${fps},noise=alls=8:allf=t:all_seed=3`,
  },
];

/** The lavfi sources behind the pattern clips, as recorded in the calibration file. */
export const patternSources = [...new Set(patterns.map((pattern) => `lavfi ${pattern.source}`))];

const patternSeconds = 10;

/** Four patterns, three x264 settings each (every setting twice), 10 s at 320×240 or 640×360; half with sound. */
export async function writePatternClips(dir: string, tools: EncodeTools): Promise<string[]> {
  const written: string[] = [];
  for (const [p, pattern] of patterns.entries()) {
    for (let k = 0; k < 3; k++) {
      const setting = x264Settings[(3 * p + k) % x264Settings.length] as X264Setting;
      const [size, fps] = (p + k) % 2 === 0 ? ['320x240', 25] : ['640x360', 30];
      const audio = k !== 1;
      const file = join(dir, `${pattern.name}-${size}-${settingName(setting)}.mp4`);
      await runTool(
        tools.ffmpeg,
        [
          ...quiet,
          ...['-f', 'lavfi', '-i', `${pattern.graph(size, fps)},trim=duration=${patternSeconds}`],
          ...(audio ? ['-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:d=${patternSeconds}`] : []),
          ...x264Args(setting),
          ...(audio ? ['-c:a', 'aac', '-b:a', '96k', '-shortest'] : []),
          ...['-movflags', '+faststart', file],
        ],
        tools.signal,
      );
      written.push(file);
    }
  }
  return written;
}

export const opencvSampleDir = '/usr/share/doc/opencv-doc/examples/data';

/**
 * The opencv-doc camera videos (vtest.avi: its first 20 s), each with its own single x264 encode.
 * Megamind.avi is left out: its faces are computer-rendered, not recorded (face-temporal scores it 0.98).
 */
const sampleVideos = [
  { file: 'vtest.avi', seconds: 20, setting: x264Settings[0] as X264Setting },
  { file: 'tree.avi', seconds: null, setting: x264Settings[4] as X264Setting },
];

/** Opencv-doc photographs (no graphics or renders), halved and saved once in turn as JPEG q90, q75 or PNG. */
const samplePhotos = [
  'baboon.jpg',
  'fruits.jpg',
  'messi5.jpg',
  'home.jpg',
  'building.jpg',
  'butterfly.jpg',
  'aero1.jpg',
  'leuvenA.jpg',
  'graf1.png',
  'basketball1.png',
  'rubberwhale1.png',
  'squirrel_cls.jpg',
];
const photoFormats: StillFormat[] = ['jpeg-q90', 'jpeg-q75', 'png'];

/** The sample videos that are installed, re-encoded once; returns the sample files used. */
export async function writeSampleVideos(dir: string, tools: EncodeTools, root = '/'): Promise<string[]> {
  const used: string[] = [];
  for (const { file, seconds, setting } of sampleVideos) {
    const input = join(root, opencvSampleDir, file);
    if (!(await exists(input))) continue;
    await runTool(
      tools.ffmpeg,
      [
        ...quiet,
        ...['-i', input, ...(seconds === null ? [] : ['-t', String(seconds)])],
        ...x264Args(setting),
        ...['-c:a', 'aac', '-b:a', '96k', '-movflags', '+faststart'],
        join(dir, `${file.replace('.', '-')}-${settingName(setting)}.mp4`),
      ],
      tools.signal,
    );
    used.push(file);
  }
  return used;
}

/** The sample photos that are installed, halved with an area filter and saved once; returns the files used. */
export async function writeSamplePhotos(dir: string, tools: EncodeTools, root = '/'): Promise<string[]> {
  const used: string[] = [];
  for (const file of samplePhotos) {
    const input = join(root, opencvSampleDir, file);
    if (!(await exists(input))) continue;
    const [width, height] = await halfSize(input, tools);
    const pixels = await runTool(
      tools.ffmpeg,
      [
        ...quiet,
        ...['-i', input, '-vf', `scale=${width}:${height}:flags=area,format=rgb24`],
        ...['-frames:v', '1', '-f', 'rawvideo', 'pipe:1'],
      ],
      tools.signal,
    );
    const format = photoFormats[used.length % photoFormats.length] as StillFormat;
    const stem = file.slice(0, file.lastIndexOf('.'));
    const output = join(dir, `${stem}-half-${format}.${format === 'png' ? 'png' : 'jpg'}`);
    await writeStill(output, imageFromBytes(width, height, pixels), format, tools);
    used.push(file);
  }
  return used;
}

async function halfSize(path: string, tools: EncodeTools): Promise<[number, number]> {
  const output = await runTool(
    tools.ffprobe,
    ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height', '-of', 'csv=p=0', path],
    tools.signal,
  );
  const [width = 0, height = 0] = output.toString().trim().split(',').map(Number);
  if (!(width >= 64 && height >= 64)) throw new Error(`${path}: not a readable picture of at least 64×64`);
  return [Math.round(width / 4) * 2, Math.round(height / 4) * 2];
}

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );
