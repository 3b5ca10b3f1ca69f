import type { Band, DetectorReport } from './report.js';

/**
 * Thresholds that turn detector scores into a band. Scores are not probabilities (no calibration data
 * exists), so the band says what the checks found, never how likely the media is authentic.
 */
export interface FusionPolicy {
  /** A detector at or above this, with adequate coverage, is a manipulation indicator. */
  strongScore: number;
  /** Every applicable detector below this, with adequate coverage, means no indicators were found. */
  lowScore: number;
  /** Share of its unit (packets, frames...) a detector must have examined for its score to count. */
  minCoverage: number;
}

export const defaultFusionPolicy: FusionPolicy = { strongScore: 0.7, lowScore: 0.3, minCoverage: 0.5 };

export interface Fusion {
  band: Band;
  reasons: string[];
  /** Mean examined share over applicable detectors; a detector without a score counts as 0. */
  coverage: number;
}

export function fuseDetectorReports(
  input: { intakeFailure: string | null; detectors: readonly DetectorReport[] },
  policy: FusionPolicy = defaultFusionPolicy,
): Fusion {
  if (input.intakeFailure !== null) {
    return {
      band: 'not_analyzable',
      reasons: [`the media cannot be analysed: ${input.intakeFailure}`],
      coverage: 0,
    };
  }
  const applicable = input.detectors.filter((detector) => detector.applicable);
  const notApplicable = input.detectors
    .filter((detector) => !detector.applicable)
    .map((d) => `${d.id} (${d.reason ?? 'not applicable'})`);
  const skipped = notApplicable.length ? [`not applicable: ${notApplicable.join('; ')}`] : [];
  if (applicable.length === 0) {
    return { band: 'not_analyzable', reasons: ['no check applies to this media', ...skipped], coverage: 0 };
  }
  const coverage = applicable.reduce((sum, detector) => sum + examinedShare(detector), 0) / applicable.length;
  const adequate = (detector: DetectorReport) =>
    detector.score !== null && examinedShare(detector) >= policy.minCoverage;
  // Weak cues are listed for the reader but never decide the band, either way.
  const deciding = applicable.filter((detector) => detector.strength !== 'weak');
  const weakCues = applicable
    .filter((detector) => detector.strength === 'weak')
    .map((detector) => `weak cue, does not set the band: ${describe(detector, policy)}`);

  const strong = deciding.filter(
    (detector) => adequate(detector) && (detector.score as number) >= policy.strongScore,
  );
  if (strong.length > 0) {
    const others = deciding
      .filter((detector) => !strong.includes(detector))
      .map((detector) => describe(detector, policy));
    return {
      band: 'indicators_found',
      reasons: [
        ...strong.map((detector) => describeStrong(detector, policy)),
        ...others,
        ...weakCues,
        ...skipped,
      ],
      coverage,
    };
  }
  if (deciding.length === 0) {
    return {
      band: 'inconclusive',
      reasons: [
        'only weak cues could be checked on this media, and they cannot settle a band',
        ...weakCues,
        ...skipped,
      ],
      coverage,
    };
  }
  if (deciding.every((detector) => adequate(detector) && (detector.score as number) < policy.lowScore)) {
    const summary = deciding
      .map((detector) => `${detector.id} ${formatScore(detector.score)} over ${share(detector)}`)
      .join(', ');
    return {
      band: 'no_indicators',
      reasons: [
        `every applicable check scored below ${policy.lowScore} with adequate coverage: ${summary}`,
        ...weakCues,
        ...skipped,
      ],
      coverage,
    };
  }
  return {
    band: 'inconclusive',
    reasons: [...deciding.map((detector) => describe(detector, policy)), ...weakCues, ...skipped],
    coverage,
  };
}

function examinedShare(detector: DetectorReport): number {
  return detector.score === null ? 0 : (detector.coverage?.fraction ?? 0);
}

function describeStrong(detector: DetectorReport, policy: FusionPolicy): string {
  const evidence = detector.evidence.slice(0, 2).map((item) => item.summary);
  const detail = evidence.length ? `: ${evidence.join('; ')}` : '';
  return `${detector.id} scored ${formatScore(detector.score)} (strong at ${policy.strongScore}) over ${share(detector)}${detail}`;
}

/** Why a detector did not settle the band on its own. */
function describe(detector: DetectorReport, policy: FusionPolicy): string {
  if (detector.score === null) return `${detector.id} gave no score: ${detector.reason ?? 'no reason given'}`;
  if (examinedShare(detector) < policy.minCoverage) {
    return `${detector.id} scored ${formatScore(detector.score)} but examined only ${share(detector)} (needs ${percent(policy.minCoverage)})`;
  }
  if (detector.score < policy.lowScore)
    return `${detector.id} scored ${formatScore(detector.score)} (low) over ${share(detector)}`;
  return `${detector.id} scored ${formatScore(detector.score)}, between ${policy.lowScore} and ${policy.strongScore}: ${firstSentence(detector.explanation)}`;
}

const formatScore = (score: number | null) => (score === null ? 'no score' : score.toFixed(2));
const percent = (fraction: number) => `${Math.round(fraction * 100)}%`;
const share = (detector: DetectorReport) =>
  detector.coverage
    ? `${percent(detector.coverage.fraction)} of ${detector.coverage.unit}`
    : 'an unknown share';
const firstSentence = (text: string) => /^.*?[.;](\s|$)/.exec(text)?.[0].trim() ?? text;
