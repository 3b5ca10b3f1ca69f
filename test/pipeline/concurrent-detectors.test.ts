import { describe, expect, it } from 'vitest';
import type { FaceAnalysis } from '../../src/faces/face-types.js';
import type { MediaProbe, MediaTools } from '../../src/media/media-probe.js';
import {
  createAnalysisPipeline,
  type PreliminaryBand,
  type StagePhase,
} from '../../src/pipeline/analysis-pipeline.js';
import type { Detector, DetectorFinding, DetectorNeed } from '../../src/pipeline/detector.js';
import type { FrameSample } from '../../src/pipeline/frames/frame-sample.js';
import { MediaIntakeRefusal, type MediaIntakeCheck } from '../../src/pipeline/media-intake.js';
import type { AnalysisReport } from '../../src/pipeline/report.js';
import { wholeMediaIntegrity } from '../helpers/media-integrity.js';

const probe: MediaProbe = {
  formatName: 'mov,mp4,m4a,3gp,3g2,mj2',
  durationSeconds: 4,
  bitRate: 192_000,
  streams: [
    {
      index: 0,
      type: 'video',
      codecName: 'h264',
      width: 320,
      height: 240,
      frameRate: 25,
      durationSeconds: 4,
      frameCount: 100,
    },
  ],
  tags: {},
} as unknown as MediaProbe;

const sample: FrameSample = {
  frames: [],
  windows: [],
  plan: {
    kind: 'video',
    totalFrames: 100,
    framesDecoded: 0,
    keyframesDecoded: 0,
    windows: [],
    secondsCovered: 0,
    durationSeconds: 4,
    decodeWidth: 320,
    decodeHeight: 240,
  },
};
const faces: FaceAnalysis = { tracks: [], framesSearched: 0, minFaceSizePixels: 48, models: {} };

const mediaTools = { versions: async () => ({ ffmpeg: '5.1-test', ffprobe: '5.1-test' }) } as MediaTools;
const intake: MediaIntakeCheck = {
  check: async () => ({ probe, integrity: wholeMediaIntegrity, notes: [] }),
};
const request = { input: '/media/clip.mp4', sha256: 'cd'.repeat(32), sizeBytes: 2000, probe };

