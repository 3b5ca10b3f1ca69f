import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFfmpegMediaTools, type FfmpegMediaTools } from '../../src/media/ffmpeg.media-tools.js';
import type { DetectorFinding } from '../../src/pipeline/detector.js';
import { createFrameDuplicationDetector } from '../../src/pipeline/detectors/frame-duplication.detector.js';
import { createGopDoubleCompressionDetector } from '../../src/pipeline/detectors/gop-double-compression.detector.js';
import { defaultFusionPolicy } from '../../src/pipeline/fusion.js';
import { fileDetectorContext } from '../helpers/detector-context.js';
import {
  createMediaTempDir,
  encodeFile,
  generateClip,
  type ClipOptions,
  type EncodeOptions,
  type MediaTempDir,
} from '../helpers/media-fixtures.js';

/**
 * Files encoded once must not read as re-encoded: test patterns whose content changes in a rhythm
 * (testsrc2's clock, cellauto's cycles), and the encoder's own rhythm inside its GOP (the first P-frame
 * after a keyframe, B-frame runs), over presets, rate factors, a fixed quantiser, GOP lengths and
 * B-frame counts. scripts/measure-gop.ts runs a larger matrix against re-encodes.
 */

const clip: ClipOptions = { seconds: 20, size: '320x240', fps: 25 };
const defaultGop: EncodeOptions = { gop: 250, sceneCut: true };

const singleEncodes: [string, ClipOptions][] = [
  [
    'testsrc2 40 s 640x360, ultrafast QP 10, default GOP',
    { ...clip, seconds: 40, size: '640x360', preset: 'ultrafast', qp: 10, ...defaultGop },
  ],
  ['testsrc2, veryfast CRF 28, GOP 30, no B-frames', { ...clip, crf: 28, gop: 30, bFrames: 0 }],
  ['testsrc2, ultrafast CRF 23, GOP 15', { ...clip, preset: 'ultrafast', crf: 23, gop: 15 }],
  [
    'testsrc2, medium CRF 23, GOP 30, 2 B-frames',
    { ...clip, preset: 'medium', crf: 23, gop: 30, bFrames: 2 },
  ],
  [
    'noisy testsrc2, ultrafast CRF 23, GOP 15',
    { ...clip, noise: 8, seed: 2, preset: 'ultrafast', crf: 23, gop: 15 },
  ],
  [
    'cellauto, medium CRF 23, GOP 60',
    { ...clip, source: 'cellauto', seed: 5, preset: 'medium', crf: 23, gop: 60 },
  ],
  [
    'cellauto, medium CRF 23, GOP 30, 2 B-frames',
    { ...clip, source: 'cellauto', seed: 5, preset: 'medium', crf: 23, gop: 30, bFrames: 2 },
  ],
  [
    'cellauto, medium CRF 23, default GOP, 2 B-frames',
    { ...clip, source: 'cellauto', seed: 5, preset: 'medium', crf: 23, bFrames: 2, ...defaultGop },
  ],
  [
    'cellauto, ultrafast QP 10, default GOP',
    { ...clip, source: 'cellauto', seed: 5, preset: 'ultrafast', qp: 10, ...defaultGop },
  ],
  [
    'cellauto, slower CRF 18, GOP 15',
    { ...clip, source: 'cellauto', seed: 5, preset: 'slower', crf: 18, gop: 15 },
  ],
  [
    'mandelbrot, slow CRF 18, GOP 60, 3 B-frames',
    { ...clip, source: 'mandelbrot', preset: 'slow', crf: 18, gop: 60, bFrames: 3 },
  ],
  [
    'mandelbrot, medium CRF 28, default GOP, 3 B-frames',
    { ...clip, source: 'mandelbrot', preset: 'medium', crf: 28, bFrames: 3, ...defaultGop },
  ],
  [
    'life, medium CRF 23, GOP 30, 2 B-frames',
    { ...clip, source: 'life', seed: 7, preset: 'medium', crf: 23, gop: 30, bFrames: 2 },
  ],
  [
    'noisy life, ultrafast QP 10, GOP 60',
    { ...clip, source: 'life', seed: 7, noise: 6, preset: 'ultrafast', qp: 10, gop: 60 },
  ],
  [
    'noisy smptebars, medium CRF 23, GOP 60',
    { ...clip, source: 'smptebars', noise: 10, seed: 4, preset: 'medium', crf: 23, gop: 60 },
  ],
  [
    'noisy smptebars, veryfast CRF 28, GOP 30, no B-frames',
    { ...clip, source: 'smptebars', noise: 10, seed: 4, crf: 28, gop: 30, bFrames: 0 },
  ],
  [
    'noisy smptebars, fast CRF 18, GOP 15',
    { ...clip, source: 'smptebars', noise: 10, seed: 4, preset: 'fast', crf: 18, gop: 15 },
  ],
];

