import { z } from 'zod';
import { ProfileError } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import type { VaultContext } from './context.js';
import { countRowSchema, fieldNameSchema, profileVersionSchema, recordIdSchema, timestampSchema } from './json.js';

const TABLE = 'profile_deliveries';
const versionSchema = z.number().int();

export const deliveryStateSchema = z.enum(['pending', 'acked', 'failed', 'skipped']);
export type DeliveryState = z.infer<typeof deliveryStateSchema>;

/** Longest `lastError` kept; longer codes (e.g. from a misbehaving company) are cut, not refused. */
export const LAST_ERROR_MAX = 200;
const lastErrorSchema = z.string().max(LAST_ERROR_MAX);

/** The encrypted part of a delivery: the fields owed to the company, and why the last attempt failed. */
export const deliveryDataSchema = z.object({
  fields: z.array(fieldNameSchema).min(1),
  lastError: lastErrorSchema.optional(),
});
export type DeliveryData = z.infer<typeof deliveryDataSchema>;

/** One profile change owed to one company. */
export const deliveryRecordSchema = deliveryDataSchema.extend({
  id: recordIdSchema,
  version: profileVersionSchema,
  relationshipId: recordIdSchema,
  state: deliveryStateSchema,
  attempts: z.number().int().nonnegative(),
  nextAttemptAt: timestampSchema,
  createdAt: timestampSchema,
  updatedAt: timestampSchema,
});
export type DeliveryRecord = z.infer<typeof deliveryRecordSchema>;

/**
 * Create input: pending, 0 attempts, due now. The other members may be given (import restores
 * deliveries exactly as exported).
 */
export type NewDelivery = Pick<DeliveryRecord, 'version' | 'relationshipId' | 'fields'> &
  Partial<Pick<DeliveryRecord, 'id' | 'state' | 'attempts' | 'nextAttemptAt' | 'createdAt' | 'updatedAt' | 'lastError'>>;

/** One company with deliveries due: all of its pending deliveries, oldest version first. */
export interface DueDeliveries {
  relationshipId: string;
  deliveries: DeliveryRecord[];
}

const rowSchema = z.object({
  id: recordIdSchema,
  version: profileVersionSchema,
  relationship_id: recordIdSchema,
  state: deliveryStateSchema,
  attempts: z.number().int().nonnegative(),
  next_attempt_at: timestampSchema,
  created_at: timestampSchema,
  updated_at: timestampSchema,
  data: z.instanceof(Buffer),
});
const relationshipIdRowSchema = z.object({ relationship_id: recordIdSchema });
const nextDueRowSchema = z.object({ next: timestampSchema.nullable() });

const SELECT =
  'SELECT id, version, relationship_id, state, attempts, next_attempt_at, created_at, updated_at, data FROM profile_deliveries';

/**
 * The fan-out outbox of profile changes (`profile_deliveries`): one row per change and company
 * holding a changed field. The sender coalesces a company's pending rows into one notice.
 */
export class DeliveryRepo {
  readonly #ctx: VaultContext;

  constructor(ctx: VaultContext) {
    this.#ctx = ctx;
  }

