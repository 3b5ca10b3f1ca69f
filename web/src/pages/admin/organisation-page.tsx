import { useState, type FormEvent } from 'react';
import { Link } from 'wouter';
import { useApi } from '../../api/api-context';
import { AdminPage } from '../../components/admin-page';
import { ErrorMessage } from '../../components/error-message';
import { useMe, useSession } from '../../session/session-context';
import { RetentionPolicySection } from './retention-policy-section';

/** The organisation's settings: whether admins must use two-step verification, and how long media is kept. */
export default function OrganisationPage() {
  const api = useApi();
  const me = useMe();
  const { refresh } = useSession();
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const requireAdmin2fa = new FormData(event.currentTarget).get('requireAdmin2fa') === 'on';
    setSaved(null);
    // Requiring it while this admin has none would leave them able to do nothing but enrol.
    if (requireAdmin2fa && !me.twoFactor.enabled) {
      setError('Turn on two-step verification for your own account first, on the Account page.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const organisation = await api.unwrap(
        api.client.PATCH('/api/v1/organisation', { body: { requireAdmin2fa } }),
      );
      setSaved(
        organisation.requireAdmin2fa
          ? 'Saved: admins must now use two-step verification.'
          : 'Saved: two-step verification is optional for admins.',
      );
      await refresh();
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  return (
    <AdminPage title="Organisation">
      <section className="card" aria-labelledby="organisation-security-heading">
        <h2 id="organisation-security-heading">{me.organisation.name}: security</h2>
        <form className="form" onSubmit={(event) => void submit(event)}>
          <div className="admin-checkbox">
            <input
              id="require-admin-2fa"
              name="requireAdmin2fa"
              type="checkbox"
              defaultChecked={me.organisation.requireAdmin2fa}
              aria-describedby="require-admin-2fa-hint"
            />
            <label htmlFor="require-admin-2fa">Require two-step verification for admins</label>
          </div>
          <p id="require-admin-2fa-hint" className="muted">
            Admins without it can then only enrol until they have set it up.
            {!me.twoFactor.enabled && (
              <>
                {' '}
                Your own account does not use it yet:{' '}
                <Link href="/account">set it up on the Account page</Link>.
              </>
            )}
          </p>
          <ErrorMessage error={error} />
          <button type="submit" disabled={busy}>
            {busy ? 'Saving…' : 'Save settings'}
          </button>
        </form>
        {saved && (
          <p className="notice" role="status">
            {saved}
          </p>
        )}
      </section>
      <RetentionPolicySection />
    </AdminPage>
  );
}
