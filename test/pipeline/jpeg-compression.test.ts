import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFfmpegMediaTools, type FfmpegMediaTools } from '../../src/media/ffmpeg.media-tools.js';
import type { DetectorFinding } from '../../src/pipeline/detector.js';
import { createJpegCompressionDetector } from '../../src/pipeline/detectors/jpeg-compression.detector.js';
import { fileDetectorContext } from '../helpers/detector-context.js';
import { encodeJpeg, type RasterImage } from '../helpers/jpeg-encoder.js';
import {
  createMediaTempDir,
  generateStill,
  runFfmpeg,
  type MediaTempDir,
} from '../helpers/media-fixtures.js';
import { progressiveJpegBase64 } from '../helpers/progressive-jpeg-fixture.js';

const execFileAsync = promisify(execFile);
const detector = createJpegCompressionDetector();
const [width, height] = [512, 384];
let temp: MediaTempDir;
let tools: FfmpegMediaTools;
let scene: RasterImage;
let insert: RasterImage;

/** A textured synthetic picture from an FFmpeg source (noise and a slight blur give natural DCT statistics). */
async function render(graph: string): Promise<RasterImage> {
  const { stdout } = await execFileAsync(
    'ffmpeg',
    [
      '-nostdin',
      '-loglevel',
      'error',
      '-f',
      'lavfi',
      '-i',
      graph,
      '-frames:v',
      '1',
      '-f',
      'rawvideo',
      '-pix_fmt',
      'rgb24',
      '-',
    ],
    { encoding: 'buffer', maxBuffer: 16 * 1024 * 1024 },
  );
  return { width, height, channels: 3, pixels: stdout };
}

async function save(name: string, bytes: Buffer): Promise<string> {
  const path = join(temp.dir, name);
  await writeFile(path, bytes);
  return path;
}

