import { useEffect, useState, type ReactNode } from 'react';
import { api, routes } from '../api';
import { useLiveState } from '../events';
import { Link, useLocation } from '../router';
import { notifyLocked } from '../session';
import { useAction } from '../useResource';

interface NavItem {
  to: string;
  label: string;
  icon: ReactNode;
  /** Paths that belong to this item besides `to`. */
  match: (path: string) => boolean;
}

const icon = (d: string) => (
  <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false" className="nav-icon">
    <path d={d} fill="none" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" strokeLinejoin="round" />
  </svg>
);

const NAV: NavItem[] = [
  { to: '/', label: 'Relationships', icon: icon('M4 7h16M4 12h16M4 17h10'), match: (p) => p === '/' || p.startsWith('/relationships') },
  { to: '/connect', label: 'Connect', icon: icon('M10 14a4 4 0 0 0 5.7 0l3-3a4 4 0 0 0-5.7-5.7l-1 1M14 10a4 4 0 0 0-5.7 0l-3 3a4 4 0 0 0 5.7 5.7l1-1'), match: (p) => p === '/connect' },
  { to: '/requests', label: 'Requests', icon: icon('M4 5h16v11H8l-4 4zM8 9h8M8 12h5'), match: (p) => p === '/requests' },
  { to: '/intents', label: 'Intents', icon: icon('M11 4a7 7 0 1 0 0 14 7 7 0 0 0 0-14zM20 20l-4-4M8 11h6M11 8v6'), match: (p) => p === '/intents' || p.startsWith('/intents/') },
  { to: '/things', label: 'Things', icon: icon('M4 8l8-4 8 4v8l-8 4-8-4zM4 8l8 4 8-4M12 12v8'), match: (p) => p === '/things' || p.startsWith('/things/') },
  { to: '/profile', label: 'Profile', icon: icon('M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8zM4 20c1.5-3.5 4.5-5 8-5s6.5 1.5 8 5'), match: (p) => p === '/profile' },
  { to: '/credentials', label: 'Credentials', icon: icon('M4 6h16v12H4zM8 10h4M8 14h8M16 9.5a1.5 1.5 0 1 0 0 .01'), match: (p) => p === '/credentials' },
  { to: '/terms', label: 'Terms', icon: icon('M7 3h7l4 4v14H7zM14 3v4h4M10 12h5M10 16h5'), match: (p) => p === '/terms' },
  { to: '/settings', label: 'Settings', icon: icon('M12 15a3 3 0 1 0 0-6 3 3 0 0 0 0 6zM19 12a7 7 0 0 0-.1-1.2l2-1.6-2-3.4-2.4 1a7 7 0 0 0-2-1.2L14 3h-4l-.5 2.6a7 7 0 0 0-2 1.2l-2.4-1-2 3.4 2 1.6a7 7 0 0 0 0 2.4l-2 1.6 2 3.4 2.4-1a7 7 0 0 0 2 1.2L10 21h4l.5-2.6a7 7 0 0 0 2-1.2l2.4 1 2-3.4-2-1.6c.1-.4.1-.8.1-1.2z'), match: (p) => p === '/settings' },
];

function Brand() {
  return (
    <Link to="/" className="brand">
      <span className="brand-mark" aria-hidden="true">
        K
      </span>
      <span className="brand-name">Kith</span>
    </Link>
  );
}

function LockButton({ className = '' }: { className?: string }) {
  const action = useAction();
  const lock = () =>
    action.run(async () => {
      await api(routes.lock);
      notifyLocked();
    });
  return (
    <button type="button" className={`btn btn-ghost lock-button ${className}`} onClick={() => void lock()} disabled={action.busy} title={action.error ?? 'Lock your vault now'}>
      <svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true" focusable="false">
        <path d="M7 11V8a5 5 0 0 1 10 0v3M5 11h14v10H5z" fill="none" stroke="currentColor" strokeWidth="1.8" strokeLinejoin="round" />
      </svg>
      <span>{action.busy ? 'Locking…' : 'Lock'}</span>
    </button>
  );
}

