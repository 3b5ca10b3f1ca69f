import { useState, type FormEvent } from 'react';
import { useApi } from '../../api/api-context';
import type { paths } from '../../api/schema';
import { roleDescriptions, roles, type Role } from '../../account/roles';
import { formatDateTime } from '../../account/session-description';
import { useApiData } from '../../account/use-api-data';
import { AccountCopyActions } from '../../components/account-copy-actions';
import { AdminPage } from '../../components/admin-page';
import { ErrorMessage } from '../../components/error-message';

type CreatedKey = paths['/api/v1/api-keys']['post']['responses'][201]['content']['application/json'];
type ApiKey =
  paths['/api/v1/api-keys']['get']['responses'][200]['content']['application/json']['items'][number];

/** API keys of the organisation: made here (the secret shown once), listed without secrets, revoked. */
export default function ApiKeysPage() {
  const api = useApi();
  const keys = useApiData(() => api.unwrap(api.client.GET('/api/v1/api-keys')));
  const [revokeError, setRevokeError] = useState<unknown>(null);

  async function revoke(key: ApiKey) {
    setRevokeError(null);
    try {
      await api.unwrap(api.client.DELETE('/api/v1/api-keys/{id}', { params: { path: { id: key.id } } }));
      keys.reload();
    } catch (caught) {
      setRevokeError(caught);
    }
  }

  return (
    <AdminPage title="API keys">
      <CreateKeyForm onCreated={keys.reload} />
      <section aria-labelledby="keys-heading">
        <h2 id="keys-heading">Keys of this organisation</h2>
        <ErrorMessage error={keys.error ?? revokeError} />
        {keys.data === null && !keys.error && <p role="status">Loading…</p>}
        {keys.data?.items.length === 0 && <p>No API keys yet.</p>}
        {keys.data && keys.data.items.length > 0 && (
          <div className="table-scroll">
            <table>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Starts with</th>
                  <th scope="col">Role</th>
                  <th scope="col">Created</th>
                  <th scope="col">Last used</th>
                  <th scope="col">Expires</th>
                  <th scope="col">State</th>
                </tr>
              </thead>
              <tbody>
                {keys.data.items.map((key) => (
                  <tr key={key.id}>
                    <td>{key.name}</td>
                    <td>
                      <code>{key.prefix}</code>
                    </td>
                    <td>{key.role}</td>
                    <td>{formatDateTime(key.createdAt)}</td>
                    <td>{key.lastUsedAt ? formatDateTime(key.lastUsedAt) : 'Never'}</td>
                    <td>{key.expiresAt ? formatDateTime(key.expiresAt) : 'Does not expire'}</td>
                    <td>
                      {key.revokedAt ? (
                        `Revoked ${formatDateTime(key.revokedAt)}`
                      ) : (
                        <button type="button" className="danger" onClick={() => void revoke(key)}>
                          Revoke<span className="visually-hidden"> {key.name}</span>
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </AdminPage>
  );
}

function CreateKeyForm({ onCreated }: { onCreated: () => void }) {
  const api = useApi();
  const [created, setCreated] = useState<CreatedKey | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    const days = String(form.get('expiresInDays')).trim();
    setBusy(true);
    setError(null);
    setCreated(null);
    try {
      const key = await api.unwrap(
        api.client.POST('/api/v1/api-keys', {
          body: {
            name: String(form.get('name')).trim(),
            role: String(form.get('role')) as Role,
            ...(days ? { expiresInDays: Number(days) } : {}),
          },
        }),
      );
      setCreated(key);
      formElement.reset();
      onCreated();
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="card" aria-labelledby="create-key-heading">
      <h2 id="create-key-heading">Create a key</h2>
      <form className="form" onSubmit={(event) => void submit(event)}>
        <label htmlFor="key-name">Name</label>
        <input id="key-name" name="name" required maxLength={100} autoComplete="off" />
        <label htmlFor="key-role">Role</label>
        <select id="key-role" name="role" defaultValue="analyst" className="admin-select">
          {roles.map((role) => (
            <option key={role} value={role}>
              {roleDescriptions[role]}
            </option>
          ))}
        </select>
        <label htmlFor="key-expiry">Expires after (days, empty: never)</label>
        <input id="key-expiry" name="expiresInDays" type="number" min={1} max={3650} inputMode="numeric" />
        <ErrorMessage error={error} />
        <button type="submit" disabled={busy}>
          {busy ? 'Creating…' : 'Create key'}
        </button>
      </form>
      {created && (
        <div className="notice">
          <p role="status">
            Key “{created.name}” created. Copy it now: it is shown only this once, and only its hash is kept.
          </p>
          <label htmlFor="created-key">New API key</label>
          <input id="created-key" className="admin-secret" readOnly value={created.key} />
          <AccountCopyActions text={created.key} fileName="guardian-api-key.txt" what="API key" />
        </div>
      )}
    </section>
  );
}
