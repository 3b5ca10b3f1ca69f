import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { MediaProbe, MediaTools } from '../../src/media/media-probe.js';
import { createAnalysisPipeline } from '../../src/pipeline/analysis-pipeline.js';
import { createArtifactCollector, defaultMaxArtifactBytes } from '../../src/pipeline/artifact-collector.js';
import type { Detector, DetectorArtifact, DetectorFinding } from '../../src/pipeline/detector.js';
import type { MediaIntakeCheck } from '../../src/pipeline/media-intake.js';
import { wholeMediaIntegrity } from '../helpers/media-integrity.js';

const probe: MediaProbe = {
  formatName: 'mov,mp4,m4a,3gp,3g2,mj2',
  formatLongName: 'QuickTime / MOV',
  durationSeconds: 4,
  sizeBytes: 2000,
  bitRate: 4000,
  tags: {},
  streams: [],
};

const mediaTools = { versions: async () => ({ ffmpeg: 'test', ffprobe: 'test' }) } as unknown as MediaTools;
const intake: MediaIntakeCheck = {
  check: async () => ({ probe, integrity: wholeMediaIntegrity, notes: [] }),
};
const noFrames = {
  frameSampler: { sample: () => Promise.reject(new Error('no frames in this test')) },
  faceFinder: { find: () => Promise.reject(new Error('no faces in this test')) },
};

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

const artifact = (
  name: string,
  data: Buffer,
  contentType = 'application/octet-stream',
): DetectorArtifact => ({
  name,
  contentType,
  description: `${name} as computed`,
  data,
});

function detector(id: string, analyze: () => Promise<DetectorFinding>): Detector {
  return {
    id,
    version: '1.0.0',
    needs: ['probe'],
    strength: 'standard',
    description: id,
    applicable: () => ({ applicable: true }),
    analyze,
  };
}

const finding = (score: number | null, artifacts: DetectorArtifact[]): DetectorFinding => ({
  score,
  ...(score === null ? { abstainReason: 'too little data' } : {}),
  coverage: { unit: 'frames', analysed: 10, total: 10, fraction: 1 },
  evidence: [],
  explanation: 'measured.',
  measurements: {},
  artifacts,
});

function run(detectors: Detector[], onArtifact?: (fullName: string, artifact: DetectorArtifact) => void) {
  return createAnalysisPipeline({ ...noFrames, intake, mediaTools, detectors }).run({
    input: '/media/clip.mp4',
    sha256: 'ab'.repeat(32),
    sizeBytes: 2000,
    probe,
    signal: new AbortController().signal,
    onArtifact,
  });
}

