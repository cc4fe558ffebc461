import type Database from 'better-sqlite3';
import { ERASURE_CATEGORIES, tombstoneKey, tombstoneOf, type Tombstone } from './erasure.js';
import { translateError, unknownIntent, unknownRelationship } from './errors.js';
import {
  IDENTITY_ROW_ID,
  IN_LIST_CHUNK,
  byCreatedThenId,
  decodeJsonText,
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
} from './rows.js';
import { SNAPSHOT_TABLES, snapshotRows, type SnapshotStore } from './testing.js';
import type { CaseState } from '../../protocol/families/service.js';
import type { ServiceCaseEntry, ServiceCaseRow } from './serviceCaseStore.js';
import type { ThingReceiptRow, ThingReceiptState, ThingRegistrationRow } from './thingStore.js';
import type {
  AgentIdentity,
  AuditEntry,
  CallerVerificationAnswer,
  CallerVerificationRow,
  CompanyRelationship,
  CompanyStore,
  ConnectorAttempt,
  ConnectorDeliveryState,
  ConnectorEvent,
  ConsentRecordRow,
  DataRightsExercise,
  DataRightsRequestRow,
  CreatedKey,
  DeadLetter,
  DeadLetterKey,
  ConsentState,
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
} from './types.js';

/** `limit ?` takes -1 for no limit. */
const NO_LIMIT = -1;

/** The keyset condition and its parameters for lists ordered by created_at, id (keyset.ts). */
function createdAfter(after: CreatedKey | undefined): { condition?: string; params: (string | number)[] } {
  return after === undefined ? { params: [] } : { condition: '(created_at, id) > (?, ?)', params: [after.createdAt, after.id] };
}

function limitOf(limit: number | undefined): number {
  return limit === undefined ? NO_LIMIT : Math.max(0, Math.floor(limit));
}

/** Serialises access to the one SQLite connection: a transaction holds it across its awaits. */
class ConnectionLock {
  #tail: Promise<void> = Promise.resolve();

  acquire(): Promise<() => void> {
    let release!: () => void;
    const next = new Promise<void>((resolve) => (release = resolve));
    const ready = this.#tail.then(() => release);
    this.#tail = this.#tail.then(() => next);
    return ready;
  }
}

/**
 * What the stores of one connection share beyond the lock: whether an erasure committed in this
 * transaction still waits for the WAL to be emptied.
 */
interface ConnectionState {
  scrubPending: boolean;
}

/**
 * The SQLite company store on better-sqlite3's synchronous API with cached prepared statements.
 * It exists beside PostgresCompanyStore (kysely) because the inbound path runs several
 * statements per message and building and compiling each through a query builder cost more than
 * executing it (measured: ~200 µs vs ~80 µs per inbound message).
 *
 * One connection, one lock: a transaction holds the lock across its awaits, so statements of other
 * requests cannot slip into it; code inside `transaction(fn)` must use `tx` only (the outer store
 * would wait for the lock it holds) and must not wait on anything but the store, since the
 * transactions grouped with it wait too.
 */
export class SqliteCompanyStore implements CompanyStore, SnapshotStore {
  readonly dialect = 'sqlite' as const;
  readonly #db: Database.Database;
  readonly #lock: ConnectionLock;
  readonly #statements: Map<string, Database.Statement>;
  readonly #inTransaction: boolean;
  readonly #state: ConnectionState;
  #closed = false;
  readonly #batch: { fn: (tx: CompanyStore) => Promise<unknown>; resolve: (value: unknown) => void; reject: (error: unknown) => void }[] = [];

  constructor(
    db: Database.Database,
    lock = new ConnectionLock(),
    statements = new Map<string, Database.Statement>(),
    inTransaction = false,
    state: ConnectionState = { scrubPending: false },
  ) {
    this.#db = db;
    this.#lock = lock;
    this.#statements = statements;
    this.#inTransaction = inTransaction;
    this.#state = state;
  }

