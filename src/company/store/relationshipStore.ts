import type { ErasureCategory } from './erasure.js';
import type { CreatedKey, KeysetPage } from './keyset.js';

/** All times are integer milliseconds since the epoch; ids are caller-generated strings (UUIDs). */
export type RelationshipState = 'active' | 'muted' | 'cut_off';

export interface CompanyRelationship {
  id: string;
  /** Her pairwise DID; after erasure a tombstone marker (see isTombstoneDid), never her DID again. */
  theirDid: string;
  customerRef: string;
  state: RelationshipState;
  createdAt: number;
  updatedAt: number;
}

/** What eraseRelationship removed, one entry per category in ERASURE_CATEGORIES order. */
export interface ErasureSummary {
  relationshipId: string;
  erasedAt: number;
  erased: { category: ErasureCategory; count: number }[];
}

/**
 * The relationships the company holds, one per DID, and their erasure down to a tombstone.
 *
 * Besides what each method states, every method may reject as described on CompanyStore
 * (`store.unavailable`, `internal`).
 */
export interface RelationshipStore {
  /** Throws StoreError 'store.conflict' if theirDid already has a relationship (or the id is taken). */
  createRelationship(rel: CompanyRelationship): Promise<void>;
  getRelationship(id: string): Promise<CompanyRelationship | undefined>;
  /** Finds the live relationship of a DID; an erased one is found by isTombstoned, not here. */
  findRelationshipByDid(theirDid: string): Promise<CompanyRelationship | undefined>;
  /** Ordered by createdAt then id (byte order); a page of them with `page` (keyset.ts). */
  listRelationships(page?: KeysetPage<CreatedKey>): Promise<CompanyRelationship[]>;
  /** Sets state and updatedAt. Throws RelationshipError 'relationship.unknown' if there is no such relationship. */
  setRelationshipState(id: string, state: RelationshipState, at: number): Promise<void>;

  /**
   * Erases everything held for the relationship, leaving a tombstone: the row keeps id and state
   * 'cut_off' but theirDid is replaced by a tombstone marker (customerRef emptied) and a SHA-256 hex
   * of the DID is kept in a `tombstones` table so isTombstoned works. Returns per-category counts,
   * in ERASURE_CATEGORIES order: 'messages', 'outbox', 'relationship' (the row's DID and
   * customerRef; 1 or 0), then 'disclosure_requests', 'consent_records', 'terms_agreements',
   * 'held_fields', 'profile_versions', 'presentations', 'connector_events' (every event of the
   * relationship, dispatched or not; an event the caller enqueues afterwards, such as the erasure
   * notice for connectors, is kept), then 'offers' and 'intents' (the offers made to her and the
   * intents she cast; offers first, since they reference their intents), then 'caller_verifications'
   * (the challenges sent to her and her signed answers; the audit log is kept). Atomic: runs in one
   * transaction (the caller's, when called on a transaction-bound store). Erasing an erased
   * relationship again counts zeros (unless rows were added for it since); an unknown id throws
   * RelationshipError 'relationship.unknown', changing nothing.
   */
  eraseRelationship(id: string, at: number): Promise<ErasureSummary>;
  /** Was a relationship of this DID erased? (looks up sha256(did) in tombstones; true even after she connected again). */
  isTombstoned(theirDid: string): Promise<boolean>;
}
