import { z } from 'zod';
import { newId } from '../../core/ids.js';
import type { VaultContext } from './context.js';
import { jsonValueSchema, recordIdSchema, timestampSchema } from './json.js';

const TABLE = 'receipts';

/**
 * Receipt kinds sit in a plaintext column, so they are restricted to short machine words
 * (e.g. 'erasure') and can never carry free text.
 */
export const receiptKindSchema = z.string().regex(/^[a-z][a-z0-9_.-]{0,63}$/);

/** The encrypted part of a receipt: the signed JWS exactly as received, and its decoded body. */
export const receiptDataSchema = z.object({
  jws: z.string().min(1),
  body: jsonValueSchema,
});
export type ReceiptData = z.infer<typeof receiptDataSchema>;

export const receiptRecordSchema = receiptDataSchema.extend({
  id: recordIdSchema,
  relationshipId: recordIdSchema,
  kind: receiptKindSchema,
  createdAt: timestampSchema,
});
export type ReceiptRecord = z.infer<typeof receiptRecordSchema>;

export type NewReceipt = ReceiptData &
  Pick<ReceiptRecord, 'relationshipId' | 'kind'> &
  Partial<Pick<ReceiptRecord, 'id' | 'createdAt'>>;

const rowSchema = z.object({
  id: recordIdSchema,
  relationship_id: recordIdSchema,
  kind: receiptKindSchema,
  created_at: timestampSchema,
  data: z.instanceof(Buffer),
});

const SELECT = 'SELECT id, relationship_id, kind, created_at, data FROM receipts';

/** Signed receipts from companies (e.g. proof of erasure), kept as evidence. */
export class ReceiptRepo {
  readonly #ctx: VaultContext;

  constructor(ctx: VaultContext) {
    this.#ctx = ctx;
  }

  #toRecord(raw: unknown): ReceiptRecord {
    const row = this.#ctx.row(TABLE, rowSchema, raw);
    const data = this.#ctx.open(TABLE, row.id, receiptDataSchema, row.data);
    return { id: row.id, relationshipId: row.relationship_id, kind: row.kind, createdAt: row.created_at, ...data };
  }

  /**
   * @throws VaultError `vault.corrupt` for invalid input, `vault.conflict` for a duplicate id;
   * RelationshipError `relationship.unknown` if the relationship does not exist.
   */
  insert(input: NewReceipt): ReceiptRecord {
    const { id = newId(), createdAt = this.#ctx.clock.now(), ...rest } = input;
    const record = this.#ctx.check(TABLE, receiptRecordSchema, { ...rest, id, createdAt });
    const blob = this.#ctx.seal(TABLE, id, receiptDataSchema, { jws: record.jws, body: record.body });
    this.#ctx.write(TABLE, () =>
      this.#ctx
        .stmt('INSERT INTO receipts (id, relationship_id, kind, created_at, data) VALUES (?, ?, ?, ?, ?)')
        .run(id, record.relationshipId, record.kind, createdAt, blob),
    );
    return record;
  }

  /** Receipts of one relationship, or all of them, oldest first. */
  list(relationshipId?: string): ReceiptRecord[] {
    const rows =
      relationshipId === undefined
        ? this.#ctx.stmt(`${SELECT} ORDER BY created_at, rowid`).all()
        : this.#ctx.stmt(`${SELECT} WHERE relationship_id = ? ORDER BY created_at, rowid`).all(relationshipId);
    return rows.flatMap((raw) => this.#ctx.readable(() => this.#toRecord(raw)));
  }
}
