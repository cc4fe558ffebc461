import { z } from 'zod';
import { AccountError } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import { identifierKindSchema, identifierLabelSchema, identifierValueSchema, normaliseIdentifierValue } from '../../protocol/families/account.js';
import type { VaultContext } from './context.js';
import { recordIdSchema, timestampSchema } from './json.js';

const TABLE = 'account_ids';
/** Blind-index scope of `value_idx` = HMAC(normalised value): one index over every relationship, so a value finds its company. */
const VALUE_SCOPE = 'account_ids.value';

/** Who put it there: the company (its signed list) or she herself. */
export const accountIdSourceSchema = z.enum(['company', 'her']);
export type AccountIdSource = z.infer<typeof accountIdSourceSchema>;

/** The company's signed list an identifier came in: her proof that the company knows her by it. */
export const accountIdProofSchema = z.object({
  /** The DIDComm id of the company's account/identifiers message. */
  messageId: z.string().min(1),
  /** The message's JWS as received, signed by the company's DID. */
  jws: z.string().min(1),
});
export type AccountIdProof = z.infer<typeof accountIdProofSchema>;

/** The encrypted part. */
export const accountIdDataSchema = z.object({
  kind: identifierKindSchema,
  value: identifierValueSchema,
  label: identifierLabelSchema.nullable(),
  /** When the company says it issued it (ISO 8601); null for hers. */
  issuedAt: z.string().nullable(),
  /** The company's signed list; null for hers. */
  proof: accountIdProofSchema.nullable(),
});
export type AccountIdData = z.infer<typeof accountIdDataSchema>;

export const accountIdRecordSchema = accountIdDataSchema
  .extend({
    id: recordIdSchema,
    relationshipId: recordIdSchema,
    source: accountIdSourceSchema,
    /** The company's list number (0: the customer number of its connect response); null for hers. */
    sequence: z.number().int().min(0).nullable(),
    createdAt: timestampSchema,
    updatedAt: timestampSchema,
  })
  .refine((r) => (r.source === 'company') === (r.sequence !== null && r.proof !== null), 'a company identifier has its list number and proof, hers neither');
export type AccountIdRecord = z.infer<typeof accountIdRecordSchema>;

/** One identifier of a company's list, as the list carries it. */
export interface CompanyIdentifier {
  kind: AccountIdData['kind'];
  value: string;
  label?: string | undefined;
  issuedAt: string;
}

const rowSchema = z.object({
  id: recordIdSchema,
  relationship_id: recordIdSchema,
  source: accountIdSourceSchema,
  sequence: z.number().int().min(0).nullable(),
  created_at: timestampSchema,
  updated_at: timestampSchema,
  data: z.instanceof(Buffer),
});

const SELECT = 'SELECT id, relationship_id, source, sequence, created_at, updated_at, data FROM account_ids';
const sequenceRowSchema = z.object({ s: z.number().int().min(0).nullable() });

/**
 * The administrative identities companies know her by: the latest signed list of each company
 * (replaced whole by a newer one) and the ones she entered herself.
 */
export class AccountIdRepo {
  readonly #ctx: VaultContext;

  constructor(ctx: VaultContext) {
    this.#ctx = ctx;
  }

