import { z } from 'zod';
import { newId } from '../../core/ids.js';
import type { VaultContext } from './context.js';
import { fieldNameSchema, recordIdSchema, timestampSchema } from './json.js';

const TABLE = 'disclosure_requests';
/** Blind-index scope of `request_idx` = HMAC(relationshipId + '\n' + the company's request id). */
const REQUEST_SCOPE = 'disclosure_requests.request';

export const disclosureRequestStateSchema = z.enum(['pending', 'approved', 'declined']);
export type DisclosureRequestState = z.infer<typeof disclosureRequestStateSchema>;

/** Claims of a credential type the company asks for (optionally only from some issuers). */
export const requestedCredentialSchema = z.object({
  vct: z.string().min(1),
  claims: z.array(fieldNameSchema),
  issuers: z.array(z.string().min(1)).optional(),
});
export type RequestedCredential = z.infer<typeof requestedCredentialSchema>;

/** The rule of hers that answered a request by itself (personal/disclosure/rules.ts), as it read then. */
export const answeredBySchema = z.object({
  ruleId: z.string().min(1).max(40),
  /** The rule in words when it answered: a later edit of the rule does not rewrite history. */
  ruleText: z.string().min(1).max(2000),
});
export type AnsweredBy = z.infer<typeof answeredBySchema>;

/** Her answer, recorded when she approves or declines (or a rule of hers does: `answeredBy`). */
export const disclosureAnswerSchema = z.object({
  answeredFields: z.array(fieldNameSchema),
  consentRecordId: recordIdSchema,
  answeredBy: answeredBySchema.optional(),
});
export type DisclosureAnswer = z.infer<typeof disclosureAnswerSchema>;

/** The encrypted part of a request: what the company asked, and (once answered) what she gave. */
export const disclosureRequestDataSchema = z.object({
  /** The company's request id (`disclose/request` `request_id`). */
  requestId: z.string().min(1),
  /** The DIDComm id of the request message (her answer threads on it). */
  messageId: z.string().min(1),
  /** The challenge her presentations' key binding must carry. */
  nonce: z.string().min(1),
  fields: z.array(fieldNameSchema),
  purpose: z.string(),
  /** The purpose as a term of the roster's vocabulary (`purpose_code`), what her rules judge; absent on requests kept before it was. */
  purposeCode: z.string().min(1).max(100).nullable().optional(),
  retention: z.string().nullable(),
  legalBasis: z.string().min(1),
  termsRef: z.string().nullable(),
  credentials: z.array(requestedCredentialSchema),
  answeredFields: z.array(fieldNameSchema).optional(),
  consentRecordId: recordIdSchema.optional(),
  answeredBy: answeredBySchema.optional(),
});
export type DisclosureRequestData = z.infer<typeof disclosureRequestDataSchema>;

export const disclosureRequestRecordSchema = disclosureRequestDataSchema.extend({
  /** Local random id (not the company's request id). */
  id: recordIdSchema,
  relationshipId: recordIdSchema,
  state: disclosureRequestStateSchema,
  createdAt: timestampSchema,
  updatedAt: timestampSchema,
});
export type DisclosureRequestRecord = z.infer<typeof disclosureRequestRecordSchema>;

/**
 * Insert input: a new request is pending, created now. Id, state, times and the answer may be
 * given (import restores requests exactly as exported).
 */
export type NewDisclosureRequest = Omit<DisclosureRequestData, 'answeredFields' | 'consentRecordId' | 'answeredBy'> &
  Pick<DisclosureRequestRecord, 'relationshipId'> &
  Partial<Pick<DisclosureRequestRecord, 'id' | 'state' | 'createdAt' | 'updatedAt' | 'answeredFields' | 'consentRecordId' | 'answeredBy'>>;

export interface ListDisclosureRequestsOptions {
  relationshipId?: string;
  state?: DisclosureRequestState;
}

const rowSchema = z.object({
  id: recordIdSchema,
  relationship_id: recordIdSchema,
  state: disclosureRequestStateSchema,
  created_at: timestampSchema,
  updated_at: timestampSchema,
  data: z.instanceof(Buffer),
});

const SELECT = 'SELECT id, relationship_id, state, created_at, updated_at, data FROM disclosure_requests';

/** Disclosure requests companies sent her, and how she answered them. */
export class DisclosureRequestRepo {
  readonly #ctx: VaultContext;

  constructor(ctx: VaultContext) {
    this.#ctx = ctx;
  }

