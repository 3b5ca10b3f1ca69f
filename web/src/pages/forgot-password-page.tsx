import { useState, type FormEvent } from 'react';
import { Link } from 'wouter';
import { useApi } from '../api/api-context';
import { ErrorMessage } from '../components/error-message';
import { Page } from '../components/page';

/** Asks for a reset link; the answer is the same whether or not the address has an account. */
export default function ForgotPasswordPage() {
  const api = useApi();
  const [sent, setSent] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const email = String(new FormData(event.currentTarget).get('email')).trim();
    setBusy(true);
    setError(null);
    try {
      const result = await api.unwrap(api.client.POST('/api/v1/auth/password-reset', { body: { email } }));
      setSent(result.message);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Page title="Forgot your password?">
      {sent ? (
        <p className="notice" role="status">
          {sent}
        </p>
      ) : (
        <form className="form" onSubmit={(event) => void submit(event)}>
          <p>Enter the email address of your account. We will send a link to choose a new password.</p>
          <label htmlFor="forgot-email">Email</label>
          <input id="forgot-email" name="email" type="email" autoComplete="username" required />
          <ErrorMessage error={error} />
          <button type="submit" disabled={busy}>
            {busy ? 'Sending…' : 'Send the link'}
          </button>
        </form>
      )}
      <p>
        <Link href="/sign-in">Back to sign in</Link>
      </p>
    </Page>
  );
}
