import type { CaseIdentifier, CaseState, SharedThing } from '../../protocol/families/service.js';

/** All times are integer milliseconds since the epoch. */

/**
 * A service case she opened on this relationship (docs/protocol/service.md): the details of her
 * thing she chose to share, the identifier she picked, whether it is a warranty claim, and where it
 * stands. Its thread is in {@link ServiceCaseEntry}. Erased with the relationship.
 */
export interface ServiceCaseRow {
  /** The company's own id for the case (a UUID): what its operators, CLI and admin API name it by. */
  id: string;
  relationshipId: string;
  /** Her id for the case (`case_id`), unique per relationship: what every message of the case names. */
  caseId: string;
  state: CaseState;
  warrantyClaim: boolean;
  /** What she shared, as she sent it. */
  details: { thing: SharedThing; identifier: CaseIdentifier | null };
  createdAt: number;
  updatedAt: number;
}

/** Who wrote a message of a case's thread. */
export type ServiceCaseAuthor = 'person' | 'company';
/** What the message did: opened the case, added to it, or resolved it. */
export type ServiceCaseEntryKind = 'open' | 'reply' | 'resolve';

/** One message of a case's thread. */
export interface ServiceCaseEntry {
  id: string;
  /** The case's row id. */
  caseRowId: string;
  relationshipId: string;
  /** The DIDComm id of the message that carried it. */
  messageId: string;
  author: ServiceCaseAuthor;
  kind: ServiceCaseEntryKind;
  /** Null for a resolve without words. */
  text: string | null;
  createdAt: number;
}

/**
 * Service cases and their threads.
 *
 * Besides what each method states, every method may reject as described on CompanyStore
 * (`store.unavailable`, `internal`).
 */
export interface ServiceCaseStore {
  /**
   * Inserts a case. Returns false, changing nothing, when the relationship already has a case with
   * this `caseId` (her resend); throws RelationshipError 'relationship.unknown' if the relationship
   * does not exist, StoreError 'store.conflict' if the id is taken.
   */
  createServiceCase(row: ServiceCaseRow): Promise<boolean>;
  getServiceCase(id: string): Promise<ServiceCaseRow | undefined>;
  /** The relationship's case of her `caseId` (another relationship's case of that id is not found). */
  findServiceCase(relationshipId: string, caseId: string): Promise<ServiceCaseRow | undefined>;
  /** Cases, most recently changed first (updatedAt descending, then id): all, or one state's, or one relationship's; at most `limit` (default 100, at most 1000). */
  listServiceCases(options?: { state?: CaseState; relationshipId?: string; limit?: number }): Promise<ServiceCaseRow[]>;
  /**
   * Moves a case that is not resolved to `state` (compare-and-set, in one statement). Returns false,
   * changing nothing, if it is resolved already or does not exist; of concurrent changes after which
   * it is resolved, exactly one returns true.
   */
  setServiceCaseState(id: string, state: CaseState, at: number): Promise<boolean>;
  /** Appends to a case's thread; throws StoreError 'store.conflict' if the id is taken. */
  addServiceCaseEntry(entry: ServiceCaseEntry): Promise<void>;
  /** A case's thread, oldest first (createdAt, then id). */
  listServiceCaseEntries(caseRowId: string): Promise<ServiceCaseEntry[]>;
}