  #toRecord(raw: unknown): AccountIdRecord {
    const row = this.#ctx.row(TABLE, rowSchema, raw);
    const data = this.#ctx.open(TABLE, row.id, accountIdDataSchema, row.data);
    return { id: row.id, relationshipId: row.relationship_id, source: row.source, sequence: row.sequence, createdAt: row.created_at, updatedAt: row.updated_at, ...data };
  }

  #valueIndex(value: string): string {
    return this.#ctx.index(VALUE_SCOPE, normaliseIdentifierValue(value));
  }

  /**
   * Writes one record as given (her own entries, an import).
   * @throws VaultError `vault.conflict` if the id is taken, `vault.corrupt` for invalid input;
   * RelationshipError `relationship.unknown` if the relationship does not exist.
   */
  insert(input: Omit<AccountIdRecord, 'id' | 'createdAt' | 'updatedAt'> & Partial<Pick<AccountIdRecord, 'id' | 'createdAt' | 'updatedAt'>>): AccountIdRecord {
    const now = this.#ctx.clock.now();
    const { id = newId(), createdAt = now, updatedAt = createdAt, ...rest } = input;
    const record = this.#ctx.check(TABLE, accountIdRecordSchema, { ...rest, id, createdAt, updatedAt });
    const blob = this.#ctx.seal(TABLE, id, accountIdDataSchema, record);
    this.#ctx.write(TABLE, () =>
      this.#ctx
        .stmt('INSERT INTO account_ids (id, relationship_id, source, sequence, value_idx, created_at, updated_at, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
        .run(id, record.relationshipId, record.source, record.sequence, this.#valueIndex(record.value), createdAt, updatedAt, blob),
    );
    return record;
  }

  /**
   * Her own entry on a relationship.
   * @throws AccountError `account.exists` if the relationship already has this kind and value
   * (from the company or from her); RelationshipError `relationship.unknown`.
   */
  addHers(relationshipId: string, entry: { kind: AccountIdData['kind']; value: string; label?: string | undefined }): AccountIdRecord {
    const wanted = normaliseIdentifierValue(entry.value);
    if (this.find(entry.value).some((r) => r.relationshipId === relationshipId && r.kind === entry.kind && normaliseIdentifierValue(r.value) === wanted)) {
      throw new AccountError('account.exists', 'This relationship already has that identifier');
    }
    return this.insert({ relationshipId, source: 'her', sequence: null, kind: entry.kind, value: entry.value, label: entry.label ?? null, issuedAt: null, proof: null });
  }

  /** The number of the company's list she holds for this relationship (0: its connect response's customer number; null: none). */
  companySequence(relationshipId: string): number | null {
    const row = sequenceRowSchema.parse(this.#ctx.stmt("SELECT max(sequence) AS s FROM account_ids WHERE relationship_id = ? AND source = 'company'").get(relationshipId));
    return row.s;
  }

  /**
   * Replaces the company's identifiers on this relationship with its list `sequence`, unless she
   * holds that list or a later one already (a list arriving late changes nothing). Her own entries stay.
   * @returns true if the list was stored.
   */
  replaceCompanyList(relationshipId: string, sequence: number, identifiers: readonly CompanyIdentifier[], proof: AccountIdProof, at: number = this.#ctx.clock.now()): boolean {
    const held = this.companySequence(relationshipId);
    if (held !== null && sequence <= held) return false;
    this.#ctx.write(TABLE, () => this.#ctx.stmt("DELETE FROM account_ids WHERE relationship_id = ? AND source = 'company'").run(relationshipId));
    for (const i of identifiers) {
      this.insert({ relationshipId, source: 'company', sequence, kind: i.kind, value: i.value, label: i.label ?? null, issuedAt: i.issuedAt, proof, createdAt: at });
    }
    return true;
  }

  /**
   * Removes one of her own entries.
   * @throws AccountError `account.unknown` (no such identifier), `account.company_issued` (the
   * company's: only its next list changes it).
   */
  removeHers(id: string): AccountIdRecord {
    const record = this.get(id);
    if (!record) throw new AccountError('account.unknown', 'No such identifier');
    if (record.source !== 'her') throw new AccountError('account.company_issued', 'The company issued this identifier; only its next list changes it');
    this.#ctx.write(TABLE, () => this.#ctx.stmt('DELETE FROM account_ids WHERE id = ?').run(id));
    return record;
  }

  get(id: string): AccountIdRecord | undefined {
    const raw = this.#ctx.stmt(`${SELECT} WHERE id = ?`).get(id);
    return raw === undefined ? undefined : this.#toRecord(raw);
  }

  /** Oldest first; all, or one relationship's. */
  list(relationshipId?: string): AccountIdRecord[] {
    const rows =
      relationshipId === undefined
        ? this.#ctx.stmt(`${SELECT} ORDER BY created_at, rowid`).all()
        : this.#ctx.stmt(`${SELECT} WHERE relationship_id = ? ORDER BY created_at, rowid`).all(relationshipId);
    return rows.flatMap((raw) => this.#ctx.readable(() => this.#toRecord(raw)));
  }

  /** Every identifier, on any relationship, whose normalised value is `value`'s (exact match through the blind index). */
  find(value: string): AccountIdRecord[] {
    const wanted = normaliseIdentifierValue(value);
    if (wanted.length === 0) return [];
    const rows = this.#ctx.stmt(`${SELECT} WHERE value_idx = ? ORDER BY created_at, rowid`).all(this.#valueIndex(value));
    // The index is a hash: the decrypted value confirms the match.
    return rows.flatMap((raw) => this.#ctx.readable(() => this.#toRecord(raw))).filter((r) => normaliseIdentifierValue(r.value) === wanted);
  }
}
