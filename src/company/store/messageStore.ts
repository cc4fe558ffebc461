import type { CreatedKey, KeysetPage } from './keyset.js';

/** One DIDComm message of a relationship, as received or sent. */
export interface StoredMessage {
  id: string;
  relationshipId: string;
  messageId: string;
  direction: 'in' | 'out';
  type: string;
  /** Any JSON value; `undefined` is stored as `null`. */
  body: unknown;
  createdAt: number;
}

/**
 * The message log of each relationship (erased with it, see RelationshipStore.eraseRelationship).
 *
 * Besides what each method states, every method may reject as described on CompanyStore
 * (`store.unavailable`, `internal`).
 */
export interface MessageStore {
  /** Throws RelationshipError 'relationship.unknown' if the relationship does not exist, StoreError 'store.conflict' if the id is taken. */
  addMessage(message: StoredMessage): Promise<void>;
  /** Ordered by createdAt then id (byte order); empty for an unknown relationship; a page of them with `page` (keyset.ts). */
  listMessages(relationshipId: string, page?: KeysetPage<CreatedKey>): Promise<StoredMessage[]>;
}
