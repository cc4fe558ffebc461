/*
 * Where the app goes when the agent says no: to the login page when the session is gone, to the
 * unlock screen when the vault is locked. The server is the authority on both; the app only
 * follows what the API answers.
 */

const NEXT_KEY = 'kith.next';

/** The agent serves the login page at /login; Vite's development server by its file name. */
const LOGIN_PATH = import.meta.env.DEV ? '/login.html' : '/login';

/** Remembers where she was, then leaves for the login page (the agent link sets a new session). */
export function goToLogin(): void {
  if (location.pathname === LOGIN_PATH) return;
  try {
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
