import { z } from 'zod';
import { RelationshipError } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import type { VaultContext } from './context.js';
import { jsonValueSchema, recordIdSchema, timestampSchema } from './json.js';

const TABLE = 'relationships';

export const relationshipStateSchema = z.enum(['pending', 'active', 'muted', 'cut_off']);
export type RelationshipState = z.infer<typeof relationshipStateSchema>;

/** The encrypted part of a relationship. */
export const relationshipDataSchema = z.object({
  myDid: z.string().min(1),
  theirDid: z.string().min(1),
  vendorName: z.string().nullable(),
  theirEndpoint: z.string().nullable(),
  routeToken: z.string().min(1),
  customerRef: z.string().nullable(),
  invitationId: z.string().nullable(),
  notes: z.record(z.string(), jsonValueSchema).optional(),
  /**
   * Another relationship of hers with the same company, when she said so (an anonymous intent's
   * relationship she linked on accepting an offer): kept in her vault only, never sent.
   */
  linkedTo: recordIdSchema.optional(),
  /** The persona (her self) this company knows; absent: the first persona (docs/decisions/0022-personas.md). */
  persona: recordIdSchema.optional(),
});
export type RelationshipData = z.infer<typeof relationshipDataSchema>;

/** A relationship as callers and exports see it: plaintext columns plus the decrypted data. */
export const relationshipRecordSchema = relationshipDataSchema.extend({
  id: recordIdSchema,
  state: relationshipStateSchema,
  createdAt: timestampSchema,
  updatedAt: timestampSchema,
});
export type RelationshipRecord = z.infer<typeof relationshipRecordSchema>;

/** Insert input: id, state (default 'pending') and timestamps (default now) may be given, e.g. by import. */
export type NewRelationship = RelationshipData & Partial<Pick<RelationshipRecord, 'id' | 'state' | 'createdAt' | 'updatedAt'>>;

const rowSchema = z.object({
  id: recordIdSchema,
  state: relationshipStateSchema,
  created_at: timestampSchema,
  updated_at: timestampSchema,
  data: z.instanceof(Buffer),
});

const SELECT = 'SELECT id, state, created_at, updated_at, data FROM relationships';

/** Relationships with companies. DIDs and route tokens are found through blind indexes. */
export class RelationshipRepo {
  readonly #ctx: VaultContext;

  constructor(ctx: VaultContext) {
    this.#ctx = ctx;
  }

  /**
   * Every relationship decrypted, kept between calls: resolving "acme" or listing her relationships
   * must not decrypt thousands of rows each time. Rebuilt after this repository wrote one, or when
   * another connection committed to the file (PRAGMA data_version); never built inside a
   * transaction, which could still roll back. Records are frozen: callers share them.
   */
  #cache: { dataVersion: number; records: readonly RelationshipRecord[] } | undefined;

  #dataVersion(): number {
    return Number(this.#ctx.db.pragma('data_version', { simple: true }));
  }

