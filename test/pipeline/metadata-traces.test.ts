import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFfmpegMediaTools, type FfmpegMediaTools } from '../../src/media/ffmpeg.media-tools.js';
import type { MediaProbe } from '../../src/media/media-probe.js';
import type { DetectorFinding } from '../../src/pipeline/detector.js';
import {
  createMetadataTracesDetector,
  metadataScoreCap,
} from '../../src/pipeline/detectors/metadata-traces.detector.js';
import { detectorContext } from '../helpers/detector-context.js';
import { createMediaTempDir, generateClip, runFfmpeg, type MediaTempDir } from '../helpers/media-fixtures.js';

const now = new Date('2025-06-01T12:00:00Z');
const detector = createMetadataTracesDetector({ now: () => now });
let temp: MediaTempDir;
let tools: FfmpegMediaTools;

beforeAll(async () => {
  temp = await createMediaTempDir();
  tools = await createFfmpegMediaTools();
});
afterAll(() => temp.remove());

async function analyse(path: string): Promise<DetectorFinding> {
  const probe = await tools.probe(path);
  const context = detectorContext({ input: path, probe, mediaTools: tools });
  expect(detector.applicable(context)).toEqual({ applicable: true });
  return detector.analyze(context);
}

const kinds = (finding: DetectorFinding) => finding.evidence.map((item) => item.kind).sort();

/** A 2 s clip with arbitrary container tags (mp4 keeps unknown keys with use_metadata_tags). */
async function taggedClip(name: string, tags: Record<string, string>, extra: string[] = []): Promise<string> {
  const path = join(temp.dir, `${name}.mp4`);
  await runFfmpeg([
    ...['-f', 'lavfi', '-i', 'testsrc2=size=64x48:rate=10:duration=2'],
    ...extra,
    ...['-c:v', 'libx264', '-movflags', 'use_metadata_tags'],
    ...Object.entries(tags).flatMap(([key, value]) => ['-metadata', `${key}=${value}`]),
    path,
  ]);
  return path;
}

describe('metadata-traces on generated media', () => {
  it('names FFmpeg as a re-encoding trace and scores it low', async () => {
    const finding = await analyse(
      await generateClip(temp.dir, {
        seconds: 2,
        audio: true,
        metadata: { creation_time: '2024-05-01T10:00:00Z' },
      }),
    );
    expect(kinds(finding)).toEqual(['re-encoding-trace']);
    expect(finding.evidence[0]?.summary).toMatch(/Lavf.*FFmpeg/);
    expect(finding.score).toBe(0.25);
    expect(finding.coverage).toEqual({ unit: 'streams', analysed: 2, total: 2, fraction: 1 });
  });

  it('adds a missing creation time as a very weak indicator', async () => {
    const finding = await analyse(await generateClip(temp.dir, { seconds: 2, name: 'undated' }));
    expect(kinds(finding)).toEqual(['creation-time-missing', 're-encoding-trace']);
    expect(finding.score).toBeCloseTo(1 - 0.75 * 0.9, 3);
  });

  it('weighs an editing application more than a transcoder, still below the strong band', async () => {
    const finding = await analyse(
      await taggedClip('edited', {
        software: 'Adobe Premiere Pro 2024.1',
        creation_time: '2024-05-01T10:00:00Z',
      }),
    );
    expect(kinds(finding)).toContain('editing-software-trace');
    expect(finding.score).toBeCloseTo(1 - 0.55 * 0.75, 3);
    expect(finding.score).toBeLessThan(0.7);
  });

  it('flags a future creation date and a container brand the claimed camera does not write', async () => {
    const finding = await analyse(
      await taggedClip('claims-iphone', {
        'com.apple.quicktime.make': 'Apple',
        creation_time: '2099-01-01T00:00:00Z',
      }),
    );
    expect(kinds(finding)).toEqual(
      expect.arrayContaining(['creation-time-in-future', 'container-brand-mismatch']),
    );
    expect(finding.evidence.find((item) => item.kind === 'container-brand-mismatch')?.summary).toMatch(
      /major brand is "isom"/,
    );
  });

  it('flags tracks of different lengths and a second video track, and caps the total', async () => {
    const path = join(temp.dir, 'layout.mp4');
    await runFfmpeg([
      ...[
        '-f',
        'lavfi',
        '-i',
        'testsrc2=size=64x48:rate=10:duration=4',
        '-f',
        'lavfi',
        '-i',
        'sine=duration=1.5',
      ],
      ...[
        '-map',
        '0:v',
        '-map',
        '1:a',
        '-map',
        '0:v',
        '-c:v',
        'libx264',
        '-c:a',
        'aac',
        '-movflags',
        'use_metadata_tags',
      ],
      ...['-metadata', 'software=CapCut', '-metadata', 'creation_time=1970-01-01T00:00:00Z', path],
    ]);
    const finding = await analyse(path);
    expect(kinds(finding)).toEqual(
      expect.arrayContaining([
        'stream-duration-mismatch',
        'unusual-stream-layout',
        'editing-software-trace',
        'creation-time-placeholder',
      ]),
    );
    expect(finding.measurements.combined as number).toBeGreaterThan(metadataScoreCap);
    expect(finding.score).toBe(metadataScoreCap);
  });
});

describe('metadata-traces on probes', () => {
  const probe = (overrides: Partial<MediaProbe>): MediaProbe => ({
    formatName: 'mov,mp4,m4a,3gp,3g2,mj2',
    formatLongName: null,
    durationSeconds: 3,
    sizeBytes: 1000,
    bitRate: null,
    tags: {},
    streams: [],
    ...overrides,
  });
  const context = (media: MediaProbe) =>
    detectorContext({ input: 'unused', probe: media, mediaTools: undefined as never });
  const stream = (index: number, tags: Record<string, string>) => ({
    index,
    type: 'video' as const,
    codecName: 'h264',
    codecLongName: null,
    profile: null,
    width: 64,
    height: 48,
    pixelFormat: null,
    frameRate: 25,
    durationSeconds: 3,
    frameCount: 75,
    bitRate: null,
    sampleRate: null,
    channels: null,
    tags,
  });

  it('is not applicable without streams', () => {
    expect(detector.applicable(context(probe({})))).toEqual({
      applicable: false,
      reason: 'the probe found no streams',
    });
  });

  it('finds nothing in camera-like metadata', async () => {
    const finding = await detector.analyze(
      context(
        probe({
          tags: {
            major_brand: 'qt  ',
            'com.apple.quicktime.make': 'Apple',
            creation_time: '2025-05-30T08:00:00Z',
          },
          streams: [stream(0, { handler_name: 'Core Media Video' })],
        }),
      ),
    );
    expect(finding).toMatchObject({ score: 0, evidence: [] });
    expect(finding.explanation).toMatch(/No editing or re-encoding tool/);
  });

  it('notices streams dated far from their container and a creation after modification', async () => {
    const finding = await detector.analyze(
      context(
        probe({
          tags: { creation_time: '2025-05-30T08:00:00Z', modification_time: '2025-05-01T08:00:00Z' },
          streams: [stream(0, { creation_time: '2021-01-01T00:00:00Z' })],
        }),
      ),
    );
    expect(kinds(finding)).toEqual(['creation-after-modification', 'stream-dates-disagree']);
  });
});
