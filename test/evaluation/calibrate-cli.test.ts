import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calibrationFileSchema, defaultCalibrationPath } from '../../src/pipeline/calibration.js';
import type { AnalysisReport } from '../../src/pipeline/report.js';
import { runGuardian } from '../helpers/guardian-process.js';
import { createMediaTempDir, generateClip, type MediaTempDir } from '../helpers/media-fixtures.js';

let temp: MediaTempDir;
const authenticDir = () => join(temp.dir, 'authentic');

beforeAll(async () => {
  temp = await createMediaTempDir('guardian-calibrate-');
  await mkdir(authenticDir());
  // Ten short clips: enough references for a percentile (minReferenceScores).
  for (let seed = 1; seed <= 10; seed++)
    await generateClip(authenticDir(), {
      seconds: 1,
      size: '160x120',
      seed,
      noise: 4 * seed,
      name: `clip-${seed}`,
      audio: false,
    });
  await writeFile(join(authenticDir(), 'notes.txt'), 'not media');
}, 120_000);
afterAll(() => temp.remove());

describe('guardian calibrate', () => {
  it('writes a calibration file that analyze then uses for percentiles and records by sha256', async () => {
    const out = join(temp.dir, 'calibration.json');
    const calibrate = await runGuardian(
      ['calibrate', '--authentic', authenticDir(), '--out', out],
      {},
      { timeoutMs: 240_000 },
    );
    expect(calibrate.stderr).toMatch(/skipped .*notes\.txt/);
    expect(calibrate.code, calibrate.stderr).toBe(0);
    const bytes = await readFile(out);
    const file = calibrationFileSchema.parse(JSON.parse(bytes.toString('utf8')));
    expect(file.inputs).toEqual({ authentic: 10, manipulated: 0, notAnalyzable: 0, skipped: 1 });
    expect(file.detectors.length).toBeGreaterThan(0);
    for (const entry of file.detectors) {
      expect(entry.authenticScores).toEqual([...entry.authenticScores].sort((a, b) => a - b));
      expect(entry.authenticScores.length + entry.authenticUnscored).toBe(10);
      expect(entry.labelled).toBeNull();
    }
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    expect(calibrate.stdout).toContain(sha256);

    const analyze = await runGuardian(
      ['analyze', '--json', join(authenticDir(), 'clip-3.mp4')],
      { CALIBRATION_FILE: out },
      { timeoutMs: 120_000 },
    );
    expect(analyze.code, analyze.stderr).toBe(0);
    const report = JSON.parse(analyze.stdout) as AnalysisReport;
    expect(report.versions.calibration).toEqual({
      sha256,
      source: out,
      projectDefault: false,
      builtFrom: null,
    });
    expect(report.pipelineVersion).toBe(file.pipelineVersion);
    expect(report.detectors.some((detector) => typeof detector.percentile === 'number')).toBe(true);
    for (const detector of report.detectors) {
      const entry = file.detectors.find((candidate) => candidate.id === detector.id);
      const referenced = detector.score !== null && (entry?.authenticScores.length ?? 0) >= 10;
      if (referenced) expect(detector.percentile).toEqual(expect.any(Number));
      else expect(detector.percentile).toBeNull();
      expect(detector.probability).toBeNull();
    }
  }, 360_000);

  it('analyze without CALIBRATION_FILE places scores against the shipped default and records it', async () => {
    const bytes = await readFile(defaultCalibrationPath);
    const shipped = calibrationFileSchema.parse(JSON.parse(bytes.toString('utf8')));
    const analyze = await runGuardian(
      ['analyze', '--json', join(authenticDir(), 'clip-5.mp4')],
      { CALIBRATION_FILE: '' },
      { timeoutMs: 120_000 },
    );
    expect(analyze.code, analyze.stderr).toBe(0);
    const report = JSON.parse(analyze.stdout) as AnalysisReport;
    expect(report.versions.calibration).toEqual({
      sha256: createHash('sha256').update(bytes).digest('hex'),
      source: defaultCalibrationPath,
      projectDefault: true,
      builtFrom: shipped.builtFrom,
    });
    const placed = report.detectors.filter((detector) => typeof detector.percentile === 'number');
    expect(placed.map((detector) => detector.id)).toContain('metadata-traces');
    expect(report.detectors.every((detector) => detector.probability === null)).toBe(true);
  });

  it('refuses a bad CALIBRATION_FILE with its name, and missing arguments with the usage', async () => {
    const bad = join(temp.dir, 'bad.json');
    await writeFile(bad, '{"format":"something-else"}');
    const analyze = await runGuardian(['analyze', join(authenticDir(), 'clip-1.mp4')], {
      CALIBRATION_FILE: bad,
    });
    expect(analyze.code).toBe(1);
    expect(analyze.stderr).toContain('bad.json is not a calibration file');
    const usage = await runGuardian(['calibrate'], {});
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('usage: guardian calibrate --authentic DIR');
  });
});
