/**
 * `npm run calibration:default [-- --seed N] [-- --out FILE]`: regenerates the project's default calibration
 * reference (calibration/default-reference.json) from synthetic authentic media made offline. Run it after
 * adding a detector or changing a detector's version; test/pipeline/default-calibration.test.ts fails until
 * then. Needs the Debian packages opencv-doc and python3-skimage for the sample pictures and videos.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { interruptible, openLocalEngine } from '../src/cli/local-engine.js';
import { loadConfig } from '../src/config/load-config.js';
import { buildDefaultReference } from '../src/evaluation/default-reference-run.js';
import { defaultCalibrationPath } from '../src/pipeline/calibration.js';

const { values } = parseArgs({
  options: {
    seed: { type: 'string', default: '1' },
    out: { type: 'string', default: defaultCalibrationPath },
  },
});
const seed = Number(values.seed);
if (!Number.isSafeInteger(seed)) throw new Error(`--seed must be an integer, not ${values.seed}`);

const started = Date.now();
const workDir = await mkdtemp(join(tmpdir(), 'guardian-default-calibration-'));
try {
  // Raw scores: the reference is built without any calibration or model card.
  const { mediaTools, pipeline } = await openLocalEngine(loadConfig(), { configured: false });
  const calibration = await interruptible((signal) =>
    buildDefaultReference(
      { workDir, seed },
      {
        ffmpeg: mediaTools.binaries.ffmpeg.path,
        ffprobe: mediaTools.binaries.ffprobe.path,
        pipeline,
        signal,
        log: (line) => console.error(line),
      },
    ),
  );
  const bytes = `${JSON.stringify(calibration, null, 2)}\n`;
  await writeFile(values.out, bytes);
  console.log(
    `wrote ${values.out} (sha256 ${createHash('sha256').update(bytes).digest('hex')}) in ${((Date.now() - started) / 60_000).toFixed(1)} min: ` +
      `${calibration.inputs.authentic} authentic media, ${calibration.inputs.notAnalyzable} not analysable; ` +
      `${calibration.detectors.length} detectors; pipeline ${calibration.pipelineVersion}`,
  );
} finally {
  await rm(workDir, { recursive: true, force: true });
}
