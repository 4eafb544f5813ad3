// The app: sign-in when there is no session, otherwise the sidebar layout and the page of the path.
import { useCallback, useEffect, useState } from 'react';
import { auth, useSessionToken, whenSignedOut, type AuthOptions, type SessionInfo } from './api.ts';
import { ErrorMessage } from './components/common.tsx';
import { closeLive } from './live.ts';
import { Link, navigate, useLocation } from './router.tsx';
import { SessionContext, useSession } from './session.tsx';
import { SignIn } from './pages/sign-in.tsx';
import { ReviewsPage } from './pages/reviews.tsx';
import { ReviewPage } from './pages/review.tsx';
import { RunPage } from './pages/run.tsx';
import { ConnectionsPage } from './pages/connections.tsx';
import { UsersPage } from './pages/users.tsx';
import { AgentsPage } from './pages/agents.tsx';
import { WebhooksPage } from './pages/webhooks.tsx';
import { AnalyticsPage } from './pages/analytics.tsx';

type State = { kind: 'loading' } | { kind: 'failed'; error: unknown } | { kind: 'signed-out'; options: AuthOptions; notice?: string } | { kind: 'signed-in'; session: SessionInfo; options: AuthOptions };

export function App() {
  const [state, setState] = useState<State>({ kind: 'loading' });

  const load = useCallback(async () => {
    try {
      const { session, ended, options } = await auth.current();
      useSessionToken(session?.csrfToken);
      setState(session ? { kind: 'signed-in', session, options } : { kind: 'signed-out', options, notice: ended });
    } catch (error) {
      setState({ kind: 'failed', error });
    }
  }, []);

  useEffect(() => {
    void load();
    whenSignedOut(() => {
      closeLive();
      useSessionToken(undefined);
      setState((s) => ({ kind: 'signed-out', options: s.kind === 'signed-in' || s.kind === 'signed-out' ? s.options : { sso: { enabled: false } }, notice: 'Your session ended. Sign in again.' }));
    });
  }, [load]);

  if (state.kind === 'loading') return <p className="loading">Loading…</p>;
  if (state.kind === 'failed') {
    return (
      <main className="sign-in">
        <ErrorMessage error={state.error} />
        <button type="button" onClick={() => void load()}>
          Try again
        </button>
      </main>
    );
  }
  if (state.kind === 'signed-out') {
    return (
      <SignIn
        options={state.options}
        notice={state.notice}
        onSignedIn={(session) => {
          useSessionToken(session.csrfToken);
          setState({ kind: 'signed-in', session, options: state.options });
          const next = new URLSearchParams(location.search).get('next');
          if (next && next.startsWith('/') && !next.startsWith('//')) navigate(next, { replace: true });
        }}
      />
    );
  }
  const signOut = async () => {
    try {
      await auth.signOut();
    } finally {
      closeLive();
      useSessionToken(undefined);
      setState({ kind: 'signed-out', options: state.options, notice: 'You are signed out.' });
      navigate('/', { replace: true });
    }
  };
  return (
    <SessionContext.Provider value={{ session: state.session, signOut }}>
      <Layout />
    </SessionContext.Provider>
  );
}

const NAV = [
  { to: '/reviews', label: 'Access Requests', admin: false },
  { to: '/run', label: 'Run', admin: false },
  { to: '/connections', label: 'Connections', admin: false },
  { to: '/users', label: 'Users', admin: true },
  { to: '/agents', label: 'Agents', admin: true },
  { to: '/analytics', label: 'Analytics', admin: false },
  { to: '/webhooks', label: 'Webhooks', admin: true },
];

function Layout() {
  const { session, signOut } = useSession();
  const { path } = useLocation();
  const [menuOpen, setMenuOpen] = useState(false);
  useEffect(() => setMenuOpen(false), [path]);
  return (
    <div className="layout">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <nav className={`sidebar${menuOpen ? ' open' : ''}`} aria-label="Main">
        <div className="brand">
          <span>hoop approvals</span>
          <button type="button" className="menu-toggle" aria-expanded={menuOpen} aria-controls="nav-links" onClick={() => setMenuOpen((o) => !o)}>
            Menu
          </button>
        </div>
        <ul id="nav-links">
          {NAV.filter((n) => !n.admin || session.user.admin).map((n) => (
            <li key={n.to}>
              <Link to={n.to} aria-current={path === n.to || path.startsWith(`${n.to}/`) || (n.to === '/reviews' && path === '/') ? 'page' : undefined}>
                {n.label}
              </Link>
            </li>
          ))}
        </ul>
        <div className="who">
          <span title={session.user.groups.join(', ')}>{session.user.email}</span>
          <button type="button" className="secondary" onClick={() => void signOut()}>
            Sign out
          </button>
        </div>
      </nav>
      <main id="main" tabIndex={-1}>
        <Page path={path} />
      </main>
    </div>
  );
}

function Page({ path }: { path: string }) {
  if (path === '/' || path === '/reviews') return <ReviewsPage />;
  const review = /^\/reviews\/([^/]+)$/.exec(path);
  if (review) return <ReviewPage id={decodeURIComponent(review[1])} />;
  if (path === '/run') return <RunPage />;
  if (path === '/connections' || path.startsWith('/connections/')) return <ConnectionsPage path={path} />;
  if (path === '/users') return <UsersPage />;
  if (path === '/agents') return <AgentsPage />;
  if (path === '/webhooks') return <WebhooksPage />;
  if (path === '/analytics') return <AnalyticsPage />;
  return (
    <section>
      <h1>Page not found</h1>
      <p>
        There is no page at <code>{path}</code>. <Link to="/reviews">Go to Access Requests</Link>.
      </p>
    </section>
  );
}