/** Decoded by FFmpeg back to RGB, as an editor opening the file would. */
async function decoded(path: string): Promise<RasterImage> {
  const { stdout } = await execFileAsync(
    'ffmpeg',
    ['-nostdin', '-loglevel', 'error', '-i', path, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'],
    { encoding: 'buffer', maxBuffer: 16 * 1024 * 1024 },
  );
  return { width, height, channels: 3, pixels: stdout };
}

async function resaved(name: string, first: number, second: number): Promise<string> {
  const original = await save(`${name}-first.jpg`, encodeJpeg(scene, { quality: first }));
  return save(`${name}.jpg`, encodeJpeg(await decoded(original), { quality: second }));
}

async function analyse(path: string): Promise<DetectorFinding> {
  const context = await fileDetectorContext(path, { probe: await tools.probe(path), mediaTools: tools });
  expect(detector.applicable(context)).toEqual({ applicable: true });
  return detector.analyze(context);
}

const kinds = (finding: DetectorFinding) => finding.evidence.map((item) => item.kind);

beforeAll(async () => {
  temp = await createMediaTempDir('guardian-jpeg-dq-');
  tools = await createFfmpegMediaTools();
  scene = await render(
    `testsrc2=size=${width}x${height}:rate=1,noise=alls=24:allf=t:all_seed=7,gblur=sigma=0.8`,
  );
  insert = await render(
    `mandelbrot=size=${width}x${height}:rate=1,noise=alls=30:allf=t:all_seed=3,gblur=sigma=0.7`,
  );
});
afterAll(() => temp.remove());

describe('jpeg-compression: quantisation tables', () => {
  it('recognises libjpeg tables at a given quality, and custom tables', async () => {
    const standard = await analyse(await save('q90.jpg', encodeJpeg(scene, { quality: 90 })));
    expect(standard.evidence[0]).toMatchObject({ kind: 'standard-quantisation-tables' });
    expect(standard.measurements).toMatchObject({
      standardTables: true,
      luminanceQuality: 90,
      luminanceTableExact: true,
    });

    const ffmpeg = join(temp.dir, 'ffmpeg-q3.jpg');
    await runFfmpeg([
      '-f',
      'lavfi',
      '-i',
      `testsrc2=size=${width}x${height}:rate=1`,
      '-frames:v',
      '1',
      '-pix_fmt',
      'yuvj420p',
      '-q:v',
      '3',
      ffmpeg,
    ]);
    const custom = await analyse(ffmpeg);
    expect(custom.evidence[0]).toMatchObject({ kind: 'custom-quantisation-tables' });
    expect(custom.measurements.standardTables).toBe(false);
  });
});

describe('jpeg-compression: double compression', () => {
  it('scores a single save low, with no double-compression evidence', async () => {
    for (const quality of [75, 90, 95]) {
      const finding = await analyse(await save(`single-${quality}.jpg`, encodeJpeg(scene, { quality })));
      expect(finding.score).toBeLessThan(0.3);
      expect(kinds(finding)).not.toContain('double-compression');
      expect(finding.measurements.doubleCompressionStatistic).toBeLessThan(0.02);
    }
  });

  it('finds a re-save (q75 → q90, q85 → q95) and keeps it below the strong band, with a map artifact', async () => {
    for (const [first, second] of [
      [75, 90],
      [85, 95],
    ] as const) {
      const finding = await analyse(await resaved(`resaved-${first}-${second}`, first, second));
      expect(kinds(finding)).toContain('double-compression');
      expect(kinds(finding)).not.toContain('double-compression-inconsistent-region');
      expect(finding.score).toBeGreaterThanOrEqual(0.45);
      expect(finding.score).toBeLessThan(0.7);
      expect(finding.explanation).toMatch(/not proof of manipulation/);
      const map = finding.artifacts?.find((artifact) => artifact.name.endsWith('.pgm'));
      expect(map?.data.subarray(0, 11).toString('latin1')).toBe('P5\n64 48\n25');
    }
  });

  it('estimates the earlier IJG quality of a q75 → q90 re-save', async () => {
    const finding = await analyse(await resaved('estimate', 75, 90));
    const quality = Number(/IJG quality (\d+)/.exec(finding.explanation.split('re-saved')[1] ?? '')?.[1]);
    expect(quality).toBeGreaterThanOrEqual(70);
    expect(quality).toBeLessThanOrEqual(80);
  });

  it('finds a re-save by FFmpeg (its own tables, -q:v 8 then -q:v 3)', async () => {
    const first = join(temp.dir, 'ffmpeg-8.jpg');
    const second = join(temp.dir, 'ffmpeg-8-3.jpg');
    const raw = await save('scene.rgb', Buffer.from(scene.pixels));
    await runFfmpeg([
      '-f',
      'rawvideo',
      '-pix_fmt',
      'rgb24',
      '-s',
      `${width}x${height}`,
      '-i',
      raw,
      '-frames:v',
      '1',
      '-pix_fmt',
      'yuvj420p',
      '-q:v',
      '8',
      first,
    ]);
    await runFfmpeg(['-i', first, '-pix_fmt', 'yuvj420p', '-q:v', '3', second]);
    const finding = await analyse(second);
    expect(kinds(finding)).toContain('double-compression');
    expect(finding.score).toBeLessThan(0.7);
  });

  it('locates a pasted region that lacks the trace the rest carries, and scores it in the strong band', async () => {
    const background = await decoded(await save('splice-first.jpg', encodeJpeg(scene, { quality: 75 })));
    const pixels = Buffer.from(background.pixels);
    const box = { x: 200, y: 120, width: 160, height: 128 };
    for (let y = box.y; y < box.y + box.height; y += 1)
      for (let x = box.x; x < box.x + box.width; x += 1)
        for (let channel = 0; channel < 3; channel += 1)
          pixels[(y * width + x) * 3 + channel] = insert.pixels[(y * width + x) * 3 + channel] as number;
    const finding = await analyse(
      await save('spliced.jpg', encodeJpeg({ ...background, pixels }, { quality: 90 })),
    );
    expect(finding.score).toBeGreaterThanOrEqual(0.7);
    const region = finding.evidence.find((item) => item.kind === 'double-compression-inconsistent-region');
    const found = region?.data?.box as { x: number; y: number; width: number; height: number };
    // The window smooths the edges: the box covers the pasted area, and not much more.
    expect(found.x).toBeLessThanOrEqual(box.x);
    expect(found.y).toBeLessThanOrEqual(box.y);
    expect(found.x + found.width).toBeGreaterThanOrEqual(box.x + box.width);
    expect(found.y + found.height).toBeGreaterThanOrEqual(box.y + box.height);
    expect(found.width * found.height).toBeLessThan(2 * box.width * box.height);
    expect(finding.artifacts?.map((artifact) => artifact.name)).toEqual([
      'double-compression-map.pgm',
      'double-compression-fit.json',
    ]);
  });
});

describe('jpeg-compression abstains honestly', () => {
  it('is not applicable to PNG, and abstains on a picture too small to judge', async () => {
    const png = await generateStill(temp.dir, { format: 'png' });
    const context = await fileDetectorContext(png, { probe: await tools.probe(png), mediaTools: tools });
    expect(detector.applicable(context)).toEqual({ applicable: false, reason: 'not a JPEG still image' });

    const tiny = await analyse(
      await generateStill(temp.dir, { format: 'jpeg', size: '64x48', name: 'tiny' }),
    );
    expect(tiny.score).toBeNull();
    expect(tiny.abstainReason).toMatch(/too little texture/);
    expect(tiny.evidence[0]?.kind).toMatch(/quantisation-tables/);
  });

  it('does not judge graphics (flat squares, hard edges) whose histograms follow neither model', async () => {
    const pixels = new Uint8Array(width * height * 3);
    for (let y = 0; y < height; y += 1)
      for (let x = 0; x < width; x += 1) {
        const value = (Math.floor((x + 5) / 37) + Math.floor((y + 3) / 37)) % 2 ? 230 : 25;
        pixels.set([value, value, (value + 60) & 255], (y * width + x) * 3);
      }
    const finding = await analyse(
      await save('chessboard.jpg', encodeJpeg({ width, height, channels: 3, pixels }, { quality: 90 })),
    );
    expect(finding.score).toBeNull();
    expect(finding.abstainReason).toMatch(/neither a single nor a double save/);
  });

  it('reads a progressive JPEG', async () => {
    const finding = await analyse(
      await save('progressive.jpg', Buffer.from(progressiveJpegBase64, 'base64')),
    );
    expect(finding.measurements.coding).toBe('progressive');
    expect(finding.abstainReason).toMatch(/too little texture/);
    expect(finding.measurements.blocks).toBe(48);
  });
});
