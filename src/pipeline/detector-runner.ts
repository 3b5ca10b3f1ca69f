import type { Detector, DetectorArtifact, DetectorContext } from './detector.js';
import type { DetectorReport } from './report.js';

export interface DetectorOutcome {
  report: DetectorReport;
  /** The artifacts the finding computed, for the run's collector (taken in report order, not finish order). */
  computed: readonly DetectorArtifact[];
}

/**
 * Runs one detector into its report entry. A detector that throws becomes an applicable entry without a
 * score ("detector failed: ..."), which fusion can never read as clean; aborts propagate.
 */
export async function runDetector(detector: Detector, context: DetectorContext): Promise<DetectorOutcome> {
  const none: readonly DetectorArtifact[] = [];
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
      const report: DetectorReport = {
        ...entry,
        applicable: false,
        reason,
        score: null,
        coverage: null,
        explanation: `Not applicable: ${reason}.`,
        durationMs: elapsed(),
      };
      return { report, computed: none };
    }
    const finding = await detector.analyze(context);
    const computed = finding.artifacts ?? none;
    if (finding.notApplicableReason !== undefined) {
      const report: DetectorReport = {
        ...entry,
        applicable: false,
        reason: finding.notApplicableReason,
        score: null,
        coverage: null,
        explanation: `Not applicable: ${finding.notApplicableReason}.`,
        durationMs: elapsed(),
      };
      return { report, computed };
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
    return { report, computed };
  } catch (error) {
    if (context.signal.aborted) throw error;
    const message = error instanceof Error ? error.message : String(error);
    const report: DetectorReport = {
      ...entry,
      applicable: true,
      reason: `detector failed: ${message}`,
      score: null,
      coverage: null,
      explanation: 'The detector failed, so this check gave no result.',
      durationMs: elapsed(),
    };
    return { report, computed: none };
  }
}
