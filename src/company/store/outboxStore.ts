/** One packed message waiting to be delivered to her (pushed, or picked up). */
export interface OutboxItem {
  id: string;
  relationshipId: string;
  messageId: string;
  /** The encrypted envelope JSON text. */
  packed: string;
  createdAt: number;
  nextAttemptAt: number;
  attempts: number;
}

/**
 * The outbox: messages waiting for delivery, claimed by one delivering process at a time under a
 * lease, and removed once delivered.
 *
 * Besides what each method states, every method may reject as described on CompanyStore
 * (`store.unavailable`, `internal`).
 */
export interface ClaimOptions {
  /** Only this relationship's items (the immediate push after a message is queued for her). */
  relationshipId?: string;
}

export interface OutboxStore {
  /** Throws RelationshipError 'relationship.unknown' if the relationship does not exist, StoreError 'store.conflict' if the id is taken. */
  enqueueOutbox(item: OutboxItem): Promise<void>;
  /**
   * Due items (nextAttemptAt <= now) of relationships that are 'active', oldest (createdAt, id)
   * first, at most `limit` (none when limit <= 0). Claiming and leasing (nextAttemptAt = now +
   * leaseMs) happen in one statement, so two claimers, in this process or another sharing the
   * database, never get the same item within its lease: on PostgreSQL with SELECT ... FOR UPDATE
   * SKIP LOCKED, on SQLite under its write lock. The returned items carry the leased nextAttemptAt.
   */
  claimDueOutbox(now: number, limit: number, leaseMs: number, options?: ClaimOptions): Promise<OutboxItem[]>;
  /** Items of one relationship regardless of nextAttemptAt or lease (message pickup), oldest (createdAt, id) first, at most `limit`. */
  pendingOutbox(relationshipId: string, limit: number): Promise<OutboxItem[]>;
  /** Items waiting for one relationship, or for all (the queue depth the metrics report). */
  countPendingOutbox(relationshipId?: string): Promise<number>;
  /** Removes delivered items (by OutboxItem.messageId, scoped to the relationship) atomically, however many ids are given; returns how many were removed. */
  removeOutbox(relationshipId: string, messageIds: string[]): Promise<number>;
  /** Sets nextAttemptAt and attempts; an unknown id changes nothing. */
  rescheduleOutbox(id: string, nextAttemptAt: number, attempts: number): Promise<void>;
}