  #indexes(data: RelationshipData): { my: string; their: string; route: string } {
    return {
      my: this.#ctx.index('relationships.my_did', data.myDid),
      their: this.#ctx.index('relationships.their_did', data.theirDid),
      route: this.#ctx.index('relationships.route_token', data.routeToken),
    };
  }

  #toRecord(raw: unknown): RelationshipRecord {
    const row = this.#ctx.row(TABLE, rowSchema, raw);
    const data = this.#ctx.open(TABLE, row.id, relationshipDataSchema, row.data);
    return { id: row.id, state: row.state, createdAt: row.created_at, updatedAt: row.updated_at, ...data };
  }

  /**
   * @throws VaultError `vault.corrupt` if the input does not match the schema, `vault.conflict` if
   * the id, my DID or route token is already used, `vault.locked` after close.
   */
  insert(input: NewRelationship): RelationshipRecord {
    const now = this.#ctx.clock.now();
    const { id = newId(), state = 'pending', createdAt = now, updatedAt = createdAt, ...rest } = input;
    const record = this.#ctx.check(TABLE, relationshipRecordSchema, { ...rest, id, state, createdAt, updatedAt });
    const data = pickData(record);
    const blob = this.#ctx.seal(TABLE, id, relationshipDataSchema, data);
    const idx = this.#indexes(data);
    this.#forget();
    this.#ctx.write(TABLE, () =>
      this.#ctx
        .stmt(
          `INSERT INTO relationships (id, my_did_idx, their_did_idx, route_idx, state, created_at, updated_at, data)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(id, idx.my, idx.their, idx.route, state, createdAt, updatedAt, blob),
    );
    return record;
  }

  /**
   * The records {@link get} and {@link findByMyDid} decrypted, by id and by my DID: a fan-out or a
   * conversation looks the same relationship up for every message it sends and every reply it
   * applies, and decrypting (and blind-indexing) it each time cost more than a message's signature.
   * Kept by the rules of the list above: dropped on this repository's every write and when another
   * connection committed (PRAGMA data_version), filled only outside a transaction (which could
   * still roll back), and read inside one only while this repository has not written in it.
   */
  #records: { dataVersion: number; byId: Map<string, RelationshipRecord>; idByMyDid: Map<string, string> } | undefined;

  #remembered(): { byId: Map<string, RelationshipRecord>; idByMyDid: Map<string, string> } {
    const dataVersion = this.#dataVersion();
    if (this.#records?.dataVersion !== dataVersion) this.#records = { dataVersion, byId: new Map(), idByMyDid: new Map() };
    return this.#records;
  }

  /** Keeps a record read outside a transaction; returns the caller's own copy either way. */
  #remember(record: RelationshipRecord): RelationshipRecord {
    if (this.#ctx.db.inTransaction) return record;
    const records = this.#remembered();
    records.byId.set(record.id, Object.freeze(copyRecord(record)));
    records.idByMyDid.set(record.myDid, record.id);
    return record;
  }

  #forget(): void {
    this.#cache = undefined;
    this.#records = undefined;
  }

  /** @throws VaultError `vault.corrupt` if the stored record does not decrypt or validate. */
  get(id: string): RelationshipRecord | undefined {
    const known = this.#remembered().byId.get(id);
    if (known !== undefined) return copyRecord(known);
    const raw = this.#ctx.stmt(`${SELECT} WHERE id = ?`).get(id);
    return raw === undefined ? undefined : this.#remember(this.#toRecord(raw));
  }

  /** @throws VaultError `vault.corrupt` as {@link get}. */
  findByMyDid(did: string): RelationshipRecord | undefined {
    const records = this.#remembered();
    const knownId = records.idByMyDid.get(did);
    const known = knownId === undefined ? undefined : records.byId.get(knownId);
    if (known !== undefined) return copyRecord(known);
    const raw = this.#ctx.stmt(`${SELECT} WHERE my_did_idx = ?`).get(this.#ctx.index('relationships.my_did', did));
    const record = raw === undefined ? undefined : this.#toRecord(raw);
    return record?.myDid === did ? this.#remember(record) : undefined;
  }

  /** Every relationship with this company DID (a company may have several relationships with her). */
  findByTheirDid(did: string): RelationshipRecord[] {
    return this.#ctx
      .stmt(`${SELECT} WHERE their_did_idx = ? ORDER BY created_at, rowid`)
      .all(this.#ctx.index('relationships.their_did', did))
      .flatMap((raw) => this.#ctx.readable(() => this.#toRecord(raw)))
      .filter((r) => r.theirDid === did);
  }

  /** @throws VaultError `vault.corrupt` as {@link get}. */
  findByRouteToken(token: string): RelationshipRecord | undefined {
    const raw = this.#ctx
      .stmt(`${SELECT} WHERE route_idx = ?`)
      .get(this.#ctx.index('relationships.route_token', token));
    const record = raw === undefined ? undefined : this.#toRecord(raw);
    return record?.routeToken === token ? record : undefined;
  }

  /** All relationships, oldest first. */
  list(): RelationshipRecord[] {
    const dataVersion = this.#dataVersion();
    if (this.#cache?.dataVersion === dataVersion) return [...this.#cache.records];
    const records = this.#ctx
      .stmt(`${SELECT} ORDER BY created_at, rowid`)
      .all()
      .flatMap((raw) => this.#ctx.readable(() => Object.freeze(this.#toRecord(raw))));
    if (!this.#ctx.db.inTransaction) this.#cache = { dataVersion, records };
    return [...records];
  }

  /**
   * Changes data fields (`undefined` means "leave as is") and re-encrypts with a fresh nonce.
   * @throws RelationshipError `relationship.unknown` if there is no such relationship;
   * VaultError `vault.corrupt` / `vault.conflict` as {@link insert}.
   */
  update(id: string, patch: Partial<RelationshipData>): RelationshipRecord {
    this.#forget();
    return this.#ctx.db.transaction(() => {
      const current = this.#require(id);
      const defined = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
      const data = pickData({ ...current, ...defined });
      const updatedAt = this.#ctx.clock.now();
      const blob = this.#ctx.seal(TABLE, id, relationshipDataSchema, data);
      const idx = this.#indexes(data);
      this.#ctx.write(TABLE, () =>
        this.#ctx
          .stmt(
            `UPDATE relationships SET my_did_idx = ?, their_did_idx = ?, route_idx = ?, updated_at = ?, data = ?
             WHERE id = ?`,
          )
          .run(idx.my, idx.their, idx.route, updatedAt, blob, id),
      );
      return { ...current, ...data, updatedAt };
    })();
  }

  /**
   * @param at when the state changed (ms), stored as `updatedAt`.
   * @throws RelationshipError `relationship.unknown` if there is no such relationship.
   */
  setState(id: string, state: RelationshipState, at: number = this.#ctx.clock.now()): RelationshipRecord {
    this.#forget();
    const result = this.#ctx
      .stmt('UPDATE relationships SET state = ?, updated_at = ? WHERE id = ?')
      .run(this.#ctx.check(TABLE, relationshipStateSchema, state), this.#ctx.check(TABLE, timestampSchema, at), id);
    if (result.changes === 0) throw unknown(id);
    return this.#require(id);
  }

  #require(id: string): RelationshipRecord {
    const record = this.get(id);
    if (record === undefined) throw unknown(id);
    return record;
  }
}

function unknown(id: string): RelationshipError {
  return new RelationshipError('relationship.unknown', 'No such relationship in the vault', { details: { id } });
}

/** A caller's own copy: `notes` is the one nested object a caller could change under the others. */
function copyRecord(record: RelationshipRecord): RelationshipRecord {
  return record.notes === undefined ? { ...record } : { ...record, notes: structuredClone(record.notes) };
}

function pickData(r: RelationshipData): RelationshipData {
  const data: RelationshipData = {
    myDid: r.myDid,
    theirDid: r.theirDid,
    vendorName: r.vendorName,
    theirEndpoint: r.theirEndpoint,
    routeToken: r.routeToken,
    customerRef: r.customerRef,
    invitationId: r.invitationId,
  };
  if (r.notes !== undefined) data.notes = r.notes;
  if (r.linkedTo !== undefined) data.linkedTo = r.linkedTo;
  if (r.persona !== undefined) data.persona = r.persona;
  return data;
}
