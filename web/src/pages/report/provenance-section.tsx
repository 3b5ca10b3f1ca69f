import type { ReportView } from './report-shape.js';
import { formatBytes, withoutVerdictWords } from './report-wording.js';
import { formatTime } from './timeline-scale.js';

const provenanceDetectors = ['c2pa-provenance', 'image-metadata', 'metadata-traces'];

/** What the file says about where it came from: Content Credentials, metadata traces, and the file itself. */
export function ProvenanceSection({ report }: { report: ReportView }) {
  const checks = report.detectors.filter((detector) => provenanceDetectors.includes(detector.id));
  const { media } = report;
  return (
    <section aria-labelledby="report-provenance" className="report-section">
      <h2 id="report-provenance">Provenance and metadata</h2>
      {checks.length === 0 && <p>This report holds no provenance or metadata checks.</p>}
      {checks.map((check) => (
        <div key={check.id} className="provenance-item">
          <h3>{check.id === 'c2pa-provenance' ? 'Content Credentials (C2PA)' : `Metadata: ${check.id}`}</h3>
          <p>
            {check.applicable
              ? withoutVerdictWords(check.explanation)
              : `Not read: ${withoutVerdictWords(check.reason ?? 'does not apply to this media')}.`}
          </p>
          {check.applicable && check.evidence && check.evidence.length > 0 && (
            <ul>
              {check.evidence.map((item, index) => (
                <li key={`${item.kind}-${index}`}>{withoutVerdictWords(item.summary)}</li>
              ))}
            </ul>
          )}
        </div>
      ))}
      {media && (
        <>
          <h3>The file</h3>
          <dl className="report-facts">
            <div>
              <dt>SHA-256</dt>
              <dd className="report-hash">{media.sha256}</dd>
            </div>
            <div>
              <dt>Size</dt>
              <dd>{formatBytes(media.sizeBytes)}</dd>
            </div>
            <div>
              <dt>Container</dt>
              <dd>{media.formatName}</dd>
            </div>
            {media.durationSeconds !== null && (
              <div>
                <dt>Duration</dt>
                <dd>{formatTime(media.durationSeconds)}</dd>
              </div>
            )}
            <div>
              <dt>Streams</dt>
              <dd>
                {[
                  media.video && `video ${media.video.codec ?? 'of unknown codec'}`,
                  media.audio && `audio ${media.audio.codec ?? 'of unknown codec'}`,
                ]
                  .filter(Boolean)
                  .join(', ') || 'none found'}
              </dd>
            </div>
          </dl>
        </>
      )}
    </section>
  );
}
