import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load-config.js';
import { defaultMediaLimits } from '../../src/media/media-limits.js';
import type { MediaTools } from '../../src/media/media-probe.js';
import { createDetectionEngine } from '../../src/pipeline/detection-engine.js';
import type { AnalysisReport } from '../../src/pipeline/report.js';
import { runGuardian } from '../helpers/guardian-process.js';
import { createMediaTempDir, generateStill, type MediaTempDir } from '../helpers/media-fixtures.js';
import { writeModelFixture, type ModelFixture } from '../helpers/model-card-fixture.js';

let temp: MediaTempDir;
let good: ModelFixture;
let tampered: ModelFixture;
beforeAll(async () => {
  temp = await createMediaTempDir('guardian-model-wiring-');
  good = await writeModelFixture(temp.dir, 'redness');
  tampered = await writeModelFixture(temp.dir, 'tampered');
  const bytes = await readFile(tampered.modelPath);
  bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 0xff;
  await writeFile(tampered.modelPath, bytes);
});
afterAll(() => temp.remove());

// Building the engine touches no media tool; the model detectors are what is under test.
const engine = (modelCards?: string[]) =>
  createDetectionEngine({ mediaTools: {} as MediaTools, limits: defaultMediaLimits, modelCards });

const caught = (promise: Promise<unknown>) =>
  promise.then(
    () => null,
    (error: unknown) => error,
  );

describe('MODEL_CARDS', () => {
  it('is a comma-separated list of readable files, unset by default', () => {
    const env = { DATA_DIR: temp.dir };
    expect(loadConfig(env).MODEL_CARDS).toBeUndefined();
    expect(loadConfig({ ...env, MODEL_CARDS: ' ' }).MODEL_CARDS).toBeUndefined();
    expect(
      loadConfig({ ...env, MODEL_CARDS: ` ${good.cardPath} ,${tampered.cardPath},` }).MODEL_CARDS,
    ).toEqual([good.cardPath, tampered.cardPath]);
    expect(() => loadConfig({ ...env, MODEL_CARDS: join(temp.dir, 'missing.json') })).toThrow(
      /MODEL_CARDS: .*missing\.json is not a readable file/,
    );
  });

  it('adds one detector per verified card, and the pipeline version changes with it', async () => {
    const without = await engine();
    const withModel = await engine([good.cardPath]);
    expect(withModel.pipeline.version).not.toBe(without.pipeline.version);
  });

  it('stops the engine with a ConfigError naming each refused card and why', async () => {
    const error = await caught(engine([good.cardPath, tampered.cardPath]));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      expect.stringMatching(
        new RegExp(
          `^MODEL_CARDS: model card ${tampered.cardPath}: model file .* has sha256 [0-9a-f]{64}, the card expects ${tampered.sha256}$`,
        ),
      ),
    ]);
    const twice = await caught(engine([good.cardPath, good.cardPath]));
    expect((twice as ConfigError).problems).toEqual([
      `MODEL_CARDS: ${good.cardPath} and ${good.cardPath} are both named "redness"`,
    ]);
  });

  it('guardian analyze exits 2 on a refused card and lists a verified one in its report', async () => {
    const still = await generateStill(temp.dir, { size: '64x48' });
    const env = { DATA_DIR: temp.dir, DATABASE_URL: '', REDIS_URL: '' };
    const [refused, accepted] = await Promise.all([
      runGuardian(['analyze', '--json', still], { ...env, MODEL_CARDS: tampered.cardPath }),
      runGuardian(['analyze', '--json', still], { ...env, MODEL_CARDS: good.cardPath }),
    ]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`MODEL_CARDS: model card ${tampered.cardPath}: model file`);
    expect(refused.stdout).toBe('');
    expect(accepted.code).toBe(0);
    const report = JSON.parse(accepted.stdout) as AnalysisReport;
    expect(report.detectors.map((detector) => detector.id)).toContain('model:redness');
    expect(report.versions.detectors['model:redness']).toBe(`1.0.0+${good.sha256.slice(0, 12)}`);
  });
});
