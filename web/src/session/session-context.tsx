import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { useApi } from '../api/api-context';
import type { components, paths } from '../api/schema';

type Me = paths['/api/v1/me']['get']['responses'][200]['content']['application/json'];
export type SignedInUser = Me['user'];
export type { components };

export type SessionState =
  | { status: 'loading' }
  | { status: 'signed-out' }
  /** Password accepted, the second factor still to come. */
  | { status: 'second-factor' }
  | { status: 'signed-in'; me: Me };

interface SessionApi {
  state: SessionState;
  /** Re-reads who is signed in (after login, 2FA, enrolment, password change). */
  refresh(): Promise<SessionState>;
  signOut(): Promise<void>;
}

const SessionContext = createContext<SessionApi | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const api = useApi();
  const [state, setState] = useState<SessionState>({ status: 'loading' });

  const refresh = useCallback(async (): Promise<SessionState> => {
    const next = await readSession(api);
    setState(next);
    return next;
  }, [api]);

  const signOut = useCallback(async () => {
    try {
      await api.unwrap(api.client.POST('/api/v1/auth/logout'));
    } finally {
      api.setCsrfToken(null);
      setState({ status: 'signed-out' });
    }
  }, [api]);

  useEffect(() => {
    void refresh().catch(() => setState({ status: 'signed-out' }));
  }, [refresh]);

  const value = useMemo(() => ({ state, refresh, signOut }), [state, refresh, signOut]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

async function readSession(api: ReturnType<typeof useApi>): Promise<SessionState> {
  // Never 401: a signed-out visitor is an ordinary state, not an error in the console.
  const session = await api.unwrap(api.client.GET('/api/v1/auth/session'));
  api.setCsrfToken(session.csrfToken);
  if (!session.signedIn) return { status: 'signed-out' };
  if (session.stage === 'second-factor') return { status: 'second-factor' };
  const me = await api.unwrap(api.client.GET('/api/v1/me'));
  return { status: 'signed-in', me };
}

export function useSession(): SessionApi {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside SessionProvider');
  return session;
}

/** The signed-in person; only for pages rendered behind RequireSignIn. */
export function useMe(): Me {
  const { state } = useSession();
  if (state.status !== 'signed-in') throw new Error('useMe on a page that does not require sign-in');
  return state.me;
}