describe('artifacts in the pipeline', () => {
  it('lists each artifact in the report (no bytes) and hands the bytes to the caller in report order', async () => {
    const timeline = Buffer.from(JSON.stringify({ frames: [0.1, 0.2] }));
    const map = Buffer.from([0x50, 0x35, 0x0a, 1, 2, 3, 255]);
    const abstained = Buffer.from('[]');
    const handed: [string, Buffer][] = [];
    const report = await run(
      [
        detector('noise', async () =>
          finding(0.2, [
            artifact('timeline.json', timeline, 'application/json'),
            artifact('residual.pgm', map),
          ]),
        ),
        detector('quiet', async () => finding(null, [artifact('trace.json', abstained, 'application/json')])),
        detector('none', async () => finding(0.1, [])),
        detector('broken', async () => {
          throw new Error('decoder crashed');
        }),
      ],
      (fullName, given) => void handed.push([fullName, given.data]),
    );

    expect(report.detectors.map((entry) => [entry.id, entry.artifacts])).toEqual([
      [
        'noise',
        [
          {
            name: 'timeline.json',
            contentType: 'application/json',
            description: 'timeline.json as computed',
            sizeBytes: timeline.length,
            sha256: sha256(timeline),
          },
          {
            name: 'residual.pgm',
            contentType: 'application/octet-stream',
            description: 'residual.pgm as computed',
            sizeBytes: map.length,
            sha256: sha256(map),
          },
        ],
      ],
      [
        'quiet',
        [
          {
            name: 'trace.json',
            contentType: 'application/json',
            description: 'trace.json as computed',
            sizeBytes: 2,
            sha256: sha256(abstained),
          },
        ],
      ],
      ['none', undefined],
      ['broken', undefined],
    ]);
    expect(handed).toEqual([
      ['noise/timeline.json', timeline],
      ['noise/residual.pgm', map],
      ['quiet/trace.json', abstained],
    ]);
    // The report is JSON for the database and the API: no buffer in it.
    expect(JSON.stringify(report)).not.toContain('"data"');
    expect(JSON.stringify(report)).not.toContain('"Buffer"');
  });

  it('drops what would take the analysis past its byte limit, listing it with the reason, and keeps what fits', async () => {
    const big = Buffer.alloc(20 * 1024 * 1024, 1);
    const bigger = Buffer.alloc(20 * 1024 * 1024, 2);
    const small = Buffer.from('{"ok":true}');
    const handed: string[] = [];
    const report = await run(
      [
        detector('first', async () => finding(0.1, [artifact('crops.bin', big)])),
        detector('second', async () =>
          finding(0.1, [
            artifact('spectrum.bin', bigger),
            artifact('scores.json', small, 'application/json'),
          ]),
        ),
      ],
      (fullName) => void handed.push(fullName),
    );

    expect(handed).toEqual(['first/crops.bin', 'second/scores.json']);
    const [first, second] = report.detectors;
    expect(first?.artifacts?.[0]?.dropped).toBeUndefined();
    expect(second?.artifacts?.[0]).toMatchObject({
      name: 'spectrum.bin',
      sizeBytes: bigger.length,
      sha256: sha256(bigger),
      dropped: `keeping it would take the analysis past its ${defaultMaxArtifactBytes}-byte artifact limit (${big.length} bytes kept)`,
    });
    expect(second?.artifacts?.[1]).not.toHaveProperty('dropped');
  });

  it('drops bad names, duplicates and odd content types with the reason, never silently', async () => {
    const bytes = Buffer.from('x');
    const handed: string[] = [];
    const report = await run(
      [
        detector('names', async () =>
          finding(0.1, [
            artifact('../escape.json', bytes),
            artifact('Upper.png', bytes),
            artifact('.hidden', bytes),
            artifact('a'.repeat(82), bytes),
            artifact('ok.json', bytes),
            artifact('ok.json', bytes),
            artifact('typed.bin', bytes, 'text/html; charset=utf-8'),
          ]),
        ),
      ],
      (fullName) => void handed.push(fullName),
    );

    expect(handed).toEqual(['names/ok.json']);
    const listed = report.detectors[0]?.artifacts ?? [];
    expect(listed.map((entry) => [entry.name, entry.dropped?.split(' ').slice(0, 3).join(' ')])).toEqual([
      ['../escape.json', 'the name is'],
      ['Upper.png', 'the name is'],
      ['.hidden', 'the name is'],
      ['a'.repeat(82), 'the name is'],
      ['ok.json', undefined],
      ['ok.json', 'another artifact of'],
      ['typed.bin', 'the content type'],
    ]);
  });

  it('lists artifacts the same way when the caller does not take the bytes', async () => {
    const bytes = Buffer.from('{}');
    const report = await run([detector('solo', async () => finding(0.1, [artifact('a.json', bytes)]))]);
    expect(report.detectors[0]?.artifacts).toEqual([
      expect.objectContaining({ name: 'a.json', sizeBytes: 2 }),
    ]);
  });

  it('fails the run, not the detector, when the caller cannot take an artifact', async () => {
    const pipeline = run(
      [detector('solo', async () => finding(0.1, [artifact('a.json', Buffer.from('{}'))]))],
      () => {
        throw new Error('disk full');
      },
    );
    await expect(pipeline).rejects.toThrow('disk full');
  });
});

describe('createArtifactCollector', () => {
  it('counts its limits over every detector of the run', async () => {
    const collector = createArtifactCollector({ maxBytes: 10, maxArtifacts: 2 });
    const four = Buffer.alloc(4);
    expect((await collector.accept('a', [artifact('one', four)]))[0]?.dropped).toBeUndefined();
    expect((await collector.accept('b', [artifact('one', four)]))[0]?.dropped).toBeUndefined();
    const [third] = await collector.accept('c', [artifact('one', Buffer.alloc(1))]);
    expect(third?.dropped).toBe('the analysis already keeps 2 artifacts, the limit');
    const bytes = createArtifactCollector({ maxBytes: 10 });
    await bytes.accept('a', [artifact('one', Buffer.alloc(8))]);
    expect((await bytes.accept('a', [artifact('two', Buffer.alloc(3))]))[0]?.dropped).toMatch(/10-byte/);
    expect((await bytes.accept('a', [artifact('three', Buffer.alloc(2))]))[0]?.dropped).toBeUndefined();
  });
});
