import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeFile } from 'node:fs/promises';
import type { AnalysisPipeline } from '../pipeline/analysis-pipeline.js';
import { computeMetrics, type EvalMetrics } from './eval-metrics.js';
import { analyzeSet, type ItemResult } from './eval-run.js';
import { loadDebianSources, loadSourceDir, SourceImagesError } from './source-images.js';
import {
  generateSyntheticSet,
  setPlans,
  type ItemKind,
  type SetPlanName,
  type SyntheticSet,
} from './synthetic-set.js';

export interface EvalOptions {
  sourceDir: string | null;
  /** Keeps the set and the results here; null: a temporary directory removed afterwards. */
  outDir: string | null;
  kinds: readonly ItemKind[];
  plan: SetPlanName;
  seed: number;
  /** Where the Debian sample images are looked for (normally `/`). */
  debianRoot?: string;
}

export interface EvalDeps {
  ffmpeg: string;
  ffprobe: string;
  pipeline: AnalysisPipeline;
  signal: AbortSignal;
  /** Progress lines (stderr in the CLI). */
  log: (line: string) => void;
}

export interface EvalOutcome {
  set: SyntheticSet;
  results: ItemResult[];
  metrics: EvalMetrics;
  sources: string[];
}

/** Generates the synthetic set, analyses every item and computes the figures; the temporary set is always removed. */
export async function runEvaluation(options: EvalOptions, deps: EvalDeps): Promise<EvalOutcome> {
  const tools = { ffmpeg: deps.ffmpeg, ffprobe: deps.ffprobe, signal: deps.signal };
  const sources = options.sourceDir
    ? await loadSourceDir(options.sourceDir, tools)
    : await loadDebianSources(tools, options.debianRoot);
  if (sources.length === 0)
    throw new SourceImagesError(
      `${options.sourceDir}: no image with a known face box (add a faces.json: { "file.jpg": [x, y, width, height] })`,
    );
  const dir = options.outDir ? resolve(options.outDir) : await mkdtemp(join(tmpdir(), 'guardian-eval-'));
  try {
    const plan = setPlans[options.plan];
    const used = sources.slice(0, plan.maxSources);
    deps.log(
      `generating synthetic manipulations from ${used.map((source) => source.name).join(', ')} into ${dir}`,
    );
    const set = await generateSyntheticSet({
      sources: used,
      dir,
      kinds: options.kinds,
      plan,
      seed: options.seed,
      tools: { ffmpeg: deps.ffmpeg, signal: deps.signal },
      onItem: (item) => deps.log(`  made ${item.file}`),
    });
    const results = await analyzeSet(set, {
      pipeline: deps.pipeline,
      signal: deps.signal,
      onResult: (item, result, index) =>
        deps.log(
          `  [${index + 1}/${set.items.length}] ${item.id}: ${result.error ? `error: ${result.error}` : result.band} (${result.durationMs} ms)`,
        ),
    });
    const metrics = computeMetrics(set.items, results);
    if (options.outDir)
      await writeFile(
        join(dir, 'results.json'),
        `${JSON.stringify({ label: set.label, results, metrics }, null, 2)}\n`,
      );
    return { set, results, metrics, sources: used.map((source) => source.name) };
  } finally {
    if (!options.outDir) await rm(dir, { recursive: true, force: true });
  }
}
