import type { SignedAgreement } from '../../protocol/terms/agreementRecord.js';
import type { Obligations } from '../../protocol/terms/roster.js';

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
  /** The signed agreement document (one or both signatures), stored as JSON and parsed when read. */
  signed: SignedAgreement;
  /** The agreement's obligations as agreed, stored as JSON and parsed when read. */
  obligations: Obligations;
  /** Free text given with a rejection or decline; null otherwise. */
  reason: string | null;
  createdAt: number;
  updatedAt: number;
}

/** What updateTermsAgreement changes: state always, the rest where given. */
export interface TermsAgreementChange {
  state: TermsAgreementState;
  signed?: SignedAgreement;
  obligations?: Obligations;
  reason?: string | null;
}

/**
 * The terms agreement records of each relationship. At most one record of a relationship is
 * 'agreed' at any time (a unique index, so concurrent writers cannot both win); the others are
 * history or negotiation in progress. Erased with the relationship (see RelationshipStore).
 *
 * Besides what each method states, every method may reject as described on CompanyStore
 * (`store.unavailable`, `internal`). The documents of a row (`signed`, `obligations`) are parsed
 * with their protocol schemas as the row is read: a row whose document no longer parses is
 * reported as `internal` (a malformed row, its issues naming the failing paths), never returned.
 */
export interface TermsStore {
  /**
   * Inserts; throws RelationshipError 'relationship.unknown' if the relationship does not exist,
   * StoreError 'store.conflict' if the id is taken or the row is 'agreed' while the relationship
   * already has an agreed one.
   */
  createTermsAgreement(row: TermsAgreementRow): Promise<void>;
  getTermsAgreement(id: string): Promise<TermsAgreementRow | undefined>;
  /** Ordered by createdAt then id. */
  listTermsAgreements(relationshipId: string): Promise<TermsAgreementRow[]>;
  /** The relationship's agreement in state 'agreed', if any. */
  currentTermsAgreement(relationshipId: string): Promise<TermsAgreementRow | undefined>;
  /** The records of one negotiation (see threadId) of the relationship, ordered by createdAt then id. */
  findTermsAgreementsByThread(relationshipId: string, threadId: string): Promise<TermsAgreementRow[]>;
  /**
   * Sets state, and signed, obligations and reason where given (undefined keeps the stored value;
   * reason null clears it), and updatedAt to `at`. Returns false, changing nothing, if there is no
   * such agreement; throws StoreError 'store.conflict', changing nothing, if it would make a second
   * 'agreed' agreement of the relationship (supersede the current one first, in the same transaction).
   */
  updateTermsAgreement(id: string, change: TermsAgreementChange, at: number): Promise<boolean>;
}
