import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { createFfmpegMediaTools } from '../../media/ffmpeg.media-tools.js';
import { mediaLimitsFromConfig } from '../../media/media-limits.js';
import type { CliCommand } from '../cli-command.js';

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
    const method = values.method;
    if (
      positionals.length > 0 ||
      typeof values.authentic !== 'string' ||
      (method !== 'platt' && method !== 'isotonic')
    ) {
      console.error(usage);
      return 2;
    }
    const config = loadConfig();
    const limits = mediaLimitsFromConfig(config);
    const [mediaTools, { createDetectionEngine }, { buildCalibration }] = await Promise.all([
      createFfmpegMediaTools({
        ffmpegPath: config.FFMPEG_PATH,
        ffprobePath: config.FFPROBE_PATH,
        limits,
        notice: (message) => console.error(`warning: ${message}`),
      }),
      import('../../pipeline/detection-engine.js'),
      import('../../evaluation/calibrate-run.js'),
    ]);
    // Raw scores: the pipeline runs without any calibration while calibrating.
    const { pipeline } = await createDetectionEngine({ mediaTools, limits });
    const controller = new AbortController();
    const abort = () => controller.abort(new Error('interrupted'));
    process.once('SIGINT', abort);
    try {
      const calibration = await buildCalibration(
        {
          authenticDir: values.authentic,
          manipulatedDir: typeof values.manipulated === 'string' ? values.manipulated : null,
          method,
        },
        { pipeline, signal: controller.signal, log: (line) => console.error(line) },
      );
      const bytes = `${JSON.stringify(calibration, null, 2)}\n`;
      const out = resolve(String(values.out));
      await writeFile(out, bytes);
      const { inputs } = calibration;
      console.log(
        `wrote ${out} (sha256 ${createHash('sha256').update(bytes).digest('hex')}): ${inputs.authentic} authentic, ${inputs.manipulated} manipulated, ${inputs.notAnalyzable} not analysable, ${inputs.skipped} not media; pipeline ${calibration.pipelineVersion}`,
      );
      return 0;
    } finally {
      process.off('SIGINT', abort);
    }
  },
};
