import { z } from 'zod';
import { newId } from '../../core/ids.js';
import { bindingCodeSchema } from '../../protocol/families/callerVerification.js';
import type { VaultContext } from './context.js';
import { recordIdSchema, timestampSchema } from './json.js';

const TABLE = 'verifications';
/** Blind-index scope of `challenge_idx` = HMAC(relationshipId + '\n' + the company's challenge id). */
const CHALLENGE_SCOPE = 'verifications.challenge';

/** Stored states; `expired` is not stored: a pending challenge past expiresAt is shown expired. */
export const verificationStateSchema = z.enum(['pending', 'approved', 'refused']);
export type VerificationState = z.infer<typeof verificationStateSchema>;

/** The encrypted part: what the company asked (docs/protocol/caller-verification.md). */
export const verificationDataSchema = z.object({
  /** The company's `challenge_id`. */
  challengeId: z.string().min(1),
  /** The DIDComm id of the challenge message: her answer's thid. */
  messageId: z.string().min(1),
  /** The binding code, without the dash. */
  code: bindingCodeSchema,
  /** Who asked, as the company labelled its operator. */
  agent: z.string().min(1).max(100),
});
export type VerificationData = z.infer<typeof verificationDataSchema>;

export const verificationRecordSchema = verificationDataSchema.extend({
  /** Local random id (not the company's challenge id). */
  id: recordIdSchema,
  relationshipId: recordIdSchema,
  state: verificationStateSchema,
  /** The challenge's end (ms), plaintext like every time so expiry can be seen without opening. */
  expiresAt: timestampSchema,
  createdAt: timestampSchema,
  updatedAt: timestampSchema,
});
export type VerificationRecord = z.infer<typeof verificationRecordSchema>;

export type NewVerification = VerificationData &
  Pick<VerificationRecord, 'relationshipId' | 'expiresAt'> &
  Partial<Pick<VerificationRecord, 'id' | 'state' | 'createdAt' | 'updatedAt'>>;

const rowSchema = z.object({
  id: recordIdSchema,
  relationship_id: recordIdSchema,
  state: verificationStateSchema,
  expires_at: timestampSchema,
  created_at: timestampSchema,
  updated_at: timestampSchema,
  data: z.instanceof(Buffer),
});

const SELECT = 'SELECT id, relationship_id, state, expires_at, created_at, updated_at, data FROM verifications';

/** Caller verifications companies asked her for (a phone call she is on), and her answers. */
export class VerificationRepo {
  readonly #ctx: VaultContext;

  constructor(ctx: VaultContext) {
    this.#ctx = ctx;
  }

  #toRecord(raw: unknown): VerificationRecord {
    const row = this.#ctx.row(TABLE, rowSchema, raw);
    const data = this.#ctx.open(TABLE, row.id, verificationDataSchema, row.data);
    return { id: row.id, relationshipId: row.relationship_id, state: row.state, expiresAt: row.expires_at, createdAt: row.created_at, updatedAt: row.updated_at, ...data };
  }

  #challengeIndex(relationshipId: string, challengeId: string): string {
    return this.#ctx.index(CHALLENGE_SCOPE, `${relationshipId}\n${challengeId}`);
  }

  /**
   * @throws VaultError `vault.conflict` if this relationship already has this challenge or the id is
   * taken, `vault.corrupt` for invalid input; RelationshipError `relationship.unknown` if the
   * relationship does not exist.
   */
  insert(input: NewVerification): VerificationRecord {
    const now = this.#ctx.clock.now();
    const { id = newId(), state = 'pending', createdAt = now, updatedAt = createdAt, ...rest } = input;
    const record = this.#ctx.check(TABLE, verificationRecordSchema, { ...rest, id, state, createdAt, updatedAt });
    const blob = this.#ctx.seal(TABLE, id, verificationDataSchema, record);
    this.#ctx.write(TABLE, () =>
      this.#ctx
        .stmt(
          `INSERT INTO verifications (id, relationship_id, challenge_idx, state, expires_at, created_at, updated_at, data)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(id, record.relationshipId, this.#challengeIndex(record.relationshipId, record.challengeId), state, record.expiresAt, createdAt, updatedAt, blob),
    );
    return record;
  }

  get(id: string): VerificationRecord | undefined {
    const raw = this.#ctx.stmt(`${SELECT} WHERE id = ?`).get(id);
    return raw === undefined ? undefined : this.#toRecord(raw);
  }

  /** The challenge a company sent under its own id, in one relationship. */
  findByChallengeId(relationshipId: string, challengeId: string): VerificationRecord | undefined {
    const raw = this.#ctx.stmt(`${SELECT} WHERE challenge_idx = ?`).get(this.#challengeIndex(relationshipId, challengeId));
    const record = raw === undefined ? undefined : this.#toRecord(raw);
    return record?.relationshipId === relationshipId && record.challengeId === challengeId ? record : undefined;
  }

  /** Oldest first; all, or one relationship's. */
  list(relationshipId?: string): VerificationRecord[] {
    const rows =
      relationshipId === undefined
        ? this.#ctx.stmt(`${SELECT} ORDER BY created_at, rowid`).all()
        : this.#ctx.stmt(`${SELECT} WHERE relationship_id = ? ORDER BY created_at, rowid`).all(relationshipId);
    // A salvage pass leaves out a record that does not open (context.readable).
    return rows.flatMap((raw) => this.#ctx.readable(() => this.#toRecord(raw)));
  }

  /**
   * Records her answer: pending → approved/refused (compare-and-set).
   * @returns false (nothing changed) if there is no such challenge or it is not pending.
   */
  settle(id: string, state: Exclude<VerificationState, 'pending'>, at: number = this.#ctx.clock.now()): boolean {
    const next = this.#ctx.check(TABLE, z.enum(['approved', 'refused']), state);
    const when = this.#ctx.check(TABLE, timestampSchema, at);
    return this.#ctx.write(TABLE, () => this.#ctx.stmt(`UPDATE verifications SET state = ?, updated_at = ? WHERE id = ? AND state = 'pending'`).run(next, when, id).changes > 0);
  }
}
