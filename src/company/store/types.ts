import { z } from 'zod';

/** All times are integer milliseconds since the epoch; ids are caller-generated strings (UUIDs). */
export type RelationshipState = 'active' | 'muted' | 'cut_off';

export interface CompanyRelationship {
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

export type DisclosureRequestState = 'pending' | 'fulfilled' | 'declined' | 'withdrawn';

/** A request we sent her for some of her profile fields; answered at most once (see settleDisclosureRequest). */
export interface DisclosureRequest {
  id: string;
  relationshipId: string;
  /** The id of the DIDComm message that carried the request. */
  messageId: string;
  /** Unique across all requests: the key-binding nonce her presentation must carry. */
  nonce: string;
  /** Field names requested, in the order asked. */
  fields: string[];
  /** Credential claims asked for: `{vct, claims, issuers?}` per credential type. */
  credentials: { vct: string; claims: string[]; issuers?: string[] }[];
  purpose: string;
  /** ISO 8601 duration (e.g. 'P1Y'), or null when the request states none; not validated by the store. */
  retention: string | null;
  legalBasis: string;
  termsRef: string | null;
  state: DisclosureRequestState;
  createdAt: number;
  updatedAt: number;
}

export type ConsentState = 'active' | 'refused' | 'withdrawn' | 'expired';

/** A consent record (the document itself is JSON, opaque to the store) and its current state. */
export interface ConsentRecordRow {
  id: string;
  relationshipId: string;
  /** The disclosure request it answered, if any; not checked against disclosure_requests. */
  requestId: string | null;
  state: ConsentState;
  /** Any JSON value; `undefined` is stored as `null`. */
  record: unknown;
  createdAt: number;
  updatedAt: number;
}

export type TermsAgreementState = 'proffered' | 'countered' | 'agreed' | 'superseded' | 'rejected' | 'declined';

/** One terms agreement record of a relationship and where it stands (protocol/terms/agreementRecord.ts). */
export interface TermsAgreementRow {
  /** The record's own id (record.id, a UUID). */
  id: string;
  relationshipId: string;
  /** Who proposed it: her proffer, or the company's counter / own proffer. */
  proposedBy: 'person' | 'company';
  /** The agreement URI (https://kith.invalid/terms/...), for listing without parsing `signed`. */
  agreementId: string;
  state: TermsAgreementState;
  /** The negotiation this record belongs to: the id of the proffered record that opened it (answers carry it as `thid`). */
  threadId: string;
  /** The signed agreement document (one or both signatures); JSON, opaque to the store. */
  signed: unknown;
  /** The agreement's obligations as agreed; JSON, opaque to the store. */
  obligations: unknown;
  /** Free text given with a rejection or decline; null otherwise. */
  reason: string | null;
  createdAt: number;
  updatedAt: number;
}

/** One profile field the company holds for a relationship: one row per (relationshipId, field). */
export interface HeldField {
  relationshipId: string;
  field: string;
  /** Any JSON value; `undefined` is stored as `null`. */
  value: unknown;
  /** Her profile version the value came from. */
  version: number;
  /** The consent record it was disclosed under; not checked against consent_records. */
  consentRecordId: string;
  source: 'self' | 'credential';
  /** The credential issuer's DID when source is 'credential'. */
  issuer: string | null;
  updatedAt: number;
}

/** An SD-JWT presentation received from her, kept as the evidence it is. */
export interface Presentation {
  id: string;
  relationshipId: string;
  /** The id of the DIDComm message that carried it. */
  messageId: string;
  kind: 'disclosure' | 'update';
  /** The presentation exactly as received (compact SD-JWT, with its KB-JWT). */
  sdJwt: string;
  receivedAt: number;
}

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

export interface CompanyStore {
  readonly dialect: 'sqlite' | 'postgres';
  /** Runs fn in one database transaction with a store bound to it; commits on return, rolls back on throw. Nested calls reuse the outer transaction. */
  transaction<T>(fn: (tx: CompanyStore) => Promise<T>): Promise<T>;
  close(): Promise<void>;

  getIdentity(): Promise<AgentIdentity | undefined>;
  /** Upsert of the single identity row. */
  saveIdentity(identity: AgentIdentity): Promise<void>;

  /** Throws StoreError 'store.conflict' if theirDid already has a relationship. */
  createRelationship(rel: CompanyRelationship): Promise<void>;
  getRelationship(id: string): Promise<CompanyRelationship | undefined>;
  findRelationshipByDid(theirDid: string): Promise<CompanyRelationship | undefined>;
  /** Ordered by createdAt. */
  listRelationships(): Promise<CompanyRelationship[]>;
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

