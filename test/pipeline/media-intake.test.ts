import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFfmpegMediaTools, type FfmpegMediaTools } from '../../src/media/ffmpeg.media-tools.js';
import { defaultMediaLimits } from '../../src/media/media-limits.js';
import { MediaToolError } from '../../src/media/media-tool-error.js';
import { createDetectionEngine } from '../../src/pipeline/detection-engine.js';
import type { AnalysisPipeline } from '../../src/pipeline/analysis-pipeline.js';
import { analyzeFile } from '../../src/pipeline/analyze-file.js';
import { createMediaIntakeCheck, MediaIntakeRefusal } from '../../src/pipeline/media-intake.js';
import { withSharedPackets } from '../../src/pipeline/shared-media-tools.js';
import {
  h264Mp4,
  h264SpsBomb,
  jpegClaimingHuge,
  jpegCut,
  jpegStill,
  mp4WithCutIndex,
  mp4WithoutSampleData,
  mp4WithSampleDataCut,
  pngClaiming,
} from '../helpers/hostile-media.js';
import { createMediaTempDir, type MediaTempDir } from '../helpers/media-fixtures.js';

let temp: MediaTempDir;
let tools: FfmpegMediaTools;
let pipeline: AnalysisPipeline;
const intake = createMediaIntakeCheck({ limits: defaultMediaLimits });

beforeAll(async () => {
  temp = await createMediaTempDir('guardian-intake-');
  tools = await createFfmpegMediaTools({ limits: defaultMediaLimits });
  pipeline = (await createDetectionEngine({ mediaTools: tools, limits: defaultMediaLimits })).pipeline;
});
afterAll(() => temp.remove());

const signal = () => new AbortController().signal;

async function check(path: string) {
  return intake.check({
    input: path,
    sizeBytes: (await stat(path)).size,
    mediaTools: withSharedPackets(tools),
  });
}

async function refusal(path: string): Promise<MediaIntakeRefusal> {
  const error = await check(path).then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(MediaIntakeRefusal);
  return error as MediaIntakeRefusal;
}

