import { z } from 'zod';
import { VaultError } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import type { VaultContext } from './context.js';
import { fieldNameSchema, recordIdSchema, timestampSchema } from './json.js';

const TABLE = 'credentials';

/** The encrypted part of a held credential: the SD-JWT VC as issued, and what it offers. */
export const credentialDataSchema = z.object({
  /** The SD-JWT exactly as the issuer gave it (issuer JWT and every disclosure, no key binding). */
  sdJwt: z.string().min(1),
  issuer: z.string().min(1),
  vct: z.string().min(1),
  /** Names of the claims she can disclose one by one. */
  claims: z.array(fieldNameSchema),
  /** Id of the row in `keys` holding the holder private key the credential is bound to. */
  holderKeyId: recordIdSchema,
});
export type CredentialData = z.infer<typeof credentialDataSchema>;

export const credentialRecordSchema = credentialDataSchema.extend({
  id: recordIdSchema,
  createdAt: timestampSchema,
});
export type CredentialRecord = z.infer<typeof credentialRecordSchema>;

export type NewCredential = CredentialData & Partial<Pick<CredentialRecord, 'id' | 'createdAt'>>;

const rowSchema = z.object({
  id: recordIdSchema,
  created_at: timestampSchema,
  data: z.instanceof(Buffer),
});

const SELECT = 'SELECT id, created_at, data FROM credentials';

/** Credentials issuers gave her (SD-JWT VCs), each bound to a holder key in `keys`. */
export class CredentialRepo {
  readonly #ctx: VaultContext;

  constructor(ctx: VaultContext) {
    this.#ctx = ctx;
  }

  #toRecord(raw: unknown): CredentialRecord {
    const row = this.#ctx.row(TABLE, rowSchema, raw);
    const data = this.#ctx.open(TABLE, row.id, credentialDataSchema, row.data);
    return { id: row.id, createdAt: row.created_at, ...data };
  }

  /**
   * @throws VaultError `vault.corrupt` for invalid input or if `holderKeyId` is not a key of the
   * vault without a relationship (a holder key), `vault.conflict` if the id is taken.
   */
  insert(input: NewCredential): CredentialRecord {
    const { id = newId(), createdAt = this.#ctx.clock.now(), ...rest } = input;
    const record = this.#ctx.check(TABLE, credentialRecordSchema, { ...rest, id, createdAt });
    if (this.#ctx.stmt('SELECT 1 FROM keys WHERE id = ? AND relationship_id IS NULL').get(record.holderKeyId) === undefined) {
      throw new VaultError('vault.corrupt', 'The credential is bound to a holder key the vault does not hold', {
        details: { id: record.id, holderKeyId: record.holderKeyId },
      });
    }
    // The data schema strips the plaintext members, so only the credential itself is encrypted.
    const blob = this.#ctx.seal(TABLE, id, credentialDataSchema, record);
    this.#ctx.write(TABLE, () => this.#ctx.stmt('INSERT INTO credentials (id, created_at, data) VALUES (?, ?, ?)').run(id, createdAt, blob));
    return record;
  }

  get(id: string): CredentialRecord | undefined {
    const raw = this.#ctx.stmt(`${SELECT} WHERE id = ?`).get(id);
    return raw === undefined ? undefined : this.#toRecord(raw);
  }

  /** Every credential, oldest first. */
  list(): CredentialRecord[] {
    return this.#ctx
      .stmt(`${SELECT} ORDER BY created_at, rowid`)
      .all()
      .flatMap((raw) => this.#ctx.readable(() => this.#toRecord(raw)));
  }

  /** Deletes a credential (its holder key stays in `keys`). @returns false if there was none. */
  remove(id: string): boolean {
    return this.#ctx.stmt('DELETE FROM credentials WHERE id = ?').run(id).changes > 0;
  }
}
