import { sql, type ColumnType, type Kysely } from 'kysely';
import { ERASURE_CATEGORIES, tombstoneKey, tombstoneOf, type Tombstone } from './erasure.js';
import { translateError, unknownIntent, unknownRelationship } from './errors.js';
import {
  IDENTITY_ROW_ID,
  IN_LIST_CHUNK,
  byCreatedThenId,
  encodeJson,
  toConnectorAttempt,
  toDataRightsRequest,
  toConnectorEvent,
  toConsentRecord,
  toCount,
  toAuditEntry,
  toCallerVerification,
  AUDIT_DEFAULT_LIMIT,
  AUDIT_MAX_LIMIT,
  toDisclosureRequest,
  toHeldField,
  toIdentity,
  toOffer,
  toOutboxItem,
  toPresentation,
  toProfileVersion,
  toReceivedIntent,
  toRelationship,
  toStoredMessage,
  toTermsAgreement,
  toServiceCase,
  toServiceCaseEntry,
  toThingReceipt,
  toThingRegistration,
  type JsonDecoder,
} from './rows.js';
import { SNAPSHOT_TABLES, snapshotRows, type SnapshotStore } from './testing.js';
import type { CaseState } from '../../protocol/families/service.js';
import type { ServiceCaseAuthor, ServiceCaseEntry, ServiceCaseEntryKind, ServiceCaseRow } from './serviceCaseStore.js';
import type { ThingReceiptRow, ThingReceiptState, ThingRegistrationRow } from './thingStore.js';
import type {
  AgentIdentity,
  AuditEntry,
  CallerVerificationAnswer,
  CallerVerificationRow,
  CallerVerificationState,
  CompanyRelationship,
  CompanyStore,
  ConnectorAttempt,
  ConnectorDeliveryState,
  ConnectorEvent,
  DataRightsExercise,
  DataRightsRequestRow,
  DeadLetter,
  ConsentRecordRow,
  ConsentState,
  CreatedKey,
  DeadLetterKey,
  DisclosureRequest,
  DisclosureRequestState,
  ErasureSummary,
  HeldField,
  KeysetPage,
  OfferRow,
  OfferState,
  ClaimOptions,
  OutboxItem,
  Presentation,
  ReceivedIntent,
  ReceivedIntentState,
  RelationshipState,
  StoredMessage,
  TermsAgreementChange,
  TermsAgreementRow,
  TermsAgreementState,
} from './types.js';

/**
 * Rows after a (created_at, id) key in byte order (keyset.ts): `id collate "C"` here and in the
 * order, so pages agree with SQLite's whatever the database's collation.
 */
function createdAfter(after: CreatedKey) {
  return sql<boolean>`(created_at > ${after.createdAt} or (created_at = ${after.createdAt} and id collate "C" > ${after.id}))`;
}

/** Read back as pg yields jsonb (parsed); always written as JSON text (see encodeJson). */
type JsonColumn = ColumnType<unknown, string, string>;

export interface CompanyDatabase {
  agent_identity: { id: number; did: string; keys: JsonColumn; created_at: number };
  relationships: {
    id: string;
    their_did: string;
    customer_ref: string;
    state: RelationshipState;
    created_at: number;
    updated_at: number;
  };
  seen_messages: { message_id: string; expires_at: number };
  messages: {
    id: string;
    relationship_id: string;
    message_id: string;
    direction: 'in' | 'out';
    type: string;
    body: JsonColumn;
    created_at: number;
  };
  outbox: {
    id: string;
    relationship_id: string;
    message_id: string;
    packed: string;
    created_at: number;
    next_attempt_at: number;
    attempts: number;
  };
  tombstones: { did_sha256: string; relationship_id: string; erased_at: number };
  disclosure_requests: {
    id: string;
    relationship_id: string;
    message_id: string;
    nonce: string;
    fields: JsonColumn;
    credentials: JsonColumn;
    purpose: string;
    retention: string | null;
    legal_basis: string;
    terms_ref: string | null;
    state: DisclosureRequestState;
    created_at: number;
    updated_at: number;
  };
  consent_records: {
    id: string;
    relationship_id: string;
    request_id: string | null;
    state: ConsentState;
    record: JsonColumn;
    created_at: number;
    updated_at: number;
  };
  terms_agreements: {
    id: string;
    relationship_id: string;
    proposed_by: 'person' | 'company';
    agreement_id: string;
    state: TermsAgreementState;
    thread_id: string;
    signed: JsonColumn;
    obligations: JsonColumn;
    reason: string | null;
    created_at: number;
    updated_at: number;
  };
  held_fields: {
    relationship_id: string;
    field: string;
    value: JsonColumn;
    version: number;
    consent_record_id: string;
    source: 'self' | 'credential';
    issuer: string | null;
    updated_at: number;
  };
  profile_versions: { relationship_id: string; version: number; updated_at: number };
  presentations: {
    id: string;
    relationship_id: string;
    message_id: string;
    kind: 'disclosure' | 'update';
    sd_jwt: string;
    received_at: number;
  };
  data_rights_requests: {
    id: string;
    relationship_id: string;
    request_id: string;
    exercise: DataRightsExercise;
    status: 'open' | 'in_progress' | 'fulfilled' | 'denied' | 'expired';
    reason: string | null;
    received_at: number;
    updated_at: number;
  };
  connector_deliveries: {
    event_id: string;
    connector_id: string;
    state: ConnectorDeliveryState;
    attempts: number;
    next_attempt_at: number | null;
    last_error: string | null;
    updated_at: number;
  };
  connector_events: {
    id: string;
    relationship_id: string | null;
    type: string;
    payload: JsonColumn;
    created_at: number;
    next_attempt_at: number;
    attempts: number;
    dispatched_at: number | null;
  };
  intents: {
    id: string;
    relationship_id: string;
    message_id: string;
    demand: JsonColumn;
    outcome: string | null;
    currency_required: 0 | 1;
    expires_at: number;
    state: ReceivedIntentState;
    created_at: number;
    updated_at: number;
  };
  offers: {
    id: string;
    intent_id: string;
    relationship_id: string;
    signed: JsonColumn;
    state: OfferState;
    created_at: number;
    updated_at: number;
  };
  caller_verifications: {
    id: string;
    relationship_id: string;
    message_id: string;
    code: string;
    operator: string;
    state: CallerVerificationState;
    expires_at: number;
    created_at: number;
    answered_at: number | null;
    answer_message_id: string | null;
    signer_kid: string | null;
    answer_jws: string | null;
  };
  audit_log: { id: string; operator: string; relationship_id: string | null; action: string; at: number };
  service_cases: {
    id: string;
    relationship_id: string;
    case_id: string;
    state: CaseState;
    warranty_claim: number;
    details: JsonColumn;
    created_at: number;
    updated_at: number;
  };
  service_case_entries: {
    id: string;
    case_row_id: string;
    relationship_id: string;
    message_id: string;
    author: ServiceCaseAuthor;
    kind: ServiceCaseEntryKind;
    text: string | null;
    created_at: number;
  };
  thing_receipts: {
    id: string;
    relationship_id: string;
    message_id: string;
    signed: JsonColumn;
    state: ThingReceiptState;
    created_at: number;
    answered_at: number | null;
  };
  thing_registrations: {
    id: string;
    relationship_id: string;
    consent_record_id: string;
    message_id: string;
    gtin: string | null;
    model: string | null;
    claims: JsonColumn;
    sd_jwt: string;
    created_at: number;
  };
}

