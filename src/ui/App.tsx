import { useCallback, useEffect, useRef, useState } from 'react';
import { api, errorMessage, routes } from './api';
import { Shell } from './components/Shell';
import { Loading } from './components/ui';
import { closeEvents, openEvents, useAgentEvents } from './events';
import { ConnectPage } from './pages/ConnectPage';
import { IntentPage } from './pages/IntentPage';
import { IntentsPage } from './pages/IntentsPage';
import { CredentialsPage } from './pages/CredentialsPage';
import { NotFoundPage } from './pages/NotFoundPage';
import { ProfilePage } from './pages/ProfilePage';
import { RelationshipPage } from './pages/RelationshipPage';
import { RelationshipsPage } from './pages/RelationshipsPage';
import { RequestsPage } from './pages/RequestsPage';
import { SettingsPage } from './pages/SettingsPage';
import { TermsPage } from './pages/TermsPage';
import { ThingPage } from './pages/ThingPage';
import { ThingsPage } from './pages/ThingsPage';
import { UnlockPage } from './pages/UnlockPage';
import { useLocation } from './router';
import { borrowSessionKey, goToLogin, onLocked } from './session';
import { onThingsChanged } from './things';

type Gate = { kind: 'checking' } | { kind: 'locked' } | { kind: 'open' } | { kind: 'unreachable'; message: string };

function Routes() {
  const { path } = useLocation();
  if (path === '/' || path === '/relationships') return <RelationshipsPage />;
  const rel = /^\/relationships\/([^/]+)$/.exec(path);
  if (rel?.[1]) return <RelationshipPage key={rel[1]} id={decodeURIComponent(rel[1])} />;
  const intent = /^\/intents\/([^/]+)$/.exec(path);
  if (intent?.[1]) return <IntentPage key={intent[1]} id={decodeURIComponent(intent[1])} />;
  const thing = /^\/things\/([^/]+)$/.exec(path);
  if (thing?.[1]) return <ThingPage key={thing[1]} id={decodeURIComponent(thing[1])} />;
  switch (path) {
    case '/connect':
      return <ConnectPage />;
    case '/requests':
      return <RequestsPage />;
    case '/intents':
      return <IntentsPage />;
    case '/things':
      return <ThingsPage />;
    case '/profile':
      return <ProfilePage />;
    case '/credentials':
      return <CredentialsPage />;
    case '/terms':
      return <TermsPage />;
    case '/settings':
      return <SettingsPage />;
    default:
      return <NotFoundPage />;
  }
}

/** What waits for her, for the counts in the navigation. */
function useWaitingCounts(enabled: boolean): { requests: number; terms: number; things: number; receipts: number } {
  const [counts, setCounts] = useState({ requests: 0, terms: 0, things: 0, receipts: 0 });
  const refresh = useCallback(async () => {
    if (!enabled) return;
    try {
      const [{ requests }, { relationships }, { verifications }, { due }, { receipts }] = await Promise.all([
        api(routes.requests),
        api(routes.relationships),
        api(routes.verifications, { pending: '1' }),
        // Her warranties and service contracts ending soon, at `kith things due`'s threshold (the agent's default).
        api(routes.thingsDue),
        // Sellers' signed receipts waiting for her to accept or decline them (shown beside the due count).
        api(routes.thingReceipts),
      ]);
      // A caller verification waits for her like a request, on the same page.
      setCounts({ requests: requests.length + verifications.length, terms: relationships.filter((r) => r.terms.awaitingHer && r.state !== 'cut_off').length, things: due.length, receipts: receipts.length });
    } catch {
      // The counts are a hint; the pages show errors.
    }
  }, [enabled]);
  useEffect(() => {
    void refresh();
  }, [refresh]);
  useAgentEvents((event) => {
    if (event.type.startsWith('disclosure.') || event.type.startsWith('verification.') || event.type === 'terms.updated' || event.type === 'thing.warranty_ending' || event.type === 'thing.receipt') void refresh();
  });
  useEffect(() => onThingsChanged(() => void refresh()), [refresh]);
  // Pages change things too (an approval, an accepted counter): refresh on navigation.
  const { path } = useLocation();
  useEffect(() => {
    void refresh();
  }, [path, refresh]);
  return counts;
}

/** Moves the focus to the new page's heading after in-app navigation, as a page load would. */
function useFocusOnNavigate(enabled: boolean): void {
  const { path } = useLocation();
  const first = useRef(true);
  useEffect(() => {
    if (!enabled) return;
    if (first.current) {
      first.current = false;
      return;
    }
    window.scrollTo(0, 0);
    const heading = document.getElementById('page-title') ?? document.getElementById('main');
    heading?.focus({ preventScroll: true });
  }, [path, enabled]);
}

export function App() {
  const [gate, setGate] = useState<Gate>({ kind: 'checking' });
  // Bumped after each unlock so the pages load their data again, in place.
  const [epoch, setEpoch] = useState(0);

  const check = useCallback(async () => {
    setGate({ kind: 'checking' });
    try {
      // A new tab: the session key may be in another tab of the app (session.ts).
      await borrowSessionKey();
      const session = await api(routes.session);
      if (!session.authenticated) return goToLogin();
      setGate(session.locked ? { kind: 'locked' } : { kind: 'open' });
    } catch (error) {
      setGate({ kind: 'unreachable', message: errorMessage(error) });
    }
  }, []);

  useEffect(() => {
    void check();
  }, [check]);

  useEffect(
    () =>
      onLocked(() => {
        closeEvents();
        setGate({ kind: 'locked' });
      }),
    [],
  );

  const open = gate.kind === 'open';
  useEffect(() => {
    if (open) openEvents();
  }, [open]);

  const counts = useWaitingCounts(open);
  useFocusOnNavigate(open);

  if (gate.kind === 'checking') {
    return (
      <div className="gate">
        <main className="gate-card" id="main">
          <Loading label="Opening Kith…" />
        </main>
      </div>
    );
  }
  if (gate.kind === 'unreachable') {
    return (
      <div className="gate">
        <main className="gate-card" id="main">
          <h1>Kith is not answering</h1>
          <p className="gate-lead">{gate.message}</p>
          <button type="button" className="btn btn-primary btn-block" onClick={() => void check()}>
            Try again
          </button>
        </main>
      </div>
    );
  }
  if (gate.kind === 'locked') {
    return (
      <UnlockPage
        onUnlocked={() => {
          setEpoch((n) => n + 1);
          setGate({ kind: 'open' });
        }}
      />
    );
  }
  return (
    <Shell counts={counts}>
      <Routes key={epoch} />
    </Shell>
  );
}
