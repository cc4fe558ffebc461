import { z } from 'zod';
import { newId } from '../../core/ids.js';
import { contractSchema, thingFieldsSchema, thingRoleSchema } from '../../protocol/things/fields.js';
import { KeptRead, type VaultContext } from './context.js';
import { recordIdSchema, timestampSchema } from './json.js';

const TABLE = 'things';

/** A company's part in one of her things: the relationship and what it is to the thing. */
export const thingLinkSchema = z.strictObject({ relationshipId: recordIdSchema, role: thingRoleSchema });
export type ThingLink = z.infer<typeof thingLinkSchema>;

/**
 * Proof of purchase: the seller's signed receipt as it arrived, kept unaltered so its signature
 * can be checked again by anyone (filled by the `thing` family, issue 13 item 2).
 */
export const proofOfPurchaseSchema = z.strictObject({
  relationshipId: recordIdSchema,
  /** The signed document as received (JCS + detached JWS, like signed offers). */
  signed: z.string().min(1).max(64 * 1024),
  receivedAt: timestampSchema,
});

/** Her registration of a thing with its maker: which fields she chose to share, under which consent record. */
export const registrationSchema = z.strictObject({
  relationshipId: recordIdSchema,
  consentRecordId: recordIdSchema,
  fields: z.array(z.string().min(1).max(64)).min(1).max(20),
  at: timestampSchema,
});

/**
 * A recall or safety notice the maker sent over the relationship she registered the thing on
 * (docs/protocol/thing.md): kept on the thing and shown first.
 */
export const recallSchema = z.strictObject({
  relationshipId: recordIdSchema,
  /** The company's recall id: the same recall is kept once. */
  recallId: z.string().min(1).max(100),
  gtin: z.string().min(1).max(14).optional(),
  model: z.string().min(1).max(200).optional(),
  text: z.string().min(1).max(4000),
  url: z.string().min(1).max(2000).optional(),
  issuedAt: z.string().min(1).max(40),
  receivedAt: timestampSchema,
});
export type Recall = z.infer<typeof recallSchema>;

/** The encrypted part: everything about the thing but its id, times and links. */
export const thingDataSchema = thingFieldsSchema.extend({
  /** Warranties and service contracts, in the order she added them. */
  contracts: z.array(contractSchema).max(20),
  /**
   * The reminders already given, as `<contractId>:<threshold days>:<end date>`: each contract is
   * announced once per threshold, and again only if its end moves.
   */
  reminded: z.array(z.string().min(1).max(120)).max(200),
  proofOfPurchase: proofOfPurchaseSchema.optional(),
  registrations: z.array(registrationSchema).max(20),
  /** Recalls its maker sent (absent before any; records written before the thing family have none). */
  recalls: z.array(recallSchema).max(50).optional(),
});
export type ThingData = z.infer<typeof thingDataSchema>;

export const thingRecordSchema = thingDataSchema.extend({
  id: recordIdSchema,
  /** Which company is what to this thing; at most one row per relationship and role. */
  links: z.array(thingLinkSchema).max(20),
  createdAt: timestampSchema,
  updatedAt: timestampSchema,
});
export type ThingRecord = z.infer<typeof thingRecordSchema>;

export type NewThing = z.input<typeof thingFieldsSchema> &
  Partial<Pick<ThingData, 'contracts' | 'reminded' | 'proofOfPurchase' | 'registrations' | 'recalls'>> &
  Partial<Pick<ThingRecord, 'id' | 'links' | 'createdAt' | 'updatedAt'>>;

const rowSchema = z.object({ id: recordIdSchema, created_at: timestampSchema, updated_at: timestampSchema, data: z.instanceof(Buffer) });
const linkRowSchema = z.object({ thing_id: recordIdSchema, relationship_id: recordIdSchema, role: thingRoleSchema });

const SELECT = 'SELECT id, created_at, updated_at, data FROM things';

/** What goes in the blob: the record without its plaintext columns and links. */
function dataOf(record: ThingRecord): ThingData {
  const { id: _id, links: _links, createdAt: _createdAt, updatedAt: _updatedAt, ...data } = record;
  return data;
}

/**
 * Her things (schema.org IndividualProduct), their warranties and service contracts, and the
 * companies linked to each by role. Their documents are in {@link AttachmentRepo}.
 */
export class ThingRepo {
  readonly #ctx: VaultContext;
  readonly #kept: KeptRead<readonly ThingRecord[]>;

  constructor(ctx: VaultContext) {
    this.#ctx = ctx;
    this.#kept = new KeptRead(ctx);
  }

