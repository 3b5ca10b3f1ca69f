import type { Detector, DetectorContext } from './detector.js';
import type { DetectorReport } from './report.js';

/**
 * One detector's report entry. A detector that throws becomes an applicable entry without a score
 * ("detector failed: ..."), which fusion can never read as clean; aborts propagate.
 */
export async function runDetector(detector: Detector, context: DetectorContext): Promise<DetectorReport> {
  const started = performance.now();
  const entry = {
    id: detector.id,
    version: detector.version,
    strength: detector.strength,
    evidence: [],
    measurements: {},
  };
  const elapsed = () => Math.round(performance.now() - started);
  try {
    const applicability = detector.applicable(context);
    if (!applicability.applicable) {
      const { reason } = applicability;
      return {
        ...entry,
        applicable: false,
        reason,
        score: null,
        coverage: null,
        explanation: `Not applicable: ${reason}.`,
        durationMs: elapsed(),
      };
    }
    const finding = await detector.analyze(context);
    if (finding.notApplicableReason !== undefined) {
      return {
        ...entry,
        applicable: false,
        reason: finding.notApplicableReason,
        score: null,
        coverage: null,
        explanation: `Not applicable: ${finding.notApplicableReason}.`,
        durationMs: elapsed(),
      };
    }
    if (finding.score !== null && !(finding.score >= 0 && finding.score <= 1)) {
      throw new Error(`score ${finding.score} is outside 0–1`);
    }
    const report: DetectorReport = {
      id: detector.id,
      version: detector.version,
      strength: detector.strength,
      applicable: true,
      score: finding.score,
      coverage: finding.coverage,
      explanation: finding.explanation,
      evidence: finding.evidence,
      measurements: finding.measurements,
      durationMs: elapsed(),
    };
    if (finding.score === null)
      report.reason = finding.abstainReason ?? 'the detector abstained without a reason';
    if (finding.perFrame) report.perFrame = finding.perFrame;
    return report;
  } catch (error) {
    if (context.signal.aborted) throw error;
    const message = error instanceof Error ? error.message : String(error);
    return {
      ...entry,
      applicable: true,
      reason: `detector failed: ${message}`,
      score: null,
      coverage: null,
      explanation: 'The detector failed, so this check gave no result.',
      durationMs: elapsed(),
    };
  }
}
