/**
 * Measures the face-resampling traces on `guardian eval`-style twins: for each Debian source image, noise
 * level (low, medium, high) and seed, an authentic camera frame and its face-resample and face-smooth
 * copies, saved as 720p30 H.264 CRF 20 (frames 0, 9 and 17 of a 24-frame clip), JPEG q90 and PNG, decoded
 * again and read with the hand-drawn face box (no face finder). Prints, per format and kind, the periodic
 * excess and fine-detail deficit (video: median of the 3 frames), their AUC against the authentic twins,
 * and how many items reach the detector's 0.3 and 0.7 scores.
 *
 *   node --import tsx scripts/measure-face-resampling.ts [--seeds N]
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { openVideoWriter, writeStill } from '../src/evaluation/media-writer.js';
import type { Rect, RgbImage } from '../src/evaluation/rgb-image.js';
import { seededRandom } from '../src/evaluation/seeded-random.js';
import { noiseLevels } from '../src/evaluation/sensor-noise.js';
import { loadDebianSources } from '../src/evaluation/source-images.js';
import { createStillTwins, createVideoTwins } from '../src/evaluation/twin-frames.js';
import { faceResamplingTraces } from '../src/forensics/face-resampling-traces.js';
import { falloffScore, periodicScore } from '../src/pipeline/detectors/face-resampling.detector.js';

const execFileAsync = promisify(execFile);
const seedsAt = process.argv.indexOf('--seeds');
const seeds = seedsAt >= 0 ? Number(process.argv[seedsAt + 1]) : 2;
const kinds = ['face-resample', 'face-smooth'] as const;
const labels = ['authentic', ...kinds] as const;
const videoFrames = [0, 9, 17];
const tools = { ffmpeg: 'ffmpeg', ffprobe: 'ffprobe', signal: new AbortController().signal };

interface Row {
  format: 'h264-crf20' | 'jpeg-q90' | 'png';
  label: (typeof labels)[number];
  excess: number;
  deficit: number;
}

const decode = async (file: string): Promise<Buffer> =>
  (
    await execFileAsync(
      'ffmpeg',
      ['-nostdin', '-v', 'error', '-i', file, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'],
      { encoding: 'buffer', maxBuffer: 1 << 30 },
    )
  ).stdout;

function measure(rgb: Buffer, width: number, height: number, box: Rect, blockGrid: boolean) {
  const face = {
    frameIndex: 0,
    timeSeconds: 0,
    box: [box.x, box.y, box.width, box.height] as [number, number, number, number],
    score: 1,
    mesh: [],
    rotation: null,
    embedding: [],
  };
  return faceResamplingTraces(rgb, width, height, face, { blockGrid });
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

async function measureVideo(dir: string, twins: ReturnType<typeof createVideoTwins>, tag: string) {
  const format = { width: 1280, height: 720, fps: 30, crf: 20, seconds: 1, audioSeed: 1 };
  const files = labels.map((label) => join(dir, `${tag}-${label}.mp4`));
  const writers = files.map((file) => openVideoWriter(file, format, tools));
  for (let index = 0; index < 24; index++) {
    const frame = twins.frame(index);
    const images = [frame.authentic, ...kinds.map((kind) => frame.manipulated.get(kind)!)];
    await Promise.all(images.map((image, i) => writers[i]!.write(image.data)));
  }
  await Promise.all(writers.map((writer) => writer.close()));
  const rows: Row[] = [];
  const frameBytes = 1280 * 720 * 3;
  for (const [i, label] of labels.entries()) {
    const raw = await decode(files[i]!);
    const traces = videoFrames.flatMap((index) => {
      const rgb = raw.subarray(index * frameBytes, (index + 1) * frameBytes);
      return measure(rgb, 1280, 720, twins.faceBox(index), true) ?? [];
    });
    if (traces.length === 0) continue;
    rows.push({
      format: 'h264-crf20',
      label,
      excess: median(traces.map((t) => t.periodic.excess)),
      deficit: median(traces.map((t) => t.falloffDeficit)),
    });
  }
  return rows;
}

async function measureStills(dir: string, twins: ReturnType<typeof createStillTwins>, tag: string) {
  const frame = twins.frame(0);
  const rows: Row[] = [];
  for (const format of ['jpeg-q90', 'png'] as const) {
    for (const label of labels) {
      const image: RgbImage = label === 'authentic' ? frame.authentic : frame.manipulated.get(label)!;
      const file = join(dir, `${tag}-${label}.${format === 'png' ? 'png' : 'jpg'}`);
      await writeStill(file, image, format, tools);
      const traces = measure(await decode(file), image.width, image.height, frame.faceBox, format !== 'png');
      if (traces)
        rows.push({ format, label, excess: traces.periodic.excess, deficit: traces.falloffDeficit });
    }
  }
  return rows;
}

function auc(negatives: number[], positives: number[]): number {
  let sum = 0;
  for (const n of negatives) for (const p of positives) sum += p > n ? 1 : p === n ? 0.5 : 0;
  return sum / (negatives.length * positives.length);
}

const dir = await mkdtemp(join(tmpdir(), 'measure-face-resampling-'));
try {
  const rows: Row[] = [];
  for (const source of await loadDebianSources(tools)) {
    for (const noise of noiseLevels) {
      for (let seed = 1; seed <= seeds; seed++) {
        const tag = `${source.name}-${noise}-${seed}`;
        const random = seededRandom(seed).fork(source.name);
        const request = { source, donor: null, kinds, noise };
        const shot = { width: 1280, height: 720, fps: 30, frameCount: 180 };
        rows.push(
          ...(await measureVideo(
            dir,
            createVideoTwins({ ...request, random: random.fork('video') }, shot),
            tag,
          )),
        );
        rows.push(
          ...(await measureStills(dir, createStillTwins({ ...request, random: random.fork('still') }), tag)),
        );
        console.error(`measured ${tag}`);
      }
    }
  }
  const score = (row: Row) => Math.max(periodicScore(row.excess), falloffScore(row.deficit));
  for (const format of ['h264-crf20', 'jpeg-q90', 'png'] as const) {
    const of = (label: Row['label']) => rows.filter((row) => row.format === format && row.label === label);
    const authentic = of('authentic');
    for (const label of labels) {
      const items = of(label);
      const range = (key: 'excess' | 'deficit') => {
        const values = items.map((row) => row[key]).sort((a, b) => a - b);
        return `${values[0]!.toFixed(2)}…${median(values).toFixed(2)}…${values.at(-1)!.toFixed(2)}`;
      };
      const vs =
        label === 'authentic'
          ? ''
          : ` AUC excess ${auc(
              authentic.map((r) => r.excess),
              items.map((r) => r.excess),
            ).toFixed(3)}` +
            ` deficit ${auc(
              authentic.map((r) => r.deficit),
              items.map((r) => r.deficit),
            ).toFixed(3)}` +
            ` score ${auc(authentic.map(score), items.map(score)).toFixed(3)}`;
      console.log(
        `${format.padEnd(10)} ${label.padEnd(13)} n=${items.length} excess ${range('excess')} deficit ${range('deficit')}` +
          ` score≥0.3 ${items.filter((r) => score(r) >= 0.3).length} ≥0.7 ${items.filter((r) => score(r) >= 0.7).length}${vs}`,
      );
    }
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