  #toRecord(raw: unknown, links: ThingLink[]): ThingRecord {
    const row = this.#ctx.row(TABLE, rowSchema, raw);
    const data = this.#ctx.open(TABLE, row.id, thingDataSchema, row.data);
    return { ...data, id: row.id, links, createdAt: row.created_at, updatedAt: row.updated_at };
  }

  #links(thingId?: string): Map<string, ThingLink[]> {
    const rows =
      thingId === undefined
        ? this.#ctx.stmt('SELECT thing_id, relationship_id, role FROM thing_links ORDER BY created_at, rowid').all()
        : this.#ctx.stmt('SELECT thing_id, relationship_id, role FROM thing_links WHERE thing_id = ? ORDER BY created_at, rowid').all(thingId);
    const byThing = new Map<string, ThingLink[]>();
    for (const raw of rows) {
      const row = this.#ctx.row('thing_links', linkRowSchema, raw);
      const list = byThing.get(row.thing_id) ?? [];
      list.push({ relationshipId: row.relationship_id, role: row.role });
      byThing.set(row.thing_id, list);
    }
    return byThing;
  }

  #writeLinks(thingId: string, links: readonly ThingLink[], at: number): void {
    this.#ctx.stmt('DELETE FROM thing_links WHERE thing_id = ?').run(thingId);
    const insert = this.#ctx.stmt('INSERT INTO thing_links (thing_id, relationship_id, role, created_at) VALUES (?, ?, ?, ?)');
    for (const link of links) insert.run(thingId, link.relationshipId, link.role, at);
  }

  /**
   * @throws VaultError `vault.corrupt` for fields that do not match the schema, `vault.conflict` for
   * a taken id or a link given twice; RelationshipError `relationship.unknown` for a link to a
   * relationship that does not exist. Nothing is written on any of them.
   */
  insert(input: NewThing): ThingRecord {
    const now = this.#ctx.clock.now();
    const { id = newId(), links = [], contracts = [], reminded = [], registrations = [], createdAt = now, updatedAt = createdAt, ...fields } = input;
    const record = this.#ctx.check(TABLE, thingRecordSchema, { ...fields, contracts, reminded, registrations, id, links, createdAt, updatedAt });
    const blob = this.#ctx.seal(TABLE, id, thingDataSchema, dataOf(record));
    this.#ctx.write(TABLE, () =>
      this.#ctx.db.transaction(() => {
        this.#ctx.stmt('INSERT INTO things (id, created_at, updated_at, data) VALUES (?, ?, ?, ?)').run(id, createdAt, updatedAt, blob);
        this.#writeLinks(id, record.links, createdAt);
      })(),
    );
    return record;
  }

  get(id: string): ThingRecord | undefined {
    const raw = this.#ctx.stmt(`${SELECT} WHERE id = ?`).get(id);
    return raw === undefined ? undefined : this.#toRecord(raw, this.#links(id).get(id) ?? []);
  }

  /** Every thing's id, oldest first: what a short id prefix is resolved against, without opening any. */
  ids(): string[] {
    return z.array(recordIdSchema).parse(this.#ctx.stmt('SELECT id FROM things ORDER BY created_at, rowid').pluck().all());
  }

  /**
   * Oldest first. The decrypted list is kept between calls (her things page, reminders, the
   * inventory all read it) and rebuilt once the vault changed (context.contentVersion); never kept
   * from inside a transaction, which could still roll back. Records are frozen: callers share them.
   */
  list(): ThingRecord[] {
    return [
      ...this.#kept.get((): readonly ThingRecord[] => {
        const links = this.#links();
        const rows = this.#ctx.stmt(`${SELECT} ORDER BY created_at, rowid`).all();
        return rows.flatMap((raw) => this.#ctx.readable(() => Object.freeze(this.#toRecord(raw, links.get((raw as { id: string }).id) ?? []))));
      }),
    ];
  }

  /** The ids of the things a relationship is linked to (in any role). */
  idsForRelationship(relationshipId: string): string[] {
    return z.array(recordIdSchema).parse(this.#ctx.stmt('SELECT DISTINCT thing_id FROM thing_links WHERE relationship_id = ? ORDER BY thing_id').pluck().all(relationshipId));
  }

  /**
   * Replaces the thing's data and links (the caller read it, changed it, and gives it whole).
   * @returns the record written, or undefined when there is no such thing (nothing written).
   * @throws as {@link insert}; nothing is written on any of them.
   */
  update(record: Omit<ThingRecord, 'createdAt' | 'updatedAt'>, at: number = this.#ctx.clock.now()): ThingRecord | undefined {
    const current = this.get(record.id);
    if (current === undefined) return undefined;
    const next = this.#ctx.check(TABLE, thingRecordSchema, { ...record, createdAt: current.createdAt, updatedAt: Math.max(at, current.createdAt) });
    const blob = this.#ctx.seal(TABLE, next.id, thingDataSchema, dataOf(next));
    this.#ctx.write(TABLE, () =>
      this.#ctx.db.transaction(() => {
        this.#ctx.stmt('UPDATE things SET data = ?, updated_at = ? WHERE id = ?').run(blob, next.updatedAt, next.id);
        this.#writeLinks(next.id, next.links, next.updatedAt);
      })(),
    );
    return next;
  }

  /**
   * Deletes the thing with its links and documents (ON DELETE CASCADE), scrubbed from the WAL.
   * @returns false if there was no such thing.
   */
  remove(id: string): boolean {
    const removed = this.#ctx.write(TABLE, () => this.#ctx.stmt('DELETE FROM things WHERE id = ?').run(id).changes > 0);
    if (removed) this.#ctx.scrubWal();
    return removed;
  }
}
