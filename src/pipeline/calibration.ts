import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { z } from 'zod';

/**
 * Reference scores for detector scores, written by `guardian calibrate`: each detector's scores on
 * authentic media (for percentiles) and, with labelled data, a fitted score-to-probability map. Without
 * a calibration file the report shows no percentile and no probability. Entries are per detector id
 * and version: a changed detector has no reference until calibrated again.
 */

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
  pipelineVersion: string;
  assess(detector: { id: string; version: string; score: number | null }): ScoreCalibration;
}

export class CalibrationFileError extends Error {}

export async function loadCalibrationFile(path: string): Promise<Calibration> {
  const source = resolve(path);
  let bytes: Buffer;
  try {
    bytes = await readFile(source);
  } catch (error) {
    throw new CalibrationFileError(`CALIBRATION_FILE ${source} cannot be read: ${(error as Error).message}`);
  }
  let parsed: CalibrationFile;
  try {
    parsed = calibrationFileSchema.parse(JSON.parse(bytes.toString('utf8')));
  } catch (error) {
    const detail = error instanceof z.ZodError ? z.prettifyError(error) : (error as Error).message;
    throw new CalibrationFileError(`CALIBRATION_FILE ${source} is not a calibration file: ${detail}`);
  }
  return createCalibration(parsed, { sha256: createHash('sha256').update(bytes).digest('hex'), source });
}

/** The calibration file named by CALIBRATION_FILE, or null when unset. */
export async function calibrationFromConfig(config: { CALIBRATION_FILE?: string | undefined }) {
  return config.CALIBRATION_FILE ? loadCalibrationFile(config.CALIBRATION_FILE) : null;
}

export function createCalibration(
  file: CalibrationFile,
  origin: { sha256: string; source: string },
): Calibration {
  const entries = new Map(file.detectors.map((entry) => [`${entry.id}@${entry.version}`, entry]));
  return {
    ...origin,
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