function LiveIndicator() {
  const live = useLiveState();
  const text = live === 'live' ? 'Live updates on' : live === 'connecting' ? 'Reconnecting…' : 'Live updates off';
  return (
    <p className={`live-indicator live-${live}`}>
      <span className="live-dot" aria-hidden="true" />
      {text}
    </p>
  );
}

/** The app chrome: skip link, navigation (side bar on wide screens, a menu on phones), Lock. */
export function Shell({ children, counts }: { children: ReactNode; counts: { requests: number; terms: number; things: number; receipts: number } }) {
  const { path } = useLocation();
  const [menuOpen, setMenuOpen] = useState(false);

  useEffect(() => setMenuOpen(false), [path]);
  useEffect(() => {
    if (!menuOpen) return undefined;
    const onKey = (event: KeyboardEvent) => {
      if (event.key === 'Escape') {
        setMenuOpen(false);
        document.getElementById('menu-button')?.focus();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [menuOpen]);

  return (
    <div className={`shell${menuOpen ? ' menu-open' : ''}`}>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <button
          type="button"
          id="menu-button"
          className="btn btn-ghost menu-button"
          aria-expanded={menuOpen}
          aria-controls="main-nav"
          onClick={() => setMenuOpen((open) => !open)}
        >
          <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true" focusable="false">
            <path d={menuOpen ? 'M6 6l12 12M18 6L6 18' : 'M4 7h16M4 12h16M4 17h16'} fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round" />
          </svg>
          <span className="visually-hidden">Menu</span>
        </button>
        <Brand />
        {/* On a phone the menu is closed: what waits for her must still show. */}
        {counts.requests > 0 ? (
          <Link to="/requests" className="topbar-requests">
            {counts.requests} {counts.requests === 1 ? 'request' : 'requests'}
            <span className="visually-hidden"> waiting for you</span>
          </Link>
        ) : null}
        {counts.receipts > 0 ? (
          <Link to="/things" className="topbar-requests">
            {counts.receipts} {counts.receipts === 1 ? 'receipt' : 'receipts'}
            <span className="visually-hidden"> waiting for you</span>
          </Link>
        ) : null}
        <LockButton className="topbar-lock" />
      </header>
      <nav id="main-nav" className="sidebar" aria-label="Main">
        <div className="sidebar-brand">
          <Brand />
        </div>
        <ul className="nav-list">
          {NAV.map((item) => {
            const current = item.match(path);
            const count = item.to === '/requests' ? counts.requests : item.to === '/' ? counts.terms : item.to === '/things' ? counts.things : 0;
            return (
              <li key={item.to}>
                <Link to={item.to} className={`nav-link${current ? ' is-current' : ''}`} aria-current={current ? 'page' : undefined}>
                  {item.icon}
                  <span className="nav-label">{item.label}</span>
                  {item.to === '/things' && counts.receipts > 0 ? (
                    // Beside the due-soon count: a receipt waits for her answer, a due contract only for her attention.
                    <span className="nav-count nav-count-receipts">
                      {counts.receipts}
                      <span className="visually-hidden">{counts.receipts === 1 ? ' receipt waiting' : ' receipts waiting'}</span>
                    </span>
                  ) : null}
                  {count > 0 ? (
                    <span className="nav-count">
                      {count}
                      <span className="visually-hidden">{item.to === '/things' ? ' ending soon' : ' waiting'}</span>
                    </span>
                  ) : null}
                </Link>
              </li>
            );
          })}
        </ul>
        <div className="sidebar-foot">
          <LiveIndicator />
          <LockButton className="sidebar-lock" />
        </div>
      </nav>
      <div className="scrim" aria-hidden="true" onClick={() => setMenuOpen(false)} />
      <main id="main" tabIndex={-1} className="main">
        <div className="content">{children}</div>
      </main>
    </div>
  );
}
