import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnalysisReport } from '../../src/pipeline/report.js';
import { runGuardian } from '../helpers/guardian-process.js';
import { createMediaTempDir, generateStill, type MediaTempDir } from '../helpers/media-fixtures.js';
import { writeModelFixture, type ModelFixture } from '../helpers/model-card-fixture.js';

let temp: MediaTempDir;
let model: ModelFixture;
beforeAll(async () => {
  temp = await createMediaTempDir('guardian-analyze-artifacts-');
  model = await writeModelFixture(temp.dir, 'redness');
});
afterAll(() => temp.remove());

describe('guardian analyze --artifacts DIR', () => {
  it('writes each kept artifact as DIR/<detector>/<name>, byte for byte what the report lists', async () => {
    const still = await generateStill(temp.dir, { size: '64x48' });
    const out = join(temp.dir, 'artifacts');
    const env = { DATA_DIR: temp.dir, DATABASE_URL: '', REDIS_URL: '', MODEL_CARDS: model.cardPath };
    const result = await runGuardian(['analyze', '--json', '--artifacts', out, still], env);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as AnalysisReport;
    const kept = report.detectors.flatMap((detector) =>
      (detector.artifacts ?? [])
        .filter((artifact) => artifact.dropped === undefined)
        .map((artifact) => ({ detector: detector.id, ...artifact })),
    );
    expect(kept.map((artifact) => `${artifact.detector}/${artifact.name}`)).toContain(
      'model:redness/scores.json',
    );
    for (const artifact of kept) {
      const bytes = await readFile(join(out, artifact.detector.replace(':', '_'), artifact.name));
      expect(bytes.length).toBe(artifact.sizeBytes);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(artifact.sha256);
    }
    const written = await readdir(out, { recursive: true, withFileTypes: true });
    expect(written.filter((entry) => entry.isFile())).toHaveLength(kept.length);
    expect(result.stderr).toContain(`wrote ${kept.length} artifact file(s) to ${out}`);
  });

  it('refuses an empty or missing directory with the usage (exit 2)', async () => {
    const env = { DATA_DIR: temp.dir, DATABASE_URL: '', REDIS_URL: '' };
    const [empty, missing] = await Promise.all([
      runGuardian(['analyze', '--artifacts=', 'clip.mp4'], env),
      runGuardian(['analyze', 'clip.mp4', '--artifacts'], env),
    ]);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('usage: guardian analyze FILE [--json] [--artifacts DIR]');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--artifacts');
  });
});
