import { z } from 'zod';
import { caseIdentifierSchema, caseIdSchema, caseStateSchema, caseTextSchema, sharedThingSchema, type CaseState } from '../../protocol/families/service.js';
import type { VaultContext } from './context.js';
import { recordIdSchema, timestampSchema } from './json.js';

const TABLE = 'service_cases';

/** One message of a case's thread, hers or the company's. */
export const caseEntrySchema = z.strictObject({
  author: z.enum(['her', 'company']),
  /** What it did: opened the case, added to it, resolved it. */
  kind: z.enum(['open', 'reply', 'resolve']),
  /** Null for a resolve without words. */
  text: caseTextSchema.nullable(),
  /** The DIDComm id of the message that carried it. */
  messageId: z.string().min(1).max(200),
  at: timestampSchema,
});
export type CaseEntry = z.infer<typeof caseEntrySchema>;

/** The encrypted part: what she shared, the identifier she picked, and the thread. */
export const serviceCaseDataSchema = z.strictObject({
  /** Her name for the thing when she opened the case (shown even if she deletes the thing). */
  thingName: z.string().min(1).max(200),
  /** The details she chose to share, exactly as sent. */
  shared: sharedThingSchema,
  identifier: caseIdentifierSchema.nullable(),
  /** Oldest first; the first is her opening message. */
  thread: z.array(caseEntrySchema).min(1).max(1000),
});
export type ServiceCaseData = z.infer<typeof serviceCaseDataSchema>;

export const serviceCaseRecordSchema = serviceCaseDataSchema.extend({
  /** The case id she sent (a random UUID): the key both sides find the case by. */
  id: caseIdSchema,
  /** Null once she deleted the thing. */
  thingId: recordIdSchema.nullable(),
  relationshipId: recordIdSchema,
  state: caseStateSchema,
  warrantyClaim: z.boolean(),
  createdAt: timestampSchema,
  updatedAt: timestampSchema,
});
export type ServiceCaseRecord = z.infer<typeof serviceCaseRecordSchema>;

const rowSchema = z.object({
  id: caseIdSchema,
  thing_id: recordIdSchema.nullable(),
  relationship_id: recordIdSchema,
  state: caseStateSchema,
  warranty_claim: z.union([z.literal(0), z.literal(1)]),
  created_at: timestampSchema,
  updated_at: timestampSchema,
  data: z.instanceof(Buffer),
});

const SELECT = 'SELECT id, thing_id, relationship_id, state, warranty_claim, created_at, updated_at, data FROM service_cases';

function dataOf(record: ServiceCaseRecord): ServiceCaseData {
  const { thingName, shared, identifier, thread } = record;
  return { thingName, shared, identifier, thread };
}

/** The service cases she opened about her things (docs/protocol/service.md), each with its thread. */
export class ServiceCaseRepo {
  readonly #ctx: VaultContext;

  constructor(ctx: VaultContext) {
    this.#ctx = ctx;
  }

  #toRecord(raw: unknown): ServiceCaseRecord {
    const row = this.#ctx.row(TABLE, rowSchema, raw);
    const data = this.#ctx.open(TABLE, row.id, serviceCaseDataSchema, row.data);
    return {
      ...data,
      id: row.id,
      thingId: row.thing_id,
      relationshipId: row.relationship_id,
      state: row.state,
      warrantyClaim: row.warranty_claim === 1,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    };
  }

  /**
   * Writes a case as given (a new case, an import).
   * @throws VaultError `vault.conflict` if the id is taken, `vault.corrupt` for invalid input;
   * RelationshipError `relationship.unknown` if the relationship (or the thing) does not exist.
   */
  insert(input: Omit<ServiceCaseRecord, 'createdAt' | 'updatedAt'> & Partial<Pick<ServiceCaseRecord, 'createdAt' | 'updatedAt'>>): ServiceCaseRecord {
    const now = this.#ctx.clock.now();
    const { createdAt = now, updatedAt = createdAt, ...rest } = input;
    const record = this.#ctx.check(TABLE, serviceCaseRecordSchema, { ...rest, createdAt, updatedAt });
    const blob = this.#ctx.seal(TABLE, record.id, serviceCaseDataSchema, dataOf(record));
    this.#ctx.write(TABLE, () =>
      this.#ctx
        .stmt('INSERT INTO service_cases (id, thing_id, relationship_id, state, warranty_claim, created_at, updated_at, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
        .run(record.id, record.thingId, record.relationshipId, record.state, record.warrantyClaim ? 1 : 0, createdAt, updatedAt, blob),
    );
    return record;
  }

  get(id: string): ServiceCaseRecord | undefined {
    const raw = this.#ctx.stmt(`${SELECT} WHERE id = ?`).get(id);
    return raw === undefined ? undefined : this.#toRecord(raw);
  }

  /** Every case's id, oldest first: what a short id prefix is resolved against, without opening any. */
  ids(): string[] {
    return z.array(caseIdSchema).parse(this.#ctx.stmt('SELECT id FROM service_cases ORDER BY created_at, rowid').pluck().all());
  }

  /** Oldest first; all, or one thing's, or one relationship's. */
  list(filter: { thingId?: string; relationshipId?: string } = {}): ServiceCaseRecord[] {
    const rows =
      filter.thingId !== undefined
        ? this.#ctx.stmt(`${SELECT} WHERE thing_id = ? ORDER BY created_at, rowid`).all(filter.thingId)
        : filter.relationshipId !== undefined
          ? this.#ctx.stmt(`${SELECT} WHERE relationship_id = ? ORDER BY created_at, rowid`).all(filter.relationshipId)
          : this.#ctx.stmt(`${SELECT} ORDER BY created_at, rowid`).all();
    return rows.flatMap((raw) => this.#ctx.readable(() => this.#toRecord(raw)));
  }

  /**
   * Adds a message to the case's thread and sets its state (the caller checked the case is not
   * resolved). @returns the record written, or undefined when there is no such case (nothing written).
   */
  append(id: string, entry: CaseEntry, state: CaseState): ServiceCaseRecord | undefined {
    const current = this.get(id);
    if (current === undefined) return undefined;
    const next = this.#ctx.check(TABLE, serviceCaseRecordSchema, { ...current, thread: [...current.thread, entry], state, updatedAt: Math.max(entry.at, current.createdAt) });
    const blob = this.#ctx.seal(TABLE, id, serviceCaseDataSchema, dataOf(next));
    this.#ctx.write(TABLE, () => this.#ctx.stmt('UPDATE service_cases SET state = ?, updated_at = ?, data = ? WHERE id = ?').run(next.state, next.updatedAt, blob, id));
    return next;
  }

  /** Deletes a case whose opening the company never took (the send failed): as if she never opened it. */
  remove(id: string): boolean {
    return this.#ctx.write(TABLE, () => this.#ctx.stmt('DELETE FROM service_cases WHERE id = ?').run(id).changes > 0);
  }
}
