import { useState, type FormEvent } from 'react';
import { useApi } from '../../api/api-context';
import { useApiData } from '../../account/use-api-data';
import { useSubmission } from '../../account/use-submission';
import { formatDateTime } from '../../account/session-description';
import { ErrorMessage } from '../../components/error-message';
import { readRetentionChoice, retentionDaysBounds, retentionPolicyWords } from './retention-policy';

/** How long the organisation keeps uploaded media: GET/PUT /api/v1/organisation/retention-policy (admins). */
export function RetentionPolicySection() {
  const api = useApi();
  const policy = useApiData(() => api.unwrap(api.client.GET('/api/v1/organisation/retention-policy')));
  const submission = useSubmission();
  const [saved, setSaved] = useState<string | null>(null);
  const [mode, setMode] = useState<'forever' | 'days' | null>(null);
  const current = policy.data;
  const chosen = mode ?? (current?.mediaRetentionDays == null ? 'forever' : 'days');

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setSaved(null);
    const choice = readRetentionChoice(chosen, String(form.get('mediaRetentionDays') ?? ''));
    if ('problem' in choice) {
      submission.setError(choice.problem);
      return;
    }
    void submission.run(async () => {
      const updated = await api.unwrap(
        api.client.PUT('/api/v1/organisation/retention-policy', { body: choice }),
      );
      setSaved(`Saved. ${retentionPolicyWords(updated.mediaRetentionDays)}`);
      setMode(null);
      policy.reload();
    });
  }

  return (
    <section className="card" aria-labelledby="retention-heading">
      <h2 id="retention-heading">Media retention</h2>
      <p id="retention-explained">
        With a retention period, each uploaded file is crypto-shredded (its encryption key is destroyed, so it
        can never be read again) that many days after upload, at the next retention run. Reports and audit
        entries are kept: reports are in the transparency log, and the audit chain must verify from its first
        entry. Media on legal hold is never shredded until the hold is released.
      </p>
      <ErrorMessage error={policy.error} />
      {!current && !policy.error && <p role="status">Loading the retention policy…</p>}
      {current && (
        <>
          <p>
            <strong>Now:</strong> {retentionPolicyWords(current.mediaRetentionDays)}
            {current.updatedAt && <span className="muted"> (set {formatDateTime(current.updatedAt)})</span>}
          </p>
          <form
            key={`${current.mediaRetentionDays ?? 'forever'}-${current.updatedAt ?? ''}`}
            className="form"
            aria-describedby="retention-explained"
            onSubmit={submit}
          >
            <fieldset className="retention-choices">
              <legend>Keep uploaded media</legend>
              <div className="admin-checkbox">
                <input
                  id="retention-forever"
                  type="radio"
                  name="mode"
                  value="forever"
                  checked={chosen === 'forever'}
                  onChange={() => setMode('forever')}
                />
                <label htmlFor="retention-forever">Until someone deletes it</label>
              </div>
              <div className="admin-checkbox">
                <input
                  id="retention-days-mode"
                  type="radio"
                  name="mode"
                  value="days"
                  checked={chosen === 'days'}
                  onChange={() => setMode('days')}
                />
                <label htmlFor="retention-days-mode">For a number of days after upload</label>
              </div>
            </fieldset>
            <label htmlFor="retention-days">Days to keep media (1 to 36 500)</label>
            <input
              id="retention-days"
              name="mediaRetentionDays"
              type="number"
              inputMode="numeric"
              min={retentionDaysBounds.min}
              max={retentionDaysBounds.max}
              step={1}
              defaultValue={current.mediaRetentionDays ?? ''}
              disabled={chosen !== 'days'}
              required={chosen === 'days'}
            />
            <ErrorMessage error={submission.error} />
            <button type="submit" disabled={submission.busy}>
              {submission.busy ? 'Saving…' : 'Save retention policy'}
            </button>
          </form>
        </>
      )}
      {saved && (
        <p className="notice" role="status">
          {saved}
        </p>
      )}
    </section>
  );
}
