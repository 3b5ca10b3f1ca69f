import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { seededRandom } from '../../src/evaluation/seeded-random.js';
import { resolveFfmpegBinaries } from '../../src/media/ffmpeg-binaries.js';
import { runFfmpeg } from './media-fixtures.js';

/**
 * A "talking" clip made at test time: the astronaut face photo whose jaw drops by a syllable-like loudness
 * envelope, frame by frame, over a still backdrop, with a buzzing voice-like sound following the same
 * envelope. `audioDelayMs` moves the sound later against the picture (timestamps, as `-itsoffset` does).
 */
export interface TalkingClipOptions {
  name: string;
  seconds?: number;
  fps?: number;
  /** Sound later than the mouth by this much; 0 is in step. */
  audioDelayMs?: number;
  /** False: no audio stream at all. */
  audio?: boolean;
  /** Seeds the syllable timing. */
  seed?: number;
}

const faceImage = fileURLToPath(new URL('../fixtures/faces/astronaut-face.jpg', import.meta.url));
const frameSize = { width: 640, height: 360 };
// The photo at 1.5×: 300×330, pasted at (170, 15). Measured on its face mesh (points 13/14 the inner lips,
// 61/291 the mouth corners, 152 the chin) at 1.5×: lips part at y 189, mouth x 92–158, chin at y 232.
const face = { scale: 1.5, width: 300, height: 330, left: 170, top: 15 };
const mouth = { centreX: 125, lineY: 189, halfWidth: 33, chinY: 232, maxOpening: 18 };
const audioRate = 16_000;

