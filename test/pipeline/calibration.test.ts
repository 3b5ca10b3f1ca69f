import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CalibrationFileError,
  calibrationFromConfig,
  loadCalibrationFile,
  type CalibrationFile,
} from '../../src/pipeline/calibration.js';
import { createMediaTempDir, type MediaTempDir } from '../helpers/media-fixtures.js';

let temp: MediaTempDir;
beforeAll(async () => {
  temp = await createMediaTempDir('guardian-calibration-');
});
afterAll(() => temp.remove());

const file = (detectors: CalibrationFile['detectors']): CalibrationFile => ({
  format: 'guardian-calibration',
  formatVersion: 1,
  createdAt: '2025-01-01T00:00:00.000Z',
  pipelineVersion: 'p1-test',
  inputs: { authentic: 40, manipulated: 40, notAnalyzable: 0, skipped: 0 },
  detectors,
});

async function write(name: string, content: string): Promise<string> {
  const path = join(temp.dir, name);
  await writeFile(path, content);
  return path;
}

describe('loadCalibrationFile', () => {
  it('records the sha256 of the bytes and gives percentiles, probabilities only where labelled', async () => {
    const bytes = JSON.stringify(
      file([
        {
          id: 'noise',
          version: '2.0.0',
          authenticScores: [0, 0, 0, 0, 0.1, 0.1, 0.2, 0.3, 0.4, 0.5],
          authenticUnscored: 1,
          labelled: { method: 'platt', a: 10, b: -5, authentic: 10, manipulated: 10 },
        },
        {
          id: 'gop',
          version: '1.0.0',
          authenticScores: Array(12).fill(0.2),
          authenticUnscored: 0,
          labelled: null,
        },
        { id: 'few', version: '1.0.0', authenticScores: [0.1, 0.2], authenticUnscored: 0, labelled: null },
      ]),
    );
    const path = await write('calibration.json', bytes);
    const calibration = await loadCalibrationFile(path);
    expect(calibration.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(calibration.source).toBe(path);
    // 0.25 is above 7 of the 10 references (four 0s, two 0.1s, one 0.2).
    expect(calibration.assess({ id: 'noise', version: '2.0.0', score: 0.25 })).toEqual({
      percentile: 70,
      probability: 0.0759,
    });
    // A score equal to every reference is above none of them.
    expect(calibration.assess({ id: 'gop', version: '1.0.0', score: 0.2 })).toEqual({
      percentile: 0,
      probability: null,
    });
    expect(calibration.assess({ id: 'gop', version: '1.0.0', score: 0.9 })).toEqual({
      percentile: 100,
      probability: null,
    });
    // Another version, no score, or too small a reference: nothing.
    expect(calibration.assess({ id: 'noise', version: '2.1.0', score: 0.25 })).toEqual({
      percentile: null,
      probability: null,
    });
    expect(calibration.assess({ id: 'noise', version: '2.0.0', score: null })).toEqual({
      percentile: null,
      probability: null,
    });
    expect(calibration.assess({ id: 'few', version: '1.0.0', score: 0.5 })).toEqual({
      percentile: null,
      probability: null,
    });
  });

  it('names the file and the problem when it is missing or not a calibration file', async () => {
    await expect(loadCalibrationFile(join(temp.dir, 'absent.json'))).rejects.toThrow(
      /absent\.json cannot be read/,
    );
    const notJson = await write('broken.json', '{');
    await expect(loadCalibrationFile(notJson)).rejects.toThrow(CalibrationFileError);
    const wrong = await write('wrong.json', JSON.stringify({ ...file([]), formatVersion: 2 }));
    await expect(loadCalibrationFile(wrong)).rejects.toThrow(/wrong\.json is not a calibration file/);
  });

  it('is not loaded without CALIBRATION_FILE', async () => {
    expect(await calibrationFromConfig({})).toBeNull();
  });
});
