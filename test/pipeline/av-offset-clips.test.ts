import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHumanFaceFinder } from '../../src/faces/human-face-finder.js';
import { createFfmpegMediaTools } from '../../src/media/ffmpeg.media-tools.js';
import { defaultMediaLimits } from '../../src/media/media-limits.js';
import { createAnalysisPipeline, type AnalysisPipeline } from '../../src/pipeline/analysis-pipeline.js';
import { analyzeFile } from '../../src/pipeline/analyze-file.js';
import { createAvOffsetDetector } from '../../src/pipeline/detectors/av-offset.detector.js';
import { createFfmpegFrameSampler } from '../../src/pipeline/frames/ffmpeg-frame-sampler.js';
import { createMediaIntakeCheck } from '../../src/pipeline/media-intake.js';
import { createMediaTempDir, runFfmpeg, type MediaTempDir } from '../helpers/media-fixtures.js';
import { talkingClip } from '../helpers/talking-clip.js';

let temp: MediaTempDir;
let pipeline: AnalysisPipeline;
let aligned: string;

const run = async (path: string) => {
  const report = await analyzeFile(path, { pipeline, signal: new AbortController().signal });
  return { report, entry: report.detectors.find((d) => d.id === 'av-offset')! };
};

beforeAll(async () => {
  temp = await createMediaTempDir('guardian-av-offset-');
  const mediaTools = await createFfmpegMediaTools({ limits: defaultMediaLimits });
  // This detector alone: the face search is the cost, and it is the one under test.
  pipeline = createAnalysisPipeline({
    mediaTools,
    detectors: [createAvOffsetDetector()],
    intake: createMediaIntakeCheck({ limits: defaultMediaLimits }),
    frameSampler: createFfmpegFrameSampler({ mediaTools }),
    faceFinder: createHumanFaceFinder(),
  });
  aligned = await talkingClip(temp.dir, { name: 'aligned', seconds: 4 });
}, 60_000);
afterAll(() => temp.remove());

describe('av-offset on talking clips (4 s, 360p)', () => {
  it('finds mouth and sound in step: a low score', async () => {
    const { entry } = await run(aligned);
    expect(entry.score, entry.explanation).toBe(0);
    expect(Math.abs(entry.measurements.lagMs as number)).toBeLessThanOrEqual(40);
    expect(entry.coverage!.fraction).toBeGreaterThan(0.9);
  }, 60_000);

  it('flags the same clip with its audio moved 300 ms later (as the eval’s audio-shift does)', async () => {
    const shifted = join(temp.dir, 'shifted.mp4');
    await runFfmpeg([
      ...['-i', aligned, '-itsoffset', '0.3', '-i', aligned],
      ...['-map', '0:v', '-map', '1:a', '-c', 'copy', '-movflags', '+faststart', shifted],
    ]);
    const { entry } = await run(shifted);
    expect(entry.score, entry.explanation).toBeGreaterThanOrEqual(0.7);
    expect(entry.measurements.lagMs as number).toBeGreaterThanOrEqual(260);
    expect(entry.measurements.lagMs as number).toBeLessThanOrEqual(340);
    expect(entry.explanation).toMatch(/gross offset/);
  }, 60_000);

  it('does not apply to the clip without its audio, and decodes nothing for it', async () => {
    const silentFilm = join(temp.dir, 'no-audio.mp4');
    await runFfmpeg(['-i', aligned, '-map', '0:v', '-c', 'copy', silentFilm]);
    const { report, entry } = await run(silentFilm);
    expect(entry).toMatchObject({ applicable: false, reason: 'the media has no audio stream' });
    expect(report.sampling).toBeNull();
  }, 60_000);
});
