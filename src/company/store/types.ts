import type { ConnectorEventStore } from './connectorEventStore.js';
import type { DataRightsStore } from './dataRightsStore.js';
import type { DisclosureStore } from './disclosureStore.js';
import type { IdentityStore } from './identityStore.js';
import type { IntentStore } from './intentStore.js';
import type { MessageStore } from './messageStore.js';
import type { OutboxStore } from './outboxStore.js';
import type { RelationshipStore } from './relationshipStore.js';
import type { ReplayStore } from './replayStore.js';
import type { TermsStore } from './termsStore.js';
import type { ThingStore } from './thingStore.js';
import type { VerificationStore } from './verificationStore.js';
import type { ServiceCaseStore } from './serviceCaseStore.js';

// The public entry point of the company store: the composed interface, and every area's
// interface and domain types re-exported, so callers import from here only.
export type { AgentIdentity, IdentityStore } from './identityStore.js';
export type { CompanyRelationship, ErasureSummary, RelationshipState, RelationshipStore } from './relationshipStore.js';
export type { ReplayStore } from './replayStore.js';
export type { MessageStore, StoredMessage } from './messageStore.js';
export type { ClaimOptions, OutboxItem, OutboxStore } from './outboxStore.js';
export type {
  ConsentRecordRow,
  ConsentState,
  DisclosureRequest,
  DisclosureRequestState,
  DisclosureStore,
  HeldField,
  Presentation,
} from './disclosureStore.js';
export type { TermsAgreementChange, TermsAgreementRow, TermsAgreementState, TermsStore } from './termsStore.js';
export type { DataRightsExercise, DataRightsRequestRow, DataRightsStatus, DataRightsStore } from './dataRightsStore.js';
export type { ConnectorAttempt, ConnectorDeliveryState, ConnectorEvent, ConnectorEventStore, DeadLetter } from './connectorEventStore.js';
export type { IntentStore, OfferRow, OfferState, ReceivedIntent, ReceivedIntentState } from './intentStore.js';
export type { CreatedKey, DeadLetterKey, KeysetPage } from './keyset.js';
export type { AuditEntry, CallerVerificationAnswer, CallerVerificationRow, CallerVerificationState, VerificationStore } from './verificationStore.js';
export type { ThingReceiptRow, ThingReceiptState, ThingRegistrationRow, ThingStore } from './thingStore.js';
export type { ServiceCaseAuthor, ServiceCaseEntry, ServiceCaseEntryKind, ServiceCaseRow, ServiceCaseStore } from './serviceCaseStore.js';
export { ERASURE_CATEGORIES, TOMBSTONE_DID_PREFIX, isTombstoneDid, tombstoneDidFor, type ErasureCategory } from './erasure.js';

/**
 * The company agent's store: every area's store over one database, plus transactions.
 *
 * Obligations shared by every method of every area:
 * - Times are integer milliseconds since the epoch; ids are caller-generated strings (UUIDs).
 * - Each call is atomic on its own (one statement, or one transaction where a method says so);
 *   called on the store a `transaction` hands to its function, it joins that transaction instead.
 * - Besides the codes a method names, any method may reject with StoreError 'store.unavailable'
 *   (the database cannot be reached or used right now) or KithError 'internal' (a row came back
 *   in a shape it was never written in); driver errors never escape untranslated.
 * - JSON columns come back deep-equal to what was written (after JSON.stringify, so `undefined`
 *   becomes null), whatever the dialect. The protocol documents among them (consent records,
 *   signed agreements, obligations, demands, signed offers) are parsed with their protocol schemas
 *   as rows are read, once: callers trust their types, and a row whose document does not parse is
 *   'internal'.
 *
 * Two implementations, one contract suite (contract.ts): SqliteCompanyStore and PostgresCompanyStore.
 */
export interface CompanyStore
  extends IdentityStore,
    RelationshipStore,
    ReplayStore,
    MessageStore,
    OutboxStore,
    DisclosureStore,
    TermsStore,
    ConnectorEventStore,
    DataRightsStore,
    IntentStore,
    VerificationStore,
    ThingStore,
    ServiceCaseStore {
  /** The database underneath; named in erasure receipts. */
  readonly dialect: 'sqlite' | 'postgres';
  /**
   * Runs fn in one database transaction with a store bound to it; commits on return, rolls back on
   * throw (rejecting with what fn threw, driver errors translated). Nested calls reuse the outer transaction. fn must use
   * `tx` only, never the outer store, which may wait for the transaction to finish (deadlock on SQLite).
   */
  transaction<T>(fn: (tx: CompanyStore) => Promise<T>): Promise<T>;
  /** Releases the database; a transaction-bound store's close does nothing (its creator owns the connection). Closing twice is harmless. */
  close(): Promise<void>;
}
