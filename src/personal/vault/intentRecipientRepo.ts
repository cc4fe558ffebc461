import { z } from 'zod';
import { IntentError } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import type { VaultContext } from './context.js';
import { countRowSchema, recordIdSchema, timestampSchema } from './json.js';

const TABLE = 'intent_recipients';
/** Blind-index scope of `recipient_intent_idx` = HMAC(relationshipId + '\n' + the recipient's intent id). */
const RECIPIENT_INTENT_SCOPE = 'intent_recipients.recipient_intent';

export const recipientStateSchema = z.enum(['sent', 'queued', 'failed', 'acknowledged', 'closed']);
export type RecipientState = z.infer<typeof recipientStateSchema>;

/** The company's answer to the terms she proffered with the cast. */
export const termsDecisionSchema = z.enum(['accepted', 'countered', 'rejected']);
export type TermsDecision = z.infer<typeof termsDecisionSchema>;

/** The encrypted part of a recipient: the intent id that company knows, and its answer to her terms. */
export const intentRecipientDataSchema = z.object({
  /** The `intent_id` this company was sent: fresh per recipient, so pooled casts share no id. */
  recipientIntentId: z.uuid(),
  termsDecision: termsDecisionSchema.nullable(),
  /** Sent to a company of her directory from a fresh pairwise DID the cast opened (not over an existing relationship). */
  anonymous: z.boolean().default(false),
});
export type IntentRecipientData = z.infer<typeof intentRecipientDataSchema>;

export const intentRecipientRecordSchema = intentRecipientDataSchema.extend({
  id: recordIdSchema,
  /** Her intent (`intents.id`). */
  intentId: recordIdSchema,
  relationshipId: recordIdSchema,
  state: recipientStateSchema,
  createdAt: timestampSchema,
  updatedAt: timestampSchema,
});
export type IntentRecipientRecord = z.infer<typeof intentRecipientRecordSchema>;

/** Insert input: a new recipient was sent the cast now and has not answered her terms. */
export type NewIntentRecipient = Pick<IntentRecipientRecord, 'intentId' | 'relationshipId' | 'recipientIntentId'> &
  Partial<Pick<IntentRecipientRecord, 'id' | 'state' | 'termsDecision' | 'anonymous' | 'createdAt' | 'updatedAt'>>;

/** What {@link IntentRecipientRepo.update} changes: always the state; the terms decision if given. */
export interface RecipientChange {
  state: RecipientState;
  /** `undefined` keeps the current value. */
  termsDecision?: TermsDecision | null;
  /** Compare-and-set: change only a recipient whose current state is one of these. */
  from?: readonly RecipientState[];
}

const rowSchema = z.object({
  id: recordIdSchema,
  intent_id: recordIdSchema,
  relationship_id: recordIdSchema,
  state: recipientStateSchema,
  created_at: timestampSchema,
  updated_at: timestampSchema,
  data: z.instanceof(Buffer),
});

const SELECT = 'SELECT id, intent_id, relationship_id, state, created_at, updated_at, data FROM intent_recipients';
const ORDER = 'ORDER BY created_at, rowid';

/**
 * The companies an intent was cast to, one row per company, each over its own relationship with
 * its own intent id (found through a blind index, never stored in plaintext).
 */
export class IntentRecipientRepo {
  readonly #ctx: VaultContext;

  constructor(ctx: VaultContext) {
    this.#ctx = ctx;
  }