/** Each class from the outside corpus: the intake refusal, and the same file through `analyze`. */
describe('media intake check on the hostile classes', () => {
  const refused: [string, string, RegExp, (dir: string) => Promise<string>][] = [
    ['an MP4 whose moov is cut in the middle', 'media-truncated', /moov box .* file ends/, mp4WithCutIndex],
    [
      'an MP4 with a complete index and no sample data',
      'media-truncated',
      /none of the 100 samples the index lists is inside the file/,
      mp4WithoutSampleData,
    ],
    [
      'an H.264 stream whose SPS claims 65536×65528',
      'media-dimensions-too-large',
      /65536×65528.*sequence parameter set/,
      h264SpsBomb,
    ],
    [
      'a PNG whose IHDR claims 65535×65535 with a few rows',
      'media-dimensions-too-large',
      /image is 65535×65535.*image header/,
      async (dir) => {
        const path = join(dir, 'png-bomb.png');
        await writeFile(path, pngClaiming(65535, 65535, 4));
        return path;
      },
    ],
    [
      'a JPEG whose SOF claims 65535×65535',
      'media-dimensions-too-large',
      /image is 65535×65535/,
      jpegClaimingHuge,
    ],
    ['a JPEG cut at 45%', 'media-truncated', /without an end-of-image marker/, (dir) => jpegCut(dir, 0.45)],
    [
      'a PNG without IEND',
      'media-truncated',
      /without an IEND chunk/,
      async (dir) => {
        const path = join(dir, 'png-no-iend.png');
        await writeFile(path, pngClaiming(64, 64, 64, { iend: false }));
        return path;
      },
    ],
  ];

  it.each(refused)(
    '%s: refused with %s at intake, not_analyzable through analyze',
    async (_name, code, reason, build) => {
      const path = await build(temp.dir);
      const error = await refusal(path);
      expect(error.code).toBe(code);
      expect(error.reason).toMatch(reason);

      const report = await analyzeFile(path, { pipeline, signal: signal() });
      expect(report.band).toBe('not_analyzable');
      expect(report.reasons[0]).toBe(`the media cannot be analysed: ${error.reason}`);
      expect(report.detectors.every((detector) => detector.score === null)).toBe(true);
    },
  );

  it('accepts an MP4 with 70% of its sample data missing and says it is truncated', async () => {
    const path = await mp4WithSampleDataCut(temp.dir, 0.3);
    const { integrity } = await check(path);
    expect(integrity.truncated).toBe(true);
    expect(integrity.samplesClaimed).toBe(100);
    expect(integrity.presentFraction).toBeGreaterThan(0.15);
    expect(integrity.presentFraction).toBeLessThan(0.45);
    expect(integrity.decodeCheck.framesDecoded).toBeGreaterThan(0);

    const report = await analyzeFile(path, { pipeline, signal: signal() });
    expect(report.integrity).toEqual(integrity);
    expect(report.reasons[0]).toMatch(/^the file is truncated: \d+ of 100 samples \(\d+%\) are present/);
    expect(report.coverage).toBeLessThanOrEqual(integrity.presentFraction);
    const gop = report.detectors.find((detector) => detector.id === 'gop-double-compression');
    // The GOP detector only ever sees present packets.
    expect(gop?.measurements.packets ?? gop?.coverage?.total ?? 0).toBe(integrity.samplesPresent);
  });

  it('passes a whole clip with every sample present and three keyframes decoded', async () => {
    const path = await h264Mp4(temp.dir, 'whole', false);
    const { integrity } = await check(path);
    expect(integrity).toEqual({
      truncated: false,
      samplesClaimed: 100,
      samplesPresent: 100,
      presentFraction: 1,
      claimedDurationSeconds: 4,
      presentDurationSeconds: 4,
      decodeCheck: { framesTried: 3, framesDecoded: 3 },
    });
    const report = await analyzeFile(path, { pipeline, signal: signal() });
    expect(report.integrity).toEqual(integrity);
    expect(report.band).not.toBe('not_analyzable');
  });

  it('passes a whole JPEG and a small PNG', async () => {
    expect((await check(await jpegStill(temp.dir))).integrity).toMatchObject({
      truncated: false,
      samplesPresent: 1,
      decodeCheck: { framesTried: 1, framesDecoded: 1 },
    });
    const png = join(temp.dir, 'small.png');
    await writeFile(png, pngClaiming(64, 48, 48));
    expect((await check(png)).integrity.decodeCheck.framesDecoded).toBe(1);
  });

  it('refuses pictures over configured limits, and a PNG whose rows are missing does not decode', async () => {
    const strict = createMediaIntakeCheck({ limits: { ...defaultMediaLimits, maxVideoPixels: 320 * 200 } });
    const clip = await h264Mp4(temp.dir, 'limit', true);
    const error = await strict
      .check({ input: clip, sizeBytes: (await stat(clip)).size, mediaTools: tools })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'media-dimensions-too-large' });
    expect((error as Error).message).toMatch(/320×240 \(76800 pixels\); at most 64000/);

    const shortRows = join(temp.dir, 'short-rows.png');
    await writeFile(shortRows, pngClaiming(640, 480, 2));
    expect(await refusal(shortRows)).toMatchObject({ code: 'media-undecodable' });
  });

  it('never echoes the blob gateway URL (it carries a capability token) in a refusal', async () => {
    const clip = await h264Mp4(temp.dir, 'token', true);
    const url = 'http://127.0.0.1:41999/' + 'ab'.repeat(32);
    const failing = {
      ...tools,
      probe: async () => {
        throw new MediaToolError({
          tool: 'ffprobe',
          failure: 'exit',
          exitCode: 1,
          stderrTail: `${url}: Invalid data found when processing input\n`,
          detail: 'exited with code 1',
        });
      },
    };
    const error = await intake
      .check({ input: clip, sizeBytes: (await stat(clip)).size, mediaTools: failing })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'media-unreadable' });
    expect((error as Error).message).toContain('Invalid data found');
    expect((error as Error).message).not.toContain('127.0.0.1');
  });
});
