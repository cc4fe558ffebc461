import type { Demand, SignedOffer } from '../../protocol/families/intent.js';
import type { CreatedKey, KeysetPage } from './keyset.js';

export type ReceivedIntentState = 'open' | 'accepted' | 'declined' | 'closed' | 'expired';

/**
 * An intent she cast to this company (decision 0012): this recipient's copy only, so its id is the
 * per-recipient `intent_id` of the cast and nothing in it is shared with other recipients.
 */
export interface ReceivedIntent {
  /** The cast's `intent_id` (a UUID); unique. */
  id: string;
  relationshipId: string;
  /** The id of the DIDComm message that carried the cast. */
  messageId: string;
  /** What she wants, stored as JSON and parsed when read. */
  demand: Demand;
  /** The outcome she is after, beyond the item; null when the cast states none. */
  outcome: string | null;
  /** True when offers must be in the currency of the demand's priceSpecification. */
  currencyRequired: boolean;
  /** When the intent ends (the cast's demand.validThrough, in ms). The store does not expire intents: see settleReceivedIntent. */
  expiresAt: number;
  state: ReceivedIntentState;
  createdAt: number;
  updatedAt: number;
}

export type OfferState = 'offered' | 'accepted' | 'declined' | 'withdrawn' | 'closed';

/** An offer the company made for one received intent, kept exactly as it signed it. */
export interface OfferRow {
  /** The offer's identifier (signed.offer.identifier, a UUID); unique. Not checked against `signed`. */
  id: string;
  /** The ReceivedIntent it answers (signed.offer.intent_id); it must be an intent of relationshipId. */
  intentId: string;
  relationshipId: string;
  /** The signed offer, stored as JSON and parsed when read (its signature is not verified by the store). */
  signed: SignedOffer;
  state: OfferState;
  createdAt: number;
  updatedAt: number;
}

/**
 * The intents she cast to the company and the offers it made for them. Each is answered at most
 * once: an intent leaves 'open', an offer leaves 'offered', by compare-and-set, so a replayed or
 * concurrent answer is detected rather than applied twice. Erased with the relationship (see
 * RelationshipStore.eraseRelationship).
 *
 * Besides what each method states, every method may reject as described on CompanyStore
 * (`store.unavailable`, `internal`). The documents of a row (an intent's `demand`, an offer's
 * `signed`) are parsed with their protocol schemas as the row is read: a row whose document no
 * longer parses is reported as `internal` (a malformed row, its issues naming the failing paths),
 * never returned.
 */
export interface IntentStore {
  /** Inserts; throws RelationshipError 'relationship.unknown' if the relationship does not exist, StoreError 'store.conflict' if the id is taken. */
  createReceivedIntent(intent: ReceivedIntent): Promise<void>;
  getReceivedIntent(id: string): Promise<ReceivedIntent | undefined>;
  /** The intents of one relationship, or in one state, or both (all of them without options); ordered by createdAt then id (byte order); a page of them with `after` and `limit` (keyset.ts). */
  listReceivedIntents(options?: { relationshipId?: string; state?: ReceivedIntentState } & KeysetPage<CreatedKey>): Promise<ReceivedIntent[]>;
  /**
   * Moves an intent out of 'open' (compare-and-set in one statement), setting updatedAt to `at`.
   * Returns false, changing nothing, if it was not open (or does not exist). Of concurrent
   * settles, exactly one returns true.
   */
  settleReceivedIntent(id: string, state: Exclude<ReceivedIntentState, 'open'>, at: number): Promise<boolean>;

  /**
   * Inserts, in one statement that also checks the intent; throws RelationshipError
   * 'relationship.unknown' if the relationship does not exist, IntentError 'intent.unknown' if
   * intentId is not an intent of that relationship (none, or another relationship's), StoreError
   * 'store.conflict' if the id is taken. The intent's state is not checked: whether an intent
   * still takes offers is the caller's rule.
   */
  createOffer(offer: OfferRow): Promise<void>;
  getOffer(id: string): Promise<OfferRow | undefined>;
  /** The offers made for one intent, ordered by createdAt then id. */
  listOffers(intentId: string): Promise<OfferRow[]>;
  /**
   * Moves an offer out of 'offered' (compare-and-set in one statement), setting updatedAt to `at`.
   * Returns false, changing nothing, if it was not 'offered' (or does not exist). Of concurrent
   * settles, exactly one returns true.
   */
  settleOffer(id: string, state: Exclude<OfferState, 'offered'>, at: number): Promise<boolean>;
}
