import { createPublicKey, diffieHellman, type KeyObject } from 'node:crypto';
import type { ParsedJwe, RecipientPrivateKey, SenderPublicKey } from './engine.js';
import { concatKdf, decryptContent, lengthPrefixed, unwrapKey } from './joseParts.js';

/*
 * DIDComm v2 authcrypt: `alg: "ECDH-1PU+A256KW"`, `enc: "A256CBC-HS512"` over X25519, as
 * draft-madden-jose-ecdh-1pu-04 (the version the DIDComm v2 spec names) defines it. Received
 * only: Kith packs signed-then-anoncrypted messages (decision 0014). jose has no ECDH-1PU, so both
 * engines call this module; it composes node:crypto primitives (X25519, SHA-256, AES key wrap)
 * and joseParts' A256CBC-HS512 exactly as the draft's section 2.3 says:
 *
 *   Ze  = X25519(recipient's static private key, sender's ephemeral `epk`)
 *   Zs  = X25519(recipient's static private key, sender's static key named by `skid`)
 *   KEK = ConcatKDF(Z = Ze || Zs, AlgorithmID = "ECDH-1PU+A256KW", PartyUInfo = apu,
 *                   PartyVInfo = apv, SuppPubInfo = 256 || cctag), cctag = len(tag) || tag
 *   CEK = AES-256 key unwrap (RFC 3394) of the recipient's `encrypted_key` with KEK
 *
 * then A256CBC-HS512 with AAD = the ASCII of the protected header's base64url. The tag in the KDF
 * is what keeps one recipient of a multi-recipient message from forging content to another
 * "from" the sender (the draft's section 4).
 */

export const ECDH_1PU_A256KW = 'ECDH-1PU+A256KW';

export interface Ecdh1puKdfInput {
  /** Ze || Zs, in that order. */
  z: Uint8Array;
  /** The `alg` value: "ECDH-1PU+A256KW" here; the draft's appendix B uses "ECDH-1PU+A128KW". */
  algorithm: string;
  /** Bits of key-encryption key: 256 for A256KW, 128 for A128KW. */
  keyBits: number;
  apu: Uint8Array;
  apv: Uint8Array;
  /** The JWE authentication tag (key wrapping mode); its length-prefixed form is the cctag. */
  tag: Uint8Array;
}

/** The key-encryption key of draft-madden-jose-ecdh-1pu-04 section 2.3, key wrapping mode. */
export function ecdh1puKdf(input: Ecdh1puKdfInput): Buffer {
  return concatKdf(input.z, input.algorithm, input.apu, input.apv, input.keyBits, lengthPrefixed(input.tag));
}

/** Z = Ze || Zs as the recipient computes it. */
export function ecdh1puSharedSecret(recipient: KeyObject, ephemeralPublic: KeyObject, senderPublic: KeyObject): Buffer {
  const ze = diffieHellman({ privateKey: recipient, publicKey: ephemeralPublic });
  const zs = diffieHellman({ privateKey: recipient, publicKey: senderPublic });
  return Buffer.concat([ze, zs]);
}

/**
 * Opens an ECDH-1PU+A256KW / A256CBC-HS512 JWE for one of our keys, given the sender's static
 * X25519 key the receive pipeline resolved from `skid`. Throws a plain error on any failure
 * (wrong key, tampered epk, skid, apu, apv, tag, ciphertext or encrypted key): RFC 3394's
 * integrity check fails with a wrong KEK, and the HMAC tag is checked before any decryption.
 */
export function decryptAuthcrypt(jwe: ParsedJwe, recipient: RecipientPrivateKey, sender: SenderPublicKey | undefined): Buffer {
  if (jwe.header.alg !== ECDH_1PU_A256KW || jwe.header.enc !== 'A256CBC-HS512') throw new Error('not ECDH-1PU+A256KW with A256CBC-HS512');
  if (!sender || jwe.header.skid !== sender.kid) throw new Error('authcrypt needs the static key named by skid');
  const epk = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: jwe.header.epk.x }, format: 'jwk' });
  const kek = ecdh1puKdf({
    z: ecdh1puSharedSecret(recipient.privateKey, epk, sender.publicKey),
    algorithm: ECDH_1PU_A256KW,
    keyBits: 256,
    apu: jwe.header.apu ? Buffer.from(jwe.header.apu, 'base64url') : new Uint8Array(0),
    apv: jwe.header.apv ? Buffer.from(jwe.header.apv, 'base64url') : new Uint8Array(0),
    tag: jwe.tag,
  });
  const cek = unwrapKey(kek, jwe.encryptedKey);
  if (cek.length !== 64) throw new Error('unwrapped key has the wrong length');
  return decryptContent('A256CBC-HS512', cek, jwe.iv, jwe.ciphertext, jwe.tag, Buffer.from(jwe.protectedB64, 'ascii'));
}
