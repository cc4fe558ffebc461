import type { Clock } from '../core/clock.js';
import { TransportError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { resolvePeer } from '../protocol/agent/peer.js';
import { delayAfter, isAlreadyDelivered, isExpiredAtPeer, postEnvelope } from '../protocol/agent/transport.js';
import type { DidResolver } from '../protocol/did/types.js';
import { nextAttemptDelay, type RetryPolicy } from '../core/retry.js';
import type { OutboxItem, CompanyStore } from './store/types.js';

/**
 * Pushes queued messages to the person's endpoint. An item leaves the outbox only when her agent
 * accepted it (or already had it: `message.replayed`); otherwise it waits with backoff, and she
 * can always fetch it herself with message pickup. So nothing is lost and nothing is doubled.
 */
export class OutboxDelivery {
  constructor(
    private readonly store: CompanyStore,
    private readonly resolver: DidResolver,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly retry: RetryPolicy,
    private readonly fetchImpl?: typeof fetch,
    /** Told of each item her agent accepted (the delivery-latency metric). */
    private readonly onDelivered?: (item: OutboxItem, at: number) => void,
  ) {}

  /**
   * Claims due items (leased, so parallel workers never share one) and tries each once; with
   * `relationshipId`, only that relationship's (the immediate push after queueing for her).
   */
  async deliverDue(limit = 50, relationshipId?: string): Promise<number> {
    const items = await this.store.claimDueOutbox(this.clock.now(), limit, this.retry.leaseMs, relationshipId === undefined ? {} : { relationshipId });
    let delivered = 0;
    for (const item of items) if (await this.deliver(item)) delivered += 1;
    return delivered;
  }

  async deliver(item: OutboxItem): Promise<boolean> {
    const relationship = await this.store.getRelationship(item.relationshipId);
    if (!relationship || relationship.state !== 'active') return false;
    try {
      const peer = await resolvePeer(this.resolver, relationship.theirDid);
      if (!peer.endpoint) return false;
      await postEnvelope(peer.endpoint, item.packed, this.fetchImpl ? { fetch: this.fetchImpl } : {});
    } catch (error) {
      if (isExpiredAtPeer(error)) {
        // Queued longer than the message lives (30 days by default): her agent will never take it,
        // and she can no longer pick it up either. Dropped, and said so, rather than retried forever.
        await this.store.removeOutbox(item.relationshipId, [item.messageId]);
        this.logger.warn('outbox_expired', { relationship: item.relationshipId, attempts: item.attempts + 1, queued_at: item.createdAt });
        return false;
      }
      if (!isAlreadyDelivered(error)) {
        const attempts = item.attempts + 1;
        // Her agent busy (429/503) asked for a wait: at least that long, whatever the backoff says.
        await this.store.rescheduleOutbox(item.id, this.clock.now() + delayAfter(error, nextAttemptDelay(attempts, this.retry)), attempts);
        this.logger.info('outbox_retry_scheduled', {
          relationship: item.relationshipId,
          attempts,
          reason: error instanceof TransportError ? error.code : 'error',
          // Her agent's own code (message.from_the_future when our clock runs ahead of hers, say): an error code, never content.
          ...(error instanceof TransportError && typeof error.details?.['code'] === 'string' ? { peer_code: error.details['code'] } : {}),
        });
        return false;
      }
    }
    await this.store.removeOutbox(item.relationshipId, [item.messageId]);
    this.onDelivered?.(item, this.clock.now());
    return true;
  }
}
