import { SESSION_KEY_HEADER } from '../personal/http/apiContract.js';

/*
 * Where the app goes when the agent says no: to the login page when the session is gone, to the
 * unlock screen when the vault is locked. The server is the authority on both; the app only
 * follows what the API answers.
 */

const NEXT_KEY = 'kith.next';
const SESSION_KEY = 'kith.sessionKey';

/*
 * The session key: the sign-in answer gives it, every API call sends it with the session cookie
 * (SESSION_KEY_HEADER). The cookie alone opens nothing, because her browser also shows it to every
 * other server on 127.0.0.1 (cookies ignore the port). The key lives in sessionStorage, which is
 * kept per origin, port included, so no other local page can read it, and per tab: it survives a
 * reload. A new tab (an invitation link the browser hands to the app, say) asks the app's open tabs
 * for it over a BroadcastChannel, which is per origin too; with none open, she signs in again with
 * the link (`kith open`). Never in a cookie or localStorage.
 */

/** Keeps the key the sign-in answer gave, for this tab. */
export function keepSessionKey(key: string): void {
  try {
    sessionStorage.setItem(SESSION_KEY, key);
  } catch {
    // Storage disabled: every call gets 401 and she lands on the login page again.
  }
}

function sessionKey(): string | null {
  try {
    return sessionStorage.getItem(SESSION_KEY);
  } catch {
    return null;
  }
}

const CHANNEL = 'kith.session';
type ChannelMessage = { type: 'ask' } | { type: 'key'; key: string };

/** Gives this tab's key to the app's other tabs that ask (a new tab has none). Call once at start. */
export function shareSessionKey(): void {
  if (typeof BroadcastChannel === 'undefined') return;
  const channel = new BroadcastChannel(CHANNEL);
  channel.onmessage = (event: MessageEvent<ChannelMessage>) => {
    const key = sessionKey();
    if (event.data?.type === 'ask' && key) channel.postMessage({ type: 'key', key } satisfies ChannelMessage);
  };
}

/** In a tab without a key: asks the app's other tabs for theirs, for a moment; keeps the first answer. */
export async function borrowSessionKey(waitMs = 400): Promise<void> {
  if (sessionKey() || typeof BroadcastChannel === 'undefined') return;
  const channel = new BroadcastChannel(CHANNEL);
  try {
    const key = await new Promise<string | undefined>((resolve) => {
      const timer = window.setTimeout(() => resolve(undefined), waitMs);
      channel.onmessage = (event: MessageEvent<ChannelMessage>) => {
        if (event.data?.type !== 'key' || typeof event.data.key !== 'string') return;
        window.clearTimeout(timer);
        resolve(event.data.key);
      };
      channel.postMessage({ type: 'ask' } satisfies ChannelMessage);
    });
    if (key) keepSessionKey(key);
  } finally {
    channel.close();
  }
}

/** The header that goes with the session cookie on every API call (none before sign-in). */
export function sessionHeaders(): Record<string, string> {
  const key = sessionKey();
  return key ? { [SESSION_KEY_HEADER]: key } : {};
}

/** The agent serves the login page at /login; Vite's development server by its file name. */
const LOGIN_PATH = import.meta.env.DEV ? '/login.html' : '/login';

/** Remembers where she was, then leaves for the login page (the agent link sets a new session). */
export function goToLogin(): void {
  if (location.pathname === LOGIN_PATH) return;
  try {
    // The agent no longer knows it (it restarted, or this tab never signed in).
    sessionStorage.removeItem(SESSION_KEY);
    sessionStorage.setItem(NEXT_KEY, `${location.pathname}${location.search}`);
  } catch {
    // Storage may be disabled; she lands on the start page instead.
  }
  location.replace(LOGIN_PATH);
}

/** A path inside the app (never a URL, another origin, the login page or the API). */
export function isAppPath(path: string | null): path is string {
  return path !== null && path.startsWith('/') && !path.startsWith('//') && !path.startsWith('/\\') && !path.startsWith('/login') && !path.startsWith('/api/');
}

/**
 * The path to return to after login: the one the app kept before sending her to /login, else a
 * `?next=` on the login URL (for a server redirect). Only a same-origin app path, never a URL.
 */
export function takeNextPath(): string {
  let next: string | null = null;
  try {
    next = sessionStorage.getItem(NEXT_KEY);
    sessionStorage.removeItem(NEXT_KEY);
  } catch {
    next = null;
  }
  if (isAppPath(next)) return next;
  const fromQuery = new URLSearchParams(location.search).get('next');
  return isAppPath(fromQuery) ? fromQuery : '/';
}

type LockListener = () => void;
const lockListeners = new Set<LockListener>();

let quiet = 0;

/** Called by the API client when any call answers 409 `vault.locked`, and when the agent says it locks. */
export function notifyLocked(): void {
  if (quiet > 0) return;
  for (const listener of lockListeners) listener();
}

/**
 * Runs work during which the agent locks and unlocks itself (an import replaces the vault that
 * way): the app stays where it is instead of asking for the passphrase it was just given.
 */
export async function whileRelocking<T>(work: () => Promise<T>): Promise<T> {
  quiet++;
  try {
    return await work();
  } finally {
    quiet--;
  }
}

export function onLocked(listener: LockListener): () => void {
  lockListeners.add(listener);
  return () => lockListeners.delete(listener);
}
