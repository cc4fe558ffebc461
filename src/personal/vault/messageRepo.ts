import { z } from 'zod';
import { newId } from '../../core/ids.js';
import { KeptRead, type VaultContext } from './context.js';
import { countRowSchema, jsonValueSchema, recordIdSchema, timestampSchema } from './json.js';

const TABLE = 'messages';

export const messageDirectionSchema = z.enum(['in', 'out']);
export type MessageDirection = z.infer<typeof messageDirectionSchema>;
/** shown: visible to her; held: received but waiting (e.g. muted); queued/sent: her own messages. */
export const messageStatusSchema = z.enum(['shown', 'held', 'queued', 'sent']);
export type MessageStatus = z.infer<typeof messageStatusSchema>;

/** The encrypted part of a message: the DIDComm id, type, body and threading. */
export const messageDataSchema = z.object({
  messageId: z.string().min(1),
  type: z.string().min(1),
  body: jsonValueSchema,
  thid: z.string().optional(),
  from: z.string().optional(),
});
export type MessageData = z.infer<typeof messageDataSchema>;

export const messageRecordSchema = messageDataSchema.extend({
  id: recordIdSchema,
  relationshipId: recordIdSchema,
  direction: messageDirectionSchema,
  status: messageStatusSchema,
  createdAt: timestampSchema,
});
export type MessageRecord = z.infer<typeof messageRecordSchema>;

/** Insert input. `status` defaults to 'shown' for incoming and 'queued' for outgoing messages. */
export type NewMessage = MessageData &
  Pick<MessageRecord, 'relationshipId' | 'direction'> &
  Partial<Pick<MessageRecord, 'id' | 'status' | 'createdAt'>>;

export interface ListMessagesOptions {
  /** Also return held messages (default false: held ones are not shown to her yet). */
  includeHeld?: boolean;
}

const rowSchema = z.object({
  id: recordIdSchema,
  relationship_id: recordIdSchema,
  direction: messageDirectionSchema,
  status: messageStatusSchema,
  created_at: timestampSchema,
  data: z.instanceof(Buffer),
});

const SELECT = 'SELECT id, relationship_id, direction, status, created_at, data FROM messages';

/** The conversation history of each relationship. */
export class MessageRepo {
  readonly #ctx: VaultContext;
  readonly #kept: KeptRead<Map<string, number>>;

  constructor(ctx: VaultContext) {
    this.#ctx = ctx;
    // Every write that adds or removes a row of this table goes through ctx.write: its own version is enough.
    this.#kept = new KeptRead(ctx, TABLE);
  }

