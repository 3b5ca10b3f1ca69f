import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFfmpegMediaTools } from '../../src/media/ffmpeg.media-tools.js';
import { defaultMediaLimits } from '../../src/media/media-limits.js';
import type { AnalysisPipeline } from '../../src/pipeline/analysis-pipeline.js';
import { analyzeFile } from '../../src/pipeline/analyze-file.js';
import { createDetectionEngine } from '../../src/pipeline/detection-engine.js';
import type { AnalysisReport } from '../../src/pipeline/report.js';
import { createMediaTempDir, generateClip, runFfmpeg, type MediaTempDir } from '../helpers/media-fixtures.js';

const faceImage = fileURLToPath(new URL('../fixtures/faces/astronaut-face.jpg', import.meta.url));
const faceDetectors = ['face-noise-mismatch', 'face-temporal', 'face-blink-pose'];
const allFaceDetectors = [...faceDetectors, 'face-blend-boundary'];

let temp: MediaTempDir;
let pipeline: AnalysisPipeline;

/**
 * A 3 s 640×360 clip of the face photo drifting slowly over a faceless textured backdrop, with camera-like
 * noise over the whole picture; `pastedAfterNoise` puts a resampled face in after the noise, as a face swap would.
 */
// Textured like a real scene (over a flat backdrop x264 drops the noise and no camera trace is left to
// compare) and without a face of its own, so the only face is the photo. Softened like camera optics: behind
// a razor-sharp synthetic pattern a face reads as missing fine detail (face-resampling, inconclusive at most).
const backdrop = '[0:v]gblur=sigma=3,format=rgb24[bg]';
const backdropSource = ['-f', 'lavfi', '-i', 'cellauto=s=640x360:rule=110:rate=30:seed=7'];

async function faceClip(name: string, pastedAfterNoise = false): Promise<string> {
  const path = join(temp.dir, name);
  const graph = pastedAfterNoise
    ? `${backdrop};[1:v]scale=100:110,scale=200:220[face];[bg]noise=alls=8:allf=t[noisy];[noisy][face]overlay=x='200+t*6':y=60,format=yuv420p`
    : `${backdrop};[bg][1:v]overlay=x='200+t*6':y=60,noise=alls=8:allf=t,format=yuv420p`;
  await runFfmpeg([
    ...backdropSource,
    '-loop',
    '1',
    '-i',
    faceImage,
    '-filter_complex',
    graph,
    '-t',
    '3',
    '-r',
    '30',
    '-c:v',
    'libx264',
    '-crf',
    '18',
    path,
  ]);
  return path;
}

const run = (path: string) => analyzeFile(path, { pipeline, signal: new AbortController().signal });
const scores = (report: AnalysisReport) =>
  report.detectors.map((d) => `${d.id} ${d.score === null ? 'none' : d.score}`).join(', ');
const detector = (report: AnalysisReport, id: string) => report.detectors.find((d) => d.id === id)!;

beforeAll(async () => {
  temp = await createMediaTempDir('guardian-faces-');
  const mediaTools = await createFfmpegMediaTools({ limits: defaultMediaLimits });
  pipeline = (await createDetectionEngine({ mediaTools, limits: defaultMediaLimits })).pipeline;
});
afterAll(() => temp.remove());

describe('face analysis through the whole pipeline', () => {
  it('finds and tracks the face in a clip and runs every face detector with coverage', async () => {
    const report = await run(await faceClip('face.mp4'));
    expect(report.faces).toHaveLength(1);
    expect(report.faces![0]).toMatchObject({ id: 1, analysed: true });
    expect(report.faces![0]!.framesSeen).toBe(report.sampling!.framesDecoded);
    // The box is the face itself (inside the 200×220 photo overlaid at x 200–218, y 60), not the detector's enlarged crop.
    for (const { box } of report.faces![0]!.boxes) {
      const [x, y, width, height] = box;
      expect(x).toBeGreaterThanOrEqual(195);
      expect(y).toBeGreaterThanOrEqual(55);
      expect(x + width).toBeLessThanOrEqual(425);
      expect(y + height).toBeLessThanOrEqual(285);
      // The photo's face measures about 100×117 px, ear to ear and hairline to chin.
      expect(width).toBeGreaterThan(70);
      expect(width).toBeLessThan(140);
      expect(height).toBeGreaterThan(85);
      expect(height).toBeLessThan(160);
    }
    expect(report.sampling).toMatchObject({ kind: 'video', windows: [{ frames: 30 }, { frames: 30 }] });
    expect(report.versions.faceModels).toMatchObject({
      human: '3.3.6',
      blazeface: expect.stringMatching(/^sha256:/),
    });
    for (const id of faceDetectors) {
      const entry = detector(report, id);
      expect(entry, id).toMatchObject({ applicable: true });
      expect(entry.score, id).not.toBeNull();
      expect(entry.coverage!.fraction, id).toBeGreaterThan(0.9);
    }
    expect(detector(report, 'face-noise-mismatch').score).toBeLessThan(0.3);
    // The chin nears the frame's bottom edge: frames with too little ring below it are not measured.
    expect(detector(report, 'face-blend-boundary').score).toBeLessThan(0.3);
    expect(detector(report, 'face-blend-boundary').coverage!.fraction).toBeGreaterThan(0.5);
    expect(report.band, scores(report)).toBe('no_indicators');
  });

  it('flags a resampled face pasted into the noisy frame', async () => {
    const report = await run(await faceClip('smoothed.mp4', true));
    expect(detector(report, 'face-noise-mismatch').score).toBeGreaterThanOrEqual(0.7);
    expect(report.band, scores(report)).toBe('indicators_found');
  });

  it('says "no face found" on a faceless clip, and the band rests on what ran', async () => {
    const report = await run(await generateClip(temp.dir, { seconds: 3 }));
    expect(report.faces).toEqual([]);
    for (const id of allFaceDetectors) {
      expect(detector(report, id), id).toMatchObject({
        applicable: false,
        reason: expect.stringMatching(/^no face found in \d+ sampled frames$/),
      });
    }
    expect(report.band, scores(report)).toBe('no_indicators');
  });

  it('runs the still-image detectors on a photo, and the temporal one says why not', async () => {
    const report = await run(faceImage);
    expect(report.sampling).toMatchObject({ kind: 'image', framesDecoded: 1 });
    expect(report.faces).toHaveLength(1);
    expect(detector(report, 'face-noise-mismatch').applicable).toBe(true);
    expect(detector(report, 'face-temporal')).toMatchObject({
      applicable: false,
      reason: 'a still image has no motion',
    });
    expect(detector(report, 'face-blink-pose')).toMatchObject({
      applicable: false,
      reason: expect.stringMatching(/^a still image has no motion: /),
    });
  });
});