export async function talkingClip(dir: string, options: TalkingClipOptions): Promise<string> {
  const seconds = options.seconds ?? 4;
  const fps = options.fps ?? 30;
  const envelope = syllableEnvelope(seconds + 1, options.seed ?? 1);
  const photo = await decodePhoto(dir);
  const output = join(dir, `${options.name}.mp4`);
  const audioFile = join(dir, `${options.name}.s16`);
  if (options.audio !== false) await writeFile(audioFile, voice(envelope, seconds));
  const args = [
    ...['-nostdin', '-hide_banner', '-loglevel', 'error', '-y'],
    ...['-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${frameSize.width}x${frameSize.height}`],
    ...['-framerate', String(fps), '-i', 'pipe:0'],
    ...(options.audio === false
      ? []
      : [
          ...['-itsoffset', ((options.audioDelayMs ?? 0) / 1000).toFixed(3)],
          ...['-f', 's16le', '-ar', String(audioRate), '-ac', '1', '-i', audioFile],
          ...['-map', '0:v', '-map', '1:a', '-c:a', 'aac', '-b:a', '64k'],
        ]),
    ...['-c:v', 'libx264', '-preset', 'veryfast', '-crf', '20', '-pix_fmt', 'yuv420p', '-threads', '1'],
    ...['-t', String(seconds), '-movflags', '+faststart', output],
  ];
  const backdrop = stillBackdrop();
  await encodeFrames(args, Math.round(seconds * fps), (index) =>
    talkingFrame(backdrop, photo, mouth.maxOpening * envelope(index / fps)),
  );
  return output;
}

/**
 * Syllables of 120–320 ms (a raised sine each) with pauses of 40–300 ms, irregular like speech so that
 * no other lag matches as well as the true one; 0–1.
 */
export function syllableEnvelope(seconds: number, seed: number): (timeSeconds: number) => number {
  const random = seededRandom(seed);
  const syllables: { start: number; length: number; height: number }[] = [];
  for (let time = random.between(0.05, 0.2); time < seconds;) {
    const length = random.between(0.12, 0.32);
    syllables.push({ start: time, length, height: random.between(0.6, 1) });
    time += length + random.between(0.04, 0.3);
  }
  return (time) => {
    const syllable = syllables.find((s) => time >= s.start && time < s.start + s.length);
    return syllable ? syllable.height * Math.sin((Math.PI * (time - syllable.start)) / syllable.length) : 0;
  };
}

/** A 130 Hz buzz with falling harmonics, its loudness following the envelope, over faint hiss. */
function voice(envelope: (timeSeconds: number) => number, seconds: number): Buffer {
  const count = Math.round(seconds * audioRate);
  const random = seededRandom('hiss');
  const pcm = Buffer.alloc(count * 2);
  for (let i = 0; i < count; i++) {
    const time = i / audioRate;
    let buzz = 0;
    for (let harmonic = 1; harmonic <= 8; harmonic++)
      buzz += Math.sin(2 * Math.PI * 130 * harmonic * time) / harmonic;
    const value = 0.25 * envelope(time) * buzz + 0.003 * random.gaussian();
    pcm.writeInt16LE(Math.max(-32767, Math.min(32767, Math.round(value * 32767))), i * 2);
  }
  return pcm;
}

async function decodePhoto(dir: string): Promise<Buffer> {
  const raw = join(dir, 'talking-face.rgb');
  await runFfmpeg([
    ...['-i', faceImage, '-vf', `scale=${face.width}:${face.height}:flags=bicubic`],
    ...['-f', 'rawvideo', '-pix_fmt', 'rgb24', raw],
  ]);
  return readFile(raw);
}

/** A soft gradient with fixed fine texture: the same in every frame, so only the mouth moves. */
function stillBackdrop(): Buffer {
  const random = seededRandom('backdrop');
  const pixels = Buffer.alloc(frameSize.width * frameSize.height * 3);
  for (let y = 0; y < frameSize.height; y++)
    for (let x = 0; x < frameSize.width; x++) {
      const base = 90 + (60 * x) / frameSize.width + (30 * y) / frameSize.height + 12 * random.gaussian();
      const at = (y * frameSize.width + x) * 3;
      pixels[at] = clampByte(base + 10);
      pixels[at + 1] = clampByte(base);
      pixels[at + 2] = clampByte(base - 10);
    }
  return pixels;
}

/**
 * The photo with its jaw dropped by `opening` pixels: below the parted lips everything moves down (fully
 * within the mouth's width and down to the chin, fading out beside and below), and the gap opened between
 * the lips is the dark inside of the mouth.
 */
function talkingFrame(backdrop: Buffer, photo: Buffer, opening: number): Buffer {
  const frame = Buffer.from(backdrop);
  for (let y = 0; y < face.height; y++)
    for (let x = 0; x < face.width; x++) {
      const target = ((face.top + y) * frameSize.width + face.left + x) * 3;
      const shift = y < mouth.lineY ? 0 : opening * sideWeight(x) * depthWeight(y);
      const sourceY = y - shift;
      if (shift > 0 && sourceY < mouth.lineY) {
        if (Math.abs(x - mouth.centreX) <= mouth.halfWidth - 3) {
          frame.set([45, 18, 22], target);
          continue;
        }
      }
      const row = Math.max(mouth.lineY, sourceY);
      const above = Math.floor(shift > 0 ? row : y);
      const share = shift > 0 ? row - above : 0;
      for (let c = 0; c < 3; c++) {
        const top = photo[(above * face.width + x) * 3 + c]!;
        const below = photo[(Math.min(face.height - 1, above + 1) * face.width + x) * 3 + c]!;
        frame[target + c] = Math.round(top * (1 - share) + below * share);
      }
    }
  return frame;
}

const sideWeight = (x: number) =>
  clamp01(1 - (Math.abs(x - mouth.centreX) - mouth.halfWidth) / mouth.halfWidth);
const depthWeight = (y: number) => clamp01(1 - (y - mouth.chinY) / 30);
const clamp01 = (value: number) => Math.min(1, Math.max(0, value));
const clampByte = (value: number) => Math.min(255, Math.max(0, Math.round(value)));

/** Streams the frames into ffmpeg's stdin (no raw video on disk). */
async function encodeFrames(args: string[], count: number, frame: (index: number) => Buffer): Promise<void> {
  const binaries = await resolveFfmpegBinaries({
    ffmpegPath: process.env.FFMPEG_PATH,
    ffprobePath: process.env.FFPROBE_PATH,
    searchPath: process.env.PATH ?? '',
  });
  const child = spawn(binaries.ffmpeg.path, args, { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg failed: ${stderr}`))));
  });
  for (let index = 0; index < count; index++) {
    if (!child.stdin.write(frame(index)))
      await new Promise<void>((resolve) => child.stdin.once('drain', () => resolve()));
  }
  child.stdin.end();
  await exited;
}
