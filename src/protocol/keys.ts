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

/** Both OKP curves' DER encodings end with the raw 32-byte key (SPKI 44 bytes, PKCS#8 48 bytes). */
const RAW_KEY_BYTES = 32;

/**
 * A fresh key pair as JWKs, built from the DER bytes rather than by exporting the new KeyObject
 * as a JWK: on Node 20 a garbage collection during that export can deadlock the process
 * (the key-generation job's cleanup waits on a lock the export holds).
 */
export function generateKeyPair(crv: KeyCurve): KeyPairJwk {
  const { publicKey, privateKey } =
    crv === 'Ed25519'
      ? generateKeyPairSync('ed25519', { publicKeyEncoding: { type: 'spki', format: 'der' }, privateKeyEncoding: { type: 'pkcs8', format: 'der' } })
      : generateKeyPairSync('x25519', { publicKeyEncoding: { type: 'spki', format: 'der' }, privateKeyEncoding: { type: 'pkcs8', format: 'der' } });
  const x = publicKey.subarray(-RAW_KEY_BYTES).toString('base64url');
  const d = privateKey.subarray(-RAW_KEY_BYTES).toString('base64url');
  return {
    publicJwk: okpPublicJwkSchema.parse({ kty: 'OKP', crv, x }),
    privateJwk: okpPrivateJwkSchema.parse({ kty: 'OKP', crv, x, d }),
  };
}

/** JWK export of an existing KeyObject (tests and vectors; see generateKeyPair for fresh keys). */
export function toPublicJwk(key: KeyObject): OkpPublicJwk {
  const jwk = key.export({ format: 'jwk' });
  return okpPublicJwkSchema.parse({ kty: jwk.kty, crv: jwk.crv, x: jwk.x });
}

export function toPrivateJwk(key: KeyObject): OkpPrivateJwk {
  const jwk = key.export({ format: 'jwk' });
  return okpPrivateJwkSchema.parse({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, d: jwk.d });
}

/** The raw public key of a KeyObject (via DER, for the reason given at generateKeyPair). */
export function rawPublicKeyOf(key: KeyObject): Buffer {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  return publicKey.export({ format: 'der', type: 'spki' }).subarray(-RAW_KEY_BYTES);
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
