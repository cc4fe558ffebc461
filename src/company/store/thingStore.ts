import type { SignedReceipt } from '../../protocol/families/thing.js';

/** All times are integer milliseconds since the epoch. */

/** Where a receipt the company sent stands: sent, then accepted or declined by her. */
export type ThingReceiptState = 'sent' | 'accepted' | 'declined';

/**
 * A signed receipt the company sent her (docs/protocol/thing.md): the signed document as sent, so
 * its record of the sale is the very thing she holds. Erased with the relationship.
 */
export interface ThingReceiptRow {
  /** The receipt's `receipt_id` (a UUID). */
  id: string;
  relationshipId: string;
  /** The DIDComm id of the thing/receipt message that carried it. */
  messageId: string;
  signed: SignedReceipt;
  state: ThingReceiptState;
  createdAt: number;
  /** Null until she answered. */
  answeredAt: number | null;
}

/**
 * Her registration of a thing with the company as its maker: the product it names (GTIN and/or
 * model, what a recall is matched on), the claims she shared, verified, and the presentation kept
 * as received, under the consent record both sides keep. Erased with the relationship.
 */
export interface ThingRegistrationRow {
  /** Her `registration_id` (a UUID). */
  id: string;
  relationshipId: string;
  consentRecordId: string;
  messageId: string;
  gtin: string | null;
  model: string | null;
  /** The claims her presentation disclosed, by SD-JWT claim name. */
  claims: Record<string, unknown>;
  /** The key-bound SD-JWT presentation as received. */
  sdJwt: string;
  createdAt: number;
}

/**
 * Receipts the company sent and the registrations it received (issue 13).
 *
 * Besides what each method states, every method may reject as described on CompanyStore
 * (`store.unavailable`, `internal`).
 */
export interface ThingStore {
  /** Inserts; throws RelationshipError 'relationship.unknown' if the relationship does not exist, StoreError 'store.conflict' if the id is taken. */
  createThingReceipt(row: ThingReceiptRow): Promise<void>;
  getThingReceipt(id: string): Promise<ThingReceiptRow | undefined>;
  /** One relationship's receipts, or all, oldest first (createdAt, then id). */
  listThingReceipts(relationshipId?: string): Promise<ThingReceiptRow[]>;
  /** Records her answer (compare-and-set from 'sent'). Returns false, changing nothing, if it was answered already or does not exist. */
  answerThingReceipt(id: string, state: Exclude<ThingReceiptState, 'sent'>, at: number): Promise<boolean>;

  /** Inserts; throws RelationshipError 'relationship.unknown' if the relationship does not exist, StoreError 'store.conflict' if the id is taken. */
  addThingRegistration(row: ThingRegistrationRow): Promise<void>;
  getThingRegistration(id: string): Promise<ThingRegistrationRow | undefined>;
  /**
   * Registrations oldest first (createdAt, then id): all, one relationship's, or those naming a
   * GTIN or a model (exactly as registered).
   */
  listThingRegistrations(filter?: { relationshipId?: string; gtin?: string; model?: string }): Promise<ThingRegistrationRow[]>;
}
