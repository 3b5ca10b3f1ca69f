import { useState } from 'react';
import { useApi } from '../../api/api-context';
import { describeActor, formatDetails } from '../../account/audit-format';
import { formatDateTime } from '../../account/session-description';
import { useApiData } from '../../account/use-api-data';
import { AdminPage } from '../../components/admin-page';
import { ErrorMessage } from '../../components/error-message';

const pageSize = 25;

/** The organisation's security events, newest first, and whether the log's hash chain is intact. */
export default function AuditPage() {
  return (
    <AdminPage title="Audit log">
      <ChainVerification />
      <AuditEvents />
    </AdminPage>
  );
}

function ChainVerification() {
  const api = useApi();
  const verification = useApiData(() => api.unwrap(api.client.GET('/api/v1/audit-events/verification')));
  const result = verification.data;
  return (
    <section className="card" aria-labelledby="verification-heading">
      <h2 id="verification-heading">Integrity</h2>
      <div role="status">
        {!result && !verification.error && <p>Checking the hash chain…</p>}
        {result?.intact && (
          <p className="admin-verified">
            Intact: every entry of the platform's audit log matches its hash and follows the one before
            (checked {formatDateTime(result.checkedAt)}).
          </p>
        )}
        {result && !result.intact && (
          <p className="error">
            Verification failed at entry {result.firstBadEntry}: {result.reason}. The log may have been
            altered outside the application; run <code>guardian audit verify</code> on the server and
            investigate.
          </p>
        )}
      </div>
      <ErrorMessage error={verification.error} />
      <button type="button" className="secondary" onClick={verification.reload}>
        Check again
      </button>
    </section>
  );
}

function AuditEvents() {
  const api = useApi();
  // Cursors of the pages seen so far: the API pages backwards in time only, so going newer pops one.
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const before = cursors.at(-1);
  const users = useApiData(() => api.unwrap(api.client.GET('/api/v1/users')));
  const page = useApiData(() =>
    api.unwrap(
      api.client.GET('/api/v1/audit-events', {
        params: { query: { limit: pageSize, ...(before ? { before } : {}) } },
      }),
    ),
  );
  const emails = new Map((users.data?.users ?? []).map((user) => [user.id, user.email]));
  const shown = page.data;

  function go(next: (string | undefined)[]) {
    setCursors(next);
    page.reload();
  }

  return (
    <section aria-labelledby="events-heading">
      <h2 id="events-heading">Events</h2>
      <ErrorMessage error={page.error} />
      {!shown && !page.error && <p role="status">Loading…</p>}
      {shown?.events.length === 0 && <p>No events yet.</p>}
      {shown && shown.events.length > 0 && (
        <div className="table-scroll">
          <table>
            <caption className="visually-hidden">Audit events, newest first, page {cursors.length}</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Action</th>
                <th scope="col">Outcome</th>
                <th scope="col">Who</th>
                <th scope="col">Target</th>
                <th scope="col">From</th>
                <th scope="col">Details</th>
              </tr>
            </thead>
            <tbody>
              {shown.events.map((event) => (
                <tr key={event.id}>
                  <td>
                    <time dateTime={event.at}>{formatDateTime(event.at)}</time>
                  </td>
                  <td>
                    <code>{event.action}</code>
                  </td>
                  <td>{event.outcome === 'success' ? 'Success' : 'Failure'}</td>
                  <td>{describeActor(event.actor, emails)}</td>
                  <td>{event.target ? `${event.target.type} ${event.target.id.slice(0, 8)}` : '—'}</td>
                  <td>{event.ip ?? '—'}</td>
                  <td className="admin-details">{formatDetails(event.details) || '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <div className="account-actions">
        <button
          type="button"
          className="secondary"
          disabled={cursors.length < 2}
          onClick={() => go(cursors.slice(0, -1))}
        >
          Newer events
        </button>
        <button
          type="button"
          className="secondary"
          disabled={!shown?.nextCursor}
          onClick={() => go([...cursors, shown?.nextCursor ?? undefined])}
        >
          Older events
        </button>
      </div>
    </section>
  );
}
