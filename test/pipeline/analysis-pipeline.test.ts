import { describe, expect, it } from 'vitest';
import type { MediaProbe, MediaTools } from '../../src/media/media-probe.js';
import type { PacketTable } from '../../src/media/packet-scan.js';
import { createAnalysisPipeline, reportDisclaimer } from '../../src/pipeline/analysis-pipeline.js';
import { createCalibration } from '../../src/pipeline/calibration.js';
import type { Detector, DetectorContext, DetectorFinding } from '../../src/pipeline/detector.js';
import {
  MediaIntakeRefusal,
  type MediaIntakeCheck,
  type MediaIntegrity,
} from '../../src/pipeline/media-intake.js';
import { wholeMediaIntegrity as wholeMedia } from '../helpers/media-integrity.js';
import { syntheticPackets } from './synthetic-packets.js';

const probe: MediaProbe = {
  formatName: 'mov,mp4,m4a,3gp,3g2,mj2',
  formatLongName: 'QuickTime / MOV',
  durationSeconds: 4,
  sizeBytes: 2000,
  bitRate: 4000,
  tags: {},
  streams: [
    {
      index: 0,
      type: 'video',
      codecName: 'h264',
      codecLongName: null,
      profile: null,
      width: 320,
      height: 240,
      pixelFormat: 'yuv420p',
      frameRate: 25,
      durationSeconds: 4,
      frameCount: 100,
      bitRate: null,
      sampleRate: null,
      channels: null,
      tags: {},
    },
    {
      index: 1,
      type: 'audio',
      codecName: 'aac',
      codecLongName: null,
      profile: null,
      width: null,
      height: null,
      pixelFormat: null,
      frameRate: null,
      durationSeconds: 4,
      frameCount: null,
      bitRate: null,
      sampleRate: 48000,
      channels: 2,
      tags: {},
    },
  ],
};

/** A strict fake: only the given methods exist; any other call fails the test. */
function fakeMediaTools(overrides: Partial<MediaTools>): MediaTools {
  const unexpected = (name: string) => () => {
    throw new Error(`unexpected call to mediaTools.${name}`);
  };
  return {
    versions: async () => ({ ffmpeg: '5.1-test', ffprobe: '5.1-test' }),
    probe: unexpected('probe'),
    packets: unexpected('packets'),
    decodesAt: unexpected('decodesAt'),
    keyframes: unexpected('keyframes'),
    window: unexpected('window'),
    audio: unexpected('audio'),
    ...overrides,
  };
}

const finding = (score: number | null, extra: Partial<DetectorFinding> = {}): DetectorFinding => ({
  score,
  coverage: { unit: 'frames', analysed: 100, total: 100, fraction: 1 },
  evidence: [],
  explanation: 'measured.',
  measurements: { score },
  ...extra,
});

function fakeDetector(
  id: string,
  analyze: (context: DetectorContext) => Promise<DetectorFinding>,
  version = '1.0.0',
): Detector {
  return {
    id,
    version,
    needs: ['probe'],
    strength: 'standard',
    description: id,
    applicable: () => ({ applicable: true }),
    analyze,
  };
}

const signal = () => new AbortController().signal;

/** Frames and faces are exercised by their own tests; these detectors never ask for them. */
const noFrames = {
  frameSampler: { sample: () => Promise.reject(new Error('no frames in this test')) },
  faceFinder: { find: () => Promise.reject(new Error('no faces in this test')) },
};

/** An intake check that passes the given probe with every sample present. */
const intactIntake: MediaIntakeCheck = {
  check: async ({ probe: given }) => ({ probe: given ?? probe, integrity: wholeMedia, notes: [] }),
};
const request = { input: '/media/clip.mp4', sha256: 'ab'.repeat(32), sizeBytes: 2000 };