  #toRecord(raw: unknown): MessageRecord {
    const row = this.#ctx.row(TABLE, rowSchema, raw);
    const data = this.#ctx.open(TABLE, row.id, messageDataSchema, row.data);
    return {
      id: row.id,
      relationshipId: row.relationship_id,
      direction: row.direction,
      status: row.status,
      createdAt: row.created_at,
      ...data,
    };
  }

  /**
   * @throws VaultError `vault.corrupt` for invalid input (e.g. a body that is not JSON),
   * `vault.conflict` for a duplicate id or DIDComm message id; RelationshipError
   * `relationship.unknown` if the relationship does not exist.
   */
  insert(input: NewMessage): MessageRecord {
    const { id = newId(), createdAt = this.#ctx.clock.now(), status, ...rest } = input;
    const record = this.#ctx.check(TABLE, messageRecordSchema, {
      ...rest,
      id,
      createdAt,
      status: status ?? (input.direction === 'in' ? 'shown' : 'queued'),
    });
    const blob = this.#ctx.seal(TABLE, id, messageDataSchema, pickData(record));
    const before = this.#kept.version();
    this.#ctx.write(TABLE, () =>
      this.#ctx
        .stmt(
          `INSERT INTO messages (id, relationship_id, message_id_idx, direction, status, created_at, data)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          id,
          record.relationshipId,
          this.#ctx.index('messages.message_id', record.messageId),
          record.direction,
          record.status,
          createdAt,
          blob,
        ),
    );
    this.#kept.adjust(before, (counts) => withCount(counts, record.relationshipId, 1));
    return record;
  }

  /** Messages of one relationship, oldest first; held ones only on request. */
  list(relationshipId: string, options: ListMessagesOptions = {}): MessageRecord[] {
    const sql = options.includeHeld
      ? `${SELECT} WHERE relationship_id = ? ORDER BY created_at, rowid`
      : `${SELECT} WHERE relationship_id = ? AND status <> 'held' ORDER BY created_at, rowid`;
    return this.#ctx
      .stmt(sql)
      .all(relationshipId)
      .flatMap((raw) => this.#ctx.readable(() => this.#toRecord(raw)));
  }

  /** Every message, oldest first (for export). */
  listAll(): MessageRecord[] {
    return this.#ctx
      .stmt(`${SELECT} ORDER BY created_at, rowid`)
      .all()
      .flatMap((raw) => this.#ctx.readable(() => this.#toRecord(raw)));
  }

  /**
   * {@link listAll} one record at a time, for the streamed export (ADR 0025): a hundred thousand
   * messages are never all decrypted at once. The connection is busy while it is iterated: no other
   * statement may run until it is done.
   */
  *eachAll(): Generator<MessageRecord> {
    for (const raw of this.#ctx.stmt(`${SELECT} ORDER BY created_at, rowid`).iterate()) yield this.#toRecord(raw);
  }

  get(id: string): MessageRecord | undefined {
    const raw = this.#ctx.stmt(`${SELECT} WHERE id = ?`).get(id);
    return raw === undefined ? undefined : this.#toRecord(raw);
  }

  /** Looks a message up by its DIDComm id. */
  findByMessageId(messageId: string): MessageRecord | undefined {
    const raw = this.#ctx
      .stmt(`${SELECT} WHERE message_id_idx = ?`)
      .get(this.#ctx.index('messages.message_id', messageId));
    const record = raw === undefined ? undefined : this.#toRecord(raw);
    return record?.messageId === messageId ? record : undefined;
  }

  /** @returns false if there is no message with this (row) id. */
  setStatus(id: string, status: MessageStatus): boolean {
    const checked = this.#ctx.check(TABLE, messageStatusSchema, status);
    return this.#ctx.stmt('UPDATE messages SET status = ? WHERE id = ?').run(checked, id).changes > 0;
  }

  /**
   * Deletes one of her outgoing messages the company refused outright: it was never delivered, so
   * it leaves her thread rather than stay there looking queued. @returns false if there was none.
   */
  removeRefused(id: string): boolean {
    const before = this.#kept.version();
    const relationshipId = this.#ctx.stmt('SELECT relationship_id FROM messages WHERE id = ?').pluck().get(id);
    const removed = this.#ctx.write(TABLE, () => this.#ctx.stmt(`DELETE FROM messages WHERE id = ? AND direction = 'out' AND status = 'queued'`).run(id)).changes > 0;
    if (removed && typeof relationshipId === 'string') this.#kept.adjust(before, (counts) => withCount(counts, relationshipId, -1));
    return removed;
  }

  /** Shows every held message of the relationship (e.g. when she unmutes it). @returns how many. */
  releaseHeld(relationshipId: string): number {
    return this.#ctx
      .stmt(`UPDATE messages SET status = 'shown' WHERE relationship_id = ? AND status = 'held'`)
      .run(relationshipId).changes;
  }

  /** Messages per relationship (held ones included), in one query: the relationship list's counts. */
  countsByRelationship(): ReadonlyMap<string, number> {
    // Kept between calls, and carried over by this repository's own inserts and removals: with
    // 100,000 messages the GROUP BY alone was most of the list's time.
    return this.#kept.get(() => {
      const rows = this.#ctx.stmt('SELECT relationship_id AS id, count(*) AS n FROM messages GROUP BY relationship_id').all() as { id: string; n: number }[];
      return new Map(rows.map((r) => [r.id, r.n]));
    });
  }

  /** All messages of the relationship, held ones included. */
  countByRelationship(relationshipId: string): number {
    const raw = this.#ctx.stmt('SELECT count(*) AS n FROM messages WHERE relationship_id = ?').get(relationshipId);
    return this.#ctx.row(TABLE, countRowSchema, raw).n;
  }
}

/**
 * The counts with one relationship's changed by `delta`, in place: a copy of 10,000 entries on
 * every message would put a millisecond on each insert while the list is kept. Callers read the
 * counts synchronously and do not hold them across a write.
 */
function withCount(counts: Map<string, number>, relationshipId: string, delta: number): Map<string, number> {
  const count = (counts.get(relationshipId) ?? 0) + delta;
  if (count > 0) counts.set(relationshipId, count);
  else counts.delete(relationshipId);
  return counts;
}

function pickData(r: MessageData): MessageData {
  const data: MessageData = { messageId: r.messageId, type: r.type, body: r.body };
  if (r.thid !== undefined) data.thid = r.thid;
  if (r.from !== undefined) data.from = r.from;
  return data;
}
