import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/**
 * Reference scores for detector scores, written by `guardian calibrate`: each detector's scores on
 * authentic media (for percentiles) and, with labelled data, a fitted score-to-probability map. Without
 * CALIBRATION_FILE the project's default reference is used (synthetic authentic media, made by
 * `npm run calibration:default`); `CALIBRATION_FILE=none` shows no percentile and no probability. Entries
 * are per detector id and version: a changed detector has no reference until calibrated again.
 */

/** The default reference shipped in the package, found beside the code (not the working directory). */
export const defaultCalibrationPath = fileURLToPath(
  new URL('../../calibration/default-reference.json', import.meta.url),
);

/** The CALIBRATION_FILE value that turns percentiles off (a file of that name: `./none`). */
export const noCalibration = 'none';

export interface PlattFit {
  method: 'platt';
  /** probability = 1 / (1 + exp(−(a·score + b))). */
  a: number;
  b: number;
}

export interface IsotonicFit {
  method: 'isotonic';
  /** Block centres (mean score of each pooled block), increasing; probabilities are interpolated between them. */
  scores: number[];
  probabilities: number[];
}

export type ProbabilityFit = PlattFit | IsotonicFit;

/** Fewer authentic scores than this give no percentile: a rank among a handful says nothing. */
export const minReferenceScores = 10;

const fitSchema = z.discriminatedUnion('method', [
  z.object({ method: z.literal('platt'), a: z.number(), b: z.number() }),
  z
    .object({
      method: z.literal('isotonic'),
      scores: z.array(z.number()).min(1),
      probabilities: z.array(z.number().min(0).max(1)).min(1),
    })
    .refine((fit) => fit.scores.length === fit.probabilities.length, 'one probability per score'),
]);

const builtFromSchema = z.object({
  /** What the reference media are, in plain words. */
  description: z.string(),
  /** The command that made them. */
  generator: z.string(),
  seed: z.number().int(),
  /** Media generated, per group (before any was left out as not analysable). */
  items: z.record(z.string(), z.number().int().min(0)),
  /** The sample files and test patterns the media were made from. */
  sources: z.array(z.string()),
});

export type CalibrationBuiltFrom = z.infer<typeof builtFromSchema>;

export const calibrationFileSchema = z.object({
  format: z.literal('guardian-calibration'),
  formatVersion: z.literal(1),
  createdAt: z.string(),
  /** The pipeline whose scores these are. */
  pipelineVersion: z.string(),
  inputs: z.object({
    authentic: z.number().int().min(0),
    manipulated: z.number().int().min(0),
    notAnalyzable: z.number().int().min(0),
    skipped: z.number().int().min(0),
  }),
  /** Where the reference media came from, when the file records it (the project's default does). */
  builtFrom: builtFromSchema.optional(),
  detectors: z.array(
    z.object({
      id: z.string(),
      version: z.string(),
      /** Scores on authentic media, ascending. */
      authenticScores: z.array(z.number().min(0).max(1)),
      /** Authentic media on which the detector gave no score. */
      authenticUnscored: z.number().int().min(0),
      labelled: fitSchema
        .and(z.object({ authentic: z.number().int().min(0), manipulated: z.number().int().min(0) }))
        .nullable(),
    }),
  ),
});

export type CalibrationFile = z.infer<typeof calibrationFileSchema>;

export interface ScoreCalibration {
  /** 0–100: the score is higher than this share of the authentic reference; null without one. */
  percentile: number | null;
  /** Only with a labelled fit for this detector id and version; null otherwise. */
  probability: number | null;
}

export interface Calibration {
  /** Of the file's bytes, recorded in every report. */
  sha256: string;
  /** Where it was loaded from. */
  source: string;
  /** True for the reference shipped with the project (CALIBRATION_FILE unset). */
  projectDefault: boolean;
  builtFrom: CalibrationBuiltFrom | null;
  pipelineVersion: string;
  assess(detector: { id: string; version: string; score: number | null }): ScoreCalibration;
}

export class CalibrationFileError extends Error {}

export async function loadCalibrationFile(
  path: string,
  options: { projectDefault?: boolean } = {},
): Promise<Calibration> {
  const source = resolve(path);
  const projectDefault = options.projectDefault ?? false;
  // The default is not named by the operator: say what it is and how to do without it.
  const name = projectDefault
    ? `the default calibration file ${source} (CALIBRATION_FILE unset; set it to "${noCalibration}" for no percentiles)`
    : `CALIBRATION_FILE ${source}`;
  let bytes: Buffer;
  try {
    bytes = await readFile(source);
  } catch (error) {
    throw new CalibrationFileError(`${name} cannot be read: ${(error as Error).message}`);
  }
  let parsed: CalibrationFile;
  try {
    parsed = calibrationFileSchema.parse(JSON.parse(bytes.toString('utf8')));
  } catch (error) {
    const detail = error instanceof z.ZodError ? z.prettifyError(error) : (error as Error).message;
    throw new CalibrationFileError(`${name} is not a calibration file: ${detail}`);
  }
  return createCalibration(parsed, {
    sha256: createHash('sha256').update(bytes).digest('hex'),
    source,
    projectDefault,
  });
}

/**
 * The calibration file named by CALIBRATION_FILE; unset: the project's default reference; `none`: null
 * (no percentiles). `defaultPath` is for tests.
 */
export async function calibrationFromConfig(
  config: { CALIBRATION_FILE?: string | undefined },
  defaultPath = defaultCalibrationPath,
): Promise<Calibration | null> {
  if (config.CALIBRATION_FILE === noCalibration) return null;
  if (config.CALIBRATION_FILE) return loadCalibrationFile(config.CALIBRATION_FILE);
  return loadCalibrationFile(defaultPath, { projectDefault: true });
}

export function createCalibration(
  file: CalibrationFile,
  origin: { sha256: string; source: string; projectDefault?: boolean },
): Calibration {
  const entries = new Map(file.detectors.map((entry) => [`${entry.id}@${entry.version}`, entry]));
  return {
    sha256: origin.sha256,
    source: origin.source,
    projectDefault: origin.projectDefault ?? false,
    builtFrom: file.builtFrom ?? null,
    pipelineVersion: file.pipelineVersion,
    assess({ id, version, score }) {
      const entry = entries.get(`${id}@${version}`);
      if (!entry || score === null) return { percentile: null, probability: null };
      const reference = entry.authenticScores;
      const percentile =
        reference.length >= minReferenceScores
          ? Number(((100 * countBelow(reference, score)) / reference.length).toFixed(1))
          : null;
      const probability = entry.labelled ? Number(applyFit(entry.labelled, score).toFixed(4)) : null;
      return { percentile, probability };
    },
  };
}

/** Scores strictly below `score` in an ascending list (binary search). */
function countBelow(sorted: readonly number[], score: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (sorted[middle]! < score) low = middle + 1;
    else high = middle;
  }
  return low;
}

export function applyFit(fit: ProbabilityFit, score: number): number {
  if (fit.method === 'platt') return 1 / (1 + Math.exp(-(fit.a * score + fit.b)));
  const { scores, probabilities } = fit;
  if (score <= scores[0]!) return probabilities[0]!;
  for (let i = 1; i < scores.length; i++) {
    if (score <= scores[i]!) {
      const t = (score - scores[i - 1]!) / (scores[i]! - scores[i - 1]!);
      return probabilities[i - 1]! + t * (probabilities[i]! - probabilities[i - 1]!);
    }
  }
  return probabilities[probabilities.length - 1]!;
}