describe('createAnalysisPipeline', () => {
  it('derives its version from detector ids and versions', () => {
    const version = (detectors: Detector[]) =>
      createAnalysisPipeline({ ...noFrames, intake: intactIntake, mediaTools: fakeMediaTools({}), detectors })
        .version;
    const a = fakeDetector('a', async () => finding(0));
    const b = fakeDetector('b', async () => finding(0));
    expect(version([a, b])).toMatch(/^p1-[0-9a-f]{12}$/);
    expect(version([a, b])).toBe(version([b, a]));
    expect(version([a, fakeDetector('b', async () => finding(0), '1.0.1')])).not.toBe(version([a, b]));
    expect(version([a])).not.toBe(version([a, b]));
  });

  it('gives each score its percentile among the authentic reference, and records the calibration file', async () => {
    const calibration = createCalibration(
      {
        format: 'guardian-calibration',
        formatVersion: 1,
        createdAt: '2025-01-01T00:00:00.000Z',
        pipelineVersion: 'p1-test',
        inputs: { authentic: 20, manipulated: 0, notAnalyzable: 0, skipped: 0 },
        detectors: [
          {
            id: 'low-a',
            version: '1.0.0',
            authenticScores: Array.from({ length: 20 }, (_, i) => i / 100),
            authenticUnscored: 0,
            labelled: null,
          },
        ],
      },
      { sha256: 'cd'.repeat(32), source: '/etc/guardian/calibration.json' },
    );
    const report = await createAnalysisPipeline({
      ...noFrames,
      intake: intactIntake,
      mediaTools: fakeMediaTools({}),
      detectors: [
        fakeDetector('low-a', async () => finding(0.1)),
        fakeDetector('low-b', async () => finding(0.2)),
      ],
      calibration,
    }).run({ ...request, probe, signal: signal() });
    // 0.10 is above 0.00–0.09 of the 20 references; low-b has no reference.
    expect(report.detectors.map((entry) => [entry.id, entry.percentile, entry.probability])).toEqual([
      ['low-a', 50, null],
      ['low-b', null, null],
    ]);
    expect(report.versions.calibration).toEqual({
      sha256: 'cd'.repeat(32),
      source: '/etc/guardian/calibration.json',
      projectDefault: false,
      builtFrom: null,
    });
  });

  it('reuses a given probe, runs each detector and writes a complete report', async () => {
    const stages: [string, number, string][] = [];
    const pipeline = createAnalysisPipeline({
      ...noFrames,
      intake: intactIntake,
      mediaTools: fakeMediaTools({}),
      detectors: [
        fakeDetector('low-a', async () => finding(0.1)),
        fakeDetector('low-b', async () => finding(0.2)),
      ],
      clock: () => new Date('2025-01-02T03:04:05Z'),
    });
    const report = await pipeline.run({
      ...request,
      probe,
      signal: signal(),
      onProgress: async (stage, progress, phase) => void stages.push([stage, progress, phase]),
    });
    expect(report).toMatchObject({
      schemaVersion: 1,
      pipelineVersion: pipeline.version,
      createdAt: '2025-01-02T03:04:05.000Z',
      band: 'no_indicators',
      coverage: 1,
      media: {
        sha256: request.sha256,
        sizeBytes: 2000,
        formatName: probe.formatName,
        durationSeconds: 4,
        video: { codec: 'h264', width: 320, height: 240, frameRate: 25 },
        audio: { codec: 'aac', sampleRate: 48000, channels: 2 },
      },
      versions: {
        pipeline: pipeline.version,
        node: process.version,
        ffmpeg: '5.1-test',
        ffprobe: '5.1-test',
        detectors: { 'low-a': '1.0.0', 'low-b': '1.0.0' },
        calibration: null,
      },
      disclaimer: reportDisclaimer,
    });
    expect(report.detectors.map((entry) => [entry.id, entry.applicable, entry.score])).toEqual([
      ['low-a', true, 0.1],
      ['low-b', true, 0.2],
    ]);
    expect(report.detectors.every((entry) => typeof entry.durationMs === 'number')).toBe(true);
    // The two detectors run together: both start, then both finish; no frames are asked for.
    expect(stages).toEqual([
      ['probe', 0, 'started'],
      ['probe', 0.25, 'finished'],
      ['detector:low-a', 0.25, 'started'],
      ['detector:low-b', 0.25, 'started'],
      ['detector:low-a', 0.5, 'finished'],
      ['detector:low-b', 0.75, 'finished'],
      ['fusion', 0.75, 'started'],
      ['fusion', 1, 'finished'],
      ['report', 1, 'started'],
    ]);
  });

  it('profiles the compression from the intake’s packet table, ahead of the band', async () => {
    const packets = syntheticPackets({ frames: 100, gop: 25, bFrames: 0, size: () => 960 });
    const table: PacketTable = {
      packets,
      listedPackets: 100,
      presentPackets: 100,
      presentBytes: 96_000,
      presentKeyframes: 4,
      keyframeTimes: [0, 1, 2, 3],
      firstTimeSeconds: 0,
      lastTimeSeconds: 3.96,
      meanFrameSeconds: 0.04,
    };
    const pipeline = createAnalysisPipeline({
      ...noFrames,
      intake: {
        check: async () => ({ probe, integrity: wholeMedia, notes: [], packets: { streamIndex: 0, table } }),
      },
      mediaTools: fakeMediaTools({}),
      detectors: [fakeDetector('low', async () => finding(0.1))],
    });
    const report = await pipeline.run({ ...request, probe, signal: signal() });
    expect(report.compression).toMatchObject({
      kind: 'video',
      codec: 'h264',
      bitrate: 192_000,
      bitRatePerPixelPerFrame: 0.1,
      gopLength: 25,
      bFrames: false,
      reencodeEvidence: null,
      forensicSignal: 'medium',
    });
    const keys = Object.keys(report);
    expect(keys.indexOf('compression')).toBe(keys.indexOf('band') - 1);
  });

  it('turns a detector failure into an entry without a score, never a clean band', async () => {
    const pipeline = createAnalysisPipeline({
      ...noFrames,
      intake: intactIntake,
      mediaTools: fakeMediaTools({}),
      detectors: [
        fakeDetector('broken', async () => Promise.reject(new Error('division by zero'))),
        fakeDetector('fine', async () => finding(0)),
      ],
    });
    const report = await pipeline.run({ ...request, probe, signal: signal() });
    expect(report.detectors[0]).toMatchObject({
      id: 'broken',
      applicable: true,
      score: null,
      coverage: null,
      reason: 'detector failed: division by zero',
    });
    expect(report.band).toBe('inconclusive');
    expect(report.reasons[0]).toBe('broken gave no score: detector failed: division by zero');
  });

  it('treats an out-of-range score as a detector failure', async () => {
    const pipeline = createAnalysisPipeline({
      ...noFrames,
      intake: intactIntake,
      mediaTools: fakeMediaTools({}),
      detectors: [fakeDetector('wild', async () => finding(Number.NaN))],
    });
    const report = await pipeline.run({ ...request, probe, signal: signal() });
    expect(report.detectors[0]?.reason).toBe('detector failed: score NaN is outside 0–1');
    expect(report.band).toBe('inconclusive');
  });

  it('records abstention and non-applicability with their reasons', async () => {
    const notForThis: Detector = {
      ...fakeDetector('faces', async () => finding(0)),
      applicable: () => ({ applicable: false, reason: 'no faces' }),
    };
    const abstains = fakeDetector('gop', async () => finding(null, { abstainReason: 'only 12 packets' }));
    const report = await createAnalysisPipeline({
      ...noFrames,
      intake: intactIntake,
      mediaTools: fakeMediaTools({}),
      detectors: [notForThis, abstains],
    }).run({ ...request, probe, signal: signal() });
    expect(report.detectors.map((entry) => [entry.id, entry.applicable, entry.reason])).toEqual([
      ['faces', false, 'no faces'],
      ['gop', true, 'only 12 packets'],
    ]);
    expect(report.band).toBe('inconclusive');
  });

  it('reports media refused by the intake check as not analyzable, running no detector', async () => {
    const refusing: MediaIntakeCheck = {
      check: async () => {
        throw new MediaIntakeRefusal(
          'media-truncated',
          'none of the 100 samples the index lists is inside the file',
          { ...wholeMedia, truncated: true, samplesPresent: 0, presentFraction: 0 },
        );
      },
    };
    const report = await createAnalysisPipeline({
      ...noFrames,
      intake: refusing,
      mediaTools: fakeMediaTools({}),
      detectors: [fakeDetector('a', async () => finding(0))],
    }).run({ ...request, signal: signal() });
    expect(report.band).toBe('not_analyzable');
    expect(report.reasons).toEqual([
      'the media cannot be analysed: none of the 100 samples the index lists is inside the file',
    ]);
    expect(report.integrity).toMatchObject({ truncated: true, samplesPresent: 0 });
    expect(report.coverage).toBe(0);
    expect(report.media.formatName).toBe('unknown');
    expect(report.detectors[0]).toMatchObject({ applicable: false, score: null });
  });

  it('says when only part of the media is present and scales coverage to that part', async () => {
    const partial: MediaIntegrity = {
      ...wholeMedia,
      truncated: true,
      samplesPresent: 30,
      presentFraction: 0.3,
      presentDurationSeconds: 1.2,
    };
    const report = await createAnalysisPipeline({
      ...noFrames,
      intake: {
        check: async () => ({ probe, integrity: partial, notes: ['the file is truncated: 30 of 100'] }),
      },
      mediaTools: fakeMediaTools({}),
      detectors: [fakeDetector('a', async () => finding(0.1))],
    }).run({ ...request, probe, signal: signal() });
    expect(report.integrity).toEqual(partial);
    expect(report.reasons[0]).toBe('the file is truncated: 30 of 100');
    expect(report.coverage).toBe(0.3);
  });

  it('reads the packet table once for all detectors of a run', async () => {
    let reads = 0;
    const table: PacketTable = {
      packets: [{ ptsTime: 0, dtsTime: 0, sizeBytes: 10, keyframe: true }],
      listedPackets: 1,
      presentPackets: 1,
      presentBytes: 10,
      presentKeyframes: 1,
      keyframeTimes: [0],
      firstTimeSeconds: 0,
      lastTimeSeconds: 0,
      meanFrameSeconds: null,
    };
    const tools = fakeMediaTools({
      packets: async () => {
        reads += 1;
        return table;
      },
    });
    const reader = (id: string) =>
      fakeDetector(id, async (context) =>
        finding(
          (
            await context.mediaTools.packets(
              context.input,
              0,
              { sizeBytes: context.sizeBytes },
              context.signal,
            )
          ).packets.length / 10,
        ),
      );
    const pipeline = createAnalysisPipeline({
      ...noFrames,
      intake: intactIntake,
      mediaTools: tools,
      detectors: [reader('a'), reader('b')],
    });
    const report = await pipeline.run({ ...request, probe, signal: signal() });
    expect(report.detectors.map((entry) => entry.score)).toEqual([0.1, 0.1]);
    expect(reads).toBe(1);
    await pipeline.run({ ...request, probe, signal: signal() });
    expect(reads).toBe(2);
  });

  it('stops on abort with the abort reason instead of recording a failure', async () => {
    const controller = new AbortController();
    const reason = new Error('shutting down');
    const aborting = fakeDetector('slow', async (context) => {
      controller.abort(reason);
      context.signal.throwIfAborted();
      return finding(0);
    });
    const never = fakeDetector('never', async () => {
      throw new Error('must not run after abort');
    });
    const pipeline = createAnalysisPipeline({
      ...noFrames,
      intake: intactIntake,
      mediaTools: fakeMediaTools({}),
      detectors: [aborting, never],
    });
    await expect(pipeline.run({ ...request, probe, signal: controller.signal })).rejects.toBe(reason);
  });
});
