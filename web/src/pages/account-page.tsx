import { useState, type FormEvent } from 'react';
import { useApi } from '../api/api-context';
import type { paths } from '../api/schema';
import { confirmationMismatch, newPasswordFeedback, secondFactorProof } from '../account/password-feedback';
import { groupSecret } from '../account/qr-modules';
import { recoveryCodesText } from '../account/recovery-codes-text';
import { describeUserAgent, formatDateTime } from '../account/session-description';
import { useApiData } from '../account/use-api-data';
import { useSubmission } from '../account/use-submission';
import { AccountCopyActions } from '../components/account-copy-actions';
import { AccountNewPasswordFields } from '../components/account-new-password-fields';
import { AccountQrCode } from '../components/account-qr-code';
import { ErrorMessage } from '../components/error-message';
import { Page } from '../components/page';
import { useMe, useSession } from '../session/session-context';

type Enrolment = paths['/api/v1/auth/2fa/enrol']['post']['responses'][200]['content']['application/json'];

/** Change password, two-step verification with recovery codes, and the signed-in sessions. */
export default function AccountPage() {
  const me = useMe();
  return (
    <Page title="Account">
      <p>
        Signed in as <strong>{me.user.email}</strong> ({me.user.role}) in {me.organisation.name}.
      </p>
      <ChangePassword />
      <TwoFactor
        account={{ email: me.user.email, required: me.twoFactor.required, enabled: me.twoFactor.enabled }}
      />
      <Sessions />
    </Page>
  );
}

function ChangePassword() {
  const api = useApi();
  const submission = useSubmission();
  const [done, setDone] = useState(false);

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    const newPassword = String(form.get('newPassword'));
    setDone(false);
    const mismatch = confirmationMismatch(newPassword, String(form.get('confirmPassword')));
    if (mismatch) {
      submission.setError(mismatch);
      return;
    }
    void submission.run(async () => {
      const { csrfToken } = await api.unwrap(
        api.client.POST('/api/v1/auth/password', {
          body: { currentPassword: String(form.get('currentPassword')), newPassword },
        }),
      );
      // The session was rotated: the old CSRF token no longer works.
      api.setCsrfToken(csrfToken);
      formElement.reset();
      setDone(true);
    });
  }

  const feedback = newPasswordFeedback(submission.error);
  return (
    <section className="card" aria-labelledby="change-password-heading">
      <h2 id="change-password-heading">Change password</h2>
      <form className="form" onSubmit={submit}>
        <label htmlFor="change-password-current">Current password</label>
        <input
          id="change-password-current"
          name="currentPassword"
          type="password"
          autoComplete="current-password"
          required
        />
        <AccountNewPasswordFields idPrefix="change-password" feedback={feedback} />
        {!feedback && <ErrorMessage error={submission.error} />}
        <button type="submit" disabled={submission.busy}>
          {submission.busy ? 'Changing…' : 'Change password'}
        </button>
      </form>
      {done && (
        <p className="notice" role="status">
          Your password has been changed. Your other sessions have ended.
        </p>
      )}
    </section>
  );
}

