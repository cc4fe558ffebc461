import { createHash } from 'node:crypto';
import { z } from 'zod';
import { newId } from '../../core/ids.js';
import { okpPrivateJwkSchema, okpPublicJwkSchema } from '../../protocol/keys.js';
import type { VaultContext } from './context.js';
import { recordIdSchema, timestampSchema } from './json.js';

const TABLE = 'keys';

export const keyPurposeSchema = z.enum(['authentication', 'keyAgreement']);
export type KeyPurpose = z.infer<typeof keyPurposeSchema>;

const keyDataShape = z.object({
  kid: z.string().min(1),
  privateJwk: okpPrivateJwkSchema,
  publicJwk: okpPublicJwkSchema,
});

/** A private key stored with a public half that does not match would sign or decrypt as someone else. */
const halvesMatch = (k: z.infer<typeof keyDataShape>): boolean =>
  k.privateJwk.crv === k.publicJwk.crv && k.privateJwk.x === k.publicJwk.x;

/** The encrypted part of a key: the kid and both JWKs. */
export const keyDataSchema = keyDataShape.refine(halvesMatch, { message: 'private and public JWK differ' });
export type KeyData = z.infer<typeof keyDataSchema>;

export const keyRecordSchema = keyDataShape
  .extend({
    id: recordIdSchema,
    relationshipId: recordIdSchema.nullable(),
    purpose: keyPurposeSchema,
    createdAt: timestampSchema,
  })
  .refine(halvesMatch, { message: 'private and public JWK differ' });
export type KeyRecord = z.infer<typeof keyRecordSchema>;

/** Insert input; `relationshipId: null` is for keys not bound to one relationship. */
export type NewKey = KeyData &
  Pick<KeyRecord, 'relationshipId' | 'purpose'> &
  Partial<Pick<KeyRecord, 'id' | 'createdAt'>>;

/**
 * Kid prefix of holder keys (keys credentials are bound to): a holder key's kid is its RFC 9278 JWK
 * thumbprint URI, `urn:ietf:params:oauth:jwk-thumbprint:sha-256:<RFC 7638 thumbprint>`.
 */
export const HOLDER_KID_PREFIX = 'urn:ietf:params:oauth:jwk-thumbprint:sha-256:';

/** The RFC 9278 thumbprint URI of an OKP public key (RFC 7638: required members in lexical order). */
export function jwkThumbprintUri(jwk: { crv: string; x: string }): string {
  const canonical = JSON.stringify({ crv: jwk.crv, kty: 'OKP', x: jwk.x });
  return HOLDER_KID_PREFIX + createHash('sha256').update(canonical, 'utf8').digest('base64url');
}

/** Input of {@link KeyRepo.insertHolderKey}: an Ed25519 pair (its kid is its thumbprint URI). */
export type NewHolderKey = Pick<KeyData, 'privateJwk' | 'publicJwk'> & Partial<Pick<KeyRecord, 'id' | 'createdAt'>>;

const holderPairSchema = z.object({
  privateJwk: okpPrivateJwkSchema.extend({ crv: z.literal('Ed25519') }),
  publicJwk: okpPublicJwkSchema.extend({ crv: z.literal('Ed25519') }),
});

const rowSchema = z.object({
  id: recordIdSchema,
  relationship_id: recordIdSchema.nullable(),
  purpose: keyPurposeSchema,
  created_at: timestampSchema,
  data: z.instanceof(Buffer),
});

const SELECT = 'SELECT id, relationship_id, purpose, created_at, data FROM keys';

/** Private keys (pairwise DID keys). Destroying them is how a relationship is cut off for good. */
export class KeyRepo {
  readonly #ctx: VaultContext;

  constructor(ctx: VaultContext) {
    this.#ctx = ctx;
  }