  #toRecord(raw: unknown): DisclosureRequestRecord {
    const row = this.#ctx.row(TABLE, rowSchema, raw);
    const data = this.#ctx.open(TABLE, row.id, disclosureRequestDataSchema, row.data);
    return { id: row.id, relationshipId: row.relationship_id, state: row.state, createdAt: row.created_at, updatedAt: row.updated_at, ...data };
  }

  #requestIndex(relationshipId: string, requestId: string): string {
    return this.#ctx.index(REQUEST_SCOPE, `${relationshipId}\n${requestId}`);
  }

  /**
   * @throws VaultError `vault.conflict` if this relationship already has a request with this
   * `requestId` (a redelivered request) or the id is taken, `vault.corrupt` for invalid input;
   * RelationshipError `relationship.unknown` if the relationship does not exist.
   */
  insert(input: NewDisclosureRequest): DisclosureRequestRecord {
    const now = this.#ctx.clock.now();
    const { id = newId(), state = 'pending', createdAt = now, updatedAt = createdAt, ...rest } = input;
    const record = this.#ctx.check(TABLE, disclosureRequestRecordSchema, { ...rest, id, state, createdAt, updatedAt });
    // The data schema strips the plaintext members, so only the request itself is encrypted.
    const blob = this.#ctx.seal(TABLE, id, disclosureRequestDataSchema, record);
    this.#ctx.write(TABLE, () =>
      this.#ctx
        .stmt(
          `INSERT INTO disclosure_requests (id, relationship_id, request_idx, state, created_at, updated_at, data)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(id, record.relationshipId, this.#requestIndex(record.relationshipId, record.requestId), state, createdAt, updatedAt, blob),
    );
    return record;
  }

  get(id: string): DisclosureRequestRecord | undefined {
    const raw = this.#ctx.stmt(`${SELECT} WHERE id = ?`).get(id);
    return raw === undefined ? undefined : this.#toRecord(raw);
  }

  /** The request a company sent under its own `requestId`, in one relationship. */
  findByRequestId(relationshipId: string, requestId: string): DisclosureRequestRecord | undefined {
    const raw = this.#ctx.stmt(`${SELECT} WHERE request_idx = ?`).get(this.#requestIndex(relationshipId, requestId));
    const record = raw === undefined ? undefined : this.#toRecord(raw);
    return record?.relationshipId === relationshipId && record.requestId === requestId ? record : undefined;
  }

  /** Requests, oldest first; optionally of one relationship and/or in one state. */
  list(options: ListDisclosureRequestsOptions = {}): DisclosureRequestRecord[] {
    const where: string[] = [];
    const params: string[] = [];
    if (options.relationshipId !== undefined) {
      where.push('relationship_id = ?');
      params.push(options.relationshipId);
    }
    if (options.state !== undefined) {
      where.push('state = ?');
      params.push(this.#ctx.check(TABLE, disclosureRequestStateSchema, options.state));
    }
    const sql = `${SELECT}${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at, rowid`;
    return this.#ctx
      .stmt(sql)
      .all(...params)
      .flatMap((raw) => this.#ctx.readable(() => this.#toRecord(raw)));
  }

  /**
   * Records her answer: pending → approved/declined, with the fields she gave and the consent
   * record's id. Compare-and-set: a request that is not pending is left alone.
   * @returns false (nothing changed) if there is no such request or it is not pending.
   * @throws VaultError `vault.corrupt` for an invalid answer (nothing is written).
   */
  settle(id: string, state: 'approved' | 'declined', answer: DisclosureAnswer, at: number = this.#ctx.clock.now()): boolean {
    const next = this.#ctx.check(TABLE, z.enum(['approved', 'declined']), state);
    const checked = this.#ctx.check(TABLE, disclosureAnswerSchema, answer);
    const when = this.#ctx.check(TABLE, timestampSchema, at);
    return this.#ctx.db.transaction(() => {
      const current = this.get(id);
      if (current === undefined || current.state !== 'pending') return false;
      const blob = this.#ctx.seal(TABLE, id, disclosureRequestDataSchema, { ...current, ...checked });
      return (
        this.#ctx
          .stmt(`UPDATE disclosure_requests SET state = ?, updated_at = ?, data = ? WHERE id = ? AND state = 'pending'`)
          .run(next, when, blob, id).changes > 0
      );
    })();
  }

  /**
   * An answer that never reached the company: approved/declined → pending again, and the recorded
   * answer (answeredFields, consentRecordId, answeredBy) is forgotten.
   * @returns false if there is no such request or it is already pending.
   */
  reopen(id: string, at: number = this.#ctx.clock.now()): boolean {
    const when = this.#ctx.check(TABLE, timestampSchema, at);
    return this.#ctx.db.transaction(() => {
      const current = this.get(id);
      if (current === undefined || current.state === 'pending') return false;
      const { answeredFields: _fields, consentRecordId: _consent, answeredBy: _rule, ...unanswered } = current;
      const blob = this.#ctx.seal(TABLE, id, disclosureRequestDataSchema, unanswered);
      return (
        this.#ctx
          .stmt(`UPDATE disclosure_requests SET state = 'pending', updated_at = ?, data = ? WHERE id = ? AND state <> 'pending'`)
          .run(when, blob, id).changes > 0
      );
    })();
  }
}
