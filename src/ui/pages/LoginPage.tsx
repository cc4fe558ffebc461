import { useCallback, useEffect, useRef, useState } from 'react';
import type { RouteResponse } from '../../personal/http/apiContract.js';
import { prepare, routes } from '../api';
import { keepSessionKey, takeNextPath } from '../session';

type State = { kind: 'no-token' } | { kind: 'signing-in' } | { kind: 'wrong-token' } | { kind: 'error'; message: string };

/** The token from `#token=…`, read once: the fragment is removed from the address bar at once. */
export function takeToken(): string | undefined {
  const fragment = new URLSearchParams(location.hash.replace(/^#/, ''));
  const token = fragment.get('token') ?? undefined;
  if (location.hash) history.replaceState(null, '', `${location.pathname}${location.search}`);
  return token && token.length > 0 ? token : undefined;
}

/**
 * `/login#token=<agent token>`: trades the token `kith serve` printed for a session cookie
 * (HttpOnly, SameSite=Strict) and its session key (kept in this tab's sessionStorage), then goes
 * to the app (or back where she was).
 */
export function LoginPage({ initialToken }: { initialToken: string | undefined }) {
  const token = useRef<string | undefined>(initialToken);
  const [state, setState] = useState<State>(token.current ? { kind: 'signing-in' } : { kind: 'no-token' });

  const signIn = useCallback(async (value: string) => {
    setState({ kind: 'signing-in' });
    try {
      const call = prepare(routes.signIn, { token: value });
      const response = await fetch(call.url, {
        method: call.method,
        credentials: 'same-origin',
        headers: { ...call.headers, accept: 'application/json' },
        body: call.body ?? null,
      });
      if (response.ok) {
        // The cookie alone opens nothing: the key goes with it on every call (session.ts says why).
        const { sessionKey } = (await response.json()) as RouteResponse<typeof routes.signIn>;
        keepSessionKey(sessionKey);
        location.replace(takeNextPath());
        return;
      }
      if (response.status === 401) {
        setState({ kind: 'wrong-token' });
        return;
      }
      const body = (await response.json().catch(() => undefined)) as { error?: { message?: string } } | undefined;
      setState({ kind: 'error', message: body?.error?.message ?? `The agent answered ${response.status}.` });
    } catch {
      setState({ kind: 'error', message: 'The agent is not answering. Is `kith serve` still running?' });
    }
  }, []);

  useEffect(() => {
    document.title = 'Sign in · Kith';
    const value = token.current;
    token.current = undefined;
    if (value) void signIn(value);
    // A link pasted into this same tab only changes the fragment: the page does not reload.
    const onHash = () => {
      const next = takeToken();
      if (next) void signIn(next);
    };
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, [signIn]);

  return (
    <div className="gate">
      <main className="gate-card" id="main">
        <div className="gate-mark gate-mark-brand" aria-hidden="true">
          K
        </div>
        {state.kind === 'signing-in' ? (
          <>
            <h1>Signing you in…</h1>
            <p className="loading" role="status">
              <span className="spinner" aria-hidden="true" />
              Opening your Kith
            </p>
          </>
        ) : (
          <>
            <h1>Open Kith</h1>
            {state.kind === 'wrong-token' ? (
              <div className="note note-bad" role="alert">
                <span className="note-icon" aria-hidden="true">
                  !
                </span>
                <span>This sign-in link is not valid: each start of <code>kith serve</code> makes a new one. Use the link it printed most recently.</span>
              </div>
            ) : null}
            {state.kind === 'error' ? (
              <div className="note note-bad" role="alert">
                <span className="note-icon" aria-hidden="true">
                  !
                </span>
                <span>{state.message}</span>
              </div>
            ) : null}
            <p className="gate-lead">
              Open the link <code>kith serve</code> printed, or run <code>kith open</code>.
            </p>
            <p className="gate-small">Your agent runs only on this computer. The link carries a secret that opens it for this browser; keep it to yourself.</p>
          </>
        )}
      </main>
    </div>
  );
}
