import { z } from 'zod';
import { KeptRead, type VaultContext } from './context.js';
import { fieldNameSchema, jsonValueSchema, recordIdSchema, timestampSchema } from './json.js';

const TABLE = 'disclosed_fields';
/** Blind-index scope of `disclosed_fields.field_idx`. */
const FIELD_SCOPE = 'disclosed_fields.field';

export const disclosedSourceSchema = z.enum(['self', 'credential']);
export type DisclosedSource = z.infer<typeof disclosedSourceSchema>;

/** The encrypted part: what the company holds, where it came from, and under which consent. */
export const disclosedFieldDataSchema = z.object({
  field: fieldNameSchema,
  value: jsonValueSchema,
  /** 'self': a value of her profile (kept up to date by profile updates); 'credential': an issuer's claim. */
  source: disclosedSourceSchema,
  issuer: z.string().min(1).nullable(),
  consentRecordId: recordIdSchema,
  purpose: z.string(),
  retention: z.string().nullable(),
  disclosedAt: timestampSchema,
});
export type DisclosedFieldData = z.infer<typeof disclosedFieldDataSchema>;

/** One field one company holds. `version` is the profile version of the value it holds. */
export const disclosedFieldSchema = disclosedFieldDataSchema.extend({
  relationshipId: recordIdSchema,
  version: z.number().int().nonnegative(),
  updatedAt: timestampSchema,
});
export type DisclosedField = z.infer<typeof disclosedFieldSchema>;

/** Upsert input; `updatedAt` defaults to now. */
export type DisclosedFieldInput = Omit<DisclosedField, 'updatedAt'> & Partial<Pick<DisclosedField, 'updatedAt'>>;

const rowSchema = z.object({
  relationship_id: recordIdSchema,
  field_idx: z.string(),
  version: z.number().int().nonnegative(),
  updated_at: timestampSchema,
  data: z.instanceof(Buffer),
});

const SELECT = 'SELECT relationship_id, field_idx, version, updated_at, data FROM disclosed_fields';

/** Row id bound into the AAD: a blob cannot move to another company or another field. */
const rowId = (relationshipId: string, fieldIdx: string): string => `${relationshipId}:${fieldIdx}`;

const byField = (a: DisclosedField, b: DisclosedField): number => (a.field < b.field ? -1 : a.field > b.field ? 1 : 0);

/** What each company holds of her (her record of what she disclosed, and the versions it has). */
export class DisclosedFieldRepo {
  readonly #ctx: VaultContext;
  readonly #kept: KeptRead<ReadonlyMap<string, readonly DisclosedField[]>>;

  constructor(ctx: VaultContext) {
    this.#ctx = ctx;
    // Every write that adds or removes a row of this table goes through ctx.write: its own version is enough.
    this.#kept = new KeptRead(ctx, TABLE);
  }

