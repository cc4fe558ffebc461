import { z } from 'zod';
import { signedAgreementSchema, type SignedAgreement } from '../../protocol/terms/agreementRecord.js';
import { obligationsSchema, type Obligations } from '../../protocol/terms/roster.js';
import { KeptRead, type VaultContext } from './context.js';
import { recordIdSchema, timestampSchema } from './json.js';

const TABLE = 'agreements';
/** Blind-index scope of `thread_idx` = HMAC(relationshipId + '\n' + threadId). */
const THREAD_SCOPE = 'agreements.thread';

export const agreementStateSchema = z.enum(['proffered', 'countered', 'agreed', 'superseded', 'rejected', 'declined']);
export type AgreementState = z.infer<typeof agreementStateSchema>;

export const agreementProposerSchema = z.enum(['person', 'company']);
export type AgreementProposer = z.infer<typeof agreementProposerSchema>;

/**
 * The encrypted part of an agreement entry. Its documents are checked with the protocol's schemas
 * (src/protocol/terms/, docs/protocol/terms-records.md) when written and parsed with them, once,
 * when the blob is opened: callers get typed documents, and a blob whose document does not parse
 * is `vault.corrupt`.
 */
export const agreementDataSchema = z.object({
  /** The negotiation this record belongs to: the id of the proffered record that opened it (answers carry it as `thid`). */
  threadId: z.string().min(1),
  /** The agreement of the roster (its URI). */
  agreementId: z.string().min(1),
  /** The signed agreement record (signed by the proposer, or by both once agreed). */
  signed: signedAgreementSchema,
  /** The machine-readable obligations of the agreement, as agreed. */
  obligations: obligationsSchema,
  /** Why it was rejected, declined or superseded, if anyone said. */
  reason: z.string().nullable(),
});
export type AgreementData = z.infer<typeof agreementDataSchema>;

export const agreementEntrySchema = agreementDataSchema.extend({
  /** The record's own id (a UUID chosen by whoever proposed it). */
  id: recordIdSchema,
  relationshipId: recordIdSchema,
  proposedBy: agreementProposerSchema,
  state: agreementStateSchema,
  createdAt: timestampSchema,
  updatedAt: timestampSchema,
});
export type AgreementEntry = z.infer<typeof agreementEntrySchema>;

/** Insert input; `createdAt` defaults to now and `updatedAt` to `createdAt` (import gives both). */
export type NewAgreement = Omit<AgreementEntry, 'createdAt' | 'updatedAt'> & Partial<Pick<AgreementEntry, 'createdAt' | 'updatedAt'>>;

/** What {@link AgreementRepo.update} changes: always the state; the documents and reason if given. */
export interface AgreementChange {
  state: AgreementState;
  signed?: SignedAgreement;
  obligations?: Obligations;
  reason?: string | null;
}

const rowSchema = z.object({
  id: recordIdSchema,
  relationship_id: recordIdSchema,
  proposed_by: agreementProposerSchema,
  state: agreementStateSchema,
  created_at: timestampSchema,
  updated_at: timestampSchema,
  data: z.instanceof(Buffer),
});

const SELECT = 'SELECT id, relationship_id, proposed_by, state, created_at, updated_at, data FROM agreements';

/** Where a relationship's terms stand: what the relationship list shows, without the documents. */
export interface AgreementStanding {
  /** The entry in force, if any. */
  inForce: { id: string; agreementId: string; outcome: SignedAgreement['record']['outcome']; since: number } | null;
  /** The last entry's state when nothing is in force (e.g. rejected), else null. */
  lastState: AgreementState | null;
  /** A counter or company proffer waits for her answer. */
  awaitingHer: boolean;
}

const standingRowSchema = rowSchema.extend({ data: z.instanceof(Buffer).nullable() });
/** The plaintext columns, and the blob only of the entry in force (the only one whose documents the standing needs). */
const STANDING_SELECT = `SELECT id, relationship_id, proposed_by, state, created_at, updated_at,
  CASE WHEN state = 'agreed' THEN data END AS data FROM agreements`;
