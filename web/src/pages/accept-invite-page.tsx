import { useState, type FormEvent } from 'react';
import { Link } from 'wouter';
import { useApi } from '../api/api-context';
import { confirmationMismatch, newPasswordFeedback } from '../account/password-feedback';
import { useLinkToken } from '../account/use-link-token';
import { AccountNewPasswordFields } from '../components/account-new-password-fields';
import { ErrorMessage } from '../components/error-message';
import { Page } from '../components/page';

/** Where an invitation link lands: `/accept-invite#token=…`. Creates the account; then one signs in. */
export default function AcceptInvitePage() {
  const api = useApi();
  const token = useLinkToken();
  const [account, setAccount] = useState<{ email: string; role: string } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (!token) return;
    const form = new FormData(event.currentTarget);
    const password = String(form.get('newPassword'));
    const mismatch = confirmationMismatch(password, String(form.get('confirmPassword')));
    setError(mismatch);
    if (mismatch) return;
    setBusy(true);
    try {
      const user = await api.unwrap(
        api.client.POST('/api/v1/auth/invites/accept', { body: { token, password } }),
      );
      setAccount({ email: user.email, role: user.role });
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  if (!token) {
    return (
      <Page title="Accept the invitation">
        <p className="error" role="alert">
          This page needs the invitation link, and it is missing or incomplete. Open the link you were sent
          again, or ask the person who invited you for a new one.
        </p>
      </Page>
    );
  }

  if (account) {
    return (
      <Page title="Accept the invitation">
        <p className="notice" role="status">
          Your account {account.email} is ready, with the role {account.role}. Sign in with your new password.
        </p>
        <p>
          <Link href="/sign-in">Sign in</Link>
        </p>
      </Page>
    );
  }

  const feedback = newPasswordFeedback(error);
  return (
    <Page title="Accept the invitation">
      <p>Choose the password for your new account. Your email address and role come with the invitation.</p>
      <form className="form" onSubmit={(event) => void submit(event)}>
        <AccountNewPasswordFields idPrefix="accept-invite" feedback={feedback} label="Password" />
        {!feedback && <ErrorMessage error={error} />}
        <button type="submit" disabled={busy}>
          {busy ? 'Creating…' : 'Create my account'}
        </button>
      </form>
    </Page>
  );
}
