/**
 * Replay protection: the ids of accepted inbound messages, each kept until it expires. Not tied to
 * a relationship, so erasure leaves them (they are random message ids, not personal data).
 *
 * Besides what each method states, every method may reject as described on CompanyStore
 * (`store.unavailable`, `internal`).
 */
export interface ReplayStore {
  /** Has this message id been accepted before (and not pruned since)? */
  hasSeenMessage(messageId: string): Promise<boolean>;
  /**
   * Records an accepted message id; throws StoreError 'store.conflict' if already recorded (a
   * unique constraint, not a prior read), so of concurrent duplicates exactly one succeeds.
   */
  recordSeenMessage(messageId: string, expiresAt: number): Promise<void>;
  /**
   * Deletes the ids whose expiresAt < now (an id expiring exactly at now is kept); returns how many.
   * One process at a time: on PostgreSQL, a prune that finds another process pruning returns 0
   * at once (a transaction-scoped advisory lock) instead of deleting the same rows beside it.
   */
  pruneSeenMessages(now: number): Promise<number>;
}
