import { useState, type FormEvent } from 'react';
import { Link, useLocation, useSearch } from 'wouter';
import { useApi } from '../api/api-context';
import { ErrorMessage } from '../components/error-message';
import { Page } from '../components/page';
import { useSession } from '../session/session-context';

/** Email and password, then the authenticator code (or a recovery code) when the account has 2FA. */
export default function SignInPage() {
  const { state } = useSession();
  return state.status === 'second-factor' ? <SecondFactorForm /> : <PasswordForm />;
}

function useAfterSignIn() {
  const search = useSearch();
  const [, navigate] = useLocation();
  const next = new URLSearchParams(search).get('next');
  // Only a path on this site: never an absolute URL an attacker put in the link.
  const target = next && next.startsWith('/') && !next.startsWith('//') ? next : '/history';
  return () => navigate(target, { replace: true });
}

function PasswordForm() {
  const api = useApi();
  const { refresh } = useSession();
  const afterSignIn = useAfterSignIn();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    setError(null);
    try {
      const result = await api.unwrap(
        api.client.POST('/api/v1/auth/login', {
          body: { email: String(form.get('email')), password: String(form.get('password')) },
        }),
      );
      api.setCsrfToken(result.csrfToken);
      const next = await refresh();
      if (next.status === 'signed-in' || next.status === 'enrolment-required') afterSignIn();
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Page title="Sign in">
      <form className="form" onSubmit={(event) => void submit(event)} noValidate={false}>
        <label htmlFor="sign-in-email">Email</label>
        <input id="sign-in-email" name="email" type="email" autoComplete="username" required />
        <label htmlFor="sign-in-password">Password</label>
        <input
          id="sign-in-password"
          name="password"
          type="password"
          autoComplete="current-password"
          required
        />
        <ErrorMessage error={error} />
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      <p>
        <Link href="/forgot-password">Forgot your password?</Link>
      </p>
    </Page>
  );
}

function SecondFactorForm() {
  const api = useApi();
  const { refresh, signOut } = useSession();
  const afterSignIn = useAfterSignIn();
  const [useRecoveryCode, setUseRecoveryCode] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const value = String(new FormData(event.currentTarget).get('code')).trim();
    setBusy(true);
    setError(null);
    try {
      const result = await api.unwrap(
        api.client.POST('/api/v1/auth/login/2fa', {
          body: useRecoveryCode ? { recoveryCode: value } : { code: value.replace(/\s/g, '') },
        }),
      );
      if ('csrfToken' in result && typeof result.csrfToken === 'string') api.setCsrfToken(result.csrfToken);
      const next = await refresh();
      if (next.status === 'signed-in' || next.status === 'enrolment-required') afterSignIn();
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Page title="Two-step verification">
      <form className="form" onSubmit={(event) => void submit(event)}>
        {useRecoveryCode ? (
          <>
            <label htmlFor="second-factor-code">Recovery code</label>
            <input id="second-factor-code" name="code" autoComplete="off" required minLength={16} />
          </>
        ) : (
          <>
            <label htmlFor="second-factor-code">Code from your authenticator app</label>
            <input
              id="second-factor-code"
              name="code"
              inputMode="numeric"
              autoComplete="one-time-code"
              pattern="[0-9 ]{6,7}"
              required
            />
          </>
        )}
        <ErrorMessage error={error} />
        <button type="submit" disabled={busy}>
          {busy ? 'Checking…' : 'Verify'}
        </button>
      </form>
      <p>
        <button type="button" className="link-button" onClick={() => setUseRecoveryCode(!useRecoveryCode)}>
          {useRecoveryCode ? 'Use the authenticator app instead' : 'Use a recovery code instead'}
        </button>{' '}
        ·{' '}
        <button type="button" className="link-button" onClick={() => void signOut()}>
          Cancel and sign out
        </button>
      </p>
    </Page>
  );
}
