import { useState, type FormEvent } from 'react';
import { useApi } from '../../api/api-context';
import type { paths } from '../../api/schema';
import { roleDescriptions, roles, type Role } from '../../account/roles';
import { formatDateTime } from '../../account/session-description';
import { useApiData } from '../../account/use-api-data';
import { AccountCopyActions } from '../../components/account-copy-actions';
import { AdminPage } from '../../components/admin-page';
import { ErrorMessage } from '../../components/error-message';
import { useMe } from '../../session/session-context';

type Invitation = paths['/api/v1/users/invites']['post']['responses'][201]['content']['application/json'];
type User = paths['/api/v1/users']['get']['responses'][200]['content']['application/json']['users'][number];

/** The organisation's people: their roles and status, and invitations for new ones. */
export default function UsersPage() {
  const api = useApi();
  const users = useApiData(() => api.unwrap(api.client.GET('/api/v1/users')));
  return (
    <AdminPage title="Users">
      <InviteForm onInvited={users.reload} />
      <section aria-labelledby="users-heading">
        <h2 id="users-heading">People in this organisation</h2>
        <ErrorMessage error={users.error} />
        {users.data === null && !users.error && <p role="status">Loading…</p>}
        {users.data && (
          <div className="table-scroll">
            <table>
              <thead>
                <tr>
                  <th scope="col">Email</th>
                  <th scope="col">Role</th>
                  <th scope="col">Status</th>
                  <th scope="col">Since</th>
                </tr>
              </thead>
              <tbody>
                {users.data.users.map((user) => (
                  <UserRow key={user.id} user={user} onChanged={users.reload} />
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </AdminPage>
  );
}

function UserRow({ user, onChanged }: { user: User; onChanged: () => void }) {
  const api = useApi();
  const me = useMe();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const self = user.id === me.user.id;

  async function update(body: { role?: Role; status?: 'active' | 'disabled' }) {
    setBusy(true);
    setError(null);
    try {
      await api.unwrap(api.client.PATCH('/api/v1/users/{id}', { params: { path: { id: user.id } }, body }));
      onChanged();
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  function changeRole(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    void update({ role: String(new FormData(event.currentTarget).get('role')) as Role });
  }

  const roleId = `user-role-${user.id}`;
  return (
    <tr>
      <td>
        {user.email}
        {self && <span className="muted"> (you)</span>}
        <ErrorMessage error={error} />
      </td>
      <td>
        <form className="admin-inline-form" onSubmit={changeRole}>
          <label htmlFor={roleId} className="visually-hidden">
            Role of {user.email}
          </label>
          <select id={roleId} name="role" defaultValue={user.role} disabled={self}>
            {roles.map((role) => (
              <option key={role} value={role}>
                {role}
              </option>
            ))}
          </select>
          {!self && (
            <button type="submit" className="secondary" disabled={busy}>
              Change role<span className="visually-hidden"> of {user.email}</span>
            </button>
          )}
        </form>
      </td>
      <td>
        {user.status === 'active' ? 'Active' : 'Disabled'}{' '}
        {!self && (
          <button
            type="button"
            className="secondary"
            disabled={busy}
            onClick={() => void update({ status: user.status === 'active' ? 'disabled' : 'active' })}
          >
            {user.status === 'active' ? 'Disable' : 'Enable'}
            <span className="visually-hidden"> {user.email}</span>
          </button>
        )}
      </td>
      <td>{formatDateTime(user.createdAt)}</td>
    </tr>
  );
}

function InviteForm({ onInvited }: { onInvited: () => void }) {
  const api = useApi();
  const [invitation, setInvitation] = useState<Invitation | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    setBusy(true);
    setError(null);
    setInvitation(null);
    try {
      const created = await api.unwrap(
        api.client.POST('/api/v1/users/invites', {
          body: { email: String(form.get('email')).trim(), role: String(form.get('role')) as Role },
        }),
      );
      setInvitation(created);
      formElement.reset();
      onInvited();
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="card" aria-labelledby="invite-heading">
      <h2 id="invite-heading">Invite someone</h2>
      <form className="form" onSubmit={(event) => void submit(event)}>
        <label htmlFor="invite-email">Email</label>
        <input id="invite-email" name="email" type="email" autoComplete="off" required />
        <label htmlFor="invite-role">Role</label>
        <select id="invite-role" name="role" defaultValue="analyst" className="admin-select">
          {roles.map((role) => (
            <option key={role} value={role}>
              {roleDescriptions[role]}
            </option>
          ))}
        </select>
        <ErrorMessage error={error} />
        <button type="submit" disabled={busy}>
          {busy ? 'Inviting…' : 'Send invitation'}
        </button>
      </form>
      {invitation && <InvitationSent invitation={invitation} />}
    </section>
  );
}

function InvitationSent({ invitation }: { invitation: Invitation }) {
  const expires = formatDateTime(invitation.expiresAt);
  if (invitation.delivery === 'smtp' || !invitation.link) {
    return (
      <p className="notice" role="status">
        An invitation was mailed to {invitation.email} as {invitation.role}. The link works once, until{' '}
        {expires}.
      </p>
    );
  }
  return (
    <div className="notice">
      <p role="status">
        No mail server is configured, so nothing was mailed. Pass this link to {invitation.email} yourself; it
        is shown only now and works once, until {expires}.
      </p>
      <label htmlFor="invite-link">Invitation link</label>
      <input id="invite-link" className="admin-secret" readOnly value={invitation.link} />
      <AccountCopyActions text={invitation.link} fileName="guardian-invitation.txt" what="Invitation link" />
    </div>
  );
}
