import { lazy, Suspense, useEffect, useRef, type ReactNode } from 'react';
import { Redirect, Route, Switch, useLocation } from 'wouter';
import { pageRoutes, type PageRoute } from './routes';
import { useSession } from './session/session-context';
import { Layout } from './components/layout';
import { NotFoundPage } from './pages/not-found-page';

export function App() {
  const { state } = useSession();
  return (
    <Layout>
      <FocusOnNavigation />
      <Suspense fallback={<p role="status">Loading…</p>}>
        <Switch>
          <Route path="/">
            {state.status === 'loading' ? (
              <p role="status">Loading…</p>
            ) : (
              <Redirect to={landingPath(state.status)} replace />
            )}
          </Route>
          {pageRoutes.map((route) => (
            <Route key={route.path} path={route.path}>
              <Guard route={route}>
                <route.page />
              </Guard>
            </Route>
          ))}
          <Route>
            <NotFoundPage />
          </Route>
        </Switch>
      </Suspense>
    </Layout>
  );
}

const EnrolmentRequiredPage = lazy(() => import('./pages/enrolment-required-page'));

/** Pages that need a session send the visitor to sign in, and back to where they were going after. */
function Guard({ route, children }: { route: PageRoute; children: ReactNode }) {
  const { state } = useSession();
  const [location] = useLocation();
  if (route.access === 'public') return <>{children}</>;
  if (state.status === 'loading') return <p role="status">Loading…</p>;
  if (state.status === 'enrolment-required') return <EnrolmentRequiredPage />;
  if (state.status !== 'signed-in') {
    const back = encodeURIComponent(location + window.location.search);
    return <Redirect to={`/sign-in?next=${back}`} replace />;
  }
  if (route.access === 'admin' && state.me.user.role !== 'admin') {
    return (
      <main id="main" tabIndex={-1}>
        <h1>Not allowed</h1>
        <p>This page is for administrators of your organisation.</p>
      </main>
    );
  }
  return <>{children}</>;
}

/** After a client-side navigation, move focus to the new page's main region so screen readers announce it. */
function FocusOnNavigation() {
  const [location] = useLocation();
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    document.getElementById('main')?.focus();
  }, [location]);
  return null;
}

function landingPath(status: ReturnType<typeof useSession>['state']['status']): string {
  if (status === 'signed-in') return '/history';
  if (status === 'enrolment-required') return '/account';
  return '/sign-in';
}
