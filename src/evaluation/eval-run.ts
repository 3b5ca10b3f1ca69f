import { join } from 'node:path';
import type { AnalysisPipeline } from '../pipeline/analysis-pipeline.js';
import { analyzeFile } from '../pipeline/analyze-file.js';
import type { AnalysisReport, Band } from '../pipeline/report.js';
import { faceFound } from './face-presence.js';
import type { EvalItem, SyntheticSet } from './synthetic-set.js';

/** What the eval keeps of one item's report. */
export interface ItemResult {
  id: string;
  band: Band | null;
  /** A single fused score, when the report carries one. */
  fusedScore: number | null;
  /** Score by `id@version`; null when the detector gave none. */
  detectors: Record<string, number | null>;
  faceFound: boolean | null;
  durationMs: number;
  /** The analysis threw (not a not_analyzable report: an error). */
  error?: string;
}

export interface RunDeps {
  pipeline: AnalysisPipeline;
  signal: AbortSignal;
  onResult?: (item: EvalItem, result: ItemResult, index: number) => void;
}

/** Every item through the same pipeline `guardian analyze` runs, one at a time. */
export async function analyzeSet(set: SyntheticSet, deps: RunDeps): Promise<ItemResult[]> {
  const results: ItemResult[] = [];
  for (const [index, item] of set.items.entries()) {
    const started = performance.now();
    let result: ItemResult;
    try {
      const report = await analyzeFile(join(set.dir, item.file), {
        pipeline: deps.pipeline,
        signal: deps.signal,
      });
      result = summariseReport(item.id, report, Math.round(performance.now() - started));
    } catch (error) {
      if (deps.signal.aborted) throw error;
      result = {
        id: item.id,
        band: null,
        fusedScore: null,
        detectors: {},
        faceFound: null,
        durationMs: Math.round(performance.now() - started),
        error: error instanceof Error ? error.message : String(error),
      };
    }
    results.push(result);
    deps.onResult?.(item, result, index);
  }
  return results;
}

export function summariseReport(id: string, report: AnalysisReport, durationMs: number): ItemResult {
  return {
    id,
    band: report.band,
    fusedScore: fusedScoreOf(report),
    detectors: Object.fromEntries(
      report.detectors.map((detector) => [`${detector.id}@${detector.version}`, detector.score]),
    ),
    faceFound: faceFound(report),
    durationMs,
  };
}

/** A report-level score, if fusion ever adds one (`score` or `fusion.score`); the band is used otherwise. */
function fusedScoreOf(report: AnalysisReport): number | null {
  const fields = report as unknown as { score?: unknown; fusion?: { score?: unknown } };
  const score = typeof fields.score === 'number' ? fields.score : fields.fusion?.score;
  return typeof score === 'number' && Number.isFinite(score) ? score : null;
}
