import { z } from 'zod';
import { IntentError, VaultError } from '../../core/errors.js';
import { signedOfferSchema } from '../../protocol/families/intent.js';
import type { VaultContext } from './context.js';
import { intentRecipientDataSchema } from './intentRecipientRepo.js';
import { recordIdSchema, timestampSchema } from './json.js';

const TABLE = 'intent_offers';

export const offerStateSchema = z.enum(['received', 'accepted', 'declined', 'withdrawn', 'closed']);
export type OfferState = z.infer<typeof offerStateSchema>;

/** Her rule's verdict when the offer arrived: whether it meets her constraints, and why not. */
export const offerVerdictSchema = z.object({
  meets: z.boolean(),
  reasons: z.array(z.string().min(1)),
});
export type OfferVerdict = z.infer<typeof offerVerdictSchema>;

/**
 * The encrypted part of an offer. The signed offer is checked with the protocol's schema
 * (src/protocol/families/intent.ts) when written and parsed with it, once, when the blob is opened;
 * a blob whose offer does not parse is `vault.corrupt`. It is kept as evidence: its signature is
 * over the offer's JCS form, so it can be checked again from the company's DID.
 */
export const offerDataSchema = z.object({
  signed: signedOfferSchema,
  verdict: offerVerdictSchema,
  /** Set when her rule answered the offer by itself (e.g. 'outside-constraints'); null when she did, or nobody yet. */
  decidedBy: z.string().min(1).nullable(),
});
export type OfferData = z.infer<typeof offerDataSchema>;

export const offerRecordSchema = offerDataSchema.extend({
  /** The offer's own identifier (`signed.offer.identifier`, a UUID the company chose). */
  id: recordIdSchema,
  /** Her intent (`intents.id`). */
  intentId: recordIdSchema,
  /** The recipient (`intent_recipients.id`) whose intent id the offer answers. */
  recipientId: recordIdSchema,
  relationshipId: recordIdSchema,
  state: offerStateSchema,
  createdAt: timestampSchema,
  updatedAt: timestampSchema,
});
export type OfferRecord = z.infer<typeof offerRecordSchema>;

/**
 * Insert input: a new offer was received now and nobody decided on it yet. The id defaults to the
 * signed offer's identifier (and must equal it when given).
 */
export type NewOffer = Pick<OfferRecord, 'intentId' | 'recipientId' | 'relationshipId' | 'signed' | 'verdict'> &
  Partial<Pick<OfferRecord, 'id' | 'state' | 'decidedBy' | 'createdAt' | 'updatedAt'>>;

/** What {@link OfferRepo.update} changes: always the state; who decided if given. */
export interface OfferChange {
  state: OfferState;
  /** `undefined` keeps the current value. */
  decidedBy?: string | null;
  /** Compare-and-set: change only an offer whose current state is one of these. */
  from?: readonly OfferState[];
}

const rowSchema = z.object({
  id: recordIdSchema,
  intent_id: recordIdSchema,
  recipient_id: recordIdSchema,
  relationship_id: recordIdSchema,
  state: offerStateSchema,
  created_at: timestampSchema,
  updated_at: timestampSchema,
  data: z.instanceof(Buffer),
});

const SELECT = 'SELECT id, intent_id, recipient_id, relationship_id, state, created_at, updated_at, data FROM intent_offers';
/** Offers are listed side by side: by arrival, then by id so that equal times still have one order. */
const ORDER = 'ORDER BY created_at, id';

/** The offers companies answered her intents with, each signed by its company and kept as received. */
export class OfferRepo {
  readonly #ctx: VaultContext;

  constructor(ctx: VaultContext) {
    this.#ctx = ctx;
  }