/** A promise the test resolves when it chooses: detectors finish in the order the test sets. */
function gate() {
  let open = () => {};
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

const finding = (score: number, artifactName?: string): DetectorFinding => ({
  score,
  coverage: { unit: 'frames', analysed: 10, total: 10, fraction: 1 },
  evidence: [],
  explanation: 'measured.',
  measurements: { score },
  ...(artifactName
    ? {
        artifacts: [
          {
            name: artifactName,
            contentType: 'application/json',
            description: 'what it measured',
            data: Buffer.from(`{"score":${score}}`),
          },
        ],
      }
    : {}),
});

function detector(id: string, needs: DetectorNeed[], analyze: Detector['analyze']): Detector {
  return {
    id,
    version: '1.0.0',
    needs,
    strength: 'standard',
    description: id,
    applicable: () => ({ applicable: true }),
    analyze,
  };
}

function pipelineOf(detectors: Detector[], overrides: { intake?: MediaIntakeCheck } = {}) {
  const asked: string[] = [];
  const pipeline = createAnalysisPipeline({
    mediaTools,
    intake: overrides.intake ?? intake,
    detectors,
    frameSampler: { sample: async () => (asked.push('frames'), sample) },
    faceFinder: { find: async () => (asked.push('faces'), faces) },
    clock: () => new Date('2025-01-02T03:04:05Z'),
  });
  return { pipeline, asked };
}

/** The report without what differs between runs by design (wall times). */
const comparable = (report: AnalysisReport) => ({
  ...report,
  detectors: report.detectors.map(({ durationMs, ...rest }) => (void durationMs, rest)),
});

describe('detectors running together', () => {
  it('publishes a preliminary band from the frame-free detectors while the face detector runs, then the final band', async () => {
    const metadataGate = gate();
    const preliminaryHeard = gate();
    const events: string[] = [];
    const { pipeline, asked } = pipelineOf([
      detector('metadata', ['probe'], async () => {
        await metadataGate.opened;
        return finding(0.1);
      }),
      detector('face', ['frames', 'faces'], async (context) => {
        await context.faces();
        // Only finishes once the preliminary band is out: it was published while this one ran.
        await preliminaryHeard.opened;
        return finding(0.9);
      }),
    ]);
    const preliminaries: PreliminaryBand[] = [];
    const run = pipeline.run({
      ...request,
      signal: new AbortController().signal,
      onProgress: (stage, _progress, phase) => void events.push(`${stage} ${phase}`),
      onPreliminary: (preliminary) => {
        preliminaries.push(preliminary);
        events.push('preliminary band');
        preliminaryHeard.open();
      },
    });
    // Decoding and face finding started while the frame-free detector was still computing.
    await expect.poll(() => asked).toEqual(['frames', 'faces']);
    expect(preliminaries).toEqual([]);
    metadataGate.open();
    const report = await run;

    expect(preliminaries).toEqual([
      {
        preliminary: true,
        band: 'no_indicators',
        reasons: expect.any(Array),
        detectors: ['metadata'],
        pending: ['face'],
      },
    ]);
    expect(report.band).toBe('indicators_found');
    expect(report).not.toHaveProperty('preliminary');
    expect(events.indexOf('preliminary band')).toBeLessThan(events.indexOf('detector:face finished'));
    expect(events.indexOf('preliminary band')).toBeLessThan(events.indexOf('fusion started'));
  });

  it('does not hold the preliminary band for a detector decoding pictures of its own, nor decode the sample for it', async () => {
    const picturesGate = gate();
    const { pipeline, asked } = pipelineOf([
      detector('metadata', ['probe'], async () => finding(0.1)),
      detector('gop', ['probe', 'packets', 'pictures'], async () => {
        await picturesGate.opened;
        return finding(0.2);
      }),
    ]);
    const preliminaries: PreliminaryBand[] = [];
    const run = pipeline.run({
      ...request,
      signal: new AbortController().signal,
      onPreliminary: (preliminary) => {
        preliminaries.push(preliminary);
        picturesGate.open();
      },
    });
    const report = await run;
    expect(preliminaries.map(({ detectors, pending }) => ({ detectors, pending }))).toEqual([
      { detectors: ['metadata'], pending: ['gop'] },
    ]);
    expect(report.detectors.map((entry) => entry.score)).toEqual([0.1, 0.2]);
    expect(asked).toEqual([]);
  });

  it('names every stage and every detector as it starts and finishes', async () => {
    const ids = ['gop', 'metadata', 'face-a', 'face-b'];
    const { pipeline } = pipelineOf(
      ids.map((id) =>
        detector(id, id.startsWith('face') ? ['frames', 'faces'] : ['probe'], async (context) => {
          if (id.startsWith('face')) await context.faces();
          return finding(0.1);
        }),
      ),
    );
    const events: [string, StagePhase][] = [];
    await pipeline.run({
      ...request,
      signal: new AbortController().signal,
      onProgress: (stage, _progress, phase) => void events.push([stage, phase]),
    });
    const stages = [
      'probe',
      'frames',
      'faces',
      ...ids.map((id) => `detector:${id}`),
      'preliminary',
      'fusion',
    ];
    for (const stage of stages) {
      const started = events.findIndex(([name, phase]) => name === stage && phase === 'started');
      const finished = events.findIndex(([name, phase]) => name === stage && phase === 'finished');
      expect(started, `${stage} started`).toBeGreaterThanOrEqual(0);
      expect(finished, `${stage} finished`).toBeGreaterThan(started);
    }
    expect(events.at(-1)).toEqual(['report', 'started']);
  });

  it('gives the same report and artifacts whatever order the detectors finish in', async () => {
    const runInOrder = async (order: string[]) => {
      const gates = new Map(['a', 'b', 'c'].map((id) => [id, gate()]));
      const detectors = ['a', 'b', 'c'].map((id, i) =>
        detector(id, i === 2 ? ['frames', 'faces'] : ['probe'], async (context) => {
          if (i === 2) await context.faces();
          await gates.get(id)!.opened;
          return finding(0.2 + i * 0.3, `${id}-map.json`);
        }),
      );
      const { pipeline } = pipelineOf(detectors);
      const delivered: string[] = [];
      const run = pipeline.run({
        ...request,
        signal: new AbortController().signal,
        onArtifact: (fullName) => void delivered.push(fullName),
      });
      for (const id of order) {
        await new Promise((resolve) => setImmediate(resolve));
        gates.get(id)!.open();
      }
      return { report: comparable(await run), delivered };
    };
    const forwards = await runInOrder(['a', 'b', 'c']);
    const backwards = await runInOrder(['c', 'b', 'a']);
    expect(backwards).toEqual(forwards);
    expect(forwards.delivered).toEqual(['a/a-map.json', 'b/b-map.json', 'c/c-map.json']);
    expect(forwards.report.detectors.map((entry) => entry.id)).toEqual(['a', 'b', 'c']);
  });

  it('publishes no preliminary band for refused media, nor when every detector is frame-free', async () => {
    const refusing: MediaIntakeCheck = {
      check: async () => {
        throw new MediaIntakeRefusal('media-undecodable', 'no frame decodes');
      },
    };
    const face = detector('face', ['frames', 'faces'], async () => finding(0.9));
    const metadata = detector('metadata', ['probe'], async () => finding(0.1));
    const heard: PreliminaryBand[] = [];
    const onPreliminary = (preliminary: PreliminaryBand) => void heard.push(preliminary);
    const signal = new AbortController().signal;

    const refused = await pipelineOf([metadata, face], { intake: refusing }).pipeline.run({
      ...request,
      signal,
      onPreliminary,
    });
    const frameFree = await pipelineOf([metadata]).pipeline.run({ ...request, signal, onPreliminary });

    expect(refused.band).toBe('not_analyzable');
    expect(frameFree.band).toBe('no_indicators');
    expect(heard).toEqual([]);
  });
});