/** Debian's opencv-doc sample videos (camera footage), encoded once more with x264 (not in CI unless installed). */
const sampleDirectory = '/usr/share/doc/opencv-doc/examples/data';
const sampleEncodes: [string, EncodeOptions][] = [
  ['vtest.avi', { crf: 23, ...defaultGop }],
  ['Megamind.avi', { preset: 'ultrafast', qp: 10, gop: 30 }],
  ['tree.avi', { crf: 28, gop: 15, bFrames: 0 }],
];

let temp: MediaTempDir;
let tools: FfmpegMediaTools;
const detector = createGopDoubleCompressionDetector();
const duplicationDetector = createFrameDuplicationDetector();
const findings = new Map<string, DetectorFinding>();
const duplicationFindings = new Map<string, DetectorFinding>();
const { strongScore, lowScore } = defaultFusionPolicy;

async function analyse(path: string, name: string): Promise<DetectorFinding> {
  const context = await fileDetectorContext(path, { probe: await tools.probe(path), mediaTools: tools });
  expect(detector.applicable(context)).toEqual({ applicable: true });
  // The same single encodes must not read as frozen either: they share the packet table.
  expect(duplicationDetector.applicable(context)).toEqual({ applicable: true });
  duplicationFindings.set(name, await duplicationDetector.analyze(context));
  return detector.analyze(context);
}

beforeAll(async () => {
  temp = await createMediaTempDir();
  tools = await createFfmpegMediaTools();
}, 30_000);
afterAll(() => temp.remove());

describe('gop-double-compression on single encodes', () => {
  it.each(singleEncodes)(
    'does not find an earlier encoding in %s',
    async (name, options) => {
      const path = await generateClip(temp.dir, {
        ...options,
        name: `single-${singleEncodes.findIndex(([n]) => n === name)}`,
      });
      const finding = await analyse(path, name);
      findings.set(name, finding);
      expect(finding.score, finding.explanation).toBeLessThan(strongScore);
    },
    120_000,
  );

  for (const [file, encoding] of sampleEncodes) {
    const source = `${sampleDirectory}/${file}`;
    const present = existsSync(source);
    it.skipIf(!present)(
      `does not find an earlier encoding in ${file} encoded once with x264${present ? '' : ' (skipped: opencv-doc sample videos are not installed)'}`,
      async () => {
        const path = await encodeFile(temp.dir, source, { ...encoding, name: `sample-${file}` });
        const finding = await analyse(path, file);
        expect(finding.score, finding.explanation).toBeLessThan(strongScore);
      },
      120_000,
    );
  }

  it('finds no frozen stretch that could move the band in any of them (frame-duplication)', () => {
    expect(duplicationFindings.size).toBeGreaterThanOrEqual(singleEncodes.length);
    // tree.avi (15 fps Cinepak) repeats one picture itself: one isolated repeat stays a low score.
    const frozen = [...duplicationFindings].filter(([, finding]) => (finding.score ?? 0) >= lowScore);
    expect(frozen.map(([name, finding]) => `${name}: ${finding.explanation}`)).toEqual([]);
  });

  it('leaves most of them clean, not just under the indicator threshold', () => {
    expect(findings.size).toBe(singleEncodes.length);
    const scores = [...findings.values()].map((finding) => finding.score ?? 0);
    // testsrc2's clock ticks once a second: without B-frames its P-frames spike like an earlier GOP of
    // 25 (3 clips here, 0.5 each); a detector that scored every rhythm 0.5 would fail this.
    const clean = scores.filter((score) => score < lowScore).length;
    expect(clean / scores.length).toBeGreaterThanOrEqual(2 / 3);
  });

  it('counts a rhythm in testsrc2’s packet sizes only as a weak indication when the pictures do not confirm it', () => {
    const finding = findings.get('testsrc2, veryfast CRF 28, GOP 30, no B-frames') as DetectorFinding;
    expect(finding.measurements).toMatchObject({ estimatedOriginalGop: 25, pictureVerdict: 'unconfirmed' });
    expect(finding.measurements.periodicityPacketScore).toBeGreaterThanOrEqual(strongScore);
    expect(finding.score).toBe(0.5);
    expect(finding.explanation).toMatch(/the decoded pictures do not confirm an earlier encoding/);
  });
});