const ORDER = 'ORDER BY created_at, rowid';

/**
 * Her terms agreement records (IEEE 7012-style): proffers, counters and the agreement in force,
 * at most one `agreed` entry per relationship (a unique partial index).
 */
export class AgreementRepo {
  readonly #ctx: VaultContext;
  readonly #standings: KeptRead<ReadonlyMap<string, Readonly<AgreementStanding>>>;

  constructor(ctx: VaultContext) {
    this.#ctx = ctx;
    // Every write to this table goes through ctx.write, so the table's own version is enough.
    this.#standings = new KeptRead(ctx, TABLE);
  }

  #threadIndex(relationshipId: string, threadId: string): string {
    return this.#ctx.index(THREAD_SCOPE, `${relationshipId}\n${threadId}`);
  }

  #toEntry(raw: unknown): AgreementEntry {
    const row = this.#ctx.row(TABLE, rowSchema, raw);
    const data = this.#ctx.open(TABLE, row.id, agreementDataSchema, row.data);
    return {
      id: row.id,
      relationshipId: row.relationship_id,
      proposedBy: row.proposed_by,
      state: row.state,
      threadId: data.threadId,
      agreementId: data.agreementId,
      signed: data.signed,
      obligations: data.obligations,
      reason: data.reason,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    };
  }

  /**
   * @throws VaultError `vault.corrupt` for invalid input, `vault.conflict` if the id is taken or the
   * relationship already has an `agreed` entry (call {@link supersedeCurrent} first);
   * RelationshipError `relationship.unknown` if the relationship does not exist. Nothing is written.
   */
  insert(input: NewAgreement): AgreementEntry {
    const { createdAt = this.#ctx.clock.now(), updatedAt = createdAt, ...rest } = input;
    const entry = this.#ctx.check(TABLE, agreementEntrySchema, { ...rest, createdAt, updatedAt });
    const blob = this.#ctx.seal(TABLE, entry.id, agreementDataSchema, {
      threadId: entry.threadId,
      agreementId: entry.agreementId,
      signed: entry.signed,
      obligations: entry.obligations,
      reason: entry.reason,
    });
    this.#ctx.write(TABLE, () =>
      this.#ctx
        .stmt(
          `INSERT INTO agreements (id, relationship_id, proposed_by, state, thread_idx, created_at, updated_at, data)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          entry.id,
          entry.relationshipId,
          entry.proposedBy,
          entry.state,
          this.#threadIndex(entry.relationshipId, entry.threadId),
          entry.createdAt,
          entry.updatedAt,
          blob,
        ),
    );
    return entry;
  }

  get(id: string): AgreementEntry | undefined {
    const raw = this.#ctx.stmt(`${SELECT} WHERE id = ?`).get(id);
    return raw === undefined ? undefined : this.#toEntry(raw);
  }

  /** Every relationship's entries, each oldest first, in one query: the relationship list's terms. */
  /**
   * Where each relationship's terms stand, by relationship: the relationship list's terms column.
   * Only the entries in force are decrypted (the rest is read from the plaintext columns), and the
   * result is kept until this table changes: with thousands of relationships, opening every signed
   * record on each refresh cost more than all the rest of the list.
   */
  standings(): ReadonlyMap<string, Readonly<AgreementStanding>> {
    return this.#standings.get(() => this.#foldStandings(this.#ctx.stmt(`${STANDING_SELECT} ${ORDER}`).all()));
  }

  /** Where one relationship's terms stand ({@link standings} for one, read afresh). */
  standing(relationshipId: string): Readonly<AgreementStanding> | undefined {
    return this.#foldStandings(this.#ctx.stmt(`${STANDING_SELECT} WHERE relationship_id = ? ${ORDER}`).all(relationshipId)).get(relationshipId);
  }

  #foldStandings(rows: unknown[]): Map<string, Readonly<AgreementStanding>> {
    const out = new Map<string, AgreementStanding>();
    for (const raw of rows) {
      const row = this.#ctx.row(TABLE, standingRowSchema, raw);
      const standing = out.get(row.relationship_id) ?? { inForce: null, lastState: null, awaitingHer: false };
      if (row.data !== null) {
        const data = this.#ctx.open(TABLE, row.id, agreementDataSchema, row.data);
        standing.inForce = { id: row.id, agreementId: data.agreementId, outcome: data.signed.record.outcome, since: row.updated_at };
      }
      standing.lastState = row.state;
      if (row.proposed_by === 'company' && row.state === 'proffered') standing.awaitingHer = true;
      out.set(row.relationship_id, standing);
    }
    for (const standing of out.values()) {
      if (standing.inForce !== null) standing.lastState = null;
      Object.freeze(standing);
    }
    return out;
  }

  /** The entries of one relationship, oldest first. */
  list(relationshipId: string): AgreementEntry[] {
    return this.#ctx
      .stmt(`${SELECT} WHERE relationship_id = ? ${ORDER}`)
      .all(relationshipId)
      .flatMap((raw) => this.#ctx.readable(() => this.#toEntry(raw)));
  }

  /** Every entry of every relationship, oldest first (for export). */
  all(): AgreementEntry[] {
    return this.#ctx
      .stmt(`${SELECT} ${ORDER}`)
      .all()
      .flatMap((raw) => this.#ctx.readable(() => this.#toEntry(raw)));
  }

  /** The agreement in force with one company, if any. */
  current(relationshipId: string): AgreementEntry | undefined {
    const raw = this.#ctx.stmt(`${SELECT} WHERE relationship_id = ? AND state = 'agreed'`).get(relationshipId);
    return raw === undefined ? undefined : this.#toEntry(raw);
  }

  /** The entries of one negotiation thread of one relationship, oldest first. */
  byThread(relationshipId: string, threadId: string): AgreementEntry[] {
    return this.#ctx
      .stmt(`${SELECT} WHERE relationship_id = ? AND thread_idx = ? ${ORDER}`)
      .all(relationshipId, this.#threadIndex(relationshipId, threadId))
      .flatMap((raw) => this.#ctx.readable(() => this.#toEntry(raw)));
  }

  /**
   * Sets the state (and `updatedAt` to now); replaces `signed`, `obligations` and `reason` where
   * given, keeping the others. The blob is re-encrypted with a fresh nonce.
   * @returns false if there is no such entry.
   * @throws VaultError `vault.corrupt` for invalid input, `vault.conflict` if it would be a second
   * `agreed` entry of its relationship (call {@link supersedeCurrent} first). Nothing is written.
   */
  update(id: string, change: AgreementChange): boolean {
    const state = this.#ctx.check(TABLE, agreementStateSchema, change.state);
    const existing = this.get(id);
    if (existing === undefined) return false;
    const data: AgreementData = {
      threadId: existing.threadId,
      agreementId: existing.agreementId,
      signed: change.signed === undefined ? existing.signed : change.signed,
      obligations: change.obligations === undefined ? existing.obligations : change.obligations,
      reason: change.reason === undefined ? existing.reason : change.reason,
    };
    const blob = this.#ctx.seal(TABLE, id, agreementDataSchema, data);
    const now = this.#ctx.clock.now();
    return (
      this.#ctx.write(TABLE, () =>
        this.#ctx.stmt('UPDATE agreements SET state = ?, updated_at = ?, data = ? WHERE id = ?').run(state, now, blob, id),
      ).changes > 0
    );
  }

  /** Moves the relationship's `agreed` entry, if any, to `superseded` (before another one becomes agreed). */
  supersedeCurrent(relationshipId: string): void {
    const current = this.current(relationshipId);
    if (current !== undefined) this.update(current.id, { state: 'superseded' });
  }

  /** Deletes every entry of one relationship. @returns how many rows were deleted. */
  removeForRelationship(relationshipId: string): number {
    return this.#ctx.write(TABLE, () => this.#ctx.stmt('DELETE FROM agreements WHERE relationship_id = ?').run(relationshipId)).changes;
  }
}
