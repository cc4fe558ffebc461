import type { CompanyRelationship } from './relationshipStore.js';

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
   * recordSeenMessage, then RelationshipStore.findRelationshipByDid(theirDid): the first two steps
   * of receiving a message on a relationship, in one round trip on PostgreSQL (a data-modifying
   * CTE), where they were two of the five a message's transaction costs. Throws like
   * recordSeenMessage; the id is recorded whether or not a relationship is found.
   */
  recordSeenAndFindRelationship(messageId: string, expiresAt: number, theirDid: string): Promise<CompanyRelationship | undefined>;
  /**
   * Deletes the ids whose expiresAt < now (an id expiring exactly at now is kept); returns how many.
   * One process at a time: on PostgreSQL, a prune that finds another process pruning returns 0
   * at once (a transaction-scoped advisory lock) instead of deleting the same rows beside it.
   */
  pruneSeenMessages(now: number): Promise<number>;
}
