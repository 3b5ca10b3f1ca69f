import { SpanStatusCode, type Tracer } from '@opentelemetry/api';
import type { Detector } from './detector.js';
import type { DetectorOutcome } from './detector-runner.js';

/** What a detector's run came to, as its span says: scored, abstained, not applicable, or failed. */
export function detectorOutcomeName(outcome: DetectorOutcome): string {
  const { report } = outcome;
  if (!report.applicable) return 'not_applicable';
  if (report.score !== null) return 'scored';
  return report.reason?.startsWith('detector failed:') ? 'failed' : 'abstained';
}

/** One child span per detector run (of the active job span), with its id, version, outcome and duration. */
export function traceDetectorRun(
  tracer: Tracer,
  detector: Detector,
  run: () => Promise<DetectorOutcome>,
): Promise<DetectorOutcome> {
  return tracer.startActiveSpan(
    `detector ${detector.id}`,
    { attributes: { 'guardian.detector.id': detector.id, 'guardian.detector.version': detector.version } },
    async (span) => {
      try {
        const outcome = await run();
        const name = detectorOutcomeName(outcome);
        span.setAttributes({
          'guardian.detector.outcome': name,
          'guardian.detector.abstained': outcome.report.applicable && outcome.report.score === null,
          'guardian.detector.duration_ms': outcome.report.durationMs,
        });
        if (outcome.report.score !== null) span.setAttribute('guardian.detector.score', outcome.report.score);
        // The reason is the report's own text (users read it), so it carries nothing a trace must not.
        if (name === 'failed') {
          const message = outcome.report.reason ?? 'detector failed';
          span.addEvent('exception', { 'exception.type': 'DetectorError', 'exception.message': message });
          span.setStatus({ code: SpanStatusCode.ERROR, message });
        }
        return outcome;
      } catch (error) {
        // Only aborts escape runDetector; the job span records why.
        span.setAttribute('guardian.detector.outcome', 'aborted');
        throw error;
      } finally {
        span.end();
      }
    },
  );
}
