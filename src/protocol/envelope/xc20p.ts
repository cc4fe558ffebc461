import { createPublicKey } from 'node:crypto';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import type { ParsedJwe, RecipientPrivateKey } from './engine.js';
import { deriveKeyEncryptionKey, unwrapKey } from './joseParts.js';

/*
 * `enc: "XC20P"`, XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha), the anoncrypt content encryption
 * didcomm-rust and other DIDComm v2 libraries use by default. Received only: Kith packs with
 * A256CBC-HS512 (decision 0014). Neither node:crypto nor jose has XChaCha20, so the cipher is
 * @noble/ciphers' audited one; this module only feeds it the JWE's parts as RFC 7516 does: a
 * 256-bit CEK, the 24-byte `iv` as nonce, AAD = the ASCII of the protected header's base64url, and
 * the 16-byte Poly1305 `tag` after the ciphertext.
 */

export const XC20P_KEY_LENGTH = 32;
export const XC20P_IV_LENGTH = 24;
export const XC20P_TAG_LENGTH = 16;

/** Throws on a wrong key, nonce, AAD or tag (Poly1305 is checked before anything is returned). */
export function xc20pDecrypt(cek: Uint8Array, iv: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array, aad: Uint8Array): Uint8Array {
  if (cek.length !== XC20P_KEY_LENGTH) throw new Error('XC20P needs a 256-bit key');
  if (iv.length !== XC20P_IV_LENGTH) throw new Error('XC20P needs a 24-byte iv');
  if (tag.length !== XC20P_TAG_LENGTH) throw new Error('XC20P needs a 16-byte tag');
  const sealed = new Uint8Array(ciphertext.length + tag.length);
  sealed.set(ciphertext, 0);
  sealed.set(tag, ciphertext.length);
  return xchacha20poly1305(cek, iv, aad).decrypt(sealed);
}

/**
 * The inverse, for tests that build XC20P envelopes (Kith does not send XC20P): returns the
 * ciphertext and the tag as JWE carries them, apart.
 */
export function xc20pEncrypt(cek: Uint8Array, iv: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): { ciphertext: Uint8Array; tag: Uint8Array } {
  if (cek.length !== XC20P_KEY_LENGTH) throw new Error('XC20P needs a 256-bit key');
  if (iv.length !== XC20P_IV_LENGTH) throw new Error('XC20P needs a 24-byte iv');
  const sealed = xchacha20poly1305(cek, iv, aad).encrypt(plaintext);
  return { ciphertext: sealed.subarray(0, sealed.length - XC20P_TAG_LENGTH), tag: sealed.subarray(sealed.length - XC20P_TAG_LENGTH) };
}

/**
 * Anoncrypt (ECDH-ES+A256KW over X25519) with XC20P content: the key agreement and unwrap are
 * Kith's usual ones (joseParts.ts), the content decryption is XChaCha20-Poly1305. Both engines
 * call this for XC20P, jose having no XChaCha20.
 */
export function decryptXc20pAnoncrypt(jwe: ParsedJwe, recipient: RecipientPrivateKey): Buffer {
  const apu = jwe.header.apu ? Buffer.from(jwe.header.apu, 'base64url') : new Uint8Array(0);
  const apv = jwe.header.apv ? Buffer.from(jwe.header.apv, 'base64url') : new Uint8Array(0);
  const epk = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: jwe.header.epk.x }, format: 'jwk' });
  const cek = unwrapKey(deriveKeyEncryptionKey(recipient.privateKey, epk, apu, apv), jwe.encryptedKey);
  const plaintext = xc20pDecrypt(cek, jwe.iv, jwe.ciphertext, jwe.tag, Buffer.from(jwe.protectedB64, 'ascii'));
  return Buffer.from(plaintext.buffer, plaintext.byteOffset, plaintext.byteLength);
}