/** The advisory lock key (any bigint; this one spells "kith" in ASCII) that one pruning process holds at a time. */
export const PRUNE_LOCK_KEY = 0x6b697468;

/** pg parses jsonb itself, so a JSON column comes back as the value. */
const decodeJsonb: JsonDecoder = (value) => value;

/**
 * The PostgreSQL company store, through kysely. Several processes may share one database: claims
 * skip rows another transaction holds (FOR UPDATE SKIP LOCKED), and unique indexes, not prior
 * reads, decide conflicts.
 */
export class PostgresCompanyStore implements CompanyStore, SnapshotStore {
  readonly dialect = 'postgres' as const;
  readonly #db: Kysely<CompanyDatabase>;
  readonly #inTransaction: boolean;
  #closed = false;

  constructor(db: Kysely<CompanyDatabase>, inTransaction = false) {
    this.#db = db;
    this.#inTransaction = inTransaction;
  }

  async #run<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw translateError(err);
    }
  }

  /** Internal twin of transaction() that keeps access to the concrete class for multi-step methods. */
  #atomically<T>(fn: (tx: PostgresCompanyStore) => Promise<T>): Promise<T> {
    if (this.#inTransaction) return this.#run(() => fn(this));
    return this.#run(() => this.#db.transaction().execute((trx) => fn(new PostgresCompanyStore(trx, true))));
  }

  transaction<T>(fn: (tx: CompanyStore) => Promise<T>): Promise<T> {
    return this.#atomically(fn);
  }

  async close(): Promise<void> {
    // A transaction-bound store does not own the connection; its creator closes it.
    if (this.#inTransaction || this.#closed) return;
    this.#closed = true;
    await this.#db.destroy();
  }

  // --- identity ---

  getIdentity(): Promise<AgentIdentity | undefined> {
    return this.#run(async () => {
      const row = await this.#db
        .selectFrom('agent_identity')
        .select(['did', 'keys', 'created_at'])
        .where('id', '=', IDENTITY_ROW_ID)
        .executeTakeFirst();
      return row === undefined ? undefined : toIdentity(row, decodeJsonb);
    });
  }

  saveIdentity(identity: AgentIdentity): Promise<void> {
    return this.#run(async () => {
      const values = { did: identity.did, keys: encodeJson(identity.keys), created_at: identity.createdAt };
      await this.#db
        .insertInto('agent_identity')
        .values({ id: IDENTITY_ROW_ID, ...values })
        .onConflict((oc) => oc.column('id').doUpdateSet(values))
        .execute();
    });
  }

  // --- relationships ---

  createRelationship(rel: CompanyRelationship): Promise<void> {
    return this.#run(async () => {
      await this.#db
        .insertInto('relationships')
        .values({
          id: rel.id,
          their_did: rel.theirDid,
          customer_ref: rel.customerRef,
          state: rel.state,
          created_at: rel.createdAt,
          updated_at: rel.updatedAt,
        })
        .execute();
    });
  }

  getRelationship(id: string): Promise<CompanyRelationship | undefined> {
    return this.#run(async () => {
      const row = await this.#db.selectFrom('relationships').selectAll().where('id', '=', id).executeTakeFirst();
      return row === undefined ? undefined : toRelationship(row);
    });
  }

  findRelationshipByDid(theirDid: string): Promise<CompanyRelationship | undefined> {
    return this.#run(async () => {
      const row = await this.#db
        .selectFrom('relationships')
        .selectAll()
        .where('their_did', '=', theirDid)
        .executeTakeFirst();
      return row === undefined ? undefined : toRelationship(row);
    });
  }

  listRelationships(page: KeysetPage<CreatedKey> = {}): Promise<CompanyRelationship[]> {
    return this.#run(async () => {
      let query = this.#db.selectFrom('relationships').selectAll();
      if (page.after !== undefined) query = query.where(createdAfter(page.after));
      if (page.limit !== undefined) query = query.limit(Math.max(0, Math.floor(page.limit)));
      const rows = await query.orderBy('created_at').orderBy(sql`id collate "C"`).execute();
      return rows.map(toRelationship);
    });
  }

  setRelationshipState(id: string, state: RelationshipState, at: number): Promise<void> {
    return this.#run(async () => {
      const result = await this.#db
        .updateTable('relationships')
        .set({ state, updated_at: at })
        .where('id', '=', id)
        .executeTakeFirst();
      if (result.numUpdatedRows === 0n) throw unknownRelationship(id);
    });
  }

  // --- replay protection ---

  hasSeenMessage(messageId: string): Promise<boolean> {
    return this.#run(async () => {
      const row = await this.#db
        .selectFrom('seen_messages')
        .select('message_id')
        .where('message_id', '=', messageId)
        .executeTakeFirst();
      return row !== undefined;
    });
  }

  recordSeenMessage(messageId: string, expiresAt: number): Promise<void> {
    return this.#run(async () => {
      await this.#db.insertInto('seen_messages').values({ message_id: messageId, expires_at: expiresAt }).execute();
    });
  }

  recordSeenAndFindRelationship(messageId: string, expiresAt: number, theirDid: string): Promise<CompanyRelationship | undefined> {
    return this.#run(async () => {
      // A data-modifying CTE runs to completion whether or not the query reads it, and its unique
      // violation fails the whole statement: the same outcome as the two statements, in one trip.
      const row = await this.#db
        .with('seen', (db) => db.insertInto('seen_messages').values({ message_id: messageId, expires_at: expiresAt }).returning('message_id'))
        .selectFrom('relationships')
        .selectAll('relationships')
        .where('their_did', '=', theirDid)
        .executeTakeFirst();
      return row === undefined ? undefined : toRelationship(row);
    });
  }

  pruneSeenMessages(now: number): Promise<number> {
    return this.#run(() =>
      this.#db.transaction().execute(async (trx) => {
        // Every process's worker prunes; one at a time is enough, and the others need not wait.
        const { rows } = await sql<{ locked: boolean }>`select pg_try_advisory_xact_lock(${PRUNE_LOCK_KEY}::bigint) as locked`.execute(trx);
        if (!rows[0]?.locked) return 0;
        const result = await trx.deleteFrom('seen_messages').where('expires_at', '<', now).executeTakeFirst();
        return Number(result.numDeletedRows);
      }),
    );
  }

  // --- messages ---

  addMessage(message: StoredMessage): Promise<void> {
    return this.#run(async () => {
      await this.#db
        .insertInto('messages')
        .values({
          id: message.id,
          relationship_id: message.relationshipId,
          message_id: message.messageId,
          direction: message.direction,
          type: message.type,
          body: encodeJson(message.body),
          created_at: message.createdAt,
        })
        .execute();
    });
  }

  listMessages(relationshipId: string, page: KeysetPage<CreatedKey> = {}): Promise<StoredMessage[]> {
    return this.#run(async () => {
      let query = this.#db.selectFrom('messages').selectAll().where('relationship_id', '=', relationshipId);
      if (page.after !== undefined) query = query.where(createdAfter(page.after));
      if (page.limit !== undefined) query = query.limit(Math.max(0, Math.floor(page.limit)));
      const rows = await query.orderBy('created_at').orderBy(sql`id collate "C"`).execute();
      return rows.map((row) => toStoredMessage(row, decodeJsonb));
    });
  }

  // --- outbox ---

  enqueueOutbox(item: OutboxItem): Promise<void> {
    return this.#run(async () => {
      await this.#db
        .insertInto('outbox')
        .values({
          id: item.id,
          relationship_id: item.relationshipId,
          message_id: item.messageId,
          packed: item.packed,
          created_at: item.createdAt,
          next_attempt_at: item.nextAttemptAt,
          attempts: item.attempts,
        })
        .execute();
    });
  }

  claimDueOutbox(now: number, limit: number, leaseMs: number, options: ClaimOptions = {}): Promise<OutboxItem[]> {
    if (limit <= 0) return Promise.resolve([]);
    // One statement, so no transaction around it: the claim and the lease commit together.
    return this.#run(async () => {
      const db = this.#db;
      const activeRelationships = db.selectFrom('relationships').select('id').where('state', '=', 'active');
      const { relationshipId } = options;
      const due = db
        .selectFrom('outbox')
        .select('id')
        .where('next_attempt_at', '<=', now)
        .where('relationship_id', 'in', activeRelationships)
        .$if(relationshipId !== undefined, (q) => q.where('relationship_id', '=', relationshipId!))
        .orderBy('created_at')
        .orderBy('id')
        .limit(limit)
        // Rows another claimer holds are skipped, not waited for, so concurrent claimers get
        // disjoint batches.
        .forUpdate()
        .skipLocked();
      // Claim and lease in one statement so a claimed row is never visible as due to anyone else.
      const rows = await db
        .updateTable('outbox')
        .set({ next_attempt_at: now + leaseMs })
        .where('id', 'in', due)
        .returningAll()
        .execute();
      // RETURNING order is unspecified.
      return rows.map(toOutboxItem).sort(byCreatedThenId);
    });
  }

  pendingOutbox(relationshipId: string, limit: number): Promise<OutboxItem[]> {
    if (limit <= 0) return Promise.resolve([]);
    return this.#run(async () => {
      const rows = await this.#db
        .selectFrom('outbox')
        .selectAll()
        .where('relationship_id', '=', relationshipId)
        .orderBy('created_at')
        .orderBy('id')
        .limit(limit)
        .execute();
      return rows.map(toOutboxItem);
    });
  }

  countPendingOutbox(relationshipId?: string): Promise<number> {
    return this.#run(async () => {
      const row = await this.#db
        .selectFrom('outbox')
        .select((eb) => eb.fn.countAll().as('count'))
        .$if(relationshipId !== undefined, (q) => q.where('relationship_id', '=', relationshipId!))
        .executeTakeFirstOrThrow();
      return toCount(row);
    });
  }

  countUndispatchedEvents(): Promise<number> {
    return this.#run(async () => toCount(await this.#db.selectFrom('connector_events').select((eb) => eb.fn.countAll().as('count')).where('dispatched_at', 'is', null).executeTakeFirstOrThrow()));
  }

  removeOutbox(relationshipId: string, messageIds: string[]): Promise<number> {
    if (messageIds.length === 0) return Promise.resolve(0);
    return this.#atomically(async (tx) => {
      let removed = 0;
      for (let i = 0; i < messageIds.length; i += IN_LIST_CHUNK) {
        const result = await tx.#db
          .deleteFrom('outbox')
          .where('relationship_id', '=', relationshipId)
          .where('message_id', 'in', messageIds.slice(i, i + IN_LIST_CHUNK))
          .executeTakeFirst();
        removed += Number(result.numDeletedRows);
      }
      return removed;
    });
  }

  rescheduleOutbox(id: string, nextAttemptAt: number, attempts: number): Promise<void> {
    return this.#run(async () => {
      await this.#db
        .updateTable('outbox')
        .set({ next_attempt_at: nextAttemptAt, attempts })
        .where('id', '=', id)
        .execute();
    });
  }

  // --- disclosure requests ---

  createDisclosureRequest(request: DisclosureRequest): Promise<void> {
    return this.#run(async () => {
      await this.#db
        .insertInto('disclosure_requests')
        .values({
          id: request.id,
          relationship_id: request.relationshipId,
          message_id: request.messageId,
          nonce: request.nonce,
          fields: encodeJson(request.fields),
          credentials: encodeJson(request.credentials),
          purpose: request.purpose,
          retention: request.retention,
          legal_basis: request.legalBasis,
          terms_ref: request.termsRef,
          state: request.state,
          created_at: request.createdAt,
          updated_at: request.updatedAt,
        })
        .execute();
    });
  }

  getDisclosureRequest(id: string): Promise<DisclosureRequest | undefined> {
    return this.#run(async () => {
      const row = await this.#db.selectFrom('disclosure_requests').selectAll().where('id', '=', id).executeTakeFirst();
      return row === undefined ? undefined : toDisclosureRequest(row, decodeJsonb);
    });
  }

  findDisclosureRequestByNonce(nonce: string): Promise<DisclosureRequest | undefined> {
    return this.#run(async () => {
      const row = await this.#db.selectFrom('disclosure_requests').selectAll().where('nonce', '=', nonce).executeTakeFirst();
      return row === undefined ? undefined : toDisclosureRequest(row, decodeJsonb);
    });
  }

  listDisclosureRequests(relationshipId: string): Promise<DisclosureRequest[]> {
    return this.#run(async () => {
      const rows = await this.#db
        .selectFrom('disclosure_requests')
        .selectAll()
        .where('relationship_id', '=', relationshipId)
        .orderBy('created_at')
        .orderBy('id')
        .execute();
      return rows.map((row) => toDisclosureRequest(row, decodeJsonb));
    });
  }

  settleDisclosureRequest(id: string, state: Exclude<DisclosureRequestState, 'pending'>, at: number): Promise<boolean> {
    return this.#run(async () => {
      // Compare-and-set in one statement: on PostgreSQL a concurrent settle waits for the row lock,
      // then re-checks the condition and finds the request no longer pending.
      const result = await this.#db
        .updateTable('disclosure_requests')
        .set({ state, updated_at: at })
        .where('id', '=', id)
        .where('state', '=', 'pending')
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    });
  }

  // --- consent records ---

  saveConsentRecord(record: ConsentRecordRow): Promise<void> {
    return this.#run(async () => {
      await this.#db
        .insertInto('consent_records')
        .values({
          id: record.id,
          relationship_id: record.relationshipId,
          request_id: record.requestId,
          state: record.state,
          record: encodeJson(record.record),
          created_at: record.createdAt,
          updated_at: record.updatedAt,
        })
        .execute();
    });
  }

  updateConsentRecord(id: string, state: ConsentState, record: ConsentRecordRow['record'], at: number): Promise<boolean> {
    return this.#run(async () => {
      const result = await this.#db
        .updateTable('consent_records')
        .set({ state, record: encodeJson(record), updated_at: at })
        .where('id', '=', id)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    });
  }

  getConsentRecord(id: string): Promise<ConsentRecordRow | undefined> {
    return this.#run(async () => {
      const row = await this.#db.selectFrom('consent_records').selectAll().where('id', '=', id).executeTakeFirst();
      return row === undefined ? undefined : toConsentRecord(row, decodeJsonb);
    });
  }

  listConsentRecords(relationshipId: string): Promise<ConsentRecordRow[]> {
    return this.#run(async () => {
      const rows = await this.#db
        .selectFrom('consent_records')
        .selectAll()
        .where('relationship_id', '=', relationshipId)
        .orderBy('created_at')
        .orderBy('id')
        .execute();
      return rows.map((row) => toConsentRecord(row, decodeJsonb));
    });
  }

  // --- terms agreements ---

  createTermsAgreement(row: TermsAgreementRow): Promise<void> {
    return this.#run(async () => {
      await this.#db
        .insertInto('terms_agreements')
        .values({
          id: row.id,
          relationship_id: row.relationshipId,
          proposed_by: row.proposedBy,
          agreement_id: row.agreementId,
          state: row.state,
          thread_id: row.threadId,
          signed: encodeJson(row.signed),
          obligations: encodeJson(row.obligations),
          reason: row.reason,
          created_at: row.createdAt,
          updated_at: row.updatedAt,
        })
        .execute();
    });
  }

  getTermsAgreement(id: string): Promise<TermsAgreementRow | undefined> {
    return this.#run(async () => {
      const row = await this.#db.selectFrom('terms_agreements').selectAll().where('id', '=', id).executeTakeFirst();
      return row === undefined ? undefined : toTermsAgreement(row, decodeJsonb);
    });
  }

  listTermsAgreements(relationshipId: string): Promise<TermsAgreementRow[]> {
    return this.#run(async () => {
      const rows = await this.#db
        .selectFrom('terms_agreements')
        .selectAll()
        .where('relationship_id', '=', relationshipId)
        .orderBy('created_at')
        .orderBy('id')
        .execute();
      return rows.map((row) => toTermsAgreement(row, decodeJsonb));
    });
  }

  currentTermsAgreement(relationshipId: string): Promise<TermsAgreementRow | undefined> {
    return this.#run(async () => {
      const row = await this.#db
        .selectFrom('terms_agreements')
        .selectAll()
        .where('relationship_id', '=', relationshipId)
        .where('state', '=', 'agreed')
        .executeTakeFirst();
      return row === undefined ? undefined : toTermsAgreement(row, decodeJsonb);
    });
  }

  findTermsAgreementsByThread(relationshipId: string, threadId: string): Promise<TermsAgreementRow[]> {
    return this.#run(async () => {
      const rows = await this.#db
        .selectFrom('terms_agreements')
        .selectAll()
        .where('relationship_id', '=', relationshipId)
        .where('thread_id', '=', threadId)
        .orderBy('created_at')
        .orderBy('id')
        .execute();
      return rows.map((row) => toTermsAgreement(row, decodeJsonb));
    });
  }

  updateTermsAgreement(id: string, change: TermsAgreementChange, at: number): Promise<boolean> {
    return this.#run(async () => {
      const result = await this.#db
        .updateTable('terms_agreements')
        .set({
          state: change.state,
          ...(change.signed === undefined ? {} : { signed: encodeJson(change.signed) }),
          ...(change.obligations === undefined ? {} : { obligations: encodeJson(change.obligations) }),
          ...(change.reason === undefined ? {} : { reason: change.reason }),
          updated_at: at,
        })
        .where('id', '=', id)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    });
  }

  // --- held profile fields and versions ---

  upsertHeldField(field: HeldField): Promise<void> {
    return this.#run(async () => {
      const values = {
        value: encodeJson(field.value),
        version: field.version,
        consent_record_id: field.consentRecordId,
        source: field.source,
        issuer: field.issuer,
        updated_at: field.updatedAt,
      };
      await this.#db
        .insertInto('held_fields')
        .values({ relationship_id: field.relationshipId, field: field.field, ...values })
        .onConflict((oc) => oc.columns(['relationship_id', 'field']).doUpdateSet(values))
        .execute();
    });
  }

  listHeldFields(relationshipId: string): Promise<HeldField[]> {
    return this.#run(async () => {
      const rows = await this.#db
        .selectFrom('held_fields')
        .selectAll()
        .where('relationship_id', '=', relationshipId)
        // Byte order, as on SQLite, whatever the database's default collation.
        .orderBy(sql`field collate "C"`)
        .execute();
      return rows.map((row) => toHeldField(row, decodeJsonb));
    });
  }

  deleteHeldFields(relationshipId: string, fields: readonly string[]): Promise<string[]> {
    return this.#run(async () => {
      if (fields.length === 0) return [];
      const rows = await this.#db
        .deleteFrom('held_fields')
        .where('relationship_id', '=', relationshipId)
        .where('field', 'in', [...fields])
        .returning('field')
        .execute();
      return rows.map((row) => row.field).sort();
    });
  }

  getProfileVersion(relationshipId: string): Promise<number> {
    return this.#run(async () => {
      const row = await this.#db
        .selectFrom('profile_versions')
        .select('version')
        .where('relationship_id', '=', relationshipId)
        .executeTakeFirst();
      return toProfileVersion(row);
    });
  }

  setProfileVersion(relationshipId: string, version: number, at: number): Promise<void> {
    return this.#run(async () => {
      await this.#db
        .insertInto('profile_versions')
        .values({ relationship_id: relationshipId, version, updated_at: at })
        .onConflict((oc) => oc.column('relationship_id').doUpdateSet({ version, updated_at: at }))
        .execute();
    });
  }

  // --- presentations ---

  addPresentation(presentation: Presentation): Promise<void> {
    return this.#run(async () => {
      await this.#db
        .insertInto('presentations')
        .values({
          id: presentation.id,
          relationship_id: presentation.relationshipId,
          message_id: presentation.messageId,
          kind: presentation.kind,
          sd_jwt: presentation.sdJwt,
          received_at: presentation.receivedAt,
        })
        .execute();
    });
  }

  replacePresentation(id: string, sdJwt: string | null): Promise<boolean> {
    return this.#run(async () => {
      const result =
        sdJwt === null
          ? await this.#db.deleteFrom('presentations').where('id', '=', id).executeTakeFirst()
          : await this.#db.updateTable('presentations').set({ sd_jwt: sdJwt }).where('id', '=', id).executeTakeFirst();
      return Number('numDeletedRows' in result ? result.numDeletedRows : result.numUpdatedRows) > 0;
    });
  }

  listPresentations(relationshipId: string): Promise<Presentation[]> {
    return this.#run(async () => {
      const rows = await this.#db
        .selectFrom('presentations')
        .selectAll()
        .where('relationship_id', '=', relationshipId)
        .orderBy('received_at')
        .orderBy('id')
        .execute();
      return rows.map(toPresentation);
    });
  }

  // --- connector events ---

  enqueueEvent(event: ConnectorEvent): Promise<void> {
    return this.#run(async () => {
      await this.#db
        .insertInto('connector_events')
        .values({
          id: event.id,
          relationship_id: event.relationshipId,
          type: event.type,
          payload: encodeJson(event.payload),
          created_at: event.createdAt,
          next_attempt_at: event.nextAttemptAt,
          attempts: event.attempts,
          dispatched_at: event.dispatchedAt,
        })
        .execute();
    });
  }

  claimDueEvents(now: number, limit: number, leaseMs: number): Promise<ConnectorEvent[]> {
    if (limit <= 0) return Promise.resolve([]);
    return this.#run(async () => {
      const db = this.#db;
      const due = db
        .selectFrom('connector_events')
        .select('id')
        .where('dispatched_at', 'is', null)
        .where('next_attempt_at', '<=', now)
        .orderBy('created_at')
        .orderBy('id')
        .limit(limit)
        // As in claimDueOutbox: concurrent claimers skip each other's rows.
        .forUpdate()
        .skipLocked();
      const rows = await db
        .updateTable('connector_events')
        .set({ next_attempt_at: now + leaseMs })
        .where('id', 'in', due)
        .returningAll()
        .execute();
      return rows.map((row) => toConnectorEvent(row, decodeJsonb)).sort(byCreatedThenId);
    });
  }

  markEventDispatched(id: string, at: number, redactedPayload?: unknown): Promise<void> {
    return this.#run(async () => {
      const set = redactedPayload === undefined ? { dispatched_at: at } : { dispatched_at: at, payload: encodeJson(redactedPayload) };
      await this.#db.updateTable('connector_events').set(set).where('id', '=', id).execute();
    });
  }

  replaceEventPayload(id: string, payload: unknown): Promise<boolean> {
    return this.#run(async () => {
      const result = await this.#db.updateTable('connector_events').set({ payload: encodeJson(payload) }).where('id', '=', id).executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    });
  }

  // --- data rights ---

  saveDataRightsRequest(row: DataRightsRequestRow): Promise<boolean> {
    return this.#run(async () => {
      const result = await this.#db
        .insertInto('data_rights_requests')
        .values({
          id: row.id,
          relationship_id: row.relationshipId,
          request_id: row.requestId,
          exercise: row.exercise,
          status: row.status,
          reason: row.reason,
          received_at: row.receivedAt,
          updated_at: row.updatedAt,
        })
        .onConflict((oc) => oc.columns(['relationship_id', 'request_id']).doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
    });
  }

  getDataRightsRequest(relationshipId: string, requestId: string): Promise<DataRightsRequestRow | undefined> {
    return this.#run(async () => {
      const row = await this.#db.selectFrom('data_rights_requests').selectAll().where('relationship_id', '=', relationshipId).where('request_id', '=', requestId).executeTakeFirst();
      return row === undefined ? undefined : toDataRightsRequest(row);
    });
  }

  listDataRightsRequests(options: { relationshipId?: string; limit?: number } = {}): Promise<DataRightsRequestRow[]> {
    return this.#run(async () => {
      let query = this.#db.selectFrom('data_rights_requests').selectAll();
      if (options.relationshipId !== undefined) query = query.where('relationship_id', '=', options.relationshipId);
      const rows = await query
        .orderBy('received_at', 'desc')
        .orderBy(sql`id collate "C"`, 'desc')
        .limit(Math.max(0, Math.floor(options.limit ?? 100)))
        .execute();
      return rows.map(toDataRightsRequest);
    });
  }

  countDataRightsRequests(relationshipId: string, exercise: DataRightsExercise, since: number): Promise<number> {
    return this.#run(async () =>
      toCount(
        await this.#db
          .selectFrom('data_rights_requests')
          .select((eb) => eb.fn.countAll().as('count'))
          .where('relationship_id', '=', relationshipId)
          .where('exercise', '=', exercise)
          .where('received_at', '>=', since)
          .executeTakeFirstOrThrow(),
      ),
    );
  }

  listConnectorAttempts(eventIds: readonly string[]): Promise<ConnectorAttempt[]> {
    return this.#run(async () => {
      if (eventIds.length === 0) return [];
      const rows = await this.#db
        .selectFrom('connector_deliveries')
        .selectAll()
        .where('event_id', 'in', [...eventIds])
        .orderBy(sql`event_id collate "C"`)
        .orderBy(sql`connector_id collate "C"`)
        .execute();
      return rows.map(toConnectorAttempt);
    });
  }

  saveConnectorAttempt(attempt: ConnectorAttempt): Promise<void> {
    return this.#run(async () => {
      const values = {
        state: attempt.state,
        attempts: attempt.attempts,
        next_attempt_at: attempt.nextAttemptAt,
        last_error: attempt.lastError,
        updated_at: attempt.updatedAt,
      };
      // An event erased while a connector was delivering it is gone: nothing to record then.
      await this.#db
        .insertInto('connector_deliveries')
        .columns(['event_id', 'connector_id', 'state', 'attempts', 'next_attempt_at', 'last_error', 'updated_at'])
        .expression((eb) =>
          eb
            .selectFrom('connector_events')
            .select([
              sql<string>`${attempt.eventId}`.as('event_id'),
              sql<string>`${attempt.connectorId}`.as('connector_id'),
              sql<string>`${attempt.state}`.as('state'),
              sql<number>`${attempt.attempts}::integer`.as('attempts'),
              sql<number | null>`${attempt.nextAttemptAt}::bigint`.as('next_attempt_at'),
              sql<string | null>`${attempt.lastError}::text`.as('last_error'),
              sql<number>`${attempt.updatedAt}::bigint`.as('updated_at'),
            ])
            .where('id', '=', attempt.eventId),
        )
        .onConflict((oc) => oc.columns(['event_id', 'connector_id']).doUpdateSet(values))
        .execute();
    });
  }

  settleEvent(eventId: string, attempts: readonly ConnectorAttempt[], at: number, redactedPayload?: unknown): Promise<void> {
    return this.#run(async () => {
      const payload = redactedPayload === undefined ? sql`` : sql`, payload = ${encodeJson(redactedPayload)}::jsonb`;
      if (attempts.length === 0) {
        await sql`update connector_events set dispatched_at = ${at}::bigint${payload} where id = ${eventId}`.execute(this.#db);
        return;
      }
      const rows = sql.join(
        attempts.map((a) => sql`(${a.connectorId}::text, ${a.state}::text, ${a.attempts}::integer, ${a.nextAttemptAt}::bigint, ${a.lastError}::text, ${a.updatedAt}::bigint)`),
      );
      // A data-modifying CTE runs to completion within the statement; the delivery rows are written
      // only if the event is still there (erased meanwhile: nothing to record), like saveConnectorAttempt.
      await sql`
        with deliveries as (
          insert into connector_deliveries (event_id, connector_id, state, attempts, next_attempt_at, last_error, updated_at)
          select e.id, v.connector_id, v.state, v.attempts, v.next_attempt_at, v.last_error, v.updated_at
          from (values ${rows}) as v (connector_id, state, attempts, next_attempt_at, last_error, updated_at)
          join connector_events e on e.id = ${eventId}
          on conflict (event_id, connector_id) do update set state = excluded.state, attempts = excluded.attempts,
            next_attempt_at = excluded.next_attempt_at, last_error = excluded.last_error, updated_at = excluded.updated_at
        )
        update connector_events set dispatched_at = ${at}::bigint${payload} where id = ${eventId}`.execute(this.#db);
    });
  }

  listDeadLetters(options: { connectorId?: string; limit?: number; after?: DeadLetterKey } = {}): Promise<DeadLetter[]> {
    return this.#run(async () => {
      let query = this.#db
        .selectFrom('connector_deliveries as d')
        .innerJoin('connector_events as e', 'e.id', 'd.event_id')
        .selectAll('e')
        .select([
          'd.event_id',
          'd.connector_id',
          'd.state',
          'd.last_error',
          'd.updated_at',
          // The event has columns of these names too: the delivery's are renamed.
          sql<number>`d.attempts`.as('d_attempts'),
          sql<number | null>`d.next_attempt_at`.as('d_next_attempt_at'),
        ])
        .where('d.state', '=', 'dead');
      if (options.connectorId !== undefined) query = query.where('d.connector_id', '=', options.connectorId);
      const after = options.after;
      if (after !== undefined) {
        query = query.where(
          sql<boolean>`(d.updated_at < ${after.updatedAt} or (d.updated_at = ${after.updatedAt} and (d.event_id collate "C" < ${after.eventId} or (d.event_id = ${after.eventId} and d.connector_id collate "C" < ${after.connectorId}))))`,
        );
      }
      const rows = await query
        .orderBy('d.updated_at', 'desc')
        .orderBy(sql`d.event_id collate "C"`, 'desc')
        .orderBy(sql`d.connector_id collate "C"`, 'desc')
        .limit(Math.max(0, Math.floor(options.limit ?? 100)))
        .execute();
      return rows.map((row) => ({
        event: toConnectorEvent(row, decodeJsonb),
        attempt: toConnectorAttempt({ ...row, attempts: row.d_attempts, next_attempt_at: row.d_next_attempt_at }),
      }));
    });
  }

  replayDeadLetter(eventId: string, connectorId: string, at: number): Promise<boolean> {
    return this.#atomically(async (tx) => {
      const result = await tx.#db
        .updateTable('connector_deliveries')
        .set({ state: 'failed', attempts: 0, next_attempt_at: at, last_error: null, updated_at: at })
        .where('event_id', '=', eventId)
        .where('connector_id', '=', connectorId)
        .where('state', '=', 'dead')
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) return false;
      await tx.#db.updateTable('connector_events').set({ dispatched_at: null, next_attempt_at: at }).where('id', '=', eventId).execute();
      return true;
    });
  }

  countConnectorDeliveries(): Promise<{ connectorId: string; state: ConnectorDeliveryState; count: number }[]> {
    return this.#run(async () => {
      const rows = await this.#db
        .selectFrom('connector_deliveries')
        .select(['connector_id', 'state', (eb) => eb.fn.countAll<string>().as('count')])
        .groupBy(['connector_id', 'state'])
        .orderBy(sql`connector_id collate "C"`)
        .orderBy('state')
        .execute();
      return rows.map((row) => ({ connectorId: row.connector_id, state: row.state, count: Number(row.count) }));
    });
  }

  rescheduleEvent(id: string, nextAttemptAt: number, attempts: number): Promise<void> {
    return this.#run(async () => {
      await this.#db
        .updateTable('connector_events')
        .set({ next_attempt_at: nextAttemptAt, attempts })
        .where('id', '=', id)
        .execute();
    });
  }

  listEvents(options: { relationshipId?: string; undispatchedOnly?: boolean } & KeysetPage<CreatedKey> = {}): Promise<ConnectorEvent[]> {
    const { relationshipId, undispatchedOnly = false } = options;
    return this.#run(async () => {
      let query = this.#db.selectFrom('connector_events').selectAll();
      if (relationshipId !== undefined) query = query.where('relationship_id', '=', relationshipId);
      if (undispatchedOnly) query = query.where('dispatched_at', 'is', null);
      if (options.after !== undefined) query = query.where(createdAfter(options.after));
      if (options.limit !== undefined) query = query.limit(Math.max(0, Math.floor(options.limit)));
      const rows = await query.orderBy('created_at').orderBy(sql`id collate "C"`).execute();
      return rows.map((row) => toConnectorEvent(row, decodeJsonb));
    });
  }

  // --- intents and offers ---

  createReceivedIntent(intent: ReceivedIntent): Promise<void> {
    return this.#run(async () => {
      await this.#db
        .insertInto('intents')
        .values({
          id: intent.id,
          relationship_id: intent.relationshipId,
          message_id: intent.messageId,
          demand: encodeJson(intent.demand),
          outcome: intent.outcome,
          currency_required: intent.currencyRequired ? 1 : 0,
          expires_at: intent.expiresAt,
          state: intent.state,
          created_at: intent.createdAt,
          updated_at: intent.updatedAt,
        })
        .execute();
    });
  }

  getReceivedIntent(id: string): Promise<ReceivedIntent | undefined> {
    return this.#run(async () => {
      const row = await this.#db.selectFrom('intents').selectAll().where('id', '=', id).executeTakeFirst();
      return row === undefined ? undefined : toReceivedIntent(row, decodeJsonb);
    });
  }

  listReceivedIntents(options: { relationshipId?: string; state?: ReceivedIntentState } & KeysetPage<CreatedKey> = {}): Promise<ReceivedIntent[]> {
    const { relationshipId, state } = options;
    return this.#run(async () => {
      let query = this.#db.selectFrom('intents').selectAll();
      if (relationshipId !== undefined) query = query.where('relationship_id', '=', relationshipId);
      if (state !== undefined) query = query.where('state', '=', state);
      if (options.after !== undefined) query = query.where(createdAfter(options.after));
      if (options.limit !== undefined) query = query.limit(Math.max(0, Math.floor(options.limit)));
      const rows = await query.orderBy('created_at').orderBy(sql`id collate "C"`).execute();
      return rows.map((row) => toReceivedIntent(row, decodeJsonb));
    });
  }

  settleReceivedIntent(id: string, state: Exclude<ReceivedIntentState, 'open'>, at: number): Promise<boolean> {
    return this.#run(async () => {
      // As settleDisclosureRequest: a concurrent settle waits for the row lock, then finds it no longer open.
      const result = await this.#db
        .updateTable('intents')
        .set({ state, updated_at: at })
        .where('id', '=', id)
        .where('state', '=', 'open')
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    });
  }

  createOffer(offer: OfferRow): Promise<void> {
    return this.#run(async () => {
      // Inserts only if the intent is the relationship's, in one statement; an intent erased
      // meanwhile fails the foreign key instead (translated to intent.unknown).
      const result = await this.#db
        .insertInto('offers')
        .columns(['id', 'intent_id', 'relationship_id', 'signed', 'state', 'created_at', 'updated_at'])
        .expression((eb) =>
          eb
            .selectFrom('intents')
            .select([
              eb.val(offer.id).as('id'),
              'intents.id as intent_id',
              'intents.relationship_id',
              eb.val(encodeJson(offer.signed)).as('signed'),
              eb.val(offer.state).as('state'),
              eb.val(offer.createdAt).as('created_at'),
              eb.val(offer.updatedAt).as('updated_at'),
            ])
            .where('intents.id', '=', offer.intentId)
            .where('intents.relationship_id', '=', offer.relationshipId),
        )
        .executeTakeFirst();
      if ((result.numInsertedOrUpdatedRows ?? 0n) > 0n) return;
      if ((await this.getRelationship(offer.relationshipId)) === undefined) throw unknownRelationship(offer.relationshipId);
      throw unknownIntent(offer.intentId);
    });
  }

  getOffer(id: string): Promise<OfferRow | undefined> {
    return this.#run(async () => {
      const row = await this.#db.selectFrom('offers').selectAll().where('id', '=', id).executeTakeFirst();
      return row === undefined ? undefined : toOffer(row, decodeJsonb);
    });
  }

  listOffers(intentId: string): Promise<OfferRow[]> {
    return this.#run(async () => {
      const rows = await this.#db
        .selectFrom('offers')
        .selectAll()
        .where('intent_id', '=', intentId)
        .orderBy('created_at')
        .orderBy('id')
        .execute();
      return rows.map((row) => toOffer(row, decodeJsonb));
    });
  }

  settleOffer(id: string, state: Exclude<OfferState, 'offered'>, at: number): Promise<boolean> {
    return this.#run(async () => {
      const result = await this.#db
        .updateTable('offers')
        .set({ state, updated_at: at })
        .where('id', '=', id)
        .where('state', '=', 'offered')
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    });
  }

  // --- her things: receipts sent, registrations received ---

  createThingReceipt(row: ThingReceiptRow): Promise<void> {
    return this.#run(async () => {
      await this.#db
        .insertInto('thing_receipts')
        .values({
          id: row.id,
          relationship_id: row.relationshipId,
          message_id: row.messageId,
          signed: encodeJson(row.signed),
          state: row.state,
          created_at: row.createdAt,
          answered_at: row.answeredAt,
        })
        .execute();
    });
  }

  getThingReceipt(id: string): Promise<ThingReceiptRow | undefined> {
    return this.#run(async () => {
      const row = await this.#db.selectFrom('thing_receipts').selectAll().where('id', '=', id).executeTakeFirst();
      return row === undefined ? undefined : toThingReceipt(row, decodeJsonb);
    });
  }

  listThingReceipts(relationshipId?: string): Promise<ThingReceiptRow[]> {
    return this.#run(async () => {
      let query = this.#db.selectFrom('thing_receipts').selectAll();
      if (relationshipId !== undefined) query = query.where('relationship_id', '=', relationshipId);
      const rows = await query.orderBy('created_at').orderBy('id').execute();
      return rows.map((row) => toThingReceipt(row, decodeJsonb));
    });
  }

  answerThingReceipt(id: string, state: Exclude<ThingReceiptState, 'sent'>, at: number): Promise<boolean> {
    return this.#run(async () => {
      const result = await this.#db.updateTable('thing_receipts').set({ state, answered_at: at }).where('id', '=', id).where('state', '=', 'sent').executeTakeFirst();
      return result.numUpdatedRows > 0n;
    });
  }

  addThingRegistration(row: ThingRegistrationRow): Promise<void> {
    return this.#run(async () => {
      await this.#db
        .insertInto('thing_registrations')
        .values({
          id: row.id,
          relationship_id: row.relationshipId,
          consent_record_id: row.consentRecordId,
          message_id: row.messageId,
          gtin: row.gtin,
          model: row.model,
          claims: encodeJson(row.claims),
          sd_jwt: row.sdJwt,
          created_at: row.createdAt,
        })
        .execute();
    });
  }

  getThingRegistration(id: string): Promise<ThingRegistrationRow | undefined> {
    return this.#run(async () => {
      const row = await this.#db.selectFrom('thing_registrations').selectAll().where('id', '=', id).executeTakeFirst();
      return row === undefined ? undefined : toThingRegistration(row, decodeJsonb);
    });
  }

  listThingRegistrations(filter: { relationshipId?: string; gtin?: string; model?: string } = {}): Promise<ThingRegistrationRow[]> {
    return this.#run(async () => {
      let query = this.#db.selectFrom('thing_registrations').selectAll();
      if (filter.relationshipId !== undefined) query = query.where('relationship_id', '=', filter.relationshipId);
      if (filter.gtin !== undefined) query = query.where('gtin', '=', filter.gtin);
      if (filter.model !== undefined) query = query.where('model', '=', filter.model);
      const rows = await query.orderBy('created_at').orderBy('id').execute();
      return rows.map((row) => toThingRegistration(row, decodeJsonb));
    });
  }

  // --- caller verifications and the audit log ---

  createVerification(row: CallerVerificationRow): Promise<void> {
    return this.#run(async () => {
      await this.#db
        .insertInto('caller_verifications')
        .values({
          id: row.id,
          relationship_id: row.relationshipId,
          message_id: row.messageId,
          code: row.code,
          operator: row.operator,
          state: row.state,
          expires_at: row.expiresAt,
          created_at: row.createdAt,
          answered_at: row.answeredAt,
          answer_message_id: row.answerMessageId,
          signer_kid: row.signerKid,
          answer_jws: row.answerJws,
        })
        .execute();
    });
  }

  getVerification(id: string): Promise<CallerVerificationRow | undefined> {
    return this.#run(async () => {
      const row = await this.#db.selectFrom('caller_verifications').selectAll().where('id', '=', id).executeTakeFirst();
      return row === undefined ? undefined : toCallerVerification(row);
    });
  }

  listVerifications(relationshipId: string): Promise<CallerVerificationRow[]> {
    return this.#run(async () => {
      const rows = await this.#db
        .selectFrom('caller_verifications')
        .selectAll()
        .where('relationship_id', '=', relationshipId)
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .execute();
      return rows.map(toCallerVerification);
    });
  }

  answerVerification(id: string, answer: CallerVerificationAnswer): Promise<boolean> {
    return this.#run(async () => {
      const result = await this.#db
        .updateTable('caller_verifications')
        .set({ state: answer.state, answered_at: answer.answeredAt, answer_message_id: answer.answerMessageId, signer_kid: answer.signerKid, answer_jws: answer.answerJws })
        .where('id', '=', id)
        .where('state', '=', 'pending')
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    });
  }

  addAuditEntry(entry: AuditEntry): Promise<void> {
    return this.#run(async () => {
      await this.#db
        .insertInto('audit_log')
        .values({ id: entry.id, operator: entry.operator, relationship_id: entry.relationshipId, action: entry.action, at: entry.at })
        .execute();
    });
  }

  listAuditEntries(options: { relationshipId?: string; limit?: number } = {}): Promise<AuditEntry[]> {
    const limit = Math.min(Math.max(1, Math.trunc(options.limit ?? AUDIT_DEFAULT_LIMIT)), AUDIT_MAX_LIMIT);
    return this.#run(async () => {
      let query = this.#db.selectFrom('audit_log').selectAll();
      if (options.relationshipId !== undefined) query = query.where('relationship_id', '=', options.relationshipId);
      const rows = await query.orderBy('at', 'desc').orderBy('id', 'desc').limit(limit).execute();
      return rows.map(toAuditEntry);
    });
  }

  findRelationshipsByHeldValue(value: string): Promise<string[]> {
    return this.#run(async () => {
      const rows = await this.#db
        .selectFrom('held_fields')
        .select('relationship_id')
        .distinct()
        .where(sql<boolean>`jsonb_typeof(value) = 'string' and lower(value #>> '{}') = lower(${value})`)
        .execute();
      // Sorted here: the databases' collations need not agree on byte order.
      return rows.map((row) => row.relationship_id).sort();
    });
  }

  // --- service cases ---

  createServiceCase(row: ServiceCaseRow): Promise<boolean> {
    return this.#run(async () => {
      const result = await this.#db
        .insertInto('service_cases')
        .values({
          id: row.id,
          relationship_id: row.relationshipId,
          case_id: row.caseId,
          state: row.state,
          warranty_claim: row.warrantyClaim ? 1 : 0,
          details: encodeJson(row.details),
          created_at: row.createdAt,
          updated_at: row.updatedAt,
        })
        .onConflict((oc) => oc.columns(['relationship_id', 'case_id']).doNothing())
        .executeTakeFirst();
      return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
    });
  }

  getServiceCase(id: string): Promise<ServiceCaseRow | undefined> {
    return this.#run(async () => {
      const row = await this.#db.selectFrom('service_cases').selectAll().where('id', '=', id).executeTakeFirst();
      return row === undefined ? undefined : toServiceCase(row, decodeJsonb);
    });
  }

  findServiceCase(relationshipId: string, caseId: string): Promise<ServiceCaseRow | undefined> {
    return this.#run(async () => {
      const row = await this.#db.selectFrom('service_cases').selectAll().where('relationship_id', '=', relationshipId).where('case_id', '=', caseId).executeTakeFirst();
      return row === undefined ? undefined : toServiceCase(row, decodeJsonb);
    });
  }

  listServiceCases(options: { state?: CaseState; relationshipId?: string; limit?: number } = {}): Promise<ServiceCaseRow[]> {
    const limit = Math.min(Math.max(1, Math.trunc(options.limit ?? AUDIT_DEFAULT_LIMIT)), AUDIT_MAX_LIMIT);
    return this.#run(async () => {
      let query = this.#db.selectFrom('service_cases').selectAll();
      if (options.state !== undefined) query = query.where('state', '=', options.state);
      if (options.relationshipId !== undefined) query = query.where('relationship_id', '=', options.relationshipId);
      const rows = await query.orderBy('updated_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
      return rows.map((row) => toServiceCase(row, decodeJsonb));
    });
  }

  setServiceCaseState(id: string, state: CaseState, at: number): Promise<boolean> {
    return this.#run(async () => {
      const result = await this.#db.updateTable('service_cases').set({ state, updated_at: at }).where('id', '=', id).where('state', '<>', 'resolved').executeTakeFirst();
      return result.numUpdatedRows > 0n;
    });
  }

  addServiceCaseEntry(entry: ServiceCaseEntry): Promise<void> {
    return this.#run(async () => {
      await this.#db
        .insertInto('service_case_entries')
        .values({
          id: entry.id,
          case_row_id: entry.caseRowId,
          relationship_id: entry.relationshipId,
          message_id: entry.messageId,
          author: entry.author,
          kind: entry.kind,
          text: entry.text,
          created_at: entry.createdAt,
        })
        .execute();
    });
  }

  listServiceCaseEntries(caseRowId: string): Promise<ServiceCaseEntry[]> {
    return this.#run(async () => {
      const rows = await this.#db.selectFrom('service_case_entries').selectAll().where('case_row_id', '=', caseRowId).orderBy('created_at').orderBy('id').execute();
      return rows.map(toServiceCaseEntry);
    });
  }

  // --- erasure ---

  eraseRelationship(id: string, at: number): Promise<ErasureSummary> {
    return this.#atomically(async (tx) => {
      const rel = await tx.getRelationship(id);
      if (rel === undefined) throw unknownRelationship(id);
      const erased: ErasureSummary['erased'] = [];
      for (const category of ERASURE_CATEGORIES) {
        const count =
          category === 'relationship'
            ? await tx.#leaveTombstone(tombstoneOf(rel, at))
            : Number((await tx.#db.deleteFrom(category).where('relationship_id', '=', id).executeTakeFirst()).numDeletedRows);
        erased.push({ category, count });
      }
      return { relationshipId: id, erasedAt: at, erased };
    });
  }

  /** Writes the tombstone, if there is one to write; returns how many relationship rows it stripped (1 or 0). */
  async #leaveTombstone(tombstone: Tombstone | undefined): Promise<number> {
    if (tombstone === undefined) return 0;
    const { tombstone: t, relationship } = tombstone;
    await this.#db
      .insertInto('tombstones')
      .values(t)
      .onConflict((oc) => oc.column('did_sha256').doUpdateSet({ relationship_id: t.relationship_id, erased_at: t.erased_at }))
      .execute();
    await this.#db.updateTable('relationships').set(relationship).where('id', '=', t.relationship_id).execute();
    return 1;
  }

  isTombstoned(theirDid: string): Promise<boolean> {
    return this.#run(async () => {
      const row = await this.#db
        .selectFrom('tombstones')
        .select('did_sha256')
        .where('did_sha256', '=', tombstoneKey(theirDid))
        .executeTakeFirst();
      return row !== undefined;
    });
  }

  // --- tests ---

  snapshot(): Promise<Record<string, unknown[]>> {
    return this.#run(async () => {
      const out: Record<string, unknown[]> = {};
      for (const [table, keys] of SNAPSHOT_TABLES) {
        const { rows } = await sql<Record<string, unknown>>`select * from ${sql.table(table)} order by ${sql.join(
          keys.map((k) => sql.ref(k)),
        )}`.execute(this.#db);
        out[table] = snapshotRows(table, rows, decodeJsonb);
      }
      return out;
    });
  }
}