  #toRecord(raw: unknown): DisclosedField {
    const row = this.#ctx.row(TABLE, rowSchema, raw);
    const data = this.#ctx.open(TABLE, rowId(row.relationship_id, row.field_idx), disclosedFieldDataSchema, row.data);
    return { relationshipId: row.relationship_id, version: row.version, updatedAt: row.updated_at, ...data };
  }

  /**
   * Records (or replaces) what one company holds of one field.
   * @throws VaultError `vault.corrupt` for invalid input; RelationshipError `relationship.unknown`
   * if the relationship does not exist.
   */
  upsert(input: DisclosedFieldInput): void {
    const { updatedAt = this.#ctx.clock.now(), ...rest } = input;
    this.#write(this.#ctx.check(TABLE, disclosedFieldSchema, { ...rest, updatedAt }), true);
  }

  /**
   * Import: like {@link upsert} but refuses to replace.
   * @throws VaultError `vault.conflict` if the company already has a row for this field.
   */
  insert(input: DisclosedField): void {
    this.#write(this.#ctx.check(TABLE, disclosedFieldSchema, input), false);
  }

  #write(record: DisclosedField, upsert: boolean): void {
    const idx = this.#ctx.index(FIELD_SCOPE, record.field);
    // The data schema strips the plaintext members, so only the disclosure itself is encrypted.
    const blob = this.#ctx.seal(TABLE, rowId(record.relationshipId, idx), disclosedFieldDataSchema, record);
    const sql = upsert
      ? `INSERT INTO disclosed_fields (relationship_id, field_idx, version, updated_at, data) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (relationship_id, field_idx) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at, data = excluded.data`
      : 'INSERT INTO disclosed_fields (relationship_id, field_idx, version, updated_at, data) VALUES (?, ?, ?, ?, ?)';
    this.#ctx.write(TABLE, () => this.#ctx.stmt(sql).run(record.relationshipId, idx, record.version, record.updatedAt, blob));
  }

  /** What every company holds, by relationship, each ordered by field name: the relationship list's holdings in one query. */
  byRelationship(): ReadonlyMap<string, readonly DisclosedField[]> {
    // Kept between calls (the relationship list reads it on every refresh); records frozen.
    return this.#kept.get(() => {
      const out = new Map<string, DisclosedField[]>();
      for (const raw of this.#ctx.stmt(SELECT).all()) {
        const record = Object.freeze(this.#toRecord(raw));
        const list = out.get(record.relationshipId) ?? [];
        list.push(record);
        out.set(record.relationshipId, list);
      }
      for (const list of out.values()) Object.freeze(list.sort(byField));
      return out;
    });
  }

  /** What one company holds, ordered by field name (code unit order). */
  list(relationshipId: string): DisclosedField[] {
    return this.#ctx
      .stmt(`${SELECT} WHERE relationship_id = ?`)
      .all(relationshipId)
      .flatMap((raw) => this.#ctx.readable(() => this.#toRecord(raw)))
      .sort(byField);
  }

  /** Every row, by relationship (oldest first), then by field name (for export). */
  listAll(): DisclosedField[] {
    const rows = this.#ctx
      .stmt(
        `SELECT d.relationship_id, d.field_idx, d.version, d.updated_at, d.data FROM disclosed_fields d
         JOIN relationships r ON r.id = d.relationship_id ORDER BY r.created_at, r.rowid`,
      )
      .all()
      .flatMap((raw) => this.#ctx.readable(() => this.#toRecord(raw)));
    const order = new Map<string, number>();
    for (const r of rows) if (!order.has(r.relationshipId)) order.set(r.relationshipId, order.size);
    return rows.sort((a, b) => (order.get(a.relationshipId) ?? 0) - (order.get(b.relationshipId) ?? 0) || byField(a, b));
  }

  get(relationshipId: string, field: string): DisclosedField | undefined {
    const raw = this.#ctx
      .stmt(`${SELECT} WHERE relationship_id = ? AND field_idx = ?`)
      .get(relationshipId, this.#ctx.index(FIELD_SCOPE, field));
    const record = raw === undefined ? undefined : this.#toRecord(raw);
    return record?.field === field ? record : undefined;
  }

  /**
   * Live companies (relationship not cut off) holding any of `fields` from her profile (source
   * 'self'): relationshipId → the held field names among `fields` (sorted). Companies in
   * relationship creation order. Only rows matching a field's blind index are decrypted.
   */
  holdersOf(fields: string[]): Map<string, string[]> {
    const holders = new Map<string, string[]>();
    const wanted = new Set(fields);
    if (wanted.size === 0) return holders;
    const indexes = [...wanted].map((f) => this.#ctx.index(FIELD_SCOPE, f));
    const rows = this.#ctx
      .stmt(
        `SELECT d.relationship_id, d.field_idx, d.version, d.updated_at, d.data FROM disclosed_fields d
         JOIN relationships r ON r.id = d.relationship_id
         WHERE r.state <> 'cut_off' AND d.field_idx IN (SELECT value FROM json_each(?))
         ORDER BY r.created_at, r.rowid`,
      )
      .all(JSON.stringify(indexes));
    for (const raw of rows) {
      const record = this.#toRecord(raw);
      if (record.source !== 'self' || !wanted.has(record.field)) continue;
      const held = holders.get(record.relationshipId) ?? [];
      held.push(record.field);
      holders.set(record.relationshipId, held);
    }
    for (const held of holders.values()) held.sort();
    return holders;
  }

  /** Forgets some fields one company held (it erased them). @returns how many rows were deleted. */
  removeFields(relationshipId: string, fields: readonly string[]): number {
    if (fields.length === 0) return 0;
    const indexes = fields.map((f) => this.#ctx.index(FIELD_SCOPE, f));
    return this.#ctx.write(TABLE, () =>
      this.#ctx.stmt('DELETE FROM disclosed_fields WHERE relationship_id = ? AND field_idx IN (SELECT value FROM json_each(?))').run(relationshipId, JSON.stringify(indexes)),
    ).changes;
  }

  /** Forgets everything one company held (it erased it). @returns how many rows were deleted. */
  removeForRelationship(relationshipId: string): number {
    return this.#ctx.write(TABLE, () => this.#ctx.stmt('DELETE FROM disclosed_fields WHERE relationship_id = ?').run(relationshipId)).changes;
  }
}