/** Enrol, confirm, disable, recovery codes; also the whole page for an admin who must enrol before anything else. */
export function TwoFactor({ account }: { account: { email: string; required: boolean; enabled: boolean } }) {
  const api = useApi();
  const { refresh } = useSession();
  const status = useApiData(() => api.unwrap(api.client.GET('/api/v1/auth/2fa')));
  const [enrolment, setEnrolment] = useState<Enrolment | null>(null);
  const [recoveryCodes, setRecoveryCodes] = useState<string[] | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const start = useSubmission();
  const confirm = useSubmission();
  const change = useSubmission();

  function startEnrolment(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const password = String(new FormData(event.currentTarget).get('password'));
    setNotice(null);
    void start.run(async () => {
      setEnrolment(await api.unwrap(api.client.POST('/api/v1/auth/2fa/enrol', { body: { password } })));
    });
  }

  function confirmEnrolment(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const code = String(new FormData(event.currentTarget).get('code')).replace(/\s/g, '');
    void confirm.run(async () => {
      const result = await api.unwrap(api.client.POST('/api/v1/auth/2fa/confirm', { body: { code } }));
      setEnrolment(null);
      setRecoveryCodes(result.recoveryCodes);
      setNotice('Two-step verification is on. Your other sessions have ended.');
      status.reload();
      await refresh();
    });
  }

  function changeTwoFactor(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const submitter = (event.nativeEvent as SubmitEvent).submitter;
    const action = submitter instanceof HTMLButtonElement ? submitter.value : '';
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    const body = { password: String(form.get('password')), ...secondFactorProof(String(form.get('proof'))) };
    setNotice(null);
    void change.run(async () => {
      if (action === 'regenerate') {
        const result = await api.unwrap(api.client.POST('/api/v1/auth/recovery-codes', { body }));
        setRecoveryCodes(result.recoveryCodes);
        setNotice('New recovery codes were made; the old ones no longer work.');
      } else {
        await api.unwrap(api.client.POST('/api/v1/auth/2fa/disable', { body }));
        setRecoveryCodes(null);
        setNotice('Two-step verification is off. Your other sessions have ended.');
        await refresh();
      }
      formElement.reset();
      status.reload();
    });
  }

  const enabled = status.data?.enabled ?? account.enabled;
  return (
    <section className="card" aria-labelledby="two-factor-heading">
      <h2 id="two-factor-heading">Two-step verification</h2>
      <ErrorMessage error={status.error} />
      <p>
        {enabled
          ? `On: signing in asks for a code from your authenticator app.${status.data ? ` Recovery codes left: ${status.data.recoveryCodesLeft}.` : ''}`
          : 'Off: signing in needs only your password.'}
        {account.required && !enabled && ' Your organisation requires it for admins.'}
      </p>
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      {recoveryCodes && (
        <div className="account-recovery-codes">
          <h3>Your recovery codes</h3>
          <p>
            Each code signs you in once if your authenticator app is not at hand. They are shown only now:
            copy or download them and keep them somewhere safe.
          </p>
          <ul aria-label="Recovery codes" className="account-code-list">
            {recoveryCodes.map((code) => (
              <li key={code}>
                <code>{code}</code>
              </li>
            ))}
          </ul>
          <AccountCopyActions
            text={recoveryCodesText(recoveryCodes, account.email, new Date())}
            fileName="guardian-recovery-codes.txt"
            what="Recovery codes"
          />
          <button type="button" className="secondary" onClick={() => setRecoveryCodes(null)}>
            I have saved them
          </button>
        </div>
      )}
      {!enabled && !enrolment && (
        <form className="form" onSubmit={startEnrolment}>
          <label htmlFor="two-factor-enrol-password">Password</label>
          <input
            id="two-factor-enrol-password"
            name="password"
            type="password"
            autoComplete="current-password"
            required
          />
          <ErrorMessage error={start.error} />
          <button type="submit" disabled={start.busy}>
            Set up two-step verification
          </button>
        </form>
      )}
      {!enabled && enrolment && (
        <div className="account-enrolment">
          <p>Scan this code with an authenticator app, or type the key below into it.</p>
          <AccountQrCode text={enrolment.otpauthUri} label="QR code of the authenticator key" />
          <p>
            Key for manual entry (time-based, {enrolment.digits} digits, every {enrolment.period} seconds):{' '}
            <code className="account-secret">{groupSecret(enrolment.secret)}</code>
          </p>
          <form className="form" onSubmit={confirmEnrolment}>
            <label htmlFor="two-factor-confirm-code">Code from your authenticator app</label>
            <input
              id="two-factor-confirm-code"
              name="code"
              inputMode="numeric"
              autoComplete="one-time-code"
              pattern="[0-9 ]{6,7}"
              required
            />
            <ErrorMessage error={confirm.error} />
            <button type="submit" disabled={confirm.busy}>
              Turn on two-step verification
            </button>
          </form>
        </div>
      )}
      {enabled && (
        <form className="form" onSubmit={changeTwoFactor}>
          <p className="muted">Both actions ask for your password and a code again.</p>
          <label htmlFor="two-factor-change-password">Password</label>
          <input
            id="two-factor-change-password"
            name="password"
            type="password"
            autoComplete="current-password"
            required
          />
          <label htmlFor="two-factor-change-proof">
            Code from your authenticator app, or a recovery code
          </label>
          <input id="two-factor-change-proof" name="proof" autoComplete="one-time-code" required />
          <ErrorMessage error={change.error} />
          <div className="account-actions">
            <button type="submit" value="regenerate" disabled={change.busy}>
              Make new recovery codes
            </button>
            <button type="submit" value="disable" className="danger" disabled={change.busy}>
              Turn off two-step verification
            </button>
          </div>
        </form>
      )}
    </section>
  );
}

function Sessions() {
  const api = useApi();
  const sessions = useApiData(() => api.unwrap(api.client.GET('/api/v1/auth/sessions')));
  const revoke = useSubmission();

  function end(id: string) {
    void revoke.run(async () => {
      await api.unwrap(api.client.DELETE('/api/v1/auth/sessions/{id}', { params: { path: { id } } }));
      sessions.reload();
    });
  }

  return (
    <section className="card" aria-labelledby="sessions-heading">
      <h2 id="sessions-heading">Sessions</h2>
      <p className="muted">Where your account is signed in. End any session you do not recognise.</p>
      <ErrorMessage error={sessions.error ?? revoke.error} />
      {sessions.data === null && !sessions.error && <p role="status">Loading…</p>}
      <ul className="account-sessions">
        {sessions.data?.sessions.map((session) => (
          <li key={session.id} className="account-session">
            <p>
              <strong title={session.userAgent ?? undefined}>{describeUserAgent(session.userAgent)}</strong>
              {session.current && <span className="account-current"> This session</span>}
            </p>
            <p className="muted">
              {session.ip ?? 'Unknown address'} · signed in {formatDateTime(session.createdAt)} · last active{' '}
              {formatDateTime(session.lastSeenAt)}
            </p>
            {!session.current && (
              <button
                type="button"
                className="secondary"
                disabled={revoke.busy}
                onClick={() => end(session.id)}
              >
                End session
              </button>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
