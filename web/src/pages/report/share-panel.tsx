import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { useApi } from '../../api/api-context.js';
import { AccountCopyActions } from '../../components/account-copy-actions.js';
import { ErrorMessage } from '../../components/error-message.js';
import { shareExpiryChoices, shareStatusWords, type ShareView } from './share-wording.js';

/** Read-only links to this report for people outside the organisation: create (link shown once), list, revoke. */
export function SharePanel({ analysisId }: { analysisId: string }) {
  const api = useApi();
  const [shares, setShares] = useState<ShareView[]>([]);
  const [created, setCreated] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const load = useCallback(async () => {
    try {
      const list = await api.unwrap(
        api.client.GET('/api/v1/analyses/{id}/shares', { params: { path: { id: analysisId } } }),
      );
      setShares(list.items);
    } catch (caught) {
      setError(caught);
    }
  }, [api, analysisId]);
  useEffect(() => {
    void load();
  }, [load]);

  async function create(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const label = String(form.get('label') ?? '').trim();
    setBusy(true);
    setError(null);
    try {
      const share = await api.unwrap(
        api.client.POST('/api/v1/analyses/{id}/shares', {
          params: { path: { id: analysisId } },
          body: {
            expiresInHours: Number(form.get('expiresInHours')),
            includeMedia: form.get('includeMedia') === 'on',
            ...(label ? { label } : {}),
          },
        }),
      );
      setCreated(new URL(share.path, window.location.origin).toString());
      await load();
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  async function revoke(id: string) {
    setError(null);
    try {
      await api.unwrap(api.client.DELETE('/api/v1/shares/{id}', { params: { path: { id } } }));
      await load();
    } catch (caught) {
      setError(caught);
    }
  }

  return (
    <section aria-labelledby="report-share" className="report-section">
      <h2 id="report-share">Share</h2>
      <p className="muted">
        A share link shows this report, read-only, to anyone who has it, without signing in, until it expires
        or is revoked. Opening it is recorded.
      </p>
      <form className="share-form" onSubmit={(event) => void create(event)}>
        <label>
          Expires after{' '}
          <select name="expiresInHours" defaultValue="72">
            {shareExpiryChoices.map((choice) => (
              <option key={choice.hours} value={choice.hours}>
                {choice.label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Note for your organisation (optional){' '}
          <input name="label" maxLength={200} placeholder="e.g. sent to the legal desk" />
        </label>
        <label>
          <input type="checkbox" name="includeMedia" /> Include the media file and the images drawn from it
        </label>
        <button type="submit" disabled={busy}>
          {busy ? 'Creating…' : 'Create share link'}
        </button>
      </form>
      {created && (
        <div className="notice" role="status">
          <p>This link is shown only once. Copy it now:</p>
          <p>
            <code className="share-link">{created}</code>
          </p>
          <AccountCopyActions text={created} fileName="share-link.txt" what="The share link" />
        </div>
      )}
      <ErrorMessage error={error} />
      {shares.length > 0 && (
        <table className="share-list">
          <caption>Share links of this report</caption>
          <thead>
            <tr>
              <th scope="col">Note</th>
              <th scope="col">Status</th>
              <th scope="col">Expires</th>
              <th scope="col">Opened</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {shares.map((share) => (
              <tr key={share.id}>
                <td>{share.label ?? '—'}</td>
                <td>{shareStatusWords(share)}</td>
                <td>{new Date(share.expiresAt).toLocaleString('en-GB')}</td>
                <td>{share.useCount === 0 ? 'never' : `${share.useCount} times`}</td>
                <td>
                  {share.status === 'active' && (
                    <button type="button" className="secondary" onClick={() => void revoke(share.id)}>
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
