import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MediaProbe, MediaTools } from '../../src/media/media-probe.js';
import { createAnalysisPipeline } from '../../src/pipeline/analysis-pipeline.js';
import type { Detector } from '../../src/pipeline/detector.js';
import { DatabaseFlagProvider } from '../../src/flags/database-flag.provider.js';
import { createDetectorFlags, flagGatedDetectors } from '../../src/flags/detector-flags.js';
import type { FeatureFlag } from '../../src/flags/feature-flag.js';
import type { FlagSource } from '../../src/flags/flag-source.js';
import { openFlagClient } from '../../src/flags/open-feature-client.js';
import { defaultDetectors } from '../../src/pipeline/default-detectors.js';
import { wholeMediaIntegrity } from '../helpers/media-integrity.js';

const optedOut = '6f1d7e2a-33b4-4c1e-8a51-0d2b6c7e9f01';
const untouched = '6f1d7e2a-33b4-4c1e-8a51-0d2b6c7e9f02';
const probe = {
  formatName: 'png_pipe',
  durationSeconds: null,
  bitRate: null,
  streams: [],
  tags: {},
} as unknown as MediaProbe;

function detector(id: string, ran: string[]): Detector {
  return {
    id,
    version: '1.0.0',
    needs: ['probe'],
    strength: 'weak',
    description: id,
    applicable: () => ({ applicable: true }),
    analyze: async () => {
      ran.push(id);
      return {
        score: 0.1,
        coverage: { unit: 'fields', analysed: 1, total: 1, fraction: 1 },
        evidence: [],
        explanation: 'measured.',
        measurements: {},
      };
    },
  };
}

/** The one flag in the store: c2pa-provenance switched off for one organisation. */
const stored: FeatureFlag = {
  key: 'detector.c2pa-provenance',
  type: 'boolean',
  description: '',
  enabled: true,
  variants: { on: true, off: false },
  defaultVariant: 'on',
  rollout: null,
  overrides: [{ orgId: optedOut, variant: 'off' }],
  createdAt: new Date(0),
  updatedAt: new Date(0),
};

describe('flag-gated detectors in the pipeline', () => {
  const ran: string[] = [];
  const pipeline = createAnalysisPipeline({
    mediaTools: { versions: async () => ({ ffmpeg: 'test', ffprobe: 'test' }) } as MediaTools,
    intake: { check: async () => ({ probe, integrity: wholeMediaIntegrity, notes: [] }) },
    detectors: [detector('metadata-traces', ran), detector('c2pa-provenance', ran)],
    frameSampler: { sample: async () => Promise.reject(new Error('no frames')) },
    faceFinder: { find: async () => Promise.reject(new Error('no faces')) },
  });
  let flags: { client: Parameters<typeof createDetectorFlags>[0]['client']; close(): Promise<void> };
  let current: FeatureFlag[] = [stored];
  const source: FlagSource = {
    flags: async () => new Map(current.map((flag) => [flag.key, flag])),
    invalidate: () => {},
  };

  beforeAll(async () => {
    flags = await openFlagClient(new DatabaseFlagProvider(source));
  });
  afterAll(() => flags.close());

  const analyse = async (orgId: string) => {
    ran.length = 0;
    const detectorFlags = await createDetectorFlags({ client: flags.client }).decide(orgId);
    const report = await pipeline.run({
      input: '/media/still.png',
      sha256: 'ab'.repeat(32),
      sizeBytes: 100,
      probe,
      signal: new AbortController().signal,
      detectorFlags,
    });
    return { report, ran: [...ran].sort() };
  };

  it('gates a detector that exists and runs by default, so no flag means no change', () => {
    const ids = defaultDetectors().map((entry) => entry.id);
    for (const gate of flagGatedDetectors) {
      expect(ids).toContain(gate.detectorId);
      expect(gate.whenUnset, `${gate.flagKey} must keep today's outcome without a flag`).toBe(true);
    }
  });

  it('skips the detector for the organisation switched off, says so in the report, and records the flag', async () => {
    const { report, ran: detectorsRun } = await analyse(optedOut);
    expect(detectorsRun).toEqual(['metadata-traces']);
    const c2pa = report.detectors.find((entry) => entry.id === 'c2pa-provenance');
    expect(c2pa).toMatchObject({ applicable: false, score: null });
    expect(c2pa?.reason).toMatch(/feature flag "detector\.c2pa-provenance"/);
    expect(report.detectors.map((entry) => entry.id)).toEqual(['metadata-traces', 'c2pa-provenance']);
    expect(report.versions.featureFlags).toEqual([
      {
        detectorId: 'c2pa-provenance',
        flagKey: 'detector.c2pa-provenance',
        enabled: false,
        variant: 'off',
        reason: 'TARGETING_MATCH',
        errorCode: null,
        ran: false,
      },
    ]);
  });

  it('runs it for every other organisation, and for everyone once the flag is gone (no restart)', async () => {
    const other = await analyse(untouched);
    expect(other.ran).toEqual(['c2pa-provenance', 'metadata-traces']);
    expect(other.report.versions.featureFlags?.[0]).toMatchObject({
      enabled: true,
      reason: 'DEFAULT',
      ran: true,
    });
    current = [];
    const after = await analyse(optedOut);
    expect(after.ran).toEqual(['c2pa-provenance', 'metadata-traces']);
    expect(after.report.versions.featureFlags?.[0]).toMatchObject({
      enabled: true,
      errorCode: 'FLAG_NOT_FOUND',
      ran: true,
    });
    expect(after.report.detectors.find((entry) => entry.id === 'c2pa-provenance')?.score).toBe(0.1);
  });
});
