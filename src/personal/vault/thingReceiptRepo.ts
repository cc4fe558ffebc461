import { z } from 'zod';
import { newId } from '../../core/ids.js';
import { signedReceiptSchema } from '../../protocol/families/thing.js';
import type { VaultContext } from './context.js';
import { recordIdSchema, timestampSchema } from './json.js';

const TABLE = 'thing_receipts';
/** Blind-index scope of `receipt_idx` = HMAC(relationshipId + '\n' + the seller's receipt id). */
const RECEIPT_SCOPE = 'thing_receipts.receipt';

export const thingReceiptStateSchema = z.enum(['pending', 'accepted', 'declined']);
export type ThingReceiptState = z.infer<typeof thingReceiptStateSchema>;

/** The encrypted part: the signed receipt exactly as it arrived, and the message that carried it. */
export const thingReceiptDataSchema = z.strictObject({
  signed: signedReceiptSchema,
  messageId: z.string().min(1).max(200),
});
export type ThingReceiptData = z.infer<typeof thingReceiptDataSchema>;

export const thingReceiptRecordSchema = thingReceiptDataSchema.extend({
  /** Local random id (not the seller's receipt id). */
  id: recordIdSchema,
  relationshipId: recordIdSchema,
  state: thingReceiptStateSchema,
  /** The thing she made of it, once accepted (null if declined, pending, or the thing was deleted). */
  thingId: recordIdSchema.nullable(),
  createdAt: timestampSchema,
  updatedAt: timestampSchema,
});
export type ThingReceiptRecord = z.infer<typeof thingReceiptRecordSchema>;

export type NewThingReceipt = ThingReceiptData & Pick<ThingReceiptRecord, 'relationshipId'> & Partial<Pick<ThingReceiptRecord, 'id' | 'state' | 'thingId' | 'createdAt' | 'updatedAt'>>;

const rowSchema = z.object({
  id: recordIdSchema,
  relationship_id: recordIdSchema,
  state: thingReceiptStateSchema,
  thing_id: recordIdSchema.nullable(),
  created_at: timestampSchema,
  updated_at: timestampSchema,
  data: z.instanceof(Buffer),
});

const SELECT = 'SELECT id, relationship_id, state, thing_id, created_at, updated_at, data FROM thing_receipts';

/** Signed receipts sellers sent her, pending her answer, and what she answered (docs/protocol/thing.md). */
export class ThingReceiptRepo {
  readonly #ctx: VaultContext;

  constructor(ctx: VaultContext) {
    this.#ctx = ctx;
  }

  #toRecord(raw: unknown): ThingReceiptRecord {
    const row = this.#ctx.row(TABLE, rowSchema, raw);
    const data = this.#ctx.open(TABLE, row.id, thingReceiptDataSchema, row.data);
    return { id: row.id, relationshipId: row.relationship_id, state: row.state, thingId: row.thing_id, createdAt: row.created_at, updatedAt: row.updated_at, ...data };
  }

  #receiptIndex(relationshipId: string, receiptId: string): string {
    return this.#ctx.index(RECEIPT_SCOPE, `${relationshipId}\n${receiptId}`);
  }

  /**
   * @throws VaultError `vault.conflict` if this relationship already sent this receipt or the id is
   * taken, `vault.corrupt` for invalid input; RelationshipError `relationship.unknown` if the
   * relationship does not exist. Nothing is written on any of them.
   */
  insert(input: NewThingReceipt): ThingReceiptRecord {
    const now = this.#ctx.clock.now();
    const { id = newId(), state = 'pending', thingId = null, createdAt = now, updatedAt = createdAt, ...rest } = input;
    const record = this.#ctx.check(TABLE, thingReceiptRecordSchema, { ...rest, id, state, thingId, createdAt, updatedAt });
    const blob = this.#ctx.seal(TABLE, id, thingReceiptDataSchema, { signed: record.signed, messageId: record.messageId });
    this.#ctx.write(TABLE, () =>
      this.#ctx
        .stmt(`INSERT INTO thing_receipts (id, relationship_id, receipt_idx, state, thing_id, created_at, updated_at, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
        .run(id, record.relationshipId, this.#receiptIndex(record.relationshipId, record.signed.receipt.receipt_id), state, thingId, createdAt, updatedAt, blob),
    );
    return record;
  }

  get(id: string): ThingReceiptRecord | undefined {
    const raw = this.#ctx.stmt(`${SELECT} WHERE id = ?`).get(id);
    return raw === undefined ? undefined : this.#toRecord(raw);
  }

  /** The receipt a seller sent under its own id, in one relationship. */
  findByReceiptId(relationshipId: string, receiptId: string): ThingReceiptRecord | undefined {
    const raw = this.#ctx.stmt(`${SELECT} WHERE receipt_idx = ?`).get(this.#receiptIndex(relationshipId, receiptId));
    const record = raw === undefined ? undefined : this.#toRecord(raw);
    return record?.relationshipId === relationshipId && record.signed.receipt.receipt_id === receiptId ? record : undefined;
  }

  /** Every receipt's id, oldest first: what a short id prefix is resolved against. */
  ids(): string[] {
    return z.array(recordIdSchema).parse(this.#ctx.stmt('SELECT id FROM thing_receipts ORDER BY created_at, rowid').pluck().all());
  }

  /** Oldest first; all, or those in one state. */
  list(state?: ThingReceiptState): ThingReceiptRecord[] {
    const rows = state === undefined ? this.#ctx.stmt(`${SELECT} ORDER BY created_at, rowid`).all() : this.#ctx.stmt(`${SELECT} WHERE state = ? ORDER BY created_at, rowid`).all(state);
    // A salvage pass leaves out a record that does not open (context.readable).
    return rows.flatMap((raw) => this.#ctx.readable(() => this.#toRecord(raw)));
  }

  /**
   * Records her answer: pending → accepted (with the thing made of it) or declined, compare-and-set.
   * @returns false (nothing changed) if there is no such receipt or it is not pending.
   */
  settle(id: string, state: Exclude<ThingReceiptState, 'pending'>, thingId: string | null, at: number = this.#ctx.clock.now()): boolean {
    const next = this.#ctx.check(TABLE, z.enum(['accepted', 'declined']), state);
    const when = this.#ctx.check(TABLE, timestampSchema, at);
    return this.#ctx.write(TABLE, () => this.#ctx.stmt(`UPDATE thing_receipts SET state = ?, thing_id = ?, updated_at = ? WHERE id = ? AND state = 'pending'`).run(next, thingId, when, id).changes > 0);
  }
}
