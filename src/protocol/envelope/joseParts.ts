import { createCipheriv, createDecipheriv, createHash, createHmac, diffieHellman, timingSafeEqual, type KeyObject } from 'node:crypto';

/**
 * The JOSE building blocks behind DIDComm anoncrypt, on node:crypto's synchronous APIs.
 *
 * These are not new primitives: each function is the RFC 7518 composition of node:crypto
 * primitives (X25519, SHA-256, AES key wrap, AES-CBC + HMAC, AES-GCM) that `jose` performs through
 * WebCrypto. We keep our own copy because WebCrypto's async round trips cost about 4x on the hot
 * receive path; `fastEngine.test.ts` proves the results byte-for-byte equal to `jose`.
 */

export type ContentEncryption = 'A256CBC-HS512' | 'A256GCM';

const AES_KW_DEFAULT_IV = Buffer.from('A6A6A6A6A6A6A6A6', 'hex');
const EMPTY = new Uint8Array(0);

/** Datalen || Data: a big-endian 32-bit length, then the octets (NIST SP 800-56A's variable-length fields). */
export function lengthPrefixed(data: Uint8Array): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  return Buffer.concat([length, data]);
}

/**
 * The Concat KDF of NIST SP 800-56A section 5.8.2.1 as JOSE uses it (RFC 7518 section 4.6.2, and
 * draft-madden-jose-ecdh-1pu-04 section 2.3), with SHA-256 and a key of at most 256 bits, so one
 * round: SHA-256(round 1 || Z || AlgorithmID || PartyUInfo || PartyVInfo || SuppPubInfo), where
 * SuppPubInfo is keydatalen in bits followed by `cctag` (ECDH-1PU's length-prefixed tag; empty
 * for ECDH-ES).
 */
export function concatKdf(z: Uint8Array, algorithmId: string, apu: Uint8Array, apv: Uint8Array, keyBits: number, cctag: Uint8Array = EMPTY): Buffer {
  if (keyBits <= 0 || keyBits > 256 || keyBits % 8 !== 0) throw new Error('concatKdf derives 8 to 256 bits in one round');
  const keyDataLengthBits = Buffer.alloc(4);
  keyDataLengthBits.writeUInt32BE(keyBits);
  const round = Buffer.alloc(4);
  round.writeUInt32BE(1);
  return createHash('sha256')
    .update(round)
    .update(z)
    .update(lengthPrefixed(Buffer.from(algorithmId, 'ascii')))
    .update(lengthPrefixed(apu))
    .update(lengthPrefixed(apv))
    .update(keyDataLengthBits)
    .update(cctag)
    .digest()
    .subarray(0, keyBits / 8);
}

/**
 * ECDH-ES key agreement + Concat KDF (RFC 7518 section 4.6.2) for `ECDH-ES+A256KW`:
 * one SHA-256 round yields the 256-bit key-encryption key.
 */
export function deriveKeyEncryptionKey(
  privateKey: KeyObject,
  publicKey: KeyObject,
  apu: Uint8Array,
  apv: Uint8Array,
): Buffer {
  return concatKdf(diffieHellman({ privateKey, publicKey }), 'ECDH-ES+A256KW', apu, apv, 256);
}

/** AES-256 key wrap (RFC 3394) via OpenSSL's `id-aes256-wrap`. */
export function wrapKey(kek: Uint8Array, cek: Uint8Array): Buffer {
  const cipher = createCipheriv('id-aes256-wrap', kek, AES_KW_DEFAULT_IV);
  return Buffer.concat([cipher.update(cek), cipher.final()]);
}

/** Throws if the integrity check of RFC 3394 fails (wrong key or tampered wrapped key). */
export function unwrapKey(kek: Uint8Array, wrapped: Uint8Array): Buffer {
  const decipher = createDecipheriv('id-aes256-wrap', kek, AES_KW_DEFAULT_IV);
  return Buffer.concat([decipher.update(wrapped), decipher.final()]);
}

export function cekLength(enc: ContentEncryption): number {
  return enc === 'A256CBC-HS512' ? 64 : 32;
}

export function ivLength(enc: ContentEncryption): number {
  return enc === 'A256CBC-HS512' ? 16 : 12;
}

/** RFC 7518 section 5.2.2.1: the authentication tag of AES_CBC_HMAC_SHA2. */
function cbcHmacTag(macKey: Uint8Array, aad: Uint8Array, iv: Uint8Array, ciphertext: Uint8Array): Buffer {
  const aadBits = Buffer.alloc(8);
  aadBits.writeBigUInt64BE(BigInt(aad.length) * 8n);
  return createHmac('sha512', macKey).update(aad).update(iv).update(ciphertext).update(aadBits).digest().subarray(0, 32);
}

export function encryptContent(
  enc: ContentEncryption,
  cek: Uint8Array,
  iv: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array,
): { ciphertext: Buffer; tag: Buffer } {
  if (enc === 'A256GCM') {
    const cipher = createCipheriv('aes-256-gcm', cek, iv);
    cipher.setAAD(aad);
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return { ciphertext, tag: cipher.getAuthTag() };
  }
  const macKey = cek.subarray(0, 32);
  const encKey = cek.subarray(32, 64);
  const cipher = createCipheriv('aes-256-cbc', encKey, iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { ciphertext, tag: cbcHmacTag(macKey, aad, iv, ciphertext) };
}

/** Throws on a wrong tag; for CBC the tag is checked before any decryption (no padding oracle). */
export function decryptContent(
  enc: ContentEncryption,
  cek: Uint8Array,
  iv: Uint8Array,
  ciphertext: Uint8Array,
  tag: Uint8Array,
  aad: Uint8Array,
): Buffer {
  if (enc === 'A256GCM') {
    if (tag.length !== 16) throw new Error('GCM tag must be 16 bytes');
    const decipher = createDecipheriv('aes-256-gcm', cek, iv);
    decipher.setAAD(aad);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  }
  const expected = cbcHmacTag(cek.subarray(0, 32), aad, iv, ciphertext);
  if (tag.length !== expected.length || !timingSafeEqual(expected, tag)) throw new Error('tag mismatch');
  const decipher = createDecipheriv('aes-256-cbc', cek.subarray(32, 64), iv);
  return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
}
