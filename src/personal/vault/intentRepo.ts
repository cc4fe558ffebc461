import { z } from 'zod';
import { IntentError } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import { demandSchema, intentCastBodySchema } from '../../protocol/families/intent.js';
import type { VaultContext } from './context.js';
import { countRowSchema, fieldNameSchema, recordIdSchema, timestampSchema } from './json.js';

const TABLE = 'intents';

export const intentStateSchema = z.enum(['open', 'accepted', 'closed', 'expired']);
export type IntentState = z.infer<typeof intentStateSchema>;

/**
 * The encrypted part of an intent: everything she said she wants. The demand is checked with the
 * protocol's schema (src/protocol/families/intent.ts) when written and parsed with it, once, when
 * the blob is opened; a blob whose demand does not parse is `vault.corrupt`.
 */
export const intentDataSchema = z.object({
  demand: demandSchema,
  /** The outcome she is after, beyond the item (the cast's `outcome`). */
  outcome: intentCastBodySchema.shape.outcome.unwrap().nullable(),
  /** True when offers must be in the currency of the demand's priceSpecification. */
  currencyRequired: z.boolean(),
  /** The roster agreement (its URI) she proffers with the intent. */
  agreementId: z.string().min(1),
  /** Profile fields she chose to disclose up front (none by default). */
  disclose: z.array(fieldNameSchema),
  /** The offer she accepted (`intent_offers.id`), once she has. */
  acceptedOfferId: recordIdSchema.nullable(),
});
export type IntentData = z.infer<typeof intentDataSchema>;

const intentFieldsSchema = intentDataSchema.extend({
  /** Her local random id: no company ever sees it (each recipient gets its own intent id). */
  id: recordIdSchema,
  state: intentStateSchema,
  /** When the intent ends (ms); offers after it are refused. */
  expiresAt: timestampSchema,
  createdAt: timestampSchema,
  updatedAt: timestampSchema,
});

/** An intent as callers and exports see it. An `accepted` intent names the offer she accepted. */
export const intentRecordSchema = intentFieldsSchema.refine((r) => r.state !== 'accepted' || r.acceptedOfferId !== null, {
  message: 'an accepted intent names the offer she accepted',
  path: ['acceptedOfferId'],
});
export type IntentRecord = z.infer<typeof intentRecordSchema>;

/**
 * Insert input: a new intent is open, accepted nothing and is created now. Id, state, the accepted
 * offer and the times may be given (import restores intents exactly as exported).
 */
export type NewIntent = Omit<IntentData, 'acceptedOfferId'> &
  Pick<IntentRecord, 'expiresAt'> &
  Partial<Pick<IntentRecord, 'id' | 'state' | 'acceptedOfferId' | 'createdAt' | 'updatedAt'>>;

/** What {@link IntentRepo.update} changes: always the state; the accepted offer if given. */
export interface IntentChange {
  state: IntentState;
  /** `undefined` keeps the current value. */
  acceptedOfferId?: string | null;
  /** Compare-and-set: change the intent only if its current state is one of these. */
  from?: readonly IntentState[];
}

export interface ListIntentsOptions {
  state?: IntentState;
}

const rowSchema = z.object({
  id: recordIdSchema,
  state: intentStateSchema,
  expires_at: timestampSchema,
  created_at: timestampSchema,
  updated_at: timestampSchema,
  data: z.instanceof(Buffer),
});

const SELECT = 'SELECT id, state, expires_at, created_at, updated_at, data FROM intents';
const ORDER = 'ORDER BY created_at, rowid';

/**
 * Her intents (docs/decisions/0012-intentcasting.md): what she wants, cast to companies she chose.
 * The companies it went to are in `intent_recipients`, their offers in `intent_offers`.
 */
export class IntentRepo {
  readonly #ctx: VaultContext;

  constructor(ctx: VaultContext) {
    this.#ctx = ctx;
  }

