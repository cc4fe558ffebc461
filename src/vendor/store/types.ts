import { z } from 'zod';

/** All times are integer milliseconds since the epoch; ids are caller-generated strings (UUIDs). */
export type RelationshipState = 'active' | 'muted' | 'cut_off';

export interface VendorRelationship {
  id: string;
  theirDid: string;
  customerRef: string;
  state: RelationshipState;
  createdAt: number;
  updatedAt: number;
}

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

export interface ErasureSummary {
  relationshipId: string;
  erasedAt: number;
  erased: { category: string; count: number }[];
}

export interface AgentIdentity {
  did: string;
  /** JSON, opaque to the store. */
  keys: unknown;
  createdAt: number;
}

export interface VendorStore {
  readonly dialect: 'sqlite' | 'postgres';
  /** Runs fn in one database transaction with a store bound to it; commits on return, rolls back on throw. Nested calls reuse the outer transaction. */
  transaction<T>(fn: (tx: VendorStore) => Promise<T>): Promise<T>;
  close(): Promise<void>;

  getIdentity(): Promise<AgentIdentity | undefined>;
  /** Upsert of the single identity row. */
  saveIdentity(identity: AgentIdentity): Promise<void>;

  /** Throws StoreError 'store.conflict' if theirDid already has a relationship. */
  createRelationship(rel: VendorRelationship): Promise<void>;
  getRelationship(id: string): Promise<VendorRelationship | undefined>;
  findRelationshipByDid(theirDid: string): Promise<VendorRelationship | undefined>;
  /** Ordered by createdAt. */
  listRelationships(): Promise<VendorRelationship[]>;
  /** Throws RelationshipError 'relationship.unknown' if there is no such relationship. */
  setRelationshipState(id: string, state: RelationshipState, at: number): Promise<void>;

  /** Replay protection: has a message id from this sender been accepted before? */
  hasSeenMessage(messageId: string): Promise<boolean>;
  /** Records an accepted message id; throws StoreError 'store.conflict' if already recorded (unique constraint), so concurrent duplicates lose. */
  recordSeenMessage(messageId: string, expiresAt: number): Promise<void>;
  /** Deletes seen-ids whose expiresAt < now; returns how many. */
  pruneSeenMessages(now: number): Promise<number>;

  /** Throws RelationshipError 'relationship.unknown' if the relationship does not exist. */
  addMessage(message: StoredMessage): Promise<void>;
  /** Ordered by createdAt then id. */
  listMessages(relationshipId: string): Promise<StoredMessage[]>;

  enqueueOutbox(item: OutboxItem): Promise<void>;
  /** Due items (nextAttemptAt <= now) for relationships that are 'active', oldest first, at most `limit`. On PostgreSQL claim them with SELECT ... FOR UPDATE SKIP LOCKED and push their nextAttemptAt to now+leaseMs in the same transaction so two processes never claim the same item; on SQLite the same effect inside a transaction. The returned items carry the leased nextAttemptAt. */
  claimDueOutbox(now: number, limit: number, leaseMs: number): Promise<OutboxItem[]>;
  /** Pending items for one relationship regardless of nextAttemptAt (message pickup), oldest first. */
  pendingOutbox(relationshipId: string, limit: number): Promise<OutboxItem[]>;
  countPendingOutbox(relationshipId: string): Promise<number>;
  /** Removes delivered items (by OutboxItem.messageId, scoped to the relationship); returns how many were removed. */
  removeOutbox(relationshipId: string, messageIds: string[]): Promise<number>;
  rescheduleOutbox(id: string, nextAttemptAt: number, attempts: number): Promise<void>;

  /** Erases everything held for the relationship (messages, outbox, the relationship row's DID and customerRef), leaving a tombstone: the row keeps id and state 'cut_off' but theirDid is replaced by a tombstone marker and a SHA-256 hex of the DID is kept in a `tombstones` table so isTombstoned works. Returns per-category counts: 'messages', 'outbox', 'relationship' (and any other table you add later). Runs in one transaction. Erasing an erased relationship again counts zeros; an unknown id throws RelationshipError 'relationship.unknown'. */
  eraseRelationship(id: string, at: number): Promise<ErasureSummary>;
  /** Was this DID's relationship erased? (looks up sha256(did) in tombstones) */
  isTombstoned(theirDid: string): Promise<boolean>;

  /** Every row of every table, for tests that assert "nothing changed". Keys are table names, rows sorted deterministically. */
  snapshot(): Promise<Record<string, unknown[]>>;
}

/** Erased relationships keep their row, so their DID column needs a unique, non-personal stand-in. */
export const TOMBSTONE_DID_PREFIX = 'tombstone:';

export function tombstoneDidFor(relationshipId: string): string {
  return `${TOMBSTONE_DID_PREFIX}${relationshipId}`;
}

export function isTombstoneDid(theirDid: string): boolean {
  return theirDid.startsWith(TOMBSTONE_DID_PREFIX);
}

// Shapes of what the database hands back, checked before they become domain objects: a drifted
// schema or a driver returning strings for bigints must fail loudly rather than leak wrong types.
const time = z.number().int();

export const relationshipRowSchema = z.object({
  id: z.string(),
  their_did: z.string(),
  customer_ref: z.string(),
  state: z.enum(['active', 'muted', 'cut_off']),
  created_at: time,
  updated_at: time,
});

export const messageRowSchema = z.object({
  id: z.string(),
  relationship_id: z.string(),
  message_id: z.string(),
  direction: z.enum(['in', 'out']),
  type: z.string(),
  body: z.unknown(),
  created_at: time,
});

export const outboxRowSchema = z.object({
  id: z.string(),
  relationship_id: z.string(),
  message_id: z.string(),
  packed: z.string(),
  created_at: time,
  next_attempt_at: time,
  attempts: z.number().int(),
});

export const identityRowSchema = z.object({
  did: z.string(),
  keys: z.unknown(),
  created_at: time,
});

export const countRowSchema = z.object({ count: z.number().int() });
