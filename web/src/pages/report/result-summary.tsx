import { BandLabel } from '../../components/band-label.js';
import type { ReportView } from './report-shape.js';
import { withoutVerdictWords } from './report-wording.js';

/** The band in plain words first, then why: the reasons the report gives. */
export function ResultSummary({ report }: { report: ReportView }) {
  return (
    <section aria-labelledby="report-result" className="report-section">
      <h2 id="report-result">Result</h2>
      <p className="report-band">
        <BandLabel band={report.band} />
      </p>
      {report.reasons.length > 0 && (
        <>
          <h3>Why</h3>
          <ul className="report-reasons">
            {report.reasons.map((reason) => (
              <li key={reason}>{withoutVerdictWords(reason)}</li>
            ))}
          </ul>
        </>
      )}
      <p className="muted">
        Bands are indications from specific, explainable checks, not proof. &ldquo;No indicators found by
        these checks&rdquo; means these checks found nothing; it does not establish that the media is genuine.
        Scores are not probabilities.
      </p>
    </section>
  );
}
