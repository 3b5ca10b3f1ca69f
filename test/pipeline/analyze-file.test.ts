import { createHash } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFfmpegMediaTools, type FfmpegMediaTools } from '../../src/media/ffmpeg.media-tools.js';
import type { MediaTools } from '../../src/media/media-probe.js';
import { defaultMediaLimits } from '../../src/media/media-limits.js';
import { UnsupportedMediaError } from '../../src/pipeline/analysis-errors.js';
import { createDetectionEngine } from '../../src/pipeline/detection-engine.js';
import type { AnalysisPipeline } from '../../src/pipeline/analysis-pipeline.js';
import { analyzeFile } from '../../src/pipeline/analyze-file.js';
import { createMediaTempDir, generateClip, splice, type MediaTempDir } from '../helpers/media-fixtures.js';

let temp: MediaTempDir;
let tools: FfmpegMediaTools;
let pipeline: AnalysisPipeline;

beforeAll(async () => {
  temp = await createMediaTempDir();
  tools = await createFfmpegMediaTools();
  pipeline = (await createDetectionEngine({ mediaTools: tools, limits: defaultMediaLimits })).pipeline;
});
afterAll(() => temp.remove());

const signal = () => new AbortController().signal;

describe('analyzeFile', () => {
  it('hashes, probes once and analyses a clip with the default detectors', async () => {
    const clip = await generateClip(temp.dir, {
      seconds: 4,
      audio: true,
      metadata: { creation_time: '2024-05-01T10:00:00Z' },
    });
    let probes = 0;
    const counting: MediaTools = {
      ...tools,
      probe: (input, abort) => ((probes += 1), tools.probe(input, abort)),
    };
    const report = await analyzeFile(clip, {
      pipeline: (await createDetectionEngine({ mediaTools: counting, limits: defaultMediaLimits })).pipeline,
      signal: signal(),
    });
    expect(probes).toBe(1);
    expect(report.media.sha256).toBe(
      createHash('sha256')
        .update(await readFile(clip))
        .digest('hex'),
    );
    expect(report.media.sizeBytes).toBe((await stat(clip)).size);
    expect(report.detectors.map((detector) => detector.id)).toEqual([
      'gop-double-compression',
      'frame-duplication',
      'metadata-traces',
      'face-noise-mismatch',
      'face-resampling',
      'face-temporal',
      'face-blink-pose',
      'face-blend-boundary',
      'av-offset',
      'jpeg-compression',
      'image-metadata',
      'c2pa-provenance',
    ]);
    expect(report.band).toBe('no_indicators');
    expect(report.versions.ffmpeg).toBe(tools.binaries.ffmpeg.version);
  });

  it('reports the join of a spliced clip as manipulation indicators', async () => {
    const spliced = await splice(temp.dir, [
      { seconds: 5, gop: 30, crf: 20 },
      { seconds: 5, source: 'mandelbrot', gop: 25, crf: 28 },
    ]);
    const report = await analyzeFile(spliced, { pipeline, signal: signal() });
    expect(report.band).toBe('indicators_found');
    expect(report.reasons[0]).toMatch(
      /^gop-double-compression scored 0\.\d+ .*two differently encoded streams joined/,
    );
  });

  it('refuses what is not media, naming what it is', async () => {
    const page = join(temp.dir, 'page.mp4');
    await writeFile(page, '<!doctype html><html><script>alert(1)</script></html>');
    await expect(analyzeFile(page, { pipeline, signal: signal() })).rejects.toThrow(UnsupportedMediaError);
    await expect(analyzeFile(page, { pipeline, signal: signal() })).rejects.toThrow(
      /the file is HTML, not media/,
    );
    const empty = join(temp.dir, 'empty.mp4');
    await writeFile(empty, '');
    await expect(analyzeFile(empty, { pipeline, signal: signal() })).rejects.toThrow(/is empty/);
  });

  it('reports media ffprobe cannot read as not analyzable, with the reason', async () => {
    const broken = join(temp.dir, 'broken.mp4');
    const header = Buffer.from('0000001c667479706d703432000000006d7034326973366d', 'hex');
    await writeFile(broken, Buffer.concat([header, Buffer.alloc(2048, 0x5a)]));
    const report = await analyzeFile(broken, { pipeline, signal: signal() });
    expect(report.band).toBe('not_analyzable');
    expect(report.reasons[0]).toMatch(
      /^the media cannot be analysed: ffprobe could not read the file: ffprobe/,
    );
    expect(report.integrity).toBeNull();
    expect(report.detectors.every((detector) => detector.score === null)).toBe(true);
  });
});
