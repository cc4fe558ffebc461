import { useEffect, useRef, useSyncExternalStore } from 'react';
import { api, routes } from './api';
import { goToLogin, notifyLocked } from './session';
import type { AgentEvent } from './types';

/*
 * Live updates: one EventSource on GET /api/events for the whole app, shared by every page. The
 * browser reconnects by itself after a dropped connection; when the agent refused the stream
 * (401 without a session, 409 while locked) the source is closed, so we ask /api/session why and
 * go to the login page or the unlock screen, and reopen after unlocking.
 */

type Listener = (event: AgentEvent) => void;

const EVENT_TYPES: readonly Exclude<AgentEvent['type'], 'agent.locked'>[] = [
  'disclosure.requested',
  'disclosure.answered',
  'profile.changed',
  'profile.delivery',
  'message.received',
  'terms.updated',
  'disclosure.refused',
  'intent.offer',
];

export type LiveState = 'connecting' | 'live' | 'offline';

const listeners = new Set<Listener>();
const stateListeners = new Set<() => void>();
let source: EventSource | undefined;
let state: LiveState = 'offline';
let retryTimer: number | undefined;
let retryDelay = 1_000;

function setState(next: LiveState): void {
  if (state === next) return;
  state = next;
  for (const listener of stateListeners) listener();
}

function dispatch(message: MessageEvent<string>): void {
  let event: AgentEvent;
  try {
    event = JSON.parse(message.data) as AgentEvent;
  } catch {
    return;
  }
  for (const listener of listeners) listener(event);
}

async function onError(): Promise<void> {
  if (!source) return;
  if (source.readyState === EventSource.CONNECTING) {
    setState('connecting');
    return;
  }
  // Closed for good: the agent answered with an error status, or is gone.
  source = undefined;
  setState('offline');
  try {
    const session = await api(routes.session);
    if (!session.authenticated) return goToLogin();
    if (session.locked) return notifyLocked();
  } catch {
    // The agent is down: try again later.
  }
  window.clearTimeout(retryTimer);
  retryTimer = window.setTimeout(openEvents, retryDelay);
  retryDelay = Math.min(retryDelay * 2, 30_000);
}

/** Opens the stream (idempotent). The app calls it once the vault is unlocked. */
export function openEvents(): void {
  if (source) return;
  window.clearTimeout(retryTimer);
  setState('connecting');
  const es = new EventSource(routes.events.path, { withCredentials: true });
  source = es;
  es.addEventListener('ready', () => {
    retryDelay = 1_000;
    setState('live');
  });
  es.addEventListener('open', () => setState('live'));
  for (const type of EVENT_TYPES) es.addEventListener(type, dispatch);
  // The agent is locking (her Lock button elsewhere, the idle timeout): ask for the passphrase now.
  es.addEventListener('agent.locked', () => notifyLocked());
  es.addEventListener('error', () => void onError());
}

/** Opens the stream anew (after the agent restarted behind it, e.g. an import). */
export function reopenEvents(): void {
  closeEvents();
  openEvents();
}

/** Closes the stream (when the vault locks). */
export function closeEvents(): void {
  window.clearTimeout(retryTimer);
  source?.close();
  source = undefined;
  setState('offline');
}

/** Calls `handler` for every agent event while the component is mounted (the latest handler is used). */
export function useAgentEvents(handler: Listener): void {
  const latest = useRef(handler);
  latest.current = handler;
  useEffect(() => {
    const listener: Listener = (event) => latest.current(event);
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
    };
  }, []);
}

/** Whether live updates are flowing, for a small indicator. */
export function useLiveState(): LiveState {
  return useSyncExternalStore(
    (listener) => {
      stateListeners.add(listener);
      return () => stateListeners.delete(listener);
    },
    () => state,
  );
}