  #toRecord(raw: unknown): DeliveryRecord {
    const row = this.#ctx.row(TABLE, rowSchema, raw);
    const data = this.#ctx.open(TABLE, row.id, deliveryDataSchema, row.data);
    return {
      id: row.id,
      version: row.version,
      relationshipId: row.relationship_id,
      state: row.state,
      attempts: row.attempts,
      nextAttemptAt: row.next_attempt_at,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      ...data,
    };
  }

  /**
   * Queues a change for one company: state pending, 0 attempts, due `nextAttemptAt` (default now).
   * @throws VaultError `vault.corrupt` for invalid input (e.g. no fields), `vault.conflict` if the
   * company already has a delivery of this version; ProfileError `profile.unknown_change` if the
   * version was never logged; RelationshipError `relationship.unknown` if the relationship does not exist.
   */
  create(input: NewDelivery): DeliveryRecord {
    const now = this.#ctx.clock.now();
    const { id = newId(), state = 'pending', attempts = 0, nextAttemptAt = now, createdAt = now, updatedAt = createdAt, lastError, ...rest } = input;
    const record = this.#ctx.check(TABLE, deliveryRecordSchema, {
      ...rest,
      id,
      state,
      attempts,
      nextAttemptAt,
      createdAt,
      updatedAt,
      ...(lastError === undefined ? {} : { lastError }),
    });
    if (this.#ctx.stmt('SELECT 1 FROM profile_changes WHERE version = ?').get(record.version) === undefined) {
      throw new ProfileError('profile.unknown_change', 'A delivery must belong to a logged profile change', { details: { version: record.version } });
    }
    const blob = this.#ctx.seal(TABLE, id, deliveryDataSchema, pickData(record));
    this.#ctx.write(TABLE, () =>
      this.#ctx
        .stmt(
          `INSERT INTO profile_deliveries (id, version, relationship_id, state, attempts, next_attempt_at, created_at, updated_at, data)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(id, record.version, record.relationshipId, state, attempts, nextAttemptAt, createdAt, updatedAt, blob),
    );
    return record;
  }

  get(id: string): DeliveryRecord | undefined {
    const raw = this.#ctx.stmt(`${SELECT} WHERE id = ?`).get(id);
    return raw === undefined ? undefined : this.#toRecord(raw);
  }

  /**
   * Companies with at least one pending delivery due at `now` (next_attempt_at <= now), each with
   * ALL of its pending deliveries (due or not, oldest version first) so the sender can coalesce
   * them into one notice. Companies are ordered oldest relationship first (relationship
   * `createdAt`); at most `limit` of them.
   */
  dueByRelationship(now: number, limit: number): DueDeliveries[] {
    const ids = this.#ctx
      .stmt(
        `SELECT r.id AS relationship_id FROM relationships r
         WHERE r.id IN (SELECT relationship_id FROM profile_deliveries WHERE state = 'pending' AND next_attempt_at <= ?)
         ORDER BY r.created_at, r.rowid LIMIT ?`,
      )
      .all(now, Math.max(0, Math.floor(limit)))
      .map((raw) => this.#ctx.row(TABLE, relationshipIdRowSchema, raw).relationship_id);
    return ids.map((relationshipId) => ({ relationshipId, deliveries: this.pendingFor(relationshipId) }));
  }

  /** Pending deliveries of one company, oldest version first. */
  pendingFor(relationshipId: string): DeliveryRecord[] {
    return this.#ctx
      .stmt(`${SELECT} WHERE relationship_id = ? AND state = 'pending' ORDER BY version, created_at, rowid`)
      .all(relationshipId)
      .flatMap((raw) => this.#ctx.readable(() => this.#toRecord(raw)));
  }

  /**
   * The company acknowledged `version`: every pending delivery of THAT company with a version up
   * to and including it is acked (one notice carries the current values, so it settles them all).
   * @returns how many deliveries were acked.
   */
  ackUpTo(relationshipId: string, version: number, at: number = this.#ctx.clock.now()): number {
    const upTo = this.#ctx.check(TABLE, versionSchema, version);
    const when = this.#ctx.check(TABLE, timestampSchema, at);
    return this.#ctx
      .stmt(`UPDATE profile_deliveries SET state = 'acked', updated_at = ? WHERE relationship_id = ? AND state = 'pending' AND version <= ?`)
      .run(when, relationshipId, upTo).changes;
  }

  /**
   * A failed attempt that will be retried: for each delivery id that is still pending, attempts + 1,
   * the next attempt at `nextAttemptAt`, and `lastError` recorded (cut to {@link LAST_ERROR_MAX}
   * characters). Unknown or settled ids are ignored. One transaction.
   */
  reschedule(ids: string[], nextAttemptAt: number, lastError: string): void {
    const next = this.#ctx.check(TABLE, timestampSchema, nextAttemptAt);
    const error = this.#ctx.check(TABLE, lastErrorSchema, clip(lastError));
    this.#updatePending(ids, (record) => ({
      sql: `UPDATE profile_deliveries SET attempts = attempts + 1, next_attempt_at = ?, updated_at = ?, data = ?
            WHERE id = ? AND state = 'pending'`,
      params: [next, this.#ctx.clock.now()],
      data: { fields: record.fields, lastError: error },
    }));
  }

  /**
   * Gives up on deliveries (`failed`: the company refused for good; `skipped`: nothing to send or
   * the company is cut off). Only pending ones change. `lastError` replaces the recorded error
   * (null clears it; cut to {@link LAST_ERROR_MAX} characters). One transaction.
   */
  settle(ids: string[], state: 'failed' | 'skipped', lastError: string | null): void {
    const final = this.#ctx.check(TABLE, z.enum(['failed', 'skipped']), state);
    const error = lastError === null ? undefined : this.#ctx.check(TABLE, lastErrorSchema, clip(lastError));
    this.#updatePending(ids, (record) => ({
      sql: `UPDATE profile_deliveries SET state = ?, updated_at = ?, data = ? WHERE id = ? AND state = 'pending'`,
      params: [final, this.#ctx.clock.now()],
      data: error === undefined ? { fields: record.fields } : { fields: record.fields, lastError: error },
    }));
  }

  #updatePending(
    ids: readonly string[],
    plan: (record: DeliveryRecord) => { sql: string; params: (string | number)[]; data: DeliveryData },
  ): void {
    this.#ctx.db.transaction(() => {
      for (const id of new Set(ids)) {
        const record = this.get(id);
        if (record === undefined || record.state !== 'pending') continue;
        const { sql, params, data } = plan(record);
        const blob = this.#ctx.seal(TABLE, id, deliveryDataSchema, data);
        this.#ctx.write(TABLE, () => this.#ctx.stmt(sql).run(...params, blob, id));
      }
    })();
  }

  /** Every delivery of one change, in creation order. */
  forVersion(version: number): DeliveryRecord[] {
    return this.#ctx
      .stmt(`${SELECT} WHERE version = ? ORDER BY created_at, rowid`)
      .all(version)
      .flatMap((raw) => this.#ctx.readable(() => this.#toRecord(raw)));
  }

  /** Every delivery in creation order (for export). */
  list(): DeliveryRecord[] {
    return this.#ctx
      .stmt(`${SELECT} ORDER BY created_at, rowid`)
      .all()
      .flatMap((raw) => this.#ctx.readable(() => this.#toRecord(raw)));
  }

  /** The earliest next attempt among pending deliveries (for scheduling), undefined if none is pending. */
  nextDueAt(): number | undefined {
    const raw = this.#ctx.stmt(`SELECT min(next_attempt_at) AS next FROM profile_deliveries WHERE state = 'pending'`).get();
    return this.#ctx.row(TABLE, nextDueRowSchema, raw).next ?? undefined;
  }

  /** How many deliveries are pending, over all companies. */
  countPending(): number {
    const raw = this.#ctx.stmt(`SELECT count(*) AS n FROM profile_deliveries WHERE state = 'pending'`).get();
    return this.#ctx.row(TABLE, countRowSchema, raw).n;
  }
}

function clip(error: unknown): unknown {
  return typeof error === 'string' ? error.slice(0, LAST_ERROR_MAX) : error;
}

function pickData(r: DeliveryData): DeliveryData {
  return r.lastError === undefined ? { fields: r.fields } : { fields: r.fields, lastError: r.lastError };
}
