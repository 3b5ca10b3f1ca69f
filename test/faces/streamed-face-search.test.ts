import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHumanFaceFinder } from '../../src/faces/human-face-finder.js';
import { createFfmpegMediaTools } from '../../src/media/ffmpeg.media-tools.js';
import { defaultMediaLimits } from '../../src/media/media-limits.js';
import type { MediaTools } from '../../src/media/media-probe.js';
import { createAnalysisPipeline } from '../../src/pipeline/analysis-pipeline.js';
import { analyzeFile } from '../../src/pipeline/analyze-file.js';
import { defaultDetectors } from '../../src/pipeline/default-detectors.js';
import { createFfmpegFrameSampler } from '../../src/pipeline/frames/ffmpeg-frame-sampler.js';
import type { SampledFrame } from '../../src/pipeline/frames/frame-sample.js';
import { createMediaIntakeCheck } from '../../src/pipeline/media-intake.js';
import type { AnalysisReport } from '../../src/pipeline/report.js';
import { createRunInputs, type FaceFinder } from '../../src/pipeline/run-inputs.js';
import { createMediaTempDir, runFfmpeg, type MediaTempDir } from '../helpers/media-fixtures.js';

const faceImage = fileURLToPath(new URL('../fixtures/faces/astronaut-face.jpg', import.meta.url));

let temp: MediaTempDir;
let clip: string;
let mediaTools: MediaTools;
// One finder for every run, as in a worker: the models load once.
const finder = createHumanFaceFinder();
/** The same finder without its frame-by-frame search: faces only after every frame is decoded. */
const findOnly: FaceFinder = { find: (sample, signal) => finder.find(sample, signal) };

beforeAll(async () => {
  temp = await createMediaTempDir('guardian-streamed-faces-');
  clip = join(temp.dir, 'face.mp4');
  // 3 s at 10 fps so the sampling plan has sweep keyframes and two dense windows; a short GOP gives several keyframes.
  await runFfmpeg([
    ...['-f', 'lavfi', '-i', 'color=c=0x6a7480:size=640x360:rate=10', '-loop', '1', '-i', faceImage],
    ...[
      '-filter_complex',
      "[0:v][1:v]overlay=x='200+t*6':y=60:shortest=1,noise=alls=8:allf=t,format=yuv420p",
    ],
    ...['-t', '3', '-g', '5', '-c:v', 'libx264', '-crf', '18', clip],
  ]);
  mediaTools = await createFfmpegMediaTools({ limits: defaultMediaLimits });
}, 120_000);
afterAll(() => temp.remove());

const pipelineWith = (faceFinder: FaceFinder) =>
  createAnalysisPipeline({
    mediaTools,
    detectors: defaultDetectors({ now: () => new Date('2025-01-01T00:00:00Z') }),
    intake: createMediaIntakeCheck({ limits: defaultMediaLimits }),
    frameSampler: createFfmpegFrameSampler({ mediaTools }),
    faceFinder,
    clock: () => new Date('2025-01-01T00:00:00Z'),
  });

/** A report without its wall times, which differ between runs by design. */
const comparable = (report: AnalysisReport) => ({
  ...report,
  detectors: report.detectors.map(({ durationMs, ...rest }) => (void durationMs, rest)),
});

describe('faces searched while frames decode', () => {
  it('hears window frames in their final places during decoding and finds the same faces as after it', async () => {
    const probe = await mediaTools.probe(clip);
    const heard: SampledFrame[] = [];
    const search = finder.open!(new AbortController().signal);
    const sample = await createFfmpegFrameSampler({ mediaTools }).sample({
      input: clip,
      probe,
      sizeBytes: 0,
      signal: new AbortController().signal,
      onFrame: (frame) => {
        heard.push(frame);
        search.add(frame);
      },
    });
    expect(sample.windows.length).toBeGreaterThan(0);
    // Every frame was heard, in the place the sample gives it.
    expect(heard.map((frame) => frame.index).sort((a, b) => a - b)).toEqual(
      sample.frames.map((f) => f.index),
    );
    for (const frame of heard) expect(sample.frames[frame.index]?.timeSeconds).toBe(frame.timeSeconds);
    // Window frames come before the sweep's, whose places are known only at the end.
    expect(heard[0]?.windowId).not.toBeNull();

    const streamed = await search.finish(sample);
    const after = await finder.find(sample, new AbortController().signal);
    expect(streamed.tracks.length).toBeGreaterThan(0);
    expect(streamed).toEqual(after);
  }, 120_000);

  it('gives the same report whether faces are searched during decoding or after it', async () => {
    const signal = new AbortController().signal;
    const streamed = await analyzeFile(clip, { pipeline: pipelineWith(finder), signal });
    const after = await analyzeFile(clip, { pipeline: pipelineWith(findOnly), signal });
    expect(streamed.faces?.length).toBeGreaterThan(0);
    expect(comparable(streamed)).toEqual(comparable(after));
  }, 120_000);

  it('searches faces first through the run inputs when faces are asked for before frames', async () => {
    const probe = await mediaTools.probe(clip);
    const opened: string[] = [];
    const watching: FaceFinder = {
      find: (sample, signal) => (opened.push('find'), finder.find(sample, signal)),
      open: (signal) => (opened.push('open'), finder.open!(signal)),
    };
    const stages: string[] = [];
    const inputs = createRunInputs(
      { frameSampler: createFfmpegFrameSampler({ mediaTools }), faceFinder: watching },
      { input: clip, probe, sizeBytes: 0, signal: new AbortController().signal },
      { onStage: (stage, phase) => void stages.push(`${stage} ${phase}`) },
    );
    const faces = await inputs.faces();
    expect(opened).toEqual(['open']);
    expect(faces.tracks.length).toBeGreaterThan(0);
    // The search started before decoding ended.
    expect(stages.indexOf('faces started')).toBeLessThan(stages.indexOf('frames finished'));
    expect(stages.at(-1)).toBe('faces finished');
  }, 120_000);

  it('stops waiting for an aborted search at once, and the search thread goes on serving others', async () => {
    const probe = await mediaTools.probe(clip);
    const signal = new AbortController().signal;
    const sample = await createFfmpegFrameSampler({ mediaTools }).sample({
      input: clip,
      probe,
      sizeBytes: 0,
      signal,
    });
    const expected = await finder.find(sample, signal);
    const controller = new AbortController();
    const aborted = finder.find(sample, controller.signal);
    // Once the frames are queued in the thread (models are loaded: the search before loaded them).
    await new Promise((resolve) => setTimeout(resolve, 20));
    controller.abort(new Error('analysis stopped'));
    await expect(aborted).rejects.toThrow('analysis stopped');
    expect(await finder.find(sample, signal)).toEqual(expected);
  }, 120_000);
});
