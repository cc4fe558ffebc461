import type { CreatedKey, DeadLetterKey, KeysetPage } from './keyset.js';

/** An event for the company's own systems (connectors), kept until dispatched. */
export interface ConnectorEvent {
  id: string;
  /** Not a foreign key: an event may outlive the relationship's data (e.g. 'relationship.erased'). */
  relationshipId: string | null;
  type: string;
  /** Any JSON value; `undefined` is stored as `null`. */
  payload: unknown;
  createdAt: number;
  nextAttemptAt: number;
  attempts: number;
  /** When every connector took it; null while it still waits. */
  dispatchedAt: number | null;
}

/**
 * Events for connectors: an outbox towards the company's own systems, claimed under a lease like
 * the message outbox and kept (redacted where asked) once dispatched.
 *
 * Besides what each method states, every method may reject as described on CompanyStore
 * (`store.unavailable`, `internal`).
 */
/** Where one event stands with one connector: `failed` waits for another try, `dead` is a dead letter. */
export type ConnectorDeliveryState = 'delivered' | 'failed' | 'dead';

export interface ConnectorAttempt {
  eventId: string;
  connectorId: string;
  state: ConnectorDeliveryState;
  attempts: number;
  /** When a `failed` delivery is tried again; null once delivered or dead. */
  nextAttemptAt: number | null;
  /** The last failure's code and message (no personal value: connectors report codes and statuses). */
  lastError: string | null;
  updatedAt: number;
}

/** A dead letter: an event one connector gave up on, with where it got to. */
export interface DeadLetter {
  event: ConnectorEvent;
  attempt: ConnectorAttempt;
}

export interface ConnectorEventStore {
  /** Throws StoreError 'store.conflict' if the id is taken; the relationship is not checked. */
  enqueueEvent(event: ConnectorEvent): Promise<void>;
  /**
   * Undispatched events due at `now` (nextAttemptAt <= now), oldest (createdAt, id) first, at
   * most `limit` (none when limit <= 0); leases them like OutboxStore.claimDueOutbox (nextAttemptAt
   * = now + leaseMs in the same statement, FOR UPDATE SKIP LOCKED on PostgreSQL) so two processes
   * never dispatch the same event at once. The returned events carry the leased nextAttemptAt.
   */
  claimDueEvents(now: number, limit: number, leaseMs: number): Promise<ConnectorEvent[]>;
  /**
   * Sets dispatchedAt, so the event is never claimed again; unknown ids are ignored.
   * `redactedPayload` replaces the payload once delivered (an erasure event must not keep the
   * customer number it carried).
   */
  markEventDispatched(id: string, at: number, redactedPayload?: unknown): Promise<void>;
  /** Replaces an event's payload (values she withdrew taken out); false, changing nothing, for an unknown id. */
  replaceEventPayload(id: string, payload: unknown): Promise<boolean>;
  /** Sets nextAttemptAt and attempts; an unknown id changes nothing. */
  rescheduleEvent(id: string, nextAttemptAt: number, attempts: number): Promise<void>;
  /** All events, or one relationship's, or only undispatched ones; ordered by createdAt then id (byte order); a page of them with `after` and `limit` (keyset.ts). */
  listEvents(options?: { relationshipId?: string; undispatchedOnly?: boolean } & KeysetPage<CreatedKey>): Promise<ConnectorEvent[]>;
  /** Events not dispatched yet (the queue depth the metrics report). */
  countUndispatchedEvents(): Promise<number>;

  /** The delivery state of these events with every connector tried, ordered by eventId then connectorId. */
  listConnectorAttempts(eventIds: readonly string[]): Promise<ConnectorAttempt[]>;
  /** Inserts or replaces the (eventId, connectorId) row; an unknown event is a StoreError 'store.conflict'. */
  saveConnectorAttempt(attempt: ConnectorAttempt): Promise<void>;
  /**
   * The end of an event: saveConnectorAttempt for each of `attempts` (all of event `eventId`) and
   * markEventDispatched(eventId, at, redactedPayload), atomically, in one statement on PostgreSQL
   * (the dispatcher's per-event writes were two round trips). An unknown event changes nothing.
   */
  settleEvent(eventId: string, attempts: readonly ConnectorAttempt[], at: number, redactedPayload?: unknown): Promise<void>;
  /**
   * Dead letters, of one connector or all, most recently given up first (updatedAt, then eventId,
   * then connectorId, descending; ids in byte order), at most `limit` (default 100), after `after`
   * when given (keyset.ts).
   */
  listDeadLetters(options?: { connectorId?: string; limit?: number; after?: DeadLetterKey }): Promise<DeadLetter[]>;
  /**
   * Puts a dead letter back in line (one transaction): its delivery becomes `failed` with no
   * attempts, due at `at`, and its event undispatched and due at `at`. False, changing nothing,
   * if there is no dead letter for that event and connector.
   */
  replayDeadLetter(eventId: string, connectorId: string, at: number): Promise<boolean>;
  /** How many events each connector has in each state (connectors never tried on an event count nowhere). */
  countConnectorDeliveries(): Promise<{ connectorId: string; state: ConnectorDeliveryState; count: number }[]>;
}
