import { useEffect, useRef, useSyncExternalStore } from 'react';
import { api, routes } from './api';
import { goToLogin, notifyLocked, sessionHeaders } from './session';
import { sseParser, type ServerSentEvent } from './sse';
import type { AgentEvent } from './types';

/*
 * Live updates: one stream of GET /api/events for the whole app, shared by every page. It is read
 * with fetch, not EventSource, because EventSource cannot send the session key header the API
 * needs besides the cookie (session.ts). When the stream ends or the agent refuses it, we ask
 * /api/session why and go to the login page or the unlock screen, or else reconnect after a pause
 * that grows while the agent stays away; the app reopens it after unlocking.
 */

type Listener = (event: AgentEvent) => void;

const EVENT_TYPES: ReadonlySet<string> = new Set<Exclude<AgentEvent['type'], 'agent.locked'>>([
  'disclosure.requested',
  'disclosure.answered',
  'profile.changed',
  'profile.delivery',
  'message.received',
  'terms.updated',
  'disclosure.refused',
  'intent.offer',
  'thing.warranty_ending',
  // Her things' protocol side: a seller's receipt, a maker's recall, a service case changed.
  'thing.receipt',
  'thing.recall',
  'service.case_updated',
  // Listened to by App.tsx (the requests count) and AccountIds.tsx, but were never let through.
  'verification.requested',
  'verification.answered',
  'account.identifiers',
]);

export type LiveState = 'connecting' | 'live' | 'offline';

const listeners = new Set<Listener>();
const stateListeners = new Set<() => void>();
/** The open stream's abort handle; undefined when no stream is open or wanted. */
let current: AbortController | undefined;
let state: LiveState = 'offline';
let retryTimer: number | undefined;
let retryDelay = 1_000;

function setState(next: LiveState): void {
  if (state === next) return;
  state = next;
  for (const listener of stateListeners) listener();
}

function dispatch(message: ServerSentEvent): void {
  switch (message.event) {
    case 'ready':
      retryDelay = 1_000;
      setState('live');
      return;
    case 'agent.locked':
      // The agent is locking (her Lock button elsewhere, the idle timeout): ask for the passphrase now.
      notifyLocked();
      return;
    default:
      if (!EVENT_TYPES.has(message.event)) return; // ping, or a type this app does not know
  }
  let event: AgentEvent;
  try {
    event = JSON.parse(message.data) as AgentEvent;
  } catch {
    return;
  }
  for (const listener of listeners) listener(event);
}

/** Reads the stream until it ends; resolves when it ended (or failed) by itself, not when closed by us. */
async function read(abort: AbortController): Promise<void> {
  const response = await fetch(routes.events.path, {
    credentials: 'same-origin',
    cache: 'no-store',
    headers: { accept: 'text/event-stream', ...sessionHeaders() },
    signal: abort.signal,
  });
  if (!response.ok || !response.body) return;
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  const parse = sseParser(dispatch);
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    parse(value);
  }
}

async function ended(abort: AbortController): Promise<void> {
  if (abort.signal.aborted || current !== abort) return; // closed on purpose
  current = undefined;
  setState('connecting');
  try {
    const session = await api(routes.session);
    if (!session.authenticated) return goToLogin();
    if (session.locked) return notifyLocked();
  } catch {
    // The agent is down: try again later.
  }
  if (current) return; // reopened meanwhile
  window.clearTimeout(retryTimer);
  retryTimer = window.setTimeout(openEvents, retryDelay);
  retryDelay = Math.min(retryDelay * 2, 30_000);
}

/** Opens the stream (idempotent). The app calls it once the vault is unlocked. */
export function openEvents(): void {
  if (current) return;
  window.clearTimeout(retryTimer);
  setState('connecting');
  const abort = new AbortController();
  current = abort;
  void read(abort)
    .catch(() => undefined)
    .then(() => ended(abort));
}

/** Opens the stream anew (after the agent restarted behind it, e.g. an import). */
export function reopenEvents(): void {
  closeEvents();
  openEvents();
}

/** Closes the stream (when the vault locks). */
export function closeEvents(): void {
  window.clearTimeout(retryTimer);
  current?.abort();
  current = undefined;
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