  #toRecord(raw: unknown): KeyRecord {
    const row = this.#ctx.row(TABLE, rowSchema, raw);
    const data = this.#ctx.open(TABLE, row.id, keyDataSchema, row.data);
    return { id: row.id, relationshipId: row.relationship_id, purpose: row.purpose, createdAt: row.created_at, ...data };
  }

  /**
   * @throws VaultError `vault.corrupt` for invalid input, `vault.conflict` for a duplicate id or kid;
   * RelationshipError `relationship.unknown` if `relationshipId` does not exist.
   */
  insert(input: NewKey): KeyRecord {
    const { id = newId(), createdAt = this.#ctx.clock.now(), ...rest } = input;
    const record = this.#ctx.check(TABLE, keyRecordSchema, { ...rest, id, createdAt });
    const data: KeyData = { kid: record.kid, privateJwk: record.privateJwk, publicJwk: record.publicJwk };
    const blob = this.#ctx.seal(TABLE, id, keyDataSchema, data);
    this.#ctx.write(TABLE, () =>
      this.#ctx
        .stmt('INSERT INTO keys (id, relationship_id, kid_idx, purpose, created_at, data) VALUES (?, ?, ?, ?, ?, ?)')
        .run(id, record.relationshipId, this.#ctx.index('keys.kid', record.kid), record.purpose, createdAt, blob),
    );
    return record;
  }

  /**
   * Stores a holder key: an Ed25519 key not bound to a relationship (`relationshipId: null`,
   * purpose 'authentication', kid = its JWK thumbprint URI), which an issuer binds a credential to.
   * @throws VaultError `vault.corrupt` for anything but a matching Ed25519 pair, `vault.conflict` if
   * the key (its kid) is already stored.
   */
  insertHolderKey(input: NewHolderKey): KeyRecord {
    const pair = this.#ctx.check(TABLE, holderPairSchema, { privateJwk: input.privateJwk, publicJwk: input.publicJwk });
    return this.insert({
      ...pair,
      kid: jwkThumbprintUri(pair.publicJwk),
      relationshipId: null,
      purpose: 'authentication',
      ...(input.id === undefined ? {} : { id: input.id }),
      ...(input.createdAt === undefined ? {} : { createdAt: input.createdAt }),
    });
  }

  /** @throws VaultError `vault.corrupt` if the stored record does not decrypt or validate. */
  getById(id: string): KeyRecord | undefined {
    const raw = this.#ctx.stmt(`${SELECT} WHERE id = ?`).get(id);
    return raw === undefined ? undefined : this.#toRecord(raw);
  }

  /** Holder keys (no relationship, kid starting with {@link HOLDER_KID_PREFIX}), oldest first. */
  listHolderKeys(): KeyRecord[] {
    return this.#ctx
      .stmt(`${SELECT} WHERE relationship_id IS NULL ORDER BY created_at, rowid`)
      .all()
      .flatMap((raw) => this.#ctx.readable(() => this.#toRecord(raw)))
      .filter((k) => k.kid.startsWith(HOLDER_KID_PREFIX));
  }

  /** @throws VaultError `vault.corrupt` if the stored record does not decrypt or validate. */
  getByKid(kid: string): KeyRecord | undefined {
    const raw = this.#ctx.stmt(`${SELECT} WHERE kid_idx = ?`).get(this.#ctx.index('keys.kid', kid));
    const record = raw === undefined ? undefined : this.#toRecord(raw);
    return record?.kid === kid ? record : undefined;
  }

  /** Keys of one relationship, oldest first. */
  listForRelationship(relationshipId: string): KeyRecord[] {
    return this.#ctx
      .stmt(`${SELECT} WHERE relationship_id = ? ORDER BY created_at, rowid`)
      .all(relationshipId)
      .flatMap((raw) => this.#ctx.readable(() => this.#toRecord(raw)));
  }

  /** Every key, oldest first (for export). */
  list(): KeyRecord[] {
    return this.#ctx
      .stmt(`${SELECT} ORDER BY created_at, rowid`)
      .all()
      .flatMap((raw) => this.#ctx.readable(() => this.#toRecord(raw)));
  }

  /**
   * Deletes the relationship's keys. `secure_delete` zeroes the freed bytes in the database file
   * and a TRUNCATE checkpoint empties the WAL (deferred to the end of an enclosing transaction).
   * @returns how many keys were destroyed.
   */
  destroyForRelationship(relationshipId: string): number {
    const { changes } = this.#ctx.write(TABLE, () =>
      this.#ctx.stmt('DELETE FROM keys WHERE relationship_id = ?').run(relationshipId),
    );
    if (changes > 0) this.#ctx.scrubWal();
    return changes;
  }
}