  #toRecord(raw: unknown): OfferRecord {
    const row = this.#ctx.row(TABLE, rowSchema, raw);
    const data = this.#ctx.open(TABLE, row.id, offerDataSchema, row.data);
    return {
      id: row.id,
      intentId: row.intent_id,
      recipientId: row.recipient_id,
      relationshipId: row.relationship_id,
      signed: data.signed,
      state: row.state,
      verdict: data.verdict,
      decidedBy: data.decidedBy,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    };
  }

  /**
   * Stores an offer under its own identifier. The recipient must be one of the intent's, on the
   * offer's relationship, and the offer must answer that recipient's intent id.
   * @throws VaultError `vault.conflict` if an offer with this id is already stored (a redelivered
   * offer), `vault.corrupt` for invalid input (an id other than the offer's identifier, an offer the
   * protocol refuses, a recipient of another intent or relationship, an offer naming another intent
   * id); IntentError `intent.unknown` if the recipient is not stored. Nothing is written.
   */
  insert(input: NewOffer): OfferRecord {
    const now = this.#ctx.clock.now();
    const { state = 'received', decidedBy = null, createdAt = now, updatedAt = createdAt, ...rest } = input;
    // Optional chaining: input from outside may not have the typed shape; the schema check reports it.
    const id = input.id ?? input.signed?.offer?.identifier;
    const record = this.#ctx.check(TABLE, offerRecordSchema, { ...rest, id, state, decidedBy, createdAt, updatedAt });
    if (record.id !== record.signed.offer.identifier) throw mismatch(record.id, 'The offer is stored under another id than its identifier');
    this.#checkRecipient(record);
    const blob = this.#ctx.seal(TABLE, record.id, offerDataSchema, record);
    this.#ctx.write(TABLE, () =>
      this.#ctx
        .stmt(
          `INSERT INTO intent_offers (id, intent_id, recipient_id, relationship_id, state, created_at, updated_at, data)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(record.id, record.intentId, record.recipientId, record.relationshipId, record.state, record.createdAt, record.updatedAt, blob),
    );
    return record;
  }

  get(id: string): OfferRecord | undefined {
    const raw = this.#ctx.stmt(`${SELECT} WHERE id = ?`).get(id);
    return raw === undefined ? undefined : this.#toRecord(raw);
  }

  /** The offers for one intent, side by side: by `createdAt`, then id. */
  listForIntent(intentId: string): OfferRecord[] {
    return this.#ctx
      .stmt(`${SELECT} WHERE intent_id = ? ${ORDER}`)
      .all(intentId)
      .flatMap((raw) => this.#ctx.readable(() => this.#toRecord(raw)));
  }

  /** The offers one company made for one intent (its recipient row), by `createdAt`, then id. */
  listForRecipient(recipientId: string): OfferRecord[] {
    return this.#ctx
      .stmt(`${SELECT} WHERE recipient_id = ? ${ORDER}`)
      .all(recipientId)
      .flatMap((raw) => this.#ctx.readable(() => this.#toRecord(raw)));
  }

  /** Every offer received over one relationship (e.g. when it is cut off), by `createdAt`, then id. */
  listForRelationship(relationshipId: string): OfferRecord[] {
    return this.#ctx
      .stmt(`${SELECT} WHERE relationship_id = ? ${ORDER}`)
      .all(relationshipId)
      .flatMap((raw) => this.#ctx.readable(() => this.#toRecord(raw)));
  }

  /** Every offer, by `createdAt`, then id (for export). */
  all(): OfferRecord[] {
    return this.#ctx
      .stmt(`${SELECT} ${ORDER}`)
      .all()
      .flatMap((raw) => this.#ctx.readable(() => this.#toRecord(raw)));
  }

  /**
   * Settles an offer: sets the state (and `updatedAt` to `at`), and who decided if given; the blob
   * is re-encrypted with a fresh nonce, the signed offer unchanged. With `from`, a compare-and-set.
   * @returns false (nothing changed) if there is no such offer or its state is not in `from`.
   * @throws VaultError `vault.corrupt` for an invalid change. Nothing is written.
   */
  update(id: string, change: OfferChange, at: number = this.#ctx.clock.now()): boolean {
    const state = this.#ctx.check(TABLE, offerStateSchema, change.state);
    const from = this.#from(change.from);
    const when = this.#ctx.check(TABLE, timestampSchema, at);
    const decidedBy = change.decidedBy === undefined ? undefined : this.#ctx.check(TABLE, offerDataSchema.shape.decidedBy, change.decidedBy);
    return this.#ctx.db.transaction(() => {
      const current = this.get(id);
      if (current === undefined || (from !== undefined && !from.includes(current.state))) return false;
      const blob = this.#ctx.seal(TABLE, id, offerDataSchema, { signed: current.signed, verdict: current.verdict, decidedBy: decidedBy === undefined ? current.decidedBy : decidedBy });
      return (
        this.#ctx.write(TABLE, () => this.#ctx.stmt('UPDATE intent_offers SET state = ?, updated_at = ?, data = ? WHERE id = ?').run(state, when, blob, id))
          .changes > 0
      );
    })();
  }

  /**
   * Sets the state of every offer for one intent, or with `from` only of those in one of these
   * states (e.g. closes the offers still open when she accepts one). Who decided is kept.
   * @returns how many offers changed.
   * @throws VaultError `vault.corrupt` for an invalid state. Nothing is written.
   */
  setStateForIntent(intentId: string, change: Omit<OfferChange, 'decidedBy'>, at: number = this.#ctx.clock.now()): number {
    const state = this.#ctx.check(TABLE, offerStateSchema, change.state);
    const from = this.#from(change.from);
    const when = this.#ctx.check(TABLE, timestampSchema, at);
    const sql = `UPDATE intent_offers SET state = ?, updated_at = ? WHERE intent_id = ?${from === undefined ? '' : ' AND state IN (SELECT value FROM json_each(?))'}`;
    const params = from === undefined ? [state, when, intentId] : [state, when, intentId, JSON.stringify(from)];
    return this.#ctx.write(TABLE, () => this.#ctx.stmt(sql).run(...params)).changes;
  }

  #from(from: readonly OfferState[] | undefined): OfferState[] | undefined {
    return from === undefined ? undefined : this.#ctx.check(TABLE, z.array(offerStateSchema), from);
  }

  /** The recipient exists, belongs to the offer's intent and relationship, and was sent the intent id the offer answers. */
  #checkRecipient(record: OfferRecord): void {
    const raw = this.#ctx.stmt('SELECT id, intent_id, relationship_id, data FROM intent_recipients WHERE id = ?').get(record.recipientId);
    if (raw === undefined) {
      throw new IntentError('intent.unknown', 'The offer answers an intent cast the vault does not hold', { details: { recipientId: record.recipientId } });
    }
    const recipient = this.#ctx.row('intent_recipients', recipientRowSchema, raw);
    if (recipient.intent_id !== record.intentId || recipient.relationship_id !== record.relationshipId) {
      throw mismatch(record.id, 'The offer and its recipient belong to different intents or relationships');
    }
    const { recipientIntentId } = this.#ctx.open('intent_recipients', recipient.id, intentRecipientDataSchema, recipient.data);
    if (record.signed.offer.intent_id !== recipientIntentId) throw mismatch(record.id, 'The offer answers another intent id than its recipient was sent');
  }
}

const recipientRowSchema = z.object({ id: recordIdSchema, intent_id: recordIdSchema, relationship_id: recordIdSchema, data: z.instanceof(Buffer) });

function mismatch(id: string, message: string): VaultError {
  return new VaultError('vault.corrupt', message, { details: { table: TABLE, id } });
}
