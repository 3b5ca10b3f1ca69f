import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { CliCommand } from '../cli-command.js';
import { interruptible, openLocalEngine } from '../local-engine.js';

const usage =
  'usage: guardian calibrate --authentic DIR [--manipulated DIR] [--method platt|isotonic] [--out FILE]';

/** `guardian calibrate`: detector scores on known media, written as a calibration file for CALIBRATION_FILE. */
export const calibrateCommand: CliCommand = {
  options: {
    authentic: { type: 'string' },
    manipulated: { type: 'string' },
    method: { type: 'string', default: 'platt' },
    out: { type: 'string', default: 'calibration.json' },
  },
  async run({ positionals, values, loadConfig }) {
    const { method, authentic } = values;
    if (
      positionals.length > 0 ||
      typeof authentic !== 'string' ||
      (method !== 'platt' && method !== 'isotonic')
    ) {
      console.error(usage);
      return 2;
    }
    // Raw scores: the pipeline runs without any calibration while calibrating.
    const [{ pipeline }, { buildCalibration }] = await Promise.all([
      openLocalEngine(loadConfig(), { configured: false }),
      import('../../evaluation/calibrate-run.js'),
    ]);
    const calibration = await interruptible((signal) =>
      buildCalibration(
        {
          authenticDir: authentic,
          manipulatedDir: typeof values.manipulated === 'string' ? values.manipulated : null,
          method,
        },
        { pipeline, signal, log: (line) => console.error(line) },
      ),
    );
    const bytes = `${JSON.stringify(calibration, null, 2)}\n`;
    const out = resolve(String(values.out));
    await writeFile(out, bytes);
    const { inputs } = calibration;
    console.log(
      `wrote ${out} (sha256 ${createHash('sha256').update(bytes).digest('hex')}): ${inputs.authentic} authentic, ${inputs.manipulated} manipulated, ${inputs.notAnalyzable} not analysable, ${inputs.skipped} not media; pipeline ${calibration.pipelineVersion}`,
    );
    return 0;
  },
};
