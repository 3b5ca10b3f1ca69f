import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { UnsupportedMediaError } from '../pipeline/analysis-errors.js';
import type { AnalysisPipeline } from '../pipeline/analysis-pipeline.js';
import { analyzeFile } from '../pipeline/analyze-file.js';
import type { CalibrationFile } from '../pipeline/calibration.js';
import type { AnalysisReport } from '../pipeline/report.js';
import { fitIsotonic, fitPlatt, type LabelledScore } from './calibration-fit.js';

/** A labelled fit from fewer scores than this per class is not written: it would only restate the handful. */
export const minLabelledPerClass = 5;

export interface CalibrateOptions {
  authenticDir: string;
  manipulatedDir: string | null;
  method: 'platt' | 'isotonic';
}

export interface CalibrateDeps {
  pipeline: AnalysisPipeline;
  signal: AbortSignal;
  log: (line: string) => void;
  clock?: () => Date;
}

/** Runs the pipeline over the media of the directories and builds the calibration file's content. */
export async function buildCalibration(
  options: CalibrateOptions,
  deps: CalibrateDeps,
): Promise<CalibrationFile> {
  const inputs = { authentic: 0, manipulated: 0, notAnalyzable: 0, skipped: 0 };
  const reports: { report: AnalysisReport; manipulated: boolean }[] = [];
  const groups = [
    { dir: options.authenticDir, manipulated: false },
    ...(options.manipulatedDir ? [{ dir: options.manipulatedDir, manipulated: true }] : []),
  ];
  for (const { dir, manipulated } of groups) {
    const files = await listFiles(dir);
    if (files.length === 0) throw new Error(`${dir} holds no files`);
    for (const file of files) {
      let report: AnalysisReport;
      try {
        report = await analyzeFile(file, { pipeline: deps.pipeline, signal: deps.signal });
      } catch (error) {
        if (!(error instanceof UnsupportedMediaError)) throw error;
        inputs.skipped += 1;
        deps.log(`  skipped ${file}: ${error.message}`);
        continue;
      }
      if (report.band === 'not_analyzable') {
        inputs.notAnalyzable += 1;
        deps.log(`  not analysable, left out: ${file}`);
        continue;
      }
      inputs[manipulated ? 'manipulated' : 'authentic'] += 1;
      reports.push({ report, manipulated });
      deps.log(`  ${manipulated ? 'manipulated' : 'authentic'} ${file}: ${report.band}`);
    }
  }
  if (inputs.authentic === 0) throw new Error(`no analysable media in ${options.authenticDir}`);

  const detectors = new Map<
    string,
    { id: string; version: string; samples: LabelledScore[]; unscored: number }
  >();
  for (const { report, manipulated } of reports) {
    for (const detector of report.detectors) {
      const key = `${detector.id}@${detector.version}`;
      const entry = detectors.get(key) ?? {
        id: detector.id,
        version: detector.version,
        samples: [],
        unscored: 0,
      };
      detectors.set(key, entry);
      if (detector.score !== null) entry.samples.push({ score: detector.score, manipulated });
      else if (!manipulated) entry.unscored += 1;
    }
  }
  return {
    format: 'guardian-calibration',
    formatVersion: 1,
    createdAt: (deps.clock ?? (() => new Date()))().toISOString(),
    pipelineVersion: deps.pipeline.version,
    inputs,
    detectors: [...detectors.values()]
      .sort((a, b) => a.id.localeCompare(b.id))
      .map((entry) => {
        const authentic = entry.samples.filter((sample) => !sample.manipulated);
        const manipulated = entry.samples.length - authentic.length;
        const labelled =
          authentic.length >= minLabelledPerClass && manipulated >= minLabelledPerClass
            ? {
                ...(options.method === 'platt' ? fitPlatt(entry.samples) : fitIsotonic(entry.samples)),
                authentic: authentic.length,
                manipulated,
              }
            : null;
        if (options.manipulatedDir && !labelled)
          deps.log(
            `  ${entry.id}@${entry.version}: no probability fit (needs ${minLabelledPerClass} scores of each class, has ${authentic.length} authentic, ${manipulated} manipulated)`,
          );
        return {
          id: entry.id,
          version: entry.version,
          authenticScores: authentic.map((sample) => sample.score).sort((a, b) => a - b),
          authenticUnscored: entry.unscored,
          labelled,
        };
      }),
  };
}

/** Regular files under `dir`, recursively, hidden entries left out, in a stable order. */
async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const files: string[] = [];
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await listFiles(path)));
    else if (entry.isFile()) files.push(path);
  }
  return files;
}
