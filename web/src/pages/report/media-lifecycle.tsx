import { useState, type FormEvent } from 'react';
import { useApi } from '../../api/api-context.js';
import { formatDateTime } from '../../account/session-description.js';
import { useSubmission } from '../../account/use-submission.js';
import type { Role } from '../../account/roles.js';
import { ErrorMessage } from '../../components/error-message.js';
import type { AnalysisView } from './report-shape.js';
import { holderWords } from './legal-hold-words.js';

export type LegalHold = NonNullable<AnalysisView['mediaLegalHold']>;

/**
 * The analysed media's legal hold and deletion. Everyone sees a hold; admins place, change and release it;
 * analysts and admins delete the media (the API answers 409 `legal-hold` while it is held).
 */
export function MediaLifecycle({
  mediaId,
  initialHold,
  role,
  userId,
}: {
  mediaId: string;
  initialHold: LegalHold | null;
  role: Role;
  userId: string;
}) {
  const [hold, setHold] = useState<LegalHold | null>(initialHold);
  const [deleted, setDeleted] = useState(false);
  const canDelete = role === 'admin' || role === 'analyst';
  if (!hold && role !== 'admin' && !canDelete) return null;
  return (
    <section aria-labelledby="report-media-lifecycle" className="report-section">
      <h2 id="report-media-lifecycle">Legal hold and deletion</h2>
      {hold ? (
        <p className="notice">
          <strong>This media is on legal hold</strong> since {formatDateTime(hold.since)}, set by{' '}
          {holderWords(hold.by, userId)}. Reason: {hold.reason}. Nobody can delete it, and neither the
          retention period nor an erasure request shreds it, until an admin releases the hold.
        </p>
      ) : (
        <p className="muted">This media is not on legal hold.</p>
      )}
      {role === 'admin' && !deleted && <HoldControls mediaId={mediaId} hold={hold} onChange={setHold} />}
      {canDelete && <DeleteMedia mediaId={mediaId} deleted={deleted} onDeleted={() => setDeleted(true)} />}
    </section>
  );
}

function HoldControls({
  mediaId,
  hold,
  onChange,
}: {
  mediaId: string;
  hold: LegalHold | null;
  onChange(hold: LegalHold | null): void;
}) {
  const api = useApi();
  const place = useSubmission();
  const release = useSubmission();
  const [done, setDone] = useState<string | null>(null);
  const path = { params: { path: { id: mediaId } } };

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const reason = String(new FormData(event.currentTarget).get('reason') ?? '').trim();
    setDone(null);
    if (!reason) {
      place.setError('Give a reason for the hold (a case or request number, for example).');
      return;
    }
    void place.run(async () => {
      const placed = await api.unwrap(
        api.client.PUT('/api/v1/media/{id}/legal-hold', { ...path, body: { reason } }),
      );
      onChange(placed.legalHold);
      setDone(hold ? 'The reason for the hold was changed.' : 'The media is now on legal hold.');
    });
  }

  function releaseHold() {
    setDone(null);
    void release.run(async () => {
      await api.unwrap(api.client.DELETE('/api/v1/media/{id}/legal-hold', path));
      onChange(null);
      setDone('The legal hold was released: the media can be deleted again.');
    });
  }

  return (
    <div className="legal-hold-controls">
      <form className="form" onSubmit={submit} key={hold?.reason ?? ''}>
        <label htmlFor="legal-hold-reason">
          {hold ? 'Change the reason for the hold' : 'Reason for a legal hold'}
        </label>
        <textarea
          id="legal-hold-reason"
          name="reason"
          rows={2}
          maxLength={1000}
          defaultValue={hold?.reason ?? ''}
          placeholder="e.g. case 2026-114, preservation request from counsel"
        />
        <ErrorMessage error={place.error} />
        <button type="submit" disabled={place.busy}>
          {place.busy ? 'Saving…' : hold ? 'Change the reason' : 'Place on legal hold'}
        </button>
      </form>
      {hold && (
        <p>
          <button type="button" className="secondary" disabled={release.busy} onClick={releaseHold}>
            {release.busy ? 'Releasing…' : 'Release the legal hold'}
          </button>
        </p>
      )}
      <ErrorMessage error={release.error} />
      {done && (
        <p className="notice" role="status">
          {done}
        </p>
      )}
    </div>
  );
}

/** Two steps, since the media cannot be brought back: the report stays, the file and its artifacts go. */
function DeleteMedia({
  mediaId,
  deleted,
  onDeleted,
}: {
  mediaId: string;
  deleted: boolean;
  onDeleted(): void;
}) {
  const api = useApi();
  const submission = useSubmission();
  const [confirming, setConfirming] = useState(false);
  if (deleted)
    return (
      <p className="notice" role="status">
        The media was deleted: its file and artifacts can no longer be read. This report stays.
      </p>
    );

  function remove() {
    void submission.run(async () => {
      await api.unwrap(api.client.DELETE('/api/v1/media/{id}', { params: { path: { id: mediaId } } }));
      onDeleted();
    });
  }

  return (
    <div className="media-delete">
      {confirming ? (
        <p>
          Delete the media for good? Its file and artifacts are crypto-shredded; this report stays.{' '}
          <button type="button" className="danger" disabled={submission.busy} onClick={remove}>
            {submission.busy ? 'Deleting…' : 'Delete the media'}
          </button>{' '}
          <button type="button" className="secondary" onClick={() => setConfirming(false)}>
            Keep it
          </button>
        </p>
      ) : (
        <button type="button" className="secondary" onClick={() => setConfirming(true)}>
          Delete the media…
        </button>
      )}
      <ErrorMessage error={submission.error} />
    </div>
  );
}