  #toRecord(raw: unknown): IntentRecipientRecord {
    const row = this.#ctx.row(TABLE, rowSchema, raw);
    const data = this.#ctx.open(TABLE, row.id, intentRecipientDataSchema, row.data);
    return {
      id: row.id,
      intentId: row.intent_id,
      relationshipId: row.relationship_id,
      recipientIntentId: data.recipientIntentId,
      state: row.state,
      termsDecision: data.termsDecision,
      anonymous: data.anonymous,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    };
  }

  #recipientIntentIndex(relationshipId: string, recipientIntentId: string): string {
    return this.#ctx.index(RECIPIENT_INTENT_SCOPE, `${relationshipId}\n${recipientIntentId}`);
  }

  /**
   * @throws VaultError `vault.corrupt` for invalid input, `vault.conflict` if the id is taken, the
   * intent was already cast over this relationship, or this relationship already has this
   * recipient intent id; IntentError `intent.unknown` if the intent is not stored;
   * RelationshipError `relationship.unknown` if the relationship does not exist. Nothing is written.
   */
  insert(input: NewIntentRecipient): IntentRecipientRecord {
    const now = this.#ctx.clock.now();
    const { id = newId(), state = 'sent', termsDecision = null, anonymous = false, createdAt = now, updatedAt = createdAt, ...rest } = input;
    const record = this.#ctx.check(TABLE, intentRecipientRecordSchema, { ...rest, id, state, termsDecision, anonymous, createdAt, updatedAt });
    const raw = this.#ctx.stmt('SELECT count(*) AS n FROM intents WHERE id = ?').get(record.intentId);
    if (this.#ctx.row(TABLE, countRowSchema, raw).n === 0) {
      throw new IntentError('intent.unknown', 'The recipient belongs to an intent the vault does not hold', { details: { intentId: record.intentId } });
    }
    const blob = this.#ctx.seal(TABLE, id, intentRecipientDataSchema, record);
    this.#ctx.write(TABLE, () =>
      this.#ctx
        .stmt(
          `INSERT INTO intent_recipients (id, intent_id, relationship_id, recipient_intent_idx, state, created_at, updated_at, data)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          id,
          record.intentId,
          record.relationshipId,
          this.#recipientIntentIndex(record.relationshipId, record.recipientIntentId),
          record.state,
          record.createdAt,
          record.updatedAt,
          blob,
        ),
    );
    return record;
  }

  get(id: string): IntentRecipientRecord | undefined {
    const raw = this.#ctx.stmt(`${SELECT} WHERE id = ?`).get(id);
    return raw === undefined ? undefined : this.#toRecord(raw);
  }

  /**
   * The recipient a company's message names by the intent id it was sent, on the relationship the
   * message came over: how an offer or ack finds her intent. Another relationship's intent id finds nothing.
   */
  findByRecipientIntentId(relationshipId: string, recipientIntentId: string): IntentRecipientRecord | undefined {
    const raw = this.#ctx.stmt(`${SELECT} WHERE recipient_intent_idx = ?`).get(this.#recipientIntentIndex(relationshipId, recipientIntentId));
    const record = raw === undefined ? undefined : this.#toRecord(raw);
    return record?.relationshipId === relationshipId && record.recipientIntentId === recipientIntentId ? record : undefined;
  }

  /** The companies one intent was cast to, oldest first (by `createdAt`, then insertion). */
  listForIntent(intentId: string): IntentRecipientRecord[] {
    return this.#ctx
      .stmt(`${SELECT} WHERE intent_id = ? ${ORDER}`)
      .all(intentId)
      .flatMap((raw) => this.#ctx.readable(() => this.#toRecord(raw)));
  }

  /** Every cast over one relationship (e.g. when it is cut off), oldest first. */
  listForRelationship(relationshipId: string): IntentRecipientRecord[] {
    return this.#ctx
      .stmt(`${SELECT} WHERE relationship_id = ? ${ORDER}`)
      .all(relationshipId)
      .flatMap((raw) => this.#ctx.readable(() => this.#toRecord(raw)));
  }

  /** Every recipient of every intent, oldest first (for export). */
  all(): IntentRecipientRecord[] {
    return this.#ctx
      .stmt(`${SELECT} ${ORDER}`)
      .all()
      .flatMap((raw) => this.#ctx.readable(() => this.#toRecord(raw)));
  }

  /**
   * Sets the state (and `updatedAt` to `at`), and the terms decision if given; the blob is
   * re-encrypted with a fresh nonce. With `from`, a compare-and-set.
   * @returns false (nothing changed) if there is no such recipient or its state is not in `from`.
   * @throws VaultError `vault.corrupt` for an invalid change. Nothing is written.
   */
  update(id: string, change: RecipientChange, at: number = this.#ctx.clock.now()): boolean {
    const state = this.#ctx.check(TABLE, recipientStateSchema, change.state);
    const from = this.#from(change.from);
    const when = this.#ctx.check(TABLE, timestampSchema, at);
    const decision = change.termsDecision === undefined ? undefined : this.#ctx.check(TABLE, termsDecisionSchema.nullable(), change.termsDecision);
    return this.#ctx.db.transaction(() => {
      const current = this.get(id);
      if (current === undefined || (from !== undefined && !from.includes(current.state))) return false;
      const blob = this.#ctx.seal(TABLE, id, intentRecipientDataSchema, {
        recipientIntentId: current.recipientIntentId,
        termsDecision: decision === undefined ? current.termsDecision : decision,
        anonymous: current.anonymous,
      });
      return (
        this.#ctx.write(TABLE, () =>
          this.#ctx.stmt('UPDATE intent_recipients SET state = ?, updated_at = ?, data = ? WHERE id = ?').run(state, when, blob, id),
        ).changes > 0
      );
    })();
  }

  /**
   * Sets the state of every recipient of one intent (e.g. closes them all when the intent ends),
   * or with `from` only of those in one of these states. Terms decisions are kept.
   * @returns how many recipients changed.
   * @throws VaultError `vault.corrupt` for an invalid state. Nothing is written.
   */
  setStateForIntent(intentId: string, change: Omit<RecipientChange, 'termsDecision'>, at: number = this.#ctx.clock.now()): number {
    const state = this.#ctx.check(TABLE, recipientStateSchema, change.state);
    const from = this.#from(change.from);
    const when = this.#ctx.check(TABLE, timestampSchema, at);
    const sql = `UPDATE intent_recipients SET state = ?, updated_at = ? WHERE intent_id = ?${from === undefined ? '' : ' AND state IN (SELECT value FROM json_each(?))'}`;
    const params = from === undefined ? [state, when, intentId] : [state, when, intentId, JSON.stringify(from)];
    return this.#ctx.write(TABLE, () => this.#ctx.stmt(sql).run(...params)).changes;
  }

  #from(from: readonly RecipientState[] | undefined): RecipientState[] | undefined {
    return from === undefined ? undefined : this.#ctx.check(TABLE, z.array(recipientStateSchema), from);
  }
}
