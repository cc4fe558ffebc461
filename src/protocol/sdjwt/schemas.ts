import { z } from 'zod';
import { okpPublicJwkSchema } from '../keys.js';
import { KB_JWT_TYP, SD_HASH_ALG, SD_JWT_VC_TYP } from './constants.js';

/**
 * zod schemas for the decoded JSON parts of an SD-JWT VC, as Kith's profile allows them. Objects
 * are loose (unknown members pass through) except where a member would change how we must verify.
 */

/** A base64url SHA-256 digest: 32 bytes, 43 characters, no padding. */
const digestSchema = z.string().regex(/^[A-Za-z0-9_-]{43}$/);

/** JWT NumericDate, restricted to whole seconds: Kith writes integers and fractional times buy nothing. */
const numericDateSchema = z.number().int().nonnegative();

/** Kith signs and binds with Ed25519 only; an X25519 key in `cnf` could never verify a KB-JWT. */
export const ed25519PublicJwkSchema = okpPublicJwkSchema.refine((jwk) => jwk.crv === 'Ed25519', {
  message: 'Ed25519 key required',
});

/** `crit` names header parameters the verifier must understand; Kith understands none, so it refuses any. */
const noCrit = (header: Record<string, unknown>): boolean => !Object.hasOwn(header, 'crit');

/** Issuer-signed JWT header. `alg` is checked at the signature step (its own error code), not here. */
export const issuerHeaderSchema = z
  .looseObject({ typ: z.literal(SD_JWT_VC_TYP), alg: z.string(), kid: z.string().min(1) })
  .refine(noCrit, { message: 'crit is not supported' });
export type IssuerHeader = z.infer<typeof issuerHeaderSchema>;

export const issuerPayloadSchema = z.looseObject({
  iss: z.string().min(1),
  iat: numericDateSchema,
  exp: numericDateSchema.optional(),
  nbf: numericDateSchema.optional(),
  vct: z.string().min(1),
  cnf: z.looseObject({ jwk: ed25519PublicJwkSchema }),
  _sd: z.array(digestSchema).optional(),
  _sd_alg: z.literal(SD_HASH_ALG).optional(),
});
export type IssuerPayload = z.infer<typeof issuerPayloadSchema>;

export const kbHeaderSchema = z
  .looseObject({ typ: z.literal(KB_JWT_TYP), alg: z.literal('EdDSA') })
  .refine(noCrit, { message: 'crit is not supported' });

export const kbPayloadSchema = z.looseObject({
  iat: numericDateSchema,
  aud: z.string().min(1),
  nonce: z.string().min(1),
  sd_hash: digestSchema,
});
export type KbPayload = z.infer<typeof kbPayloadSchema>;

/**
 * An object-property disclosure `[salt, claim name, value]` (RFC 9901 §4.2.1). The two-element
 * array-element form is not part of Kith's profile, and z.tuple refuses it by length.
 */
export const objectDisclosureSchema = z.tuple([z.string().min(1), z.string(), z.unknown()]);
