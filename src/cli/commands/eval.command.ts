import type { CliCommand } from '../cli-command.js';
import { interruptible, openLocalEngine } from '../local-engine.js';

const usage =
  'usage: guardian eval [--source-dir DIR] [--out DIR] [--kinds KIND,...] [--plan quick|core|full] [--quick] [--seed N] [--json]';

/** `guardian eval`: synthetic manipulations of face photos through the analyze pipeline, with ROC-AUC per kind. */
export const evalCommand: CliCommand = {
  options: {
    'source-dir': { type: 'string' },
    out: { type: 'string' },
    kinds: { type: 'string' },
    plan: { type: 'string' },
    quick: { type: 'boolean', default: false },
    seed: { type: 'string', default: '1' },
    json: { type: 'boolean', default: false },
  },
  async run({ positionals, values, loadConfig }) {
    const { itemKinds, setPlans } = await import('../../evaluation/synthetic-set.js');
    // --quick is kept as the short form of --plan quick.
    const plan = typeof values.plan === 'string' ? values.plan : values.quick === true ? 'quick' : 'full';
    const knownPlan = Object.hasOwn(setPlans, plan) && (values.quick !== true || plan === 'quick');
    const kinds =
      typeof values.kinds === 'string' ? values.kinds.split(',').map((kind) => kind.trim()) : [...itemKinds];
    const unknown = kinds.filter((kind) => !(itemKinds as readonly string[]).includes(kind));
    const seed = Number(values.seed);
    if (positionals.length > 0 || unknown.length > 0 || !Number.isSafeInteger(seed) || !knownPlan) {
      if (unknown.length)
        console.error(`guardian eval: unknown kinds ${unknown.join(', ')} (known: ${itemKinds.join(', ')})`);
      console.error(usage);
      return 2;
    }
    const [{ mediaTools, pipeline }, { runEvaluation }, { formatMetrics }] = await Promise.all([
      openLocalEngine(loadConfig(), { configured: false }),
      import('../../evaluation/eval-command-run.js'),
      import('../../evaluation/eval-summary.js'),
    ]);
    const outcome = await interruptible((signal) =>
      runEvaluation(
        {
          sourceDir: typeof values['source-dir'] === 'string' ? values['source-dir'] : null,
          outDir: typeof values.out === 'string' ? values.out : null,
          kinds: kinds as (typeof itemKinds)[number][],
          plan: plan as keyof typeof setPlans,
          seed,
        },
        {
          ffmpeg: mediaTools.binaries.ffmpeg.path,
          ffprobe: mediaTools.binaries.ffprobe.path,
          pipeline,
          signal,
          log: (line) => console.error(line),
        },
      ),
    );
    const context = { seed, sources: outcome.sources, plan };
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
  },
};