  /**
   * Erases everything held for the relationship, leaving a tombstone: the row keeps id and state
   * 'cut_off' but theirDid is replaced by a tombstone marker and a SHA-256 hex of the DID is kept in
   * a `tombstones` table so isTombstoned works. Returns per-category counts, in this order:
   * 'messages', 'outbox', 'relationship' (the row's DID and customerRef; 1 or 0), then
   * 'disclosure_requests', 'consent_records', 'terms_agreements', 'held_fields', 'profile_versions',
   * 'presentations' and 'connector_events' (every event of the relationship, dispatched or not; an
   * event the caller enqueues afterwards, such as the erasure notice for connectors, is kept). Runs
   * in one transaction. Erasing an erased relationship again counts zeros (unless events were
   * enqueued for it since); an unknown id throws RelationshipError 'relationship.unknown'.
   */
  eraseRelationship(id: string, at: number): Promise<ErasureSummary>;
  /** Was this DID's relationship erased? (looks up sha256(did) in tombstones) */
  isTombstoned(theirDid: string): Promise<boolean>;

  /** Throws RelationshipError 'relationship.unknown' if the relationship does not exist, StoreError 'store.conflict' if the id or the nonce is taken. */
  createDisclosureRequest(request: DisclosureRequest): Promise<void>;
  getDisclosureRequest(id: string): Promise<DisclosureRequest | undefined>;
  /** The request a presentation's key-binding nonce answers. */
  findDisclosureRequestByNonce(nonce: string): Promise<DisclosureRequest | undefined>;
  /** Ordered by createdAt then id. */
  listDisclosureRequests(relationshipId: string): Promise<DisclosureRequest[]>;
  /** Moves a request out of 'pending' (compare-and-set), setting updatedAt to `at`. Returns false, changing nothing, if it was not pending (or does not exist) — how a replayed answer is detected; of concurrent settles exactly one returns true. */
  settleDisclosureRequest(id: string, state: Exclude<DisclosureRequestState, 'pending'>, at: number): Promise<boolean>;

  /** Inserts; throws RelationshipError 'relationship.unknown' if the relationship does not exist, StoreError 'store.conflict' if the id is taken. */
  saveConsentRecord(record: ConsentRecordRow): Promise<void>;
  /** Replaces state and record and sets updatedAt to `at`; returns false, changing nothing, if there is no such record. */
  updateConsentRecord(id: string, state: ConsentState, record: unknown, at: number): Promise<boolean>;
  getConsentRecord(id: string): Promise<ConsentRecordRow | undefined>;
  /** Ordered by createdAt then id. */
  listConsentRecords(relationshipId: string): Promise<ConsentRecordRow[]>;

  /** Inserts; throws RelationshipError 'relationship.unknown' if the relationship does not exist, StoreError 'store.conflict' if the id is taken or the row is 'agreed' while the relationship already has an agreed one. `signed` and `obligations` are any JSON value; `undefined` is stored as `null`. */
  createTermsAgreement(row: TermsAgreementRow): Promise<void>;
  getTermsAgreement(id: string): Promise<TermsAgreementRow | undefined>;
  /** Ordered by createdAt then id. */
  listTermsAgreements(relationshipId: string): Promise<TermsAgreementRow[]>;
  /** The relationship's agreement in state 'agreed' (a unique index keeps it to at most one). */
  currentTermsAgreement(relationshipId: string): Promise<TermsAgreementRow | undefined>;
  /** The records of one negotiation (see threadId) of the relationship, ordered by createdAt then id. */
  findTermsAgreementsByThread(relationshipId: string, threadId: string): Promise<TermsAgreementRow[]>;
  /** Sets state, and signed, obligations and reason where given (undefined keeps the stored value; reason null clears it), and updatedAt to `at`. Returns false, changing nothing, if there is no such agreement; throws StoreError 'store.conflict', changing nothing, if it would make a second 'agreed' agreement of the relationship. */
  updateTermsAgreement(id: string, change: { state: TermsAgreementState; signed?: unknown; obligations?: unknown; reason?: string | null }, at: number): Promise<boolean>;

