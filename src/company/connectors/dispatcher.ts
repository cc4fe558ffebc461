import type { Clock } from '../../core/clock.js';
import { KithError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import { nextAttemptDelay, type RetryPolicy } from '../../core/retry.js';
import type { ConnectorEvent, CompanyStore } from '../store/types.js';
import { connectorEventPayloadSchema, connectorEventTypeSchema, type Connector, type ConnectorDelivery } from './types.js';

const BATCH = 50;

/**
 * Drains the store's connector-event outbox into the configured connectors. Events are claimed
 * with a lease (several company processes may share one database), handed to every connector, and
 * marked dispatched only when all took them; a failure reschedules the event with backoff.
 */
export class ConnectorDispatcher {
  readonly #store: CompanyStore;
  readonly #connectors: readonly Connector[];
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #retry: RetryPolicy;

  constructor(store: CompanyStore, connectors: readonly Connector[], clock: Clock, logger: Logger, retry: RetryPolicy) {
    this.#store = store;
    this.#connectors = connectors;
    this.#clock = clock;
    this.#logger = logger;
    this.#retry = retry;
  }

  async dispatchDue(): Promise<number> {
    let dispatched = 0;
    const due = await this.#store.claimDueEvents(this.#clock.now(), BATCH, this.#retry.leaseMs);
    for (const event of due) if (await this.#dispatch(event)) dispatched += 1;
    return dispatched;
  }

  async #dispatch(event: ConnectorEvent): Promise<boolean> {
    try {
      const delivery: ConnectorDelivery = {
        id: event.id,
        type: connectorEventTypeSchema.parse(event.type),
        createdAt: event.createdAt,
        payload: connectorEventPayloadSchema.parse(event.payload),
      };
      for (const connector of this.#connectors) await connector.deliver(delivery);
      // An erasure event names the customer number so the company's systems can erase; once
      // they have it, the company store keeps no trace of it.
      const redacted = delivery.type === 'relationship.erased' ? { relationshipId: delivery.payload.relationshipId, customerRef: null } : undefined;
      await this.#store.markEventDispatched(event.id, this.#clock.now(), redacted);
      return true;
    } catch (error) {
      const attempts = event.attempts + 1;
      await this.#store.rescheduleEvent(event.id, this.#clock.now() + nextAttemptDelay(attempts, this.#retry), attempts);
      this.#logger.warn('connector_event_failed', { eventId: event.id, attempts, code: error instanceof KithError ? error.code : 'internal' });
      return false;
    }
  }
}
