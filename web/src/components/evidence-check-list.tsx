import { statusWords, type ExplainedCheck } from './evidence-verification';

/** Each check with its status as a word (never colour alone), the reason in plain words, and the raw detail. */
export function VerifyCheckList({
  checks,
  pendingMedia,
}: {
  checks: readonly ExplainedCheck[];
  pendingMedia: boolean;
}) {
  return (
    <ul className="verify-checks" aria-label="Checks">
      {checks.map((check) => (
        <li key={check.name} className={`verify-check verify-check-${check.status}`}>
          <p className="verify-check-head">
            <span className="verify-status">{statusWords[check.status]}</span> <strong>{check.title}</strong>
          </p>
          <p>{check.reason}</p>
          <details>
            <summary>Technical detail{check.where === 'browser' ? ' (checked in this browser)' : ''}</summary>
            <p className="verify-detail">{check.detail}</p>
          </details>
        </li>
      ))}
      {pendingMedia && (
        <li className="verify-check verify-check-pending">
          <p className="verify-check-head">
            <span className="verify-status">Checking</span>{' '}
            <strong>The media file matches the statement</strong>
          </p>
          <p>The media file is still being hashed in this browser.</p>
        </li>
      )}
    </ul>
  );
}