  /** Inserts, or replaces every column of, the (relationshipId, field) row; throws RelationshipError 'relationship.unknown' if the relationship does not exist. */
  upsertHeldField(field: HeldField): Promise<void>;
  /** Ordered by field, in byte order on both dialects (whatever the database's collation). */
  listHeldFields(relationshipId: string): Promise<HeldField[]>;
  /** Her profile version the company holds; 0 if none was recorded. */
  getProfileVersion(relationshipId: string): Promise<number>;
  /** Upsert (no check that the version grows); throws RelationshipError 'relationship.unknown' if the relationship does not exist. */
  setProfileVersion(relationshipId: string, version: number, at: number): Promise<void>;

  /** Throws RelationshipError 'relationship.unknown' if the relationship does not exist, StoreError 'store.conflict' if the id is taken. */
  addPresentation(presentation: Presentation): Promise<void>;
  /** Ordered by receivedAt then id. */
  listPresentations(relationshipId: string): Promise<Presentation[]>;

  /** Throws StoreError 'store.conflict' if the id is taken; the relationship is not checked. */
  enqueueEvent(event: ConnectorEvent): Promise<void>;
  /** Undispatched events due at `now` (nextAttemptAt <= now), oldest (createdAt, id) first, at most `limit`; leases them like claimDueOutbox (nextAttemptAt = now + leaseMs in the same statement, FOR UPDATE SKIP LOCKED on PostgreSQL) so two processes never dispatch the same event at once. The returned events carry the leased nextAttemptAt. */
  claimDueEvents(now: number, limit: number, leaseMs: number): Promise<ConnectorEvent[]>;
  /** Sets dispatchedAt, so the event is never claimed again; unknown ids are ignored. */
  /** `redactedPayload` replaces the payload once delivered (an erasure event must not keep the customer number it carried). */
  markEventDispatched(id: string, at: number, redactedPayload?: unknown): Promise<void>;
  rescheduleEvent(id: string, nextAttemptAt: number, attempts: number): Promise<void>;
  /** All events, or one relationship's, or only undispatched ones; ordered by createdAt then id. */
  listEvents(options?: { relationshipId?: string; undispatchedOnly?: boolean }): Promise<ConnectorEvent[]>;

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

export const disclosureRequestRowSchema = z.object({
  id: z.string(),
  relationship_id: z.string(),
  message_id: z.string(),
  nonce: z.string(),
  fields: z.array(z.string()),
  credentials: z.array(z.object({ vct: z.string(), claims: z.array(z.string()), issuers: z.array(z.string()).optional() })),
  purpose: z.string(),
  retention: z.string().nullable(),
  legal_basis: z.string(),
  terms_ref: z.string().nullable(),
  state: z.enum(['pending', 'fulfilled', 'declined', 'withdrawn']),
  created_at: time,
  updated_at: time,
});

export const consentRecordRowSchema = z.object({
  id: z.string(),
  relationship_id: z.string(),
  request_id: z.string().nullable(),
  state: z.enum(['active', 'refused', 'withdrawn', 'expired']),
  record: z.unknown(),
  created_at: time,
  updated_at: time,
});

export const termsAgreementRowSchema = z.object({
  id: z.string(),
  relationship_id: z.string(),
  proposed_by: z.enum(['person', 'company']),
  agreement_id: z.string(),
  state: z.enum(['proffered', 'countered', 'agreed', 'superseded', 'rejected', 'declined']),
  thread_id: z.string(),
  signed: z.unknown(),
  obligations: z.unknown(),
  reason: z.string().nullable(),
  created_at: time,
  updated_at: time,
});

export const heldFieldRowSchema = z.object({
  relationship_id: z.string(),
  field: z.string(),
  value: z.unknown(),
  version: z.number().int(),
  consent_record_id: z.string(),
  source: z.enum(['self', 'credential']),
  issuer: z.string().nullable(),
  updated_at: time,
});

export const profileVersionRowSchema = z.object({ version: z.number().int() });

export const presentationRowSchema = z.object({
  id: z.string(),
  relationship_id: z.string(),
  message_id: z.string(),
  kind: z.enum(['disclosure', 'update']),
  sd_jwt: z.string(),
  received_at: time,
});

export const connectorEventRowSchema = z.object({
  id: z.string(),
  relationship_id: z.string().nullable(),
  type: z.string(),
  payload: z.unknown(),
  created_at: time,
  next_attempt_at: time,
  attempts: z.number().int(),
  dispatched_at: time.nullable(),
});

export const countRowSchema = z.object({ count: z.number().int() });
