import { z } from 'zod';
import { newId } from '../../core/ids.js';
import type { VaultContext } from './context.js';
import { countRowSchema, jsonValueSchema, recordIdSchema, timestampSchema } from './json.js';

const TABLE = 'outbox';

/** The encrypted part of an outbox item: the message to (re)send, before packing. */
export const outboxDataSchema = z.object({
  messageId: z.string().min(1),
  plaintext: jsonValueSchema,
});
export type OutboxData = z.infer<typeof outboxDataSchema>;

export const outboxRecordSchema = outboxDataSchema.extend({
  id: recordIdSchema,
  relationshipId: recordIdSchema,
  nextAttemptAt: timestampSchema,
  attempts: z.number().int().nonnegative(),
  createdAt: timestampSchema,
});
export type OutboxRecord = z.infer<typeof outboxRecordSchema>;

/** Enqueue input: due now with 0 attempts unless told otherwise. */
export type NewOutboxItem = OutboxData &
  Pick<OutboxRecord, 'relationshipId'> &
  Partial<Pick<OutboxRecord, 'id' | 'nextAttemptAt' | 'attempts' | 'createdAt'>>;

const rowSchema = z.object({
  id: recordIdSchema,
  relationship_id: recordIdSchema,
  next_attempt_at: timestampSchema,
  attempts: z.number().int().nonnegative(),
  created_at: timestampSchema,
  data: z.instanceof(Buffer),
});

const SELECT = 'SELECT id, relationship_id, next_attempt_at, attempts, created_at, data FROM outbox';

/** Her messages that are not delivered yet, with retry scheduling. */
export class OutboxRepo {
  readonly #ctx: VaultContext;

  constructor(ctx: VaultContext) {
    this.#ctx = ctx;
  }

  #toRecord(raw: unknown): OutboxRecord {
    const row = this.#ctx.row(TABLE, rowSchema, raw);
    const data = this.#ctx.open(TABLE, row.id, outboxDataSchema, row.data);
    return {
      id: row.id,
      relationshipId: row.relationship_id,
      nextAttemptAt: row.next_attempt_at,
      attempts: row.attempts,
      createdAt: row.created_at,
      ...data,
    };
  }

  /**
   * @throws VaultError `vault.corrupt` for invalid input, `vault.conflict` for a duplicate id;
   * RelationshipError `relationship.unknown` if the relationship does not exist.
   */
  enqueue(input: NewOutboxItem): OutboxRecord {
    const now = this.#ctx.clock.now();
    const { id = newId(), createdAt = now, nextAttemptAt = now, attempts = 0, ...rest } = input;
    const record = this.#ctx.check(TABLE, outboxRecordSchema, { ...rest, id, createdAt, nextAttemptAt, attempts });
    const blob = this.#ctx.seal(TABLE, id, outboxDataSchema, { messageId: record.messageId, plaintext: record.plaintext });
    this.#ctx.write(TABLE, () =>
      this.#ctx
        .stmt(
          'INSERT INTO outbox (id, relationship_id, next_attempt_at, attempts, created_at, data) VALUES (?, ?, ?, ?, ?, ?)',
        )
        .run(id, record.relationshipId, nextAttemptAt, attempts, createdAt, blob),
    );
    return record;
  }

  /** Items whose next attempt is at or before `now`, earliest first. */
  due(now: number, limit: number): OutboxRecord[] {
    return this.#ctx
      .stmt(`${SELECT} WHERE next_attempt_at <= ? ORDER BY next_attempt_at, created_at, rowid LIMIT ?`)
      .all(now, Math.max(0, Math.floor(limit)))
      .flatMap((raw) => this.#ctx.readable(() => this.#toRecord(raw)));
  }

  /** Every pending item, oldest first (for export). */
  list(): OutboxRecord[] {
    return this.#ctx
      .stmt(`${SELECT} ORDER BY created_at, rowid`)
      .all()
      .flatMap((raw) => this.#ctx.readable(() => this.#toRecord(raw)));
  }

  /** @returns false if the item is gone (e.g. delivered meanwhile). */
  reschedule(id: string, nextAttemptAt: number, attempts: number): boolean {
    const next = this.#ctx.check(TABLE, timestampSchema, nextAttemptAt);
    const count = this.#ctx.check(TABLE, z.number().int().nonnegative(), attempts);
    return this.#ctx.stmt('UPDATE outbox SET next_attempt_at = ?, attempts = ? WHERE id = ?').run(next, count, id).changes > 0;
  }

  /** @returns false if there was no such item. */
  remove(id: string): boolean {
    return this.#ctx.stmt('DELETE FROM outbox WHERE id = ?').run(id).changes > 0;
  }

  /** Items still waiting, for one relationship or overall. */
  /** Pending items per relationship, in one query: the relationship list's counts. */
  countsByRelationship(): Map<string, number> {
    const rows = this.#ctx.stmt('SELECT relationship_id AS id, count(*) AS n FROM outbox GROUP BY relationship_id').all() as { id: string; n: number }[];
    return new Map(rows.map((r) => [r.id, r.n]));
  }

  countPending(relationshipId?: string): number {
    const raw =
      relationshipId === undefined
        ? this.#ctx.stmt('SELECT count(*) AS n FROM outbox').get()
        : this.#ctx.stmt('SELECT count(*) AS n FROM outbox WHERE relationship_id = ?').get(relationshipId);
    return this.#ctx.row(TABLE, countRowSchema, raw).n;
  }
}
