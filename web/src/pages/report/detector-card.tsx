import type { ArtifactEntry, CalibrationVersion, DetectorReport } from './report-shape.js';
import { ArtifactItem } from './artifact-item.js';
import {
  coverageWords,
  placementWords,
  probabilityWords,
  scoreWords,
  withoutVerdictWords,
} from './report-wording.js';
import { formatTime } from './timeline-scale.js';

interface DetectorCardProps {
  detector: DetectorReport;
  artifacts: ArtifactEntry[];
  calibration: CalibrationVersion | null;
  /** Moves the player to a moment the evidence names; absent for still images. */
  onSeek?: ((seconds: number) => void) | undefined;
}

/** One check: whether it applied (or why not), its score and where that falls, what it measured, its evidence. */
export function DetectorCard({ detector, artifacts, calibration, onSeek }: DetectorCardProps) {
  const headingId = `detector-${detector.id.replace(/[^a-z0-9-]/gi, '-')}`;
  const placement = placementWords(detector.percentile, calibration);
  const probability = probabilityWords(detector.probability);
  const coverage = coverageWords(detector.coverage);
  return (
    <article className="card detector-card" aria-labelledby={headingId}>
      <h3 id={headingId}>
        {detector.id}
        {detector.strength === 'weak' && (
          <span className="muted"> (weak cue: cannot set the band alone)</span>
        )}
      </h3>
      <p className="detector-status">{statusWords(detector)}</p>
      {detector.score !== null && (
        <p>
          <strong>Score:</strong> {scoreWords(detector.score)}
        </p>
      )}
      {placement && <p>{placement}</p>}
      {probability && <p>{probability}</p>}
      {coverage && <p>{coverage}</p>}
      <p>{withoutVerdictWords(detector.explanation)}</p>
      {detector.evidence && detector.evidence.length > 0 && (
        <>
          <h4>Evidence</h4>
          <ul>
            {detector.evidence.map((item, index) => (
              <li key={`${item.kind}-${index}`}>
                {withoutVerdictWords(item.summary)}
                {item.timeSeconds !== undefined && onSeek && (
                  <>
                    {' '}
                    <button
                      type="button"
                      className="link-button"
                      onClick={() => onSeek(item.timeSeconds ?? 0)}
                    >
                      Show at {formatTime(item.timeSeconds)}
                    </button>
                  </>
                )}
              </li>
            ))}
          </ul>
        </>
      )}
      {artifacts.length > 0 && (
        <>
          <h4>What the check computed</h4>
          <ul className="artifact-list">
            {artifacts.map((artifact) => (
              <ArtifactItem key={artifact.name} artifact={artifact} />
            ))}
          </ul>
        </>
      )}
      <p className="muted">Version {detector.version}</p>
    </article>
  );
}

function statusWords(detector: DetectorReport): string {
  if (!detector.applicable)
    return `Not applicable: ${withoutVerdictWords(detector.reason ?? 'this check does not apply to this media')}.`;
  if (detector.score === null)
    return `Applicable, but did not judge: ${withoutVerdictWords(detector.reason ?? 'too little to go on')}.`;
  return 'Applicable: this check ran on the media.';
}