  #stmt(source: string): Database.Statement {
    let statement = this.#statements.get(source);
    if (!statement) {
      statement = this.#db.prepare(source);
      this.#statements.set(source, statement);
    }
    return statement;
  }

  /** Runs synchronous work under the lock (directly when this store is bound to a transaction). */
  async #exec<T>(work: () => T): Promise<T> {
    if (this.#inTransaction) {
      try {
        return work();
      } catch (err) {
        throw translateError(err);
      }
    }
    const release = await this.#lock.acquire();
    try {
      return work();
    } catch (err) {
      throw translateError(err);
    } finally {
      release();
    }
  }

  /**
   * Transactions that arrive together share one BEGIN ... COMMIT (group commit): each runs in its
   * own SAVEPOINT, so one that throws is rolled back alone, and none is reported done before the
   * COMMIT that makes it durable. Under load this halves the per-message cost of committing.
   */
  transaction<T>(fn: (tx: CompanyStore) => Promise<T>): Promise<T> {
    if (this.#inTransaction) return fn(this);
    return new Promise<T>((resolve, reject) => {
      this.#batch.push({ fn: fn as (tx: CompanyStore) => Promise<unknown>, resolve: resolve as (value: unknown) => void, reject });
      if (this.#batch.length === 1) setImmediate(() => void this.#commitBatch());
    });
  }

  async #commitBatch(): Promise<void> {
    const batch = this.#batch.splice(0, this.#batch.length);
    const release = await this.#lock.acquire();
    const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
    try {
      // IMMEDIATE takes the write lock up front, so another process makes us wait (busy_timeout)
      // instead of failing the upgrade half-way through.
      this.#stmt('begin immediate').run();
      const tx = new SqliteCompanyStore(this.#db, this.#lock, this.#statements, true, this.#state);
      for (const item of batch) {
        this.#stmt('savepoint grouped').run();
        try {
          outcomes.push({ ok: true, value: await item.fn(tx) });
          this.#stmt('release grouped').run();
        } catch (error) {
          this.#stmt('rollback to grouped').run();
          this.#stmt('release grouped').run();
          outcomes.push({ ok: false, error: translateError(error) });
        }
      }
      this.#stmt('commit').run();
    } catch (error) {
      if (this.#db.inTransaction) this.#stmt('rollback').run();
      const failure = translateError(error);
      for (const item of batch) item.reject(failure);
      return;
    } finally {
      // After the COMMIT (or the rollback that undid the erasure: emptying the WAL is harmless then).
      this.#scrubWalIfPending();
      release();
    }
    batch.forEach((item, index) => {
      const outcome = outcomes[index];
      if (outcome?.ok) item.resolve(outcome.value);
      else item.reject(outcome?.error);
    });
  }

  async close(): Promise<void> {
    if (this.#inTransaction || this.#closed) return;
    this.#closed = true;
    const release = await this.#lock.acquire();
    try {
      this.#db.close();
    } finally {
      release();
    }
  }

  getIdentity(): Promise<AgentIdentity | undefined> {
    return this.#exec(() => {
      const row = this.#stmt('select did, keys, created_at from agent_identity where id = ?').get(IDENTITY_ROW_ID);
      return row === undefined ? undefined : toIdentity(row, decodeJsonText);
    });
  }

  saveIdentity(identity: AgentIdentity): Promise<void> {
    return this.#exec(() => {
      this.#stmt(
        'insert into agent_identity (id, did, keys, created_at) values (?, ?, ?, ?) on conflict (id) do update set did = excluded.did, keys = excluded.keys, created_at = excluded.created_at',
      ).run(IDENTITY_ROW_ID, identity.did, encodeJson(identity.keys), identity.createdAt);
    });
  }

  createRelationship(rel: CompanyRelationship): Promise<void> {
    return this.#exec(() => {
      this.#stmt('insert into relationships (id, their_did, customer_ref, state, created_at, updated_at) values (?, ?, ?, ?, ?, ?)').run(
        rel.id,
        rel.theirDid,
        rel.customerRef,
        rel.state,
        rel.createdAt,
        rel.updatedAt,
      );
    });
  }

  #relationshipById(id: string): CompanyRelationship | undefined {
    const row = this.#stmt('select * from relationships where id = ?').get(id);
    return row === undefined ? undefined : toRelationship(row);
  }

  getRelationship(id: string): Promise<CompanyRelationship | undefined> {
    return this.#exec(() => this.#relationshipById(id));
  }

  findRelationshipByDid(theirDid: string): Promise<CompanyRelationship | undefined> {
    return this.#exec(() => {
      const row = this.#stmt('select * from relationships where their_did = ?').get(theirDid);
      return row === undefined ? undefined : toRelationship(row);
    });
  }

  listRelationships(page: KeysetPage<CreatedKey> = {}): Promise<CompanyRelationship[]> {
    const after = createdAfter(page.after);
    const where = after.condition === undefined ? '' : ` where ${after.condition}`;
    return this.#exec(() => this.#stmt(`select * from relationships${where} order by created_at, id limit ?`).all(...after.params, limitOf(page.limit)).map(toRelationship));
  }

  setRelationshipState(id: string, state: RelationshipState, at: number): Promise<void> {
    return this.#exec(() => {
      const result = this.#stmt('update relationships set state = ?, updated_at = ? where id = ?').run(state, at, id);
      if (result.changes === 0) throw unknownRelationship(id);
    });
  }

  hasSeenMessage(messageId: string): Promise<boolean> {
    return this.#exec(() => this.#stmt('select 1 from seen_messages where message_id = ?').get(messageId) !== undefined);
  }

  recordSeenMessage(messageId: string, expiresAt: number): Promise<void> {
    return this.#exec(() => {
      this.#stmt('insert into seen_messages (message_id, expires_at) values (?, ?)').run(messageId, expiresAt);
    });
  }

  async recordSeenAndFindRelationship(messageId: string, expiresAt: number, theirDid: string): Promise<CompanyRelationship | undefined> {
    // In process, two statements cost no round trip: the interface's one-trip form is PostgreSQL's.
    await this.recordSeenMessage(messageId, expiresAt);
    return this.findRelationshipByDid(theirDid);
  }

  pruneSeenMessages(now: number): Promise<number> {
    return this.#exec(() => this.#stmt('delete from seen_messages where expires_at < ?').run(now).changes);
  }

  addMessage(message: StoredMessage): Promise<void> {
    return this.#exec(() => {
      this.#stmt('insert into messages (id, relationship_id, message_id, direction, type, body, created_at) values (?, ?, ?, ?, ?, ?, ?)').run(
        message.id,
        message.relationshipId,
        message.messageId,
        message.direction,
        message.type,
        encodeJson(message.body),
        message.createdAt,
      );
    });
  }

  listMessages(relationshipId: string, page: KeysetPage<CreatedKey> = {}): Promise<StoredMessage[]> {
    const after = createdAfter(page.after);
    const and = after.condition === undefined ? '' : ` and ${after.condition}`;
    return this.#exec(() =>
      this.#stmt(`select * from messages where relationship_id = ?${and} order by created_at, id limit ?`)
        .all(relationshipId, ...after.params, limitOf(page.limit))
        .map((row) => toStoredMessage(row, decodeJsonText)),
    );
  }

  enqueueOutbox(item: OutboxItem): Promise<void> {
    return this.#exec(() => {
      this.#stmt('insert into outbox (id, relationship_id, message_id, packed, created_at, next_attempt_at, attempts) values (?, ?, ?, ?, ?, ?, ?)').run(
        item.id,
        item.relationshipId,
        item.messageId,
        item.packed,
        item.createdAt,
        item.nextAttemptAt,
        item.attempts,
      );
    });
  }

  claimDueOutbox(now: number, limit: number, leaseMs: number, options: ClaimOptions = {}): Promise<OutboxItem[]> {
    if (limit <= 0) return Promise.resolve([]);
    // One statement claims and leases, so a claimed row is never seen as due by another claimer;
    // other processes are serialised by SQLite's write lock.
    const scoped = options.relationshipId !== undefined;
    return this.#exec(() =>
      this.#stmt(
        `update outbox set next_attempt_at = ? where id in (
           select id from outbox where next_attempt_at <= ? and relationship_id in (select id from relationships where state = 'active')
           ${scoped ? 'and relationship_id = ?' : ''}
           order by created_at, id limit ?) returning *`,
      )
        .all(...(scoped ? [now + leaseMs, now, options.relationshipId, limit] : [now + leaseMs, now, limit]))
        .map(toOutboxItem)
        .sort(byCreatedThenId),
    );
  }

  pendingOutbox(relationshipId: string, limit: number): Promise<OutboxItem[]> {
    if (limit <= 0) return Promise.resolve([]);
    return this.#exec(() => this.#stmt('select * from outbox where relationship_id = ? order by created_at, id limit ?').all(relationshipId, limit).map(toOutboxItem));
  }

  countPendingOutbox(relationshipId?: string): Promise<number> {
    return this.#exec(() =>
      toCount(relationshipId === undefined ? this.#stmt('select count(*) as count from outbox').get() : this.#stmt('select count(*) as count from outbox where relationship_id = ?').get(relationshipId)),
    );
  }

  countUndispatchedEvents(): Promise<number> {
    return this.#exec(() => toCount(this.#stmt('select count(*) as count from connector_events where dispatched_at is null').get()));
  }

  removeOutbox(relationshipId: string, messageIds: string[]): Promise<number> {
    if (messageIds.length === 0) return Promise.resolve(0);
    return this.#exec(() =>
      this.#db.transaction(() => {
        let removed = 0;
        for (let i = 0; i < messageIds.length; i += IN_LIST_CHUNK) {
          const chunk = messageIds.slice(i, i + IN_LIST_CHUNK);
          removed += this.#db
            .prepare(`delete from outbox where relationship_id = ? and message_id in (${chunk.map(() => '?').join(', ')})`)
            .run(relationshipId, ...chunk).changes;
        }
        return removed;
      })(),
    );
  }

  rescheduleOutbox(id: string, nextAttemptAt: number, attempts: number): Promise<void> {
    return this.#exec(() => {
      this.#stmt('update outbox set next_attempt_at = ?, attempts = ? where id = ?').run(nextAttemptAt, attempts, id);
    });
  }

  createDisclosureRequest(request: DisclosureRequest): Promise<void> {
    return this.#exec(() => {
      this.#stmt(
        `insert into disclosure_requests (id, relationship_id, message_id, nonce, fields, credentials, purpose, retention, legal_basis, terms_ref, state, created_at, updated_at)
         values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        request.id,
        request.relationshipId,
        request.messageId,
        request.nonce,
        encodeJson(request.fields),
        encodeJson(request.credentials),
        request.purpose,
        request.retention,
        request.legalBasis,
        request.termsRef,
        request.state,
        request.createdAt,
        request.updatedAt,
      );
    });
  }

  getDisclosureRequest(id: string): Promise<DisclosureRequest | undefined> {
    return this.#exec(() => {
      const row = this.#stmt('select * from disclosure_requests where id = ?').get(id);
      return row === undefined ? undefined : toDisclosureRequest(row, decodeJsonText);
    });
  }

  findDisclosureRequestByNonce(nonce: string): Promise<DisclosureRequest | undefined> {
    return this.#exec(() => {
      const row = this.#stmt('select * from disclosure_requests where nonce = ?').get(nonce);
      return row === undefined ? undefined : toDisclosureRequest(row, decodeJsonText);
    });
  }

  listDisclosureRequests(relationshipId: string): Promise<DisclosureRequest[]> {
    return this.#exec(() =>
      this.#stmt('select * from disclosure_requests where relationship_id = ? order by created_at, id')
        .all(relationshipId)
        .map((row) => toDisclosureRequest(row, decodeJsonText)),
    );
  }

  settleDisclosureRequest(id: string, state: Exclude<DisclosureRequestState, 'pending'>, at: number): Promise<boolean> {
    return this.#exec(
      () => this.#stmt("update disclosure_requests set state = ?, updated_at = ? where id = ? and state = 'pending'").run(state, at, id).changes > 0,
    );
  }

  saveConsentRecord(record: ConsentRecordRow): Promise<void> {
    return this.#exec(() => {
      this.#stmt('insert into consent_records (id, relationship_id, request_id, state, record, created_at, updated_at) values (?, ?, ?, ?, ?, ?, ?)').run(
        record.id,
        record.relationshipId,
        record.requestId,
        record.state,
        encodeJson(record.record),
        record.createdAt,
        record.updatedAt,
      );
    });
  }

  updateConsentRecord(id: string, state: ConsentState, record: ConsentRecordRow['record'], at: number): Promise<boolean> {
    return this.#exec(
      () => this.#stmt('update consent_records set state = ?, record = ?, updated_at = ? where id = ?').run(state, encodeJson(record), at, id).changes > 0,
    );
  }

  getConsentRecord(id: string): Promise<ConsentRecordRow | undefined> {
    return this.#exec(() => {
      const row = this.#stmt('select * from consent_records where id = ?').get(id);
      return row === undefined ? undefined : toConsentRecord(row, decodeJsonText);
    });
  }

  listConsentRecords(relationshipId: string): Promise<ConsentRecordRow[]> {
    return this.#exec(() =>
      this.#stmt('select * from consent_records where relationship_id = ? order by created_at, id')
        .all(relationshipId)
        .map((row) => toConsentRecord(row, decodeJsonText)),
    );
  }

  createTermsAgreement(row: TermsAgreementRow): Promise<void> {
    return this.#exec(() => {
      this.#stmt(
        `insert into terms_agreements (id, relationship_id, proposed_by, agreement_id, state, thread_id, signed, obligations, reason, created_at, updated_at)
         values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        row.id,
        row.relationshipId,
        row.proposedBy,
        row.agreementId,
        row.state,
        row.threadId,
        encodeJson(row.signed),
        encodeJson(row.obligations),
        row.reason,
        row.createdAt,
        row.updatedAt,
      );
    });
  }

  getTermsAgreement(id: string): Promise<TermsAgreementRow | undefined> {
    return this.#exec(() => {
      const row = this.#stmt('select * from terms_agreements where id = ?').get(id);
      return row === undefined ? undefined : toTermsAgreement(row, decodeJsonText);
    });
  }

  listTermsAgreements(relationshipId: string): Promise<TermsAgreementRow[]> {
    return this.#exec(() =>
      this.#stmt('select * from terms_agreements where relationship_id = ? order by created_at, id')
        .all(relationshipId)
        .map((row) => toTermsAgreement(row, decodeJsonText)),
    );
  }

  currentTermsAgreement(relationshipId: string): Promise<TermsAgreementRow | undefined> {
    return this.#exec(() => {
      const row = this.#stmt("select * from terms_agreements where relationship_id = ? and state = 'agreed'").get(relationshipId);
      return row === undefined ? undefined : toTermsAgreement(row, decodeJsonText);
    });
  }

  findTermsAgreementsByThread(relationshipId: string, threadId: string): Promise<TermsAgreementRow[]> {
    return this.#exec(() =>
      this.#stmt('select * from terms_agreements where relationship_id = ? and thread_id = ? order by created_at, id')
        .all(relationshipId, threadId)
        .map((row) => toTermsAgreement(row, decodeJsonText)),
    );
  }

  updateTermsAgreement(id: string, change: TermsAgreementChange, at: number): Promise<boolean> {
    const columns = ['state = ?'];
    const params: (string | number | null)[] = [change.state];
    if (change.signed !== undefined) {
      columns.push('signed = ?');
      params.push(encodeJson(change.signed));
    }
    if (change.obligations !== undefined) {
      columns.push('obligations = ?');
      params.push(encodeJson(change.obligations));
    }
    if (change.reason !== undefined) {
      columns.push('reason = ?');
      params.push(change.reason);
    }
    // At most eight statements, each cached like the fixed ones.
    return this.#exec(() => this.#stmt(`update terms_agreements set ${columns.join(', ')}, updated_at = ? where id = ?`).run(...params, at, id).changes > 0);
  }

  upsertHeldField(field: HeldField): Promise<void> {
    return this.#exec(() => {
      this.#stmt(
        `insert into held_fields (relationship_id, field, value, version, consent_record_id, source, issuer, updated_at) values (?, ?, ?, ?, ?, ?, ?, ?)
         on conflict (relationship_id, field) do update set value = excluded.value, version = excluded.version, consent_record_id = excluded.consent_record_id,
           source = excluded.source, issuer = excluded.issuer, updated_at = excluded.updated_at`,
      ).run(field.relationshipId, field.field, encodeJson(field.value), field.version, field.consentRecordId, field.source, field.issuer, field.updatedAt);
    });
  }

  listHeldFields(relationshipId: string): Promise<HeldField[]> {
    return this.#exec(() =>
      this.#stmt('select * from held_fields where relationship_id = ? order by field')
        .all(relationshipId)
        .map((row) => toHeldField(row, decodeJsonText)),
    );
  }

  deleteHeldFields(relationshipId: string, fields: readonly string[]): Promise<string[]> {
    return this.#exec(() =>
      this.#stmt('delete from held_fields where relationship_id = ? and field in (select value from json_each(?)) returning field')
        .all(relationshipId, JSON.stringify(fields))
        .map((row) => String((row as { field: unknown }).field))
        .sort(),
    );
  }

  getProfileVersion(relationshipId: string): Promise<number> {
    return this.#exec(() => {
      return toProfileVersion(this.#stmt('select version from profile_versions where relationship_id = ?').get(relationshipId));
    });
  }

  setProfileVersion(relationshipId: string, version: number, at: number): Promise<void> {
    return this.#exec(() => {
      this.#stmt(
        'insert into profile_versions (relationship_id, version, updated_at) values (?, ?, ?) on conflict (relationship_id) do update set version = excluded.version, updated_at = excluded.updated_at',
      ).run(relationshipId, version, at);
    });
  }

  addPresentation(presentation: Presentation): Promise<void> {
    return this.#exec(() => {
      this.#stmt('insert into presentations (id, relationship_id, message_id, kind, sd_jwt, received_at) values (?, ?, ?, ?, ?, ?)').run(
        presentation.id,
        presentation.relationshipId,
        presentation.messageId,
        presentation.kind,
        presentation.sdJwt,
        presentation.receivedAt,
      );
    });
  }

  replacePresentation(id: string, sdJwt: string | null): Promise<boolean> {
    return this.#exec(() =>
      sdJwt === null
        ? this.#stmt('delete from presentations where id = ?').run(id).changes > 0
        : this.#stmt('update presentations set sd_jwt = ? where id = ?').run(sdJwt, id).changes > 0,
    );
  }

  listPresentations(relationshipId: string): Promise<Presentation[]> {
    return this.#exec(() => this.#stmt('select * from presentations where relationship_id = ? order by received_at, id').all(relationshipId).map(toPresentation));
  }

  enqueueEvent(event: ConnectorEvent): Promise<void> {
    return this.#exec(() => {
      this.#stmt(
        'insert into connector_events (id, relationship_id, type, payload, created_at, next_attempt_at, attempts, dispatched_at) values (?, ?, ?, ?, ?, ?, ?, ?)',
      ).run(event.id, event.relationshipId, event.type, encodeJson(event.payload), event.createdAt, event.nextAttemptAt, event.attempts, event.dispatchedAt);
    });
  }

  claimDueEvents(now: number, limit: number, leaseMs: number): Promise<ConnectorEvent[]> {
    if (limit <= 0) return Promise.resolve([]);
    // As claimDueOutbox: one statement claims and leases; SQLite's write lock serialises processes.
    return this.#exec(() =>
      this.#stmt(
        `update connector_events set next_attempt_at = ? where id in (
           select id from connector_events where dispatched_at is null and next_attempt_at <= ?
           order by created_at, id limit ?) returning *`,
      )
        .all(now + leaseMs, now, limit)
        .map((row) => toConnectorEvent(row, decodeJsonText))
        .sort(byCreatedThenId),
    );
  }

  markEventDispatched(id: string, at: number, redactedPayload?: unknown): Promise<void> {
    return this.#exec(() => {
      if (redactedPayload === undefined) {
        this.#stmt('update connector_events set dispatched_at = ? where id = ?').run(at, id);
        return;
      }
      this.#stmt('update connector_events set dispatched_at = ?, payload = ? where id = ?').run(at, encodeJson(redactedPayload), id);
      // The payload redacted is the last of an erasure (the erased customer's reference): scrubbed like it.
      this.#requestScrub();
    });
  }

  replaceEventPayload(id: string, payload: unknown): Promise<boolean> {
    return this.#exec(() => this.#stmt('update connector_events set payload = ? where id = ?').run(encodeJson(payload), id).changes > 0);
  }

  rescheduleEvent(id: string, nextAttemptAt: number, attempts: number): Promise<void> {
    return this.#exec(() => {
      this.#stmt('update connector_events set next_attempt_at = ?, attempts = ? where id = ?').run(nextAttemptAt, attempts, id);
    });
  }

  listEvents(options: { relationshipId?: string; undispatchedOnly?: boolean } & KeysetPage<CreatedKey> = {}): Promise<ConnectorEvent[]> {
    const conditions: string[] = [];
    const params: (string | number)[] = [];
    if (options.relationshipId !== undefined) {
      conditions.push('relationship_id = ?');
      params.push(options.relationshipId);
    }
    if (options.undispatchedOnly === true) conditions.push('dispatched_at is null');
    const after = createdAfter(options.after);
    if (after.condition !== undefined) conditions.push(after.condition);
    const where = conditions.length === 0 ? '' : ` where ${conditions.join(' and ')}`;
    // Eight possible statements, each cached like the fixed ones.
    return this.#exec(() =>
      this.#stmt(`select * from connector_events${where} order by created_at, id limit ?`)
        .all(...params, ...after.params, limitOf(options.limit))
        .map((row) => toConnectorEvent(row, decodeJsonText)),
    );
  }

  listConnectorAttempts(eventIds: readonly string[]): Promise<ConnectorAttempt[]> {
    return this.#exec(() =>
      eventIds.length === 0
        ? []
        : this.#stmt('select * from connector_deliveries where event_id in (select value from json_each(?)) order by event_id, connector_id')
            .all(JSON.stringify(eventIds))
            .map(toConnectorAttempt),
    );
  }

  saveConnectorAttempt(attempt: ConnectorAttempt): Promise<void> {
    return this.#exec(() => {
      // An event erased while a connector was delivering it is gone: nothing to record then.
      this.#stmt(
        `insert into connector_deliveries (event_id, connector_id, state, attempts, next_attempt_at, last_error, updated_at)
         select ?, ?, ?, ?, ?, ?, ? where exists (select 1 from connector_events where id = ?)
         on conflict (event_id, connector_id) do update set state = excluded.state, attempts = excluded.attempts,
           next_attempt_at = excluded.next_attempt_at, last_error = excluded.last_error, updated_at = excluded.updated_at`,
      ).run(attempt.eventId, attempt.connectorId, attempt.state, attempt.attempts, attempt.nextAttemptAt, attempt.lastError, attempt.updatedAt, attempt.eventId);
    });
  }

  async settleEvent(eventId: string, attempts: readonly ConnectorAttempt[], at: number, redactedPayload?: unknown): Promise<void> {
    // One connection and no round trips: the same statements as the two methods, in one transaction.
    await this.transaction(async (tx) => {
      for (const attempt of attempts) await tx.saveConnectorAttempt({ ...attempt, eventId });
      await tx.markEventDispatched(eventId, at, redactedPayload);
    });
  }

  listDeadLetters(options: { connectorId?: string; limit?: number; after?: DeadLetterKey } = {}): Promise<DeadLetter[]> {
    const limit = Math.max(0, Math.floor(options.limit ?? 100));
    const conditions = ["state = 'dead'"];
    const params: (string | number)[] = [];
    if (options.connectorId !== undefined) {
      conditions.push('connector_id = ?');
      params.push(options.connectorId);
    }
    if (options.after !== undefined) {
      conditions.push('(updated_at, event_id, connector_id) < (?, ?, ?)');
      params.push(options.after.updatedAt, options.after.eventId, options.after.connectorId);
    }
    return this.#exec(() => {
      const rows = this.#stmt(`select * from connector_deliveries where ${conditions.join(' and ')} order by updated_at desc, event_id desc, connector_id desc limit ?`)
        .all(...params, limit)
        .map(toConnectorAttempt);
      return rows.flatMap((attempt) => {
        const event = this.#stmt('select * from connector_events where id = ?').get(attempt.eventId);
        return event === undefined ? [] : [{ event: toConnectorEvent(event, decodeJsonText), attempt }];
      });
    });
  }

  replayDeadLetter(eventId: string, connectorId: string, at: number): Promise<boolean> {
    return this.#exec(() =>
      this.#db.transaction(() => {
        const changed = this.#stmt(
          `update connector_deliveries set state = 'failed', attempts = 0, next_attempt_at = ?, last_error = null, updated_at = ? where event_id = ? and connector_id = ? and state = 'dead'`,
        ).run(at, at, eventId, connectorId).changes;
        if (changed === 0) return false;
        this.#stmt('update connector_events set dispatched_at = null, next_attempt_at = ? where id = ?').run(at, eventId);
        return true;
      })(),
    );
  }

  countConnectorDeliveries(): Promise<{ connectorId: string; state: ConnectorDeliveryState; count: number }[]> {
    return this.#exec(() =>
      (this.#stmt('select connector_id, state, count(*) as count from connector_deliveries group by connector_id, state order by connector_id, state').all() as {
        connector_id: string;
        state: ConnectorDeliveryState;
        count: number;
      }[]).map((row) => ({ connectorId: row.connector_id, state: row.state, count: Number(row.count) })),
    );
  }

  // --- data rights ---

  saveDataRightsRequest(row: DataRightsRequestRow): Promise<boolean> {
    return this.#exec(
      () =>
        this.#stmt(
          `insert into data_rights_requests (id, relationship_id, request_id, exercise, status, reason, received_at, updated_at) values (?, ?, ?, ?, ?, ?, ?, ?)
           on conflict (relationship_id, request_id) do nothing`,
        ).run(row.id, row.relationshipId, row.requestId, row.exercise, row.status, row.reason, row.receivedAt, row.updatedAt).changes > 0,
    );
  }

  getDataRightsRequest(relationshipId: string, requestId: string): Promise<DataRightsRequestRow | undefined> {
    return this.#exec(() => {
      const row = this.#stmt('select * from data_rights_requests where relationship_id = ? and request_id = ?').get(relationshipId, requestId);
      return row === undefined ? undefined : toDataRightsRequest(row);
    });
  }

  listDataRightsRequests(options: { relationshipId?: string; limit?: number } = {}): Promise<DataRightsRequestRow[]> {
    const limit = Math.max(0, Math.floor(options.limit ?? 100));
    return this.#exec(() =>
      (options.relationshipId === undefined
        ? this.#stmt('select * from data_rights_requests order by received_at desc, id desc limit ?').all(limit)
        : this.#stmt('select * from data_rights_requests where relationship_id = ? order by received_at desc, id desc limit ?').all(options.relationshipId, limit)
      ).map(toDataRightsRequest),
    );
  }

  countDataRightsRequests(relationshipId: string, exercise: DataRightsExercise, since: number): Promise<number> {
    return this.#exec(() =>
      toCount(this.#stmt('select count(*) as count from data_rights_requests where relationship_id = ? and exercise = ? and received_at >= ?').get(relationshipId, exercise, since)),
    );
  }

  createReceivedIntent(intent: ReceivedIntent): Promise<void> {
    return this.#exec(() => {
      this.#stmt(
        `insert into intents (id, relationship_id, message_id, demand, outcome, currency_required, expires_at, state, created_at, updated_at)
         values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        intent.id,
        intent.relationshipId,
        intent.messageId,
        encodeJson(intent.demand),
        intent.outcome,
        intent.currencyRequired ? 1 : 0,
        intent.expiresAt,
        intent.state,
        intent.createdAt,
        intent.updatedAt,
      );
    });
  }

  getReceivedIntent(id: string): Promise<ReceivedIntent | undefined> {
    return this.#exec(() => {
      const row = this.#stmt('select * from intents where id = ?').get(id);
      return row === undefined ? undefined : toReceivedIntent(row, decodeJsonText);
    });
  }

  listReceivedIntents(options: { relationshipId?: string; state?: ReceivedIntentState } & KeysetPage<CreatedKey> = {}): Promise<ReceivedIntent[]> {
    const conditions: string[] = [];
    const params: (string | number)[] = [];
    if (options.relationshipId !== undefined) {
      conditions.push('relationship_id = ?');
      params.push(options.relationshipId);
    }
    if (options.state !== undefined) {
      conditions.push('state = ?');
      params.push(options.state);
    }
    const after = createdAfter(options.after);
    if (after.condition !== undefined) conditions.push(after.condition);
    const where = conditions.length === 0 ? '' : ` where ${conditions.join(' and ')}`;
    // Eight possible statements, each cached like the fixed ones.
    return this.#exec(() =>
      this.#stmt(`select * from intents${where} order by created_at, id limit ?`)
        .all(...params, ...after.params, limitOf(options.limit))
        .map((row) => toReceivedIntent(row, decodeJsonText)),
    );
  }

  settleReceivedIntent(id: string, state: Exclude<ReceivedIntentState, 'open'>, at: number): Promise<boolean> {
    return this.#exec(() => this.#stmt("update intents set state = ?, updated_at = ? where id = ? and state = 'open'").run(state, at, id).changes > 0);
  }

  createOffer(offer: OfferRow): Promise<void> {
    return this.#exec(() => {
      // Inserts only if the intent is the relationship's: one statement, so nothing slips between check and write.
      const inserted = this.#stmt(
        `insert into offers (id, intent_id, relationship_id, signed, state, created_at, updated_at)
         select ?, id, relationship_id, ?, ?, ?, ? from intents where id = ? and relationship_id = ?`,
      ).run(offer.id, encodeJson(offer.signed), offer.state, offer.createdAt, offer.updatedAt, offer.intentId, offer.relationshipId).changes;
      if (inserted > 0) return;
      if (this.#relationshipById(offer.relationshipId) === undefined) throw unknownRelationship(offer.relationshipId);
      throw unknownIntent(offer.intentId);
    });
  }

  getOffer(id: string): Promise<OfferRow | undefined> {
    return this.#exec(() => {
      const row = this.#stmt('select * from offers where id = ?').get(id);
      return row === undefined ? undefined : toOffer(row, decodeJsonText);
    });
  }

  listOffers(intentId: string): Promise<OfferRow[]> {
    return this.#exec(() =>
      this.#stmt('select * from offers where intent_id = ? order by created_at, id')
        .all(intentId)
        .map((row) => toOffer(row, decodeJsonText)),
    );
  }

  settleOffer(id: string, state: Exclude<OfferState, 'offered'>, at: number): Promise<boolean> {
    return this.#exec(() => this.#stmt("update offers set state = ?, updated_at = ? where id = ? and state = 'offered'").run(state, at, id).changes > 0);
  }

  createVerification(row: CallerVerificationRow): Promise<void> {
    return this.#exec(() => {
      this.#stmt(
        `insert into caller_verifications (id, relationship_id, message_id, code, operator, state, expires_at, created_at, answered_at, answer_message_id, signer_kid, answer_jws)
         values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(row.id, row.relationshipId, row.messageId, row.code, row.operator, row.state, row.expiresAt, row.createdAt, row.answeredAt, row.answerMessageId, row.signerKid, row.answerJws);
    });
  }

  getVerification(id: string): Promise<CallerVerificationRow | undefined> {
    return this.#exec(() => {
      const row = this.#stmt('select * from caller_verifications where id = ?').get(id);
      return row === undefined ? undefined : toCallerVerification(row);
    });
  }

  listVerifications(relationshipId: string): Promise<CallerVerificationRow[]> {
    return this.#exec(() =>
      this.#stmt('select * from caller_verifications where relationship_id = ? order by created_at desc, id desc')
        .all(relationshipId)
        .map(toCallerVerification),
    );
  }

  answerVerification(id: string, answer: CallerVerificationAnswer): Promise<boolean> {
    return this.#exec(
      () =>
        this.#stmt(
          "update caller_verifications set state = ?, answered_at = ?, answer_message_id = ?, signer_kid = ?, answer_jws = ? where id = ? and state = 'pending'",
        ).run(answer.state, answer.answeredAt, answer.answerMessageId, answer.signerKid, answer.answerJws, id).changes > 0,
    );
  }

  addAuditEntry(entry: AuditEntry): Promise<void> {
    return this.#exec(() => {
      this.#stmt('insert into audit_log (id, operator, relationship_id, action, at) values (?, ?, ?, ?, ?)').run(entry.id, entry.operator, entry.relationshipId, entry.action, entry.at);
    });
  }

  listAuditEntries(options: { relationshipId?: string; limit?: number } = {}): Promise<AuditEntry[]> {
    const limit = Math.min(Math.max(1, Math.trunc(options.limit ?? AUDIT_DEFAULT_LIMIT)), AUDIT_MAX_LIMIT);
    return this.#exec(() =>
      (options.relationshipId === undefined
        ? this.#stmt('select * from audit_log order by at desc, id desc limit ?').all(limit)
        : this.#stmt('select * from audit_log where relationship_id = ? order by at desc, id desc limit ?').all(options.relationshipId, limit)
      ).map(toAuditEntry),
    );
  }

  findRelationshipsByHeldValue(value: string): Promise<string[]> {
    // Sorted here: the databases' collations need not agree on byte order; the value must be a JSON string (not an address object).
    return this.#exec(() =>
      (
        this.#stmt(
          "select distinct relationship_id from held_fields where json_type(value) = 'text' and lower(json_extract(value, '$')) = lower(?)",
        ).all(value) as { relationship_id: string }[]
      )
        .map((row) => row.relationship_id)
        .sort(),
    );
  }

  // --- her things: receipts sent, registrations received ---

  createThingReceipt(row: ThingReceiptRow): Promise<void> {
    return this.#exec(() => {
      this.#stmt('insert into thing_receipts (id, relationship_id, message_id, signed, state, created_at, answered_at) values (?, ?, ?, ?, ?, ?, ?)').run(
        row.id,
        row.relationshipId,
        row.messageId,
        encodeJson(row.signed),
        row.state,
        row.createdAt,
        row.answeredAt,
      );
    });
  }

  getThingReceipt(id: string): Promise<ThingReceiptRow | undefined> {
    return this.#exec(() => {
      const row = this.#stmt('select * from thing_receipts where id = ?').get(id);
      return row === undefined ? undefined : toThingReceipt(row, decodeJsonText);
    });
  }

  listThingReceipts(relationshipId?: string): Promise<ThingReceiptRow[]> {
    return this.#exec(() =>
      (relationshipId === undefined
        ? this.#stmt('select * from thing_receipts order by created_at, id').all()
        : this.#stmt('select * from thing_receipts where relationship_id = ? order by created_at, id').all(relationshipId)
      ).map((row) => toThingReceipt(row, decodeJsonText)),
    );
  }

  answerThingReceipt(id: string, state: Exclude<ThingReceiptState, 'sent'>, at: number): Promise<boolean> {
    return this.#exec(() => this.#stmt("update thing_receipts set state = ?, answered_at = ? where id = ? and state = 'sent'").run(state, at, id).changes > 0);
  }

  addThingRegistration(row: ThingRegistrationRow): Promise<void> {
    return this.#exec(() => {
      this.#stmt(
        'insert into thing_registrations (id, relationship_id, consent_record_id, message_id, gtin, model, claims, sd_jwt, created_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ).run(row.id, row.relationshipId, row.consentRecordId, row.messageId, row.gtin, row.model, encodeJson(row.claims), row.sdJwt, row.createdAt);
    });
  }

  getThingRegistration(id: string): Promise<ThingRegistrationRow | undefined> {
    return this.#exec(() => {
      const row = this.#stmt('select * from thing_registrations where id = ?').get(id);
      return row === undefined ? undefined : toThingRegistration(row, decodeJsonText);
    });
  }

  listThingRegistrations(filter: { relationshipId?: string; gtin?: string; model?: string } = {}): Promise<ThingRegistrationRow[]> {
    return this.#exec(() => {
      const where: string[] = [];
      const params: string[] = [];
      if (filter.relationshipId !== undefined) (where.push('relationship_id = ?'), params.push(filter.relationshipId));
      if (filter.gtin !== undefined) (where.push('gtin = ?'), params.push(filter.gtin));
      if (filter.model !== undefined) (where.push('model = ?'), params.push(filter.model));
      const sqlText = `select * from thing_registrations${where.length > 0 ? ` where ${where.join(' and ')}` : ''} order by created_at, id`;
      return this.#stmt(sqlText)
        .all(...params)
        .map((row) => toThingRegistration(row, decodeJsonText));
    });
  }

  // --- service cases ---

  createServiceCase(row: ServiceCaseRow): Promise<boolean> {
    return this.#exec(
      () =>
        this.#stmt(
          `insert into service_cases (id, relationship_id, case_id, state, warranty_claim, details, created_at, updated_at)
           values (?, ?, ?, ?, ?, ?, ?, ?) on conflict (relationship_id, case_id) do nothing`,
        ).run(row.id, row.relationshipId, row.caseId, row.state, row.warrantyClaim ? 1 : 0, encodeJson(row.details), row.createdAt, row.updatedAt).changes > 0,
    );
  }

  getServiceCase(id: string): Promise<ServiceCaseRow | undefined> {
    return this.#exec(() => {
      const row = this.#stmt('select * from service_cases where id = ?').get(id);
      return row === undefined ? undefined : toServiceCase(row, decodeJsonText);
    });
  }

  findServiceCase(relationshipId: string, caseId: string): Promise<ServiceCaseRow | undefined> {
    return this.#exec(() => {
      const row = this.#stmt('select * from service_cases where relationship_id = ? and case_id = ?').get(relationshipId, caseId);
      return row === undefined ? undefined : toServiceCase(row, decodeJsonText);
    });
  }

  listServiceCases(options: { state?: CaseState; relationshipId?: string; limit?: number } = {}): Promise<ServiceCaseRow[]> {
    const limit = Math.min(Math.max(1, Math.trunc(options.limit ?? AUDIT_DEFAULT_LIMIT)), AUDIT_MAX_LIMIT);
    const where: string[] = [];
    const params: unknown[] = [];
    if (options.state !== undefined) {
      where.push('state = ?');
      params.push(options.state);
    }
    if (options.relationshipId !== undefined) {
      where.push('relationship_id = ?');
      params.push(options.relationshipId);
    }
    const sqlText = `select * from service_cases${where.length > 0 ? ` where ${where.join(' and ')}` : ''} order by updated_at desc, id desc limit ?`;
    return this.#exec(() =>
      this.#stmt(sqlText)
        .all(...params, limit)
        .map((row) => toServiceCase(row, decodeJsonText)),
    );
  }

  setServiceCaseState(id: string, state: CaseState, at: number): Promise<boolean> {
    return this.#exec(() => this.#stmt("update service_cases set state = ?, updated_at = ? where id = ? and state <> 'resolved'").run(state, at, id).changes > 0);
  }

  addServiceCaseEntry(entry: ServiceCaseEntry): Promise<void> {
    return this.#exec(() => {
      this.#stmt('insert into service_case_entries (id, case_row_id, relationship_id, message_id, author, kind, text, created_at) values (?, ?, ?, ?, ?, ?, ?, ?)').run(
        entry.id,
        entry.caseRowId,
        entry.relationshipId,
        entry.messageId,
        entry.author,
        entry.kind,
        entry.text,
        entry.createdAt,
      );
    });
  }

  listServiceCaseEntries(caseRowId: string): Promise<ServiceCaseEntry[]> {
    return this.#exec(() =>
      this.#stmt('select * from service_case_entries where case_row_id = ? order by created_at, id')
        .all(caseRowId)
        .map(toServiceCaseEntry),
    );
  }

  eraseRelationship(id: string, at: number): Promise<ErasureSummary> {
    return this.#exec(() => {
      const summary = this.#db.transaction((): ErasureSummary => {
        const rel = this.#relationshipById(id);
        if (rel === undefined) throw unknownRelationship(id);
        const erased = ERASURE_CATEGORIES.map((category) => ({
          category,
          count: category === 'relationship' ? this.#leaveTombstone(tombstoneOf(rel, at)) : this.#stmt(`delete from ${category} where relationship_id = ?`).run(id).changes,
        }));
        return { relationshipId: id, erasedAt: at, erased };
      })();
      // secure_delete zeroed the rows in the pages, but the WAL still holds earlier copies of those
      // pages until a checkpoint overwrites it. Inside a transaction the checkpoint cannot run: the
      // transaction runs it once it has committed (#commitBatch).
      this.#requestScrub();
      return summary;
    });
  }

  /** Empties the WAL now, or, inside a transaction, once it has committed. */
  #requestScrub(): void {
    this.#state.scrubPending = true;
    if (!this.#inTransaction) this.#scrubWalIfPending();
  }

  /**
   * Empties the WAL after an erasure: a TRUNCATE checkpoint copies the (zeroed) pages back into
   * the database file and truncates the WAL to nothing. Runs under the connection lock, outside
   * any transaction. A checkpoint that readers in other processes keep from finishing (SQLite
   * waits busy_timeout for them) or that fails stays pending and is tried after the next
   * transaction; what was committed stays committed either way.
   */
  #scrubWalIfPending(): void {
    if (!this.#state.scrubPending || this.#db.inTransaction || !this.#db.open) return;
    try {
      const [result] = this.#db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
      this.#state.scrubPending = result?.busy !== 0;
    } catch {
      // Left pending: the next transaction tries again.
    }
  }

  /** Writes the tombstone, if there is one to write; returns how many relationship rows it stripped (1 or 0). */
  #leaveTombstone(tombstone: Tombstone | undefined): number {
    if (tombstone === undefined) return 0;
    const { tombstone: t, relationship: r } = tombstone;
    this.#stmt(
      'insert into tombstones (did_sha256, relationship_id, erased_at) values (?, ?, ?) on conflict (did_sha256) do update set relationship_id = excluded.relationship_id, erased_at = excluded.erased_at',
    ).run(t.did_sha256, t.relationship_id, t.erased_at);
    this.#stmt('update relationships set their_did = ?, customer_ref = ?, state = ?, updated_at = ? where id = ?').run(r.their_did, r.customer_ref, r.state, r.updated_at, t.relationship_id);
    return 1;
  }

  isTombstoned(theirDid: string): Promise<boolean> {
    return this.#exec(() => this.#stmt('select 1 from tombstones where did_sha256 = ?').get(tombstoneKey(theirDid)) !== undefined);
  }

  snapshot(): Promise<Record<string, unknown[]>> {
    return this.#exec(() => {
      const out: Record<string, unknown[]> = {};
      for (const [table, keys] of SNAPSHOT_TABLES) {
        const rows = this.#db.prepare(`select * from "${table}" order by ${keys.map((k) => `"${k}"`).join(', ')}`).all() as Record<string, unknown>[];
        out[table] = snapshotRows(table, rows, decodeJsonText);
      }
      return out;
    });
  }
}
