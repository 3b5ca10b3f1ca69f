import type { AnalysisView } from './report-shape.js';

const failureSentences: Record<string, string> = {
  'analysis-failed': 'The analysis pipeline stopped with an error.',
  'analysis-timeout': 'The analysis took longer than the time allowed and was stopped.',
  'worker-lost': 'The worker running the analysis stopped (for example it ran out of memory).',
  'attempts-exhausted': 'The analysis was tried as often as allowed without finishing.',
  'media-missing': 'The media file was deleted before it could be analysed.',
  'blob-integrity':
    'The stored media failed its integrity check (damaged or altered at rest), so nothing was scored.',
};

/** A failed analysis: what went wrong, in words, never a band. */
export function AnalysisFailure({ analysis }: { analysis: AnalysisView }) {
  const code = analysis.error?.code ?? 'analysis-failed';
  return (
    <section aria-labelledby="report-failed" className="report-section">
      <h2 id="report-failed">The analysis failed</h2>
      <p className="error" role="alert">
        {failureSentences[code] ?? 'The analysis could not be completed.'}
      </p>
      {analysis.error?.detail && <p>Details from the server: {analysis.error.detail}</p>}
      <p className="muted">Error code: {code}</p>
    </section>
  );
}
