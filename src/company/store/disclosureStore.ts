import type { ConsentRecord } from '../../protocol/consentRecord.js';

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

/** A consent record (the ISO/IEC TS 27560-shaped document, protocol/consentRecord.ts) and its current state. */
export interface ConsentRecordRow {
  id: string;
  relationshipId: string;
  /** The disclosure request it answered, if any; not checked against disclosure_requests. */
  requestId: string | null;
  state: ConsentState;
  /** The document, stored as JSON and parsed when read. */
  record: ConsentRecord;
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

/**
 * Selective disclosure bookkeeping of each relationship: what we asked her, what she consented
 * to, the fields we hold and her profile version they came from, and the presentations that prove
 * it. All of it is erased with the relationship (see RelationshipStore.eraseRelationship).
 *
 * Besides what each method states, every method may reject as described on CompanyStore
 * (`store.unavailable`, `internal`). A consent record's document is parsed with its protocol
 * schema as the row is read: a row whose document no longer parses is reported as `internal` (a
 * malformed row), never returned.
 */
export interface DisclosureStore {
  /** Throws RelationshipError 'relationship.unknown' if the relationship does not exist, StoreError 'store.conflict' if the id or the nonce is taken. */
  createDisclosureRequest(request: DisclosureRequest): Promise<void>;
  getDisclosureRequest(id: string): Promise<DisclosureRequest | undefined>;
  /** The request a presentation's key-binding nonce answers. */
  findDisclosureRequestByNonce(nonce: string): Promise<DisclosureRequest | undefined>;
  /** Ordered by createdAt then id. */
  listDisclosureRequests(relationshipId: string): Promise<DisclosureRequest[]>;
  /**
   * Moves a request out of 'pending' (compare-and-set in one statement), setting updatedAt to `at`.
   * Returns false, changing nothing, if it was not pending (or does not exist): how a replayed
   * answer is detected. Of concurrent settles, exactly one returns true.
   */
  settleDisclosureRequest(id: string, state: Exclude<DisclosureRequestState, 'pending'>, at: number): Promise<boolean>;

  /** Inserts; throws RelationshipError 'relationship.unknown' if the relationship does not exist, StoreError 'store.conflict' if the id is taken. */
  saveConsentRecord(record: ConsentRecordRow): Promise<void>;
  /** Replaces state and record and sets updatedAt to `at`; returns false, changing nothing, if there is no such record. */
  updateConsentRecord(id: string, state: ConsentState, record: ConsentRecord, at: number): Promise<boolean>;
  getConsentRecord(id: string): Promise<ConsentRecordRow | undefined>;
  /** Ordered by createdAt then id. */
  listConsentRecords(relationshipId: string): Promise<ConsentRecordRow[]>;

  /** Inserts, or replaces every column of, the (relationshipId, field) row; throws RelationshipError 'relationship.unknown' if the relationship does not exist. */
  upsertHeldField(field: HeldField): Promise<void>;
  /** Ordered by field, in byte order on both dialects (whatever the database's collation). */
  listHeldFields(relationshipId: string): Promise<HeldField[]>;
  /** Deletes the (relationshipId, field) rows of these fields; returns the fields that were held, sorted. */
  deleteHeldFields(relationshipId: string, fields: readonly string[]): Promise<string[]>;
  /** Her profile version the company holds; 0 if none was recorded. */
  getProfileVersion(relationshipId: string): Promise<number>;
  /** Upsert (no check that the version grows); throws RelationshipError 'relationship.unknown' if the relationship does not exist. */
  setProfileVersion(relationshipId: string, version: number, at: number): Promise<void>;

  /** Throws RelationshipError 'relationship.unknown' if the relationship does not exist, StoreError 'store.conflict' if the id is taken. */
  addPresentation(presentation: Presentation): Promise<void>;
  /**
   * Replaces a kept presentation's SD-JWT with a redacted one (claims she withdrew taken out), or
   * deletes it when `sdJwt` is null; returns false, changing nothing, if there is no such presentation.
   */
  replacePresentation(id: string, sdJwt: string | null): Promise<boolean>;
  /** Ordered by receivedAt then id. */
  listPresentations(relationshipId: string): Promise<Presentation[]>;
}
