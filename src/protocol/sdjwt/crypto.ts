import { createHash, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import { cachedPublicKeyObject, rawPublicKeyOf, type OkpPublicJwk } from '../keys.js';
import { SALT_BYTES, SD_HASH_ALG } from './constants.js';

/**
 * The few primitives SD-JWT needs, all from node:crypto's synchronous API. The @sd-jwt library
 * takes them as callbacks (hasher, saltGenerator, signer, verifier), so this module is also the
 * library's only source of cryptography.
 */

/** base64url(SHA-256(ASCII bytes of `text`)): the disclosure digest and the KB-JWT `sd_hash`. */
export function sha256Base64url(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('base64url');
}

/**
 * The library's Hasher. It names the algorithm per call (from `_sd_alg`); anything but sha-256
 * throws, which can only happen if our own parsing let another `_sd_alg` through.
 */
export function libraryHasher(data: string | ArrayBuffer, alg: string): Uint8Array {
  if (alg !== SD_HASH_ALG) throw new Error(`Unsupported _sd_alg ${alg}`);
  const hash = createHash('sha256');
  if (typeof data === 'string') hash.update(data, 'utf8');
  else hash.update(new Uint8Array(data));
  return new Uint8Array(hash.digest());
}

/** The library asks for `length` bytes of salt; never give less than the RFC's 128 bits. */
export function saltGenerator(length: number): string {
  return randomBytes(Math.max(length, SALT_BYTES)).toString('base64url');
}

/** Ed25519 over the JWS signing input, base64url: a JWS `EdDSA` signature (RFC 8037). */
export function signEd25519(privateKey: KeyObject, signingInput: string): string {
  return sign(null, Buffer.from(signingInput, 'utf8'), privateKey).toString('base64url');
}

/** Verifies a base64url Ed25519 signature; false (never a throw) for any unusable key or signature. */
export function verifyEd25519(publicJwk: OkpPublicJwk, signingInput: string, signature: string): boolean {
  if (publicJwk.crv !== 'Ed25519') return false;
  const bytes = Buffer.from(signature, 'base64url');
  // 64 bytes exactly, and canonical base64url, so one signature has one encoding.
  if (bytes.length !== 64 || bytes.toString('base64url') !== signature) return false;
  try {
    return verify(null, Buffer.from(signingInput, 'utf8'), cachedPublicKeyObject(publicJwk), bytes);
  } catch {
    return false;
  }
}

/** True if `key` is an Ed25519 private key. */
export function isEd25519PrivateKey(key: KeyObject): boolean {
  return key.type === 'private' && key.asymmetricKeyType === 'ed25519';
}

/**
 * The base64url raw public key of a private Ed25519 key, to compare with a JWK's `x`. Kept per key
 * object: a fan-out presents with the same holder keys again and again, and deriving and exporting
 * the public half was a few percent of her CPU.
 */
export function publicXOf(privateKey: KeyObject): string {
  let x = publicXs.get(privateKey);
  if (x === undefined) {
    x = rawPublicKeyOf(privateKey).toString('base64url');
    publicXs.set(privateKey, x);
  }
  return x;
}

const publicXs = new WeakMap<KeyObject, string>();
