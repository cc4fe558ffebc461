import type { Clock } from '../../core/clock.js';
import { ConnectorError, KithError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import { nextAttemptDelay, type RetryPolicy } from '../../core/retry.js';
import type { ConnectorAttempt, ConnectorEvent, CompanyStore } from '../store/types.js';
import { connectorEventPayloadSchema, connectorEventTypeSchema, DEFAULT_MAX_ATTEMPTS, type Connector, type ConnectorDelivery } from './types.js';

const BATCH = 50;
/**
 * Relationships whose events are delivered at the same time: the webhook connector keeps this many
 * connections to its receiver, and one relationship's events still go one after another.
 */
const LANES_IN_FLIGHT = 8;
/** What a failure is recorded as: its code and a short reason, never a value from the event. */
const LAST_ERROR_MAX = 300;

/** A configured connector and how many attempts it gets before a dead letter. */
export interface DispatchTarget {
  connector: Connector;
  maxAttempts: number;
}

/** What one round of dispatching did, per connector: for tests, metrics and the admin API. */
export interface DispatchOutcome {
  /** Events every connector is now done with (delivered or dead). */
  settled: number;
  delivered: Record<string, number>;
  failed: Record<string, number>;
  dead: Record<string, number>;
}

/**
 * Drains the store's connector-event outbox into the configured connectors, each with its own
 * delivery state (docs/connectors.md): events are claimed with a lease (several company processes
 * may share one database), then each connector that has not taken an event yet and is due tries
 * it. A connector that fails is retried with backoff on its own (honouring a Retry-After), without
 * holding back or repeating the others, until its attempts run out: then the event is a dead
 * letter for that connector, listed and replayable from the admin API. The event leaves the queue
 * when every connector delivered it or gave up.
 */
export class ConnectorDispatcher {
  readonly #store: CompanyStore;
  readonly #targets: readonly DispatchTarget[];
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #retry: RetryPolicy;

  constructor(store: CompanyStore, targets: readonly (Connector | DispatchTarget)[], clock: Clock, logger: Logger, retry: RetryPolicy) {
    this.#store = store;
    this.#targets = targets.map((t) => ('connector' in t ? t : { connector: t, maxAttempts: DEFAULT_MAX_ATTEMPTS }));
    this.#clock = clock;
    this.#logger = logger;
    this.#retry = retry;
  }

  /** The configured connectors with their attempt limits, in order. */
  targets(): readonly DispatchTarget[] {
    return this.#targets;
  }

  /** The configured connectors' ids, in order. */
  connectorIds(): string[] {
    return this.#targets.map((t) => t.connector.id);
  }

  async dispatchDue(): Promise<number> {
    return (await this.dispatchRound()).settled;
  }

  async dispatchRound(): Promise<DispatchOutcome> {
    const outcome: DispatchOutcome = { settled: 0, delivered: {}, failed: {}, dead: {} };
    const due = await this.#store.claimDueEvents(this.#clock.now(), BATCH, this.#retry.leaseMs);
    if (due.length === 0) return outcome;
    const attempts = new Map<string, ConnectorAttempt>();
    for (const a of await this.#store.listConnectorAttempts(due.map((e) => e.id))) attempts.set(`${a.eventId}\u0000${a.connectorId}`, a);
    // The claim's lease must not run out mid-batch (another process would claim the rest again):
    // past half of it, what is left goes back in line at once instead.
    const deadline = this.#clock.now() + this.#retry.leaseMs / 2;
    // One relationship's events go in the order they were claimed; different relationships' go
    // side by side, so a receiver's round trip is not paid once per event of the whole batch.
    const lanes = [...groupByRelationship(due).values()];
    let nextLane = 0;
    const work = async () => {
      for (let lane = lanes[nextLane++]; lane !== undefined; lane = lanes[nextLane++]) {
        for (const [index, event] of lane.entries()) {
          if (this.#clock.now() > deadline) {
            for (const left of lane.slice(index)) await this.#store.rescheduleEvent(left.id, this.#clock.now(), left.attempts);
            break;
          }
          if (await this.#dispatch(event, attempts, outcome)) outcome.settled += 1;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(LANES_IN_FLIGHT, lanes.length) }, work));
    return outcome;
  }

  async #dispatch(event: ConnectorEvent, attempts: Map<string, ConnectorAttempt>, outcome: DispatchOutcome): Promise<boolean> {
    // Each connector's new state, written once the event's round is over: with the dispatched mark
    // in one store call when every connector is done, else beside the event's rescheduling. (A crash
    // in between means a connector that took the event gets it again: delivery is at least once.)
    const records: ConnectorAttempt[] = [];
    const record = (connectorId: string, state: ConnectorAttempt['state'], tries: number, nextAttemptAt: number | null, lastError: string | null) => {
      records.push({ eventId: event.id, connectorId, state, attempts: tries, nextAttemptAt, lastError, updatedAt: this.#clock.now() });
      const counts = outcome[state === 'delivered' ? 'delivered' : state === 'dead' ? 'dead' : 'failed'];
      counts[connectorId] = (counts[connectorId] ?? 0) + 1;
    };
    let delivery: ConnectorDelivery;
    try {
      delivery = {
        id: event.id,
        type: connectorEventTypeSchema.parse(event.type),
        createdAt: event.createdAt,
        payload: connectorEventPayloadSchema.parse(event.payload),
      };
    } catch {
      // A row no connector can read: every connector gives up on it at once (a dead letter each).
      this.#logger.error('connector_event_malformed', { eventId: event.id });
      for (const { connector } of this.#targets) record(connector.id, 'dead', (attempts.get(`${event.id}\u0000${connector.id}`)?.attempts ?? 0) + 1, null, 'internal: malformed event');
      await this.#store.settleEvent(event.id, records, this.#clock.now());
      return true;
    }

    const now = this.#clock.now();
    let nextDue = Number.POSITIVE_INFINITY;
    for (const { connector, maxAttempts } of this.#targets) {
      const previous = attempts.get(`${event.id}\u0000${connector.id}`);
      if (previous?.state === 'delivered' || previous?.state === 'dead') continue;
      if (previous?.nextAttemptAt !== undefined && previous.nextAttemptAt !== null && previous.nextAttemptAt > now) {
        nextDue = Math.min(nextDue, previous.nextAttemptAt);
        continue;
      }
      const tries = (previous?.attempts ?? 0) + 1;
      try {
        await connector.deliver(delivery);
        record(connector.id, 'delivered', tries, null, null);
      } catch (error) {
        const retryable = !(error instanceof ConnectorError) || error.retryable;
        const reason = describeFailure(error);
        if (!retryable || tries >= maxAttempts) {
          record(connector.id, 'dead', tries, null, reason);
          this.#logger.warn('connector_dead_letter', { connector: connector.id, eventId: event.id, attempts: tries, code: codeOf(error) });
        } else {
          const backoff = nextAttemptDelay(tries, this.#retry);
          const retryAfter = error instanceof ConnectorError && error.retryAfterMs !== undefined ? error.retryAfterMs : 0;
          const next = now + Math.max(backoff, retryAfter);
          record(connector.id, 'failed', tries, next, reason);
          nextDue = Math.min(nextDue, next);
          this.#logger.warn('connector_event_failed', { connector: connector.id, eventId: event.id, attempts: tries, code: codeOf(error) });
        }
      }
    }

    if (nextDue === Number.POSITIVE_INFINITY) {
      // An erasure event names the customer number so the company's systems can erase; once
      // they all have it (or gave up), the company store keeps no trace of it.
      const redacted = delivery.type === 'relationship.erased' ? { relationshipId: delivery.payload.relationshipId, customerRef: null } : undefined;
      await this.#store.settleEvent(event.id, records, this.#clock.now(), redacted);
      return true;
    }
    for (const attempt of records) await this.#store.saveConnectorAttempt(attempt);
    await this.#store.rescheduleEvent(event.id, nextDue, event.attempts + 1);
    return false;
  }
}

/**
 * The claimed events by relationship, in claim order. An event with no relationship column (an
 * erasure outlives the relationship's row) goes with the relationship its payload names, so it
 * never overtakes that relationship's earlier events; one naming none is a lane of its own.
 */
function groupByRelationship(events: readonly ConnectorEvent[]): Map<string, ConnectorEvent[]> {
  const lanes = new Map<string, ConnectorEvent[]>();
  for (const event of events) {
    const named = (event.payload as { relationshipId?: unknown } | null)?.relationshipId;
    const key = event.relationshipId ?? (typeof named === 'string' ? named : `event:${event.id}`);
    const lane = lanes.get(key);
    if (lane) lane.push(event);
    else lanes.set(key, [event]);
  }
  return lanes;
}

function codeOf(error: unknown): string {
  return error instanceof KithError ? error.code : 'internal';
}

function describeFailure(error: unknown): string {
  const text = error instanceof KithError ? `${error.code}: ${error.message}` : `internal: ${error instanceof Error ? error.name : 'error'}`;
  return text.length > LAST_ERROR_MAX ? `${text.slice(0, LAST_ERROR_MAX - 1)}…` : text;
}