  #toRecord(raw: unknown): IntentRecord {
    const row = this.#ctx.row(TABLE, rowSchema, raw);
    const data = this.#ctx.open(TABLE, row.id, intentDataSchema, row.data);
    return {
      id: row.id,
      state: row.state,
      demand: data.demand,
      outcome: data.outcome,
      currencyRequired: data.currencyRequired,
      expiresAt: row.expires_at,
      agreementId: data.agreementId,
      disclose: data.disclose,
      acceptedOfferId: data.acceptedOfferId,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    };
  }

  /**
   * Stores a new intent. The accepted offer is not checked against `intent_offers` here (an import
   * restores intents before their offers; it checks the reference itself).
   * @throws VaultError `vault.corrupt` for invalid input (a demand the protocol refuses, an
   * `accepted` intent without its offer), `vault.conflict` if the id is taken. Nothing is written.
   */
  insert(input: NewIntent): IntentRecord {
    const now = this.#ctx.clock.now();
    const { id = newId(), state = 'open', acceptedOfferId = null, createdAt = now, updatedAt = createdAt, ...rest } = input;
    const record = this.#ctx.check(TABLE, intentRecordSchema, { ...rest, id, state, acceptedOfferId, createdAt, updatedAt });
    // The data schema strips the plaintext members, so only what she wants is encrypted.
    const blob = this.#ctx.seal(TABLE, id, intentDataSchema, record);
    this.#ctx.write(TABLE, () =>
      this.#ctx
        .stmt('INSERT INTO intents (id, state, expires_at, created_at, updated_at, data) VALUES (?, ?, ?, ?, ?, ?)')
        .run(id, record.state, record.expiresAt, record.createdAt, record.updatedAt, blob),
    );
    return record;
  }

  get(id: string): IntentRecord | undefined {
    const raw = this.#ctx.stmt(`${SELECT} WHERE id = ?`).get(id);
    return raw === undefined ? undefined : this.#toRecord(raw);
  }

  /** Her intents, oldest first (by `createdAt`, then insertion), optionally in one state. */
  list(options: ListIntentsOptions = {}): IntentRecord[] {
    const rows =
      options.state === undefined
        ? this.#ctx.stmt(`${SELECT} ${ORDER}`).all()
        : this.#ctx.stmt(`${SELECT} WHERE state = ? ${ORDER}`).all(this.#ctx.check(TABLE, intentStateSchema, options.state));
    return rows.flatMap((raw) => this.#ctx.readable(() => this.#toRecord(raw)));
  }

  /** Open intents whose `expiresAt` is at or before `now`, soonest first: what an expiry sweep closes. */
  openExpiredBy(now: number): IntentRecord[] {
    return this.#ctx
      .stmt(`${SELECT} WHERE state = 'open' AND expires_at <= ? ORDER BY expires_at, created_at, rowid`)
      .all(this.#ctx.check(TABLE, timestampSchema, now))
      .flatMap((raw) => this.#ctx.readable(() => this.#toRecord(raw)));
  }

  /**
   * Sets the state (and `updatedAt` to `at`), and the accepted offer if given; the blob is
   * re-encrypted with a fresh nonce. With `from`, a compare-and-set: an intent in another state is
   * left alone.
   * @returns false (nothing changed) if there is no such intent or its state is not in `from`.
   * @throws VaultError `vault.corrupt` for an invalid change (an unknown state, `accepted` without
   * an offer); IntentError `intent.offer_unknown` if `acceptedOfferId` is not an offer of this
   * intent. Nothing is written.
   */
  update(id: string, change: IntentChange, at: number = this.#ctx.clock.now()): boolean {
    const state = this.#ctx.check(TABLE, intentStateSchema, change.state);
    const from = change.from === undefined ? undefined : this.#ctx.check(TABLE, z.array(intentStateSchema), change.from);
    const when = this.#ctx.check(TABLE, timestampSchema, at);
    return this.#ctx.db.transaction(() => {
      const current = this.get(id);
      if (current === undefined || (from !== undefined && !from.includes(current.state))) return false;
      const acceptedOfferId = change.acceptedOfferId === undefined ? current.acceptedOfferId : change.acceptedOfferId;
      const next = this.#ctx.check(TABLE, intentRecordSchema, { ...current, state, acceptedOfferId, updatedAt: when });
      if (next.acceptedOfferId !== null && next.acceptedOfferId !== current.acceptedOfferId) this.#requireOffer(id, next.acceptedOfferId);
      const blob = this.#ctx.seal(TABLE, id, intentDataSchema, next);
      return (
        this.#ctx.write(TABLE, () =>
          this.#ctx.stmt('UPDATE intents SET state = ?, updated_at = ?, data = ? WHERE id = ? AND state = ?').run(state, when, blob, id, current.state),
        ).changes > 0
      );
    })();
  }

  /**
   * Deletes an intent with the companies it was cast to and their offers, in one transaction.
   * @returns false if there was no such intent.
   */
  remove(id: string): boolean {
    return this.#ctx.db.transaction(() => {
      this.#ctx.write('intent_offers', () => this.#ctx.stmt('DELETE FROM intent_offers WHERE intent_id = ?').run(id));
      this.#ctx.write('intent_recipients', () => this.#ctx.stmt('DELETE FROM intent_recipients WHERE intent_id = ?').run(id));
      return this.#ctx.write(TABLE, () => this.#ctx.stmt('DELETE FROM intents WHERE id = ?').run(id)).changes > 0;
    })();
  }

  #requireOffer(intentId: string, offerId: string): void {
    const raw = this.#ctx.stmt('SELECT count(*) AS n FROM intent_offers WHERE id = ? AND intent_id = ?').get(offerId, intentId);
    if (this.#ctx.row(TABLE, countRowSchema, raw).n === 0) {
      throw new IntentError('intent.offer_unknown', 'The accepted offer is not an offer of this intent', { details: { intentId, offerId } });
    }
  }
}
