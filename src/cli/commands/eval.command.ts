import { createFfmpegMediaTools } from '../../media/ffmpeg.media-tools.js';
import { mediaLimitsFromConfig } from '../../media/media-limits.js';
import type { CliCommand } from '../cli-command.js';

const usage =
  'usage: guardian eval [--source-dir DIR] [--out DIR] [--kinds KIND,...] [--quick] [--seed N] [--json]';

/** `guardian eval`: synthetic manipulations of face photos through the analyze pipeline, with ROC-AUC per kind. */
export const evalCommand: CliCommand = {
  options: {
    'source-dir': { type: 'string' },
    out: { type: 'string' },
    kinds: { type: 'string' },
    quick: { type: 'boolean', default: false },
    seed: { type: 'string', default: '1' },
    json: { type: 'boolean', default: false },
  },
  async run({ positionals, values, loadConfig }) {
    const { itemKinds } = await import('../../evaluation/synthetic-set.js');
    const kinds =
      typeof values.kinds === 'string' ? values.kinds.split(',').map((kind) => kind.trim()) : [...itemKinds];
    const unknown = kinds.filter((kind) => !(itemKinds as readonly string[]).includes(kind));
    const seed = Number(values.seed);
    if (positionals.length > 0 || unknown.length > 0 || !Number.isSafeInteger(seed)) {
      if (unknown.length)
        console.error(`guardian eval: unknown kinds ${unknown.join(', ')} (known: ${itemKinds.join(', ')})`);
      console.error(usage);
      return 2;
    }
    const config = loadConfig();
    const limits = mediaLimitsFromConfig(config);
    const [mediaTools, { createDetectionEngine }, { runEvaluation }, { formatMetrics }] = await Promise.all([
      createFfmpegMediaTools({
        ffmpegPath: config.FFMPEG_PATH,
        ffprobePath: config.FFPROBE_PATH,
        limits,
        notice: (message) => console.error(`warning: ${message}`),
      }),
      import('../../pipeline/detection-engine.js'),
      import('../../evaluation/eval-command-run.js'),
      import('../../evaluation/eval-summary.js'),
    ]);
    const { pipeline } = await createDetectionEngine({ mediaTools, limits });
    const controller = new AbortController();
    const abort = () => controller.abort(new Error('interrupted'));
    process.once('SIGINT', abort);
    try {
      const outcome = await runEvaluation(
        {
          sourceDir: typeof values['source-dir'] === 'string' ? values['source-dir'] : null,
          outDir: typeof values.out === 'string' ? values.out : null,
          kinds: kinds as (typeof itemKinds)[number][],
          quick: values.quick === true,
          seed,
        },
        {
          ffmpeg: mediaTools.binaries.ffmpeg.path,
          ffprobe: mediaTools.binaries.ffprobe.path,
          pipeline,
          signal: controller.signal,
          log: (line) => console.error(line),
        },
      );
      const context = { seed, sources: outcome.sources, quick: values.quick === true };
      console.log(
        values.json
          ? JSON.stringify(
              {
                ...context,
                pipelineVersion: pipeline.version,
                metrics: outcome.metrics,
                results: outcome.results,
              },
              null,
              2,
            )
          : formatMetrics(outcome.metrics, context),
      );
      return 0;
    } finally {
      process.off('SIGINT', abort);
    }
  },
};
