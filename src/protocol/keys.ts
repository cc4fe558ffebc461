import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { z } from 'zod';

/** Public OKP JWK (RFC 8037): Ed25519 for signatures, X25519 for key agreement. */
export const okpPublicJwkSchema = z.object({
  kty: z.literal('OKP'),
  crv: z.enum(['Ed25519', 'X25519']),
  x: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
});
export type OkpPublicJwk = z.infer<typeof okpPublicJwkSchema>;

export const okpPrivateJwkSchema = okpPublicJwkSchema.extend({
  d: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
});
export type OkpPrivateJwk = z.infer<typeof okpPrivateJwkSchema>;

export type KeyCurve = OkpPublicJwk['crv'];

/** A key pair as Kith stores it: JWKs, so it serialises to the vault and to exports unchanged. */
export interface KeyPairJwk {
  publicJwk: OkpPublicJwk;
  privateJwk: OkpPrivateJwk;
}

export function generateKeyPair(crv: KeyCurve): KeyPairJwk {
  const { publicKey, privateKey } =
    crv === 'Ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('x25519');
  return { publicJwk: toPublicJwk(publicKey), privateJwk: toPrivateJwk(privateKey) };
}

export function toPublicJwk(key: KeyObject): OkpPublicJwk {
  const jwk = key.export({ format: 'jwk' });
  return okpPublicJwkSchema.parse({ kty: jwk.kty, crv: jwk.crv, x: jwk.x });
}

export function toPrivateJwk(key: KeyObject): OkpPrivateJwk {
  const jwk = key.export({ format: 'jwk' });
  return okpPrivateJwkSchema.parse({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, d: jwk.d });
}

export function publicKeyObject(jwk: OkpPublicJwk): KeyObject {
  return createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x }, format: 'jwk' });
}

const publicKeyObjects = new Map<string, KeyObject>();
const PUBLIC_KEY_CACHE_LIMIT = 10_000;

/**
 * Like publicKeyObject, memoised: peers' keys come back on every message and building a KeyObject
 * from a JWK costs more than the verification it serves. Public keys only; bounded.
 */
export function cachedPublicKeyObject(jwk: OkpPublicJwk): KeyObject {
  const cacheKey = `${jwk.crv}:${jwk.x}`;
  let key = publicKeyObjects.get(cacheKey);
  if (!key) {
    key = publicKeyObject(jwk);
    if (publicKeyObjects.size >= PUBLIC_KEY_CACHE_LIMIT) publicKeyObjects.clear();
    publicKeyObjects.set(cacheKey, key);
  }
  return key;
}

export function privateKeyObject(jwk: OkpPrivateJwk): KeyObject {
  return createPrivateKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, d: jwk.d }, format: 'jwk' });
}

/** The raw 32 public key bytes (for multibase encoding in DIDs). */
export function rawPublicKey(jwk: OkpPublicJwk): Buffer {
  return Buffer.from(jwk.x, 'base64url');
}

export function publicJwkFromRaw(crv: KeyCurve, raw: Uint8Array): OkpPublicJwk {
  return okpPublicJwkSchema.parse({ kty: 'OKP', crv, x: Buffer.from(raw).toString('base64url') });
}
