import type { ReactNode } from 'react';
import { Link, useLocation } from 'wouter';
import { useSession } from '../session/session-context';

export function Layout({ children }: { children: ReactNode }) {
  const { state, signOut } = useSession();
  const [, navigate] = useLocation();
  const signedIn = state.status === 'signed-in' ? state.me : null;
  // An admin who must first enrol 2FA has a session (and can sign out) but no other page.
  const sessionOpen = signedIn !== null || state.status === 'enrolment-required';
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="site-header">
        <Link href="/" className="brand">
          SecureAI Guardian
        </Link>
        <nav aria-label="Main">
          <ul>
            {signedIn && (
              <>
                <li>
                  <NavLink href="/upload">Upload</NavLink>
                </li>
                <li>
                  <NavLink href="/history">History</NavLink>
                </li>
              </>
            )}
            <li>
              <NavLink href="/verify">Verify</NavLink>
            </li>
            <li>
              <NavLink href="/help">Help</NavLink>
            </li>
            {signedIn?.user.role === 'admin' && (
              <li>
                <NavLink href="/admin/users">Admin</NavLink>
              </li>
            )}
            {signedIn && (
              <li>
                <NavLink href="/account">Account</NavLink>
              </li>
            )}
            {sessionOpen ? (
              <li>
                <button
                  type="button"
                  className="link-button"
                  onClick={() => void signOut().finally(() => navigate('/sign-in'))}
                >
                  Sign out
                </button>
              </li>
            ) : (
              <li>
                <NavLink href="/sign-in">Sign in</NavLink>
              </li>
            )}
          </ul>
        </nav>
      </header>
      {children}
      <footer className="site-footer">
        <p>
          Results are indicators from the checks listed in each report, never proof that a file is unaltered.{' '}
          <Link href="/help">What the bands mean</Link>
        </p>
      </footer>
    </>
  );
}

function NavLink({ href, children }: { href: string; children: ReactNode }) {
  const [location] = useLocation();
  const current = location === href || location.startsWith(`${href}/`);
  return (
    <Link href={href} aria-current={current ? 'page' : undefined}>
      {children}
    </Link>
  );
}
