/**
 * Measures the jpeg-compression detector on pictures generated from a folder of source images:
 * single saves at q75/q90/q95, re-saves q75→q90, q90→q75, q85→q95, and splices (a third of another
 * picture pasted into a q75 save, then saved at q90). Sources are halved with an area filter first, which
 * washes out any JPEG grid they carried. Prints AUCs (re-save vs single save at the final quality) and
 * rates at the detector's thresholds.
 *
 *   node --import tsx scripts/measure-jpeg-compression.ts [--limit N] SOURCE_DIR...
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { createFfmpegMediaTools } from '../src/media/ffmpeg.media-tools.js';
import { createJpegCompressionDetector } from '../src/pipeline/detectors/jpeg-compression.detector.js';
import type { DetectorContext } from '../src/pipeline/detector.js';
import { encodeJpeg, type RasterImage } from '../test/helpers/jpeg-encoder.js';

const execFileAsync = promisify(execFile);
const args = process.argv.slice(2);
const limitAt = args.indexOf('--limit');
const limit = limitAt >= 0 ? Number(args[limitAt + 1]) : Number.POSITIVE_INFINITY;
const folders = args.filter((_, index) => limitAt < 0 || (index !== limitAt && index !== limitAt + 1));
if (folders.length === 0) throw new Error('usage: measure-jpeg-compression.ts [--limit N] SOURCE_DIR...');

const ffmpeg = async (input: string[], output: string[]): Promise<Buffer> =>
  (
    await execFileAsync('ffmpeg', ['-nostdin', '-loglevel', 'error', ...input, ...output], {
      encoding: 'buffer',
      maxBuffer: 256 * 1024 * 1024,
    })
  ).stdout;

async function sourceImage(path: string): Promise<RasterImage | null> {
  const probe = (
    await execFileAsync('ffprobe', [
      '-v',
      'error',
      '-select_streams',
      'v:0',
      '-show_entries',
      'stream=width,height',
      '-of',
      'csv=p=0',
      path,
    ])
  ).stdout
    .trim()
    .split(',')
    .map(Number);
  const [w, h] = probe as [number, number];
  if (!(w >= 200 && h >= 200)) return null;
  const scale = Math.min(0.5, Math.sqrt(1_000_000 / (w * h)));
  const width = Math.round((w * scale) / 2) * 2;
  const height = Math.round((h * scale) / 2) * 2;
  const pixels = await ffmpeg(
    ['-i', path],
    ['-vf', `scale=${width}:${height}:flags=area,format=rgb24`, '-frames:v', '1', '-f', 'rawvideo', '-'],
  );
  return { width, height, channels: 3, pixels };
}

const dir = await mkdtemp(join(tmpdir(), 'guardian-measure-jpeg-'));
const tools = await createFfmpegMediaTools();
const detector = createJpegCompressionDetector();

async function decoded(bytes: Buffer, like: RasterImage): Promise<RasterImage> {
  const path = join(dir, 'decode.jpg');
  await writeFile(path, bytes);
  return { ...like, pixels: await ffmpeg(['-i', path], ['-f', 'rawvideo', '-pix_fmt', 'rgb24', '-']) };
}

interface Result {
  statistic: number | null;
  score: number | null;
  region: { x: number; y: number; width: number; height: number } | null;
}

async function judge(bytes: Buffer): Promise<Result> {
  const path = join(dir, 'judge.jpg');
  await writeFile(path, bytes);
  const context: DetectorContext = {
    input: path,
    sizeBytes: (await stat(path)).size,
    probe: await tools.probe(path),
    mediaTools: tools,
    signal: new AbortController().signal,
    frames: () => Promise.reject(new Error('not used')),
    faces: () => Promise.reject(new Error('not used')),
  };
  const finding = await detector.analyze(context);
  const region = finding.evidence.find((item) => item.kind === 'double-compression-inconsistent-region');
  return {
    statistic: finding.score === null ? null : Number(finding.measurements.doubleCompressionStatistic),
    score: finding.score,
    region: (region?.data?.box as Result['region']) ?? null,
  };
}

const classes = ['s75', 's90', 's95', 'd75-90', 'd90-75', 'd85-95', 'splice'] as const;
const results = new Map<string, Result[]>(classes.map((name) => [name, []]));
const spliceBoxes: { x: number; y: number; width: number; height: number }[] = [];
const sources: string[] = [];
for (const folder of folders)
  for (const name of (await readdir(folder)).sort())
    if (/\.(jpe?g|png)$/i.test(name)) sources.push(join(folder, name));

try {
  let used = 0;
  let previous: RasterImage | null = null;
  for (const path of sources) {
    if (used >= limit) break;
    const image = await sourceImage(path);
    if (!image) continue;
    used += 1;
    const push = async (name: string, bytes: Buffer) => results.get(name)?.push(await judge(bytes));
    for (const quality of [75, 90, 95]) await push(`s${quality}`, encodeJpeg(image, { quality }));
    for (const [first, second] of [
      [75, 90],
      [90, 75],
      [85, 95],
    ] as const)
      await push(
        `d${first}-${second}`,
        encodeJpeg(await decoded(encodeJpeg(image, { quality: first }), image), { quality: second }),
      );
    if (previous) {
      const background = await decoded(encodeJpeg(image, { quality: 75 }), image);
      const pixels = Buffer.from(background.pixels);
      const box = {
        x: Math.floor(image.width / 3) + 3,
        y: Math.floor(image.height / 3) + 5,
        width: Math.floor(image.width / 3),
        height: Math.floor(image.height / 3),
      };
      for (let y = box.y; y < box.y + box.height; y += 1)
        for (let x = box.x; x < box.x + box.width; x += 1) {
          const sx = x % previous.width;
          const sy = y % previous.height;
          for (let channel = 0; channel < 3; channel += 1)
            pixels[(y * image.width + x) * 3 + channel] = previous.pixels[
              (sy * previous.width + sx) * 3 + channel
            ] as number;
        }
      spliceBoxes.push(box);
      await push('splice', encodeJpeg({ ...image, pixels }, { quality: 90 }));
    }
    previous = image;
    process.stderr.write(`${used} ${basename(path)}\n`);
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}

const judged = (name: string) => (results.get(name) ?? []).filter((result) => result.statistic !== null);
const auc = (positive: number[], negative: number[]) => {
  let sum = 0;
  for (const p of positive) for (const n of negative) sum += p > n ? 1 : p === n ? 0.5 : 0;
  return sum / (positive.length * negative.length);
};
const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
console.log('class      pictures  abstained  median-statistic  share>=0.02  share score>=0.7');
for (const name of classes) {
  const all = results.get(name) ?? [];
  const ok = judged(name);
  const statistics = ok.map((result) => result.statistic as number);
  console.log(
    `${name.padEnd(10)} ${String(all.length).padStart(8)} ${String(all.length - ok.length).padStart(10)} ${median(statistics).toFixed(4).padStart(17)} ${(statistics.filter((s) => s >= 0.02).length / Math.max(1, ok.length)).toFixed(2).padStart(12)} ${(ok.filter((r) => (r.score ?? 0) >= 0.7).length / Math.max(1, ok.length)).toFixed(2).padStart(17)}`,
  );
}
for (const [double, single] of [
  ['d75-90', 's90'],
  ['d90-75', 's75'],
  ['d85-95', 's95'],
] as const) {
  const value = auc(
    judged(double).map((result) => result.statistic as number),
    judged(single).map((result) => result.statistic as number),
  );
  console.log(`AUC ${double} vs ${single}: ${value.toFixed(3)}`);
}
const splices = results.get('splice') ?? [];
const located = splices.filter((result, index) => {
  const box = spliceBoxes[index];
  if (!result.region || !box) return false;
  const ix = Math.max(
    0,
    Math.min(result.region.x + result.region.width, box.x + box.width) - Math.max(result.region.x, box.x),
  );
  const iy = Math.max(
    0,
    Math.min(result.region.y + result.region.height, box.y + box.height) - Math.max(result.region.y, box.y),
  );
  const intersection = ix * iy;
  const union = result.region.width * result.region.height + box.width * box.height - intersection;
  return intersection / union >= 0.5;
});
console.log(`splices located (box IoU >= 0.5): ${located.length} of ${splices.length}`);
const falseRegions = (results.get('d75-90') ?? []).filter((result) => result.region !== null).length;
console.log(
  `regions reported on whole-picture re-saves (q75 -> q90): ${falseRegions} of ${(results.get('d75-90') ?? []).length}`,
);
