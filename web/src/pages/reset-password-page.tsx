import { useState, type FormEvent } from 'react';
import { Link } from 'wouter';
import { useApi } from '../api/api-context';
import { confirmationMismatch, newPasswordFeedback } from '../account/password-feedback';
import { useLinkToken } from '../account/use-link-token';
import { AccountNewPasswordFields } from '../components/account-new-password-fields';
import { ErrorMessage } from '../components/error-message';
import { Page } from '../components/page';

/** Where the mailed link lands: `/reset-password#token=…`. The token is only ever sent in a POST body. */
export default function ResetPasswordPage() {
  const api = useApi();
  const token = useLinkToken();
  const [done, setDone] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (!token) return;
    const form = new FormData(event.currentTarget);
    const newPassword = String(form.get('newPassword'));
    const mismatch = confirmationMismatch(newPassword, String(form.get('confirmPassword')));
    setError(mismatch);
    if (mismatch) return;
    setBusy(true);
    try {
      await api.unwrap(
        api.client.POST('/api/v1/auth/password-reset/confirm', { body: { token, newPassword } }),
      );
      setDone(true);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  if (!token) {
    return (
      <Page title="Choose a new password">
        <p className="error" role="alert">
          This page needs the link from the password-reset mail, and it is missing or incomplete. Open the
          link from the mail again, or ask for a new one.
        </p>
        <p>
          <Link href="/forgot-password">Ask for a new link</Link>
        </p>
      </Page>
    );
  }

  if (done) {
    return (
      <Page title="Choose a new password">
        <p className="notice" role="status">
          Your password has been changed and every session of your account has ended. Sign in with the new
          password.
        </p>
        <p>
          <Link href="/sign-in">Sign in</Link>
        </p>
      </Page>
    );
  }

  const feedback = newPasswordFeedback(error);
  return (
    <Page title="Choose a new password">
      <form className="form" onSubmit={(event) => void submit(event)}>
        <AccountNewPasswordFields idPrefix="reset-password" feedback={feedback} />
        {!feedback && <ErrorMessage error={error} />}
        <button type="submit" disabled={busy}>
          {busy ? 'Saving…' : 'Set the new password'}
        </button>
      </form>
      <p>
        <Link href="/forgot-password">Ask for a new link</Link>
      </p>
    </Page>
  );
}
