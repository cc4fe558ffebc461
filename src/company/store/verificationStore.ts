/** All times are integer milliseconds since the epoch. */

/** A challenge's state in the store; `expired` is not stored: a pending challenge past expiresAt is expired (see callerVerification.ts). */
export type CallerVerificationState = 'pending' | 'approved' | 'refused';

/**
 * A caller verification (docs/protocol/caller-verification.md): the challenge the company sent her
 * and, once she answered, her answer kept as the JWS it received (the proof, signed by her pairwise
 * DID). Erased with the relationship.
 */
export interface CallerVerificationRow {
  /** The challenge's `challenge_id` (a UUID); unique. */
  id: string;
  relationshipId: string;
  /** The id of the DIDComm message that carried the challenge: her answer's thid. */
  messageId: string;
  /** The binding code both screens show (6 characters of the family's alphabet). */
  code: string;
  /** Who asked: the operator's label, as sent in the challenge. */
  operator: string;
  state: CallerVerificationState;
  expiresAt: number;
  createdAt: number;
  /** Null until answered. */
  answeredAt: number | null;
  answerMessageId: string | null;
  /** The kid of her signature (her pairwise DID URL). */
  signerKid: string | null;
  /** Her answer's JWS exactly as received. */
  answerJws: string | null;
}

export interface CallerVerificationAnswer {
  state: Exclude<CallerVerificationState, 'pending'>;
  answeredAt: number;
  answerMessageId: string;
  signerKid: string;
  answerJws: string;
}

/**
 * One line of the audit log: who (the operator, as the console session or the admin API names
 * them) looked at or acted on which customer, and when. Holds no personal value: `action` is a
 * short machine word and `relationshipId` a random id (null for a search, whose query is not kept).
 * Kept when a relationship is erased: it is the company's record of its own people's access.
 */
export interface AuditEntry {
  id: string;
  operator: string;
  relationshipId: string | null;
  action: string;
  at: number;
}

/**
 * Caller verifications and the audit log of the call-center console.
 *
 * Besides what each method states, every method may reject as described on CompanyStore
 * (`store.unavailable`, `internal`).
 */
export interface VerificationStore {
  /** Inserts; throws RelationshipError 'relationship.unknown' if the relationship does not exist, StoreError 'store.conflict' if the id is taken. */
  createVerification(row: CallerVerificationRow): Promise<void>;
  getVerification(id: string): Promise<CallerVerificationRow | undefined>;
  /** One relationship's verifications, newest first (createdAt descending, then id). */
  listVerifications(relationshipId: string): Promise<CallerVerificationRow[]>;
  /**
   * Records her answer (compare-and-set from 'pending', in one statement). Returns false, changing
   * nothing, if it was not pending (or does not exist); of concurrent answers exactly one returns true.
   */
  answerVerification(id: string, answer: CallerVerificationAnswer): Promise<boolean>;

  /** Appends to the audit log; throws StoreError 'store.conflict' if the id is taken. */
  addAuditEntry(entry: AuditEntry): Promise<void>;
  /** The audit log, newest first (at descending, then id), all or one relationship's, at most `limit` (default 100) entries. */
  listAuditEntries(options?: { relationshipId?: string; limit?: number }): Promise<AuditEntry[]>;

  /**
   * The relationships holding a field whose value is the JSON string `value`, compared without
   * regard to ASCII case (an email typed as heard); distinct ids, sorted.
   */
  findRelationshipsByHeldValue(value: string): Promise<string[]>;
}
