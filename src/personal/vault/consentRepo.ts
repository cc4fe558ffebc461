import { z } from 'zod';
import { DisclosureError, VaultError } from '../../core/errors.js';
import { consentRecordSchema as consentDocumentSchema } from '../../protocol/consentRecord.js';
import type { VaultContext } from './context.js';
import { recordIdSchema, timestampSchema } from './json.js';

const TABLE = 'consent_records';

export const consentStateSchema = z.enum(['pending', 'active', 'refused', 'withdrawn', 'expired']);
export type ConsentState = z.infer<typeof consentStateSchema>;

/**
 * The encrypted part of a consent record: the ISO/IEC TS 27560-shaped document itself
 * (protocol/consentRecord.ts), checked with the protocol's schema when written and parsed with it,
 * once, when the blob is opened; a blob whose document does not parse is `vault.corrupt`.
 */
export const consentDataSchema = z.object({ record: consentDocumentSchema });

export const consentRecordSchema = consentDataSchema.extend({
  /** The record id both sides file it under (she creates it when she answers). */
  id: recordIdSchema,
  relationshipId: recordIdSchema,
  /** The local id of the disclosure request it answers (`disclosureRequests`), if any. */
  requestId: recordIdSchema.nullable(),
  state: consentStateSchema,
  createdAt: timestampSchema,
  updatedAt: timestampSchema,
});
export type ConsentRecord = z.infer<typeof consentRecordSchema>;

/** Insert input; `createdAt` defaults to now and `updatedAt` to `createdAt`. */
export type NewConsent = Pick<ConsentRecord, 'id' | 'relationshipId' | 'requestId' | 'state' | 'record'> &
  Partial<Pick<ConsentRecord, 'createdAt' | 'updatedAt'>>;

const rowSchema = z.object({
  id: recordIdSchema,
  relationship_id: recordIdSchema,
  request_id: recordIdSchema.nullable(),
  state: consentStateSchema,
  created_at: timestampSchema,
  updated_at: timestampSchema,
  data: z.instanceof(Buffer),
});
const requestRowSchema = z.object({ relationship_id: recordIdSchema });

const SELECT = 'SELECT id, relationship_id, request_id, state, created_at, updated_at, data FROM consent_records';

/** Her copies of consent records (docs/decisions/0007-consent-records.md). */
export class ConsentRepo {
  readonly #ctx: VaultContext;

  constructor(ctx: VaultContext) {
    this.#ctx = ctx;
  }

  #toRecord(raw: unknown): ConsentRecord {
    const row = this.#ctx.row(TABLE, rowSchema, raw);
    const data = this.#ctx.open(TABLE, row.id, consentDataSchema, row.data);
    return {
      id: row.id,
      relationshipId: row.relationship_id,
      requestId: row.request_id,
      state: row.state,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      record: data.record,
    };
  }

  /**
   * @throws VaultError `vault.corrupt` for invalid input or a request of another relationship,
   * `vault.conflict` if the id is taken; DisclosureError `disclosure.unknown_request` if `requestId`
   * is not a stored request; RelationshipError `relationship.unknown` if the relationship does not exist.
   */
  insert(input: NewConsent): ConsentRecord {
    const { createdAt = this.#ctx.clock.now(), updatedAt = createdAt, ...rest } = input;
    const record = this.#ctx.check(TABLE, consentRecordSchema, { ...rest, createdAt, updatedAt });
    if (record.requestId !== null) {
      const raw = this.#ctx.stmt('SELECT relationship_id FROM disclosure_requests WHERE id = ?').get(record.requestId);
      if (raw === undefined) {
        throw new DisclosureError('disclosure.unknown_request', 'The consent record answers a request the vault does not hold', {
          details: { requestId: record.requestId },
        });
      }
      if (this.#ctx.row(TABLE, requestRowSchema, raw).relationship_id !== record.relationshipId) {
        throw new VaultError('vault.corrupt', 'The consent record and its request belong to different relationships', {
          details: { id: record.id },
        });
      }
    }
    const blob = this.#ctx.seal(TABLE, record.id, consentDataSchema, { record: record.record });
    this.#ctx.write(TABLE, () =>
      this.#ctx
        .stmt(
          `INSERT INTO consent_records (id, relationship_id, request_id, state, created_at, updated_at, data)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(record.id, record.relationshipId, record.requestId, record.state, createdAt, updatedAt, blob),
    );
    return record;
  }

  get(id: string): ConsentRecord | undefined {
    const raw = this.#ctx.stmt(`${SELECT} WHERE id = ?`).get(id);
    return raw === undefined ? undefined : this.#toRecord(raw);
  }

  /** Consent records of one relationship, or all of them, oldest first. */
  list(relationshipId?: string): ConsentRecord[] {
    const rows =
      relationshipId === undefined
        ? this.#ctx.stmt(`${SELECT} ORDER BY created_at, rowid`).all()
        : this.#ctx.stmt(`${SELECT} WHERE relationship_id = ? ORDER BY created_at, rowid`).all(relationshipId);
    return rows.flatMap((raw) => this.#ctx.readable(() => this.#toRecord(raw)));
  }

  /**
   * Replaces the state and the record document (re-encrypted with a fresh nonce).
   * @returns false if there is no such record.
   * @throws VaultError `vault.corrupt` for an invalid state or record (nothing is written).
   */
  update(id: string, state: ConsentState, record: ConsentRecord['record'], at: number = this.#ctx.clock.now()): boolean {
    const next = this.#ctx.check(TABLE, consentStateSchema, state);
    const when = this.#ctx.check(TABLE, timestampSchema, at);
    const blob = this.#ctx.seal(TABLE, id, consentDataSchema, { record });
    return this.#ctx.stmt('UPDATE consent_records SET state = ?, updated_at = ?, data = ? WHERE id = ?').run(next, when, blob, id).changes > 0;
  }

  /** Deletes a record (an answer that never reached the company). @returns false if there was none. */
  remove(id: string): boolean {
    return this.#ctx.stmt('DELETE FROM consent_records WHERE id = ?').run(id).changes > 0;
  }
}
