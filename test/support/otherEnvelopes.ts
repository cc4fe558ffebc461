import { diffieHellman, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { computeApv, type RecipientPrivateKey, type RecipientPublicKey } from '../../src/protocol/envelope/engine.js';
import { ECDH_1PU_A256KW, ecdh1puKdf } from '../../src/protocol/envelope/ecdh1pu.js';
import { MEDIA_TYPE, serializeGeneralJwe } from '../../src/protocol/envelope/format.js';
import { deriveKeyEncryptionKey, encryptContent, wrapKey } from '../../src/protocol/envelope/joseParts.js';
import { rawPublicKeyOf } from '../../src/protocol/keys.js';
import { xc20pEncrypt } from '../../src/protocol/envelope/xc20p.js';

/*
 * Envelopes Kith receives but never sends (decision 0014), packed the way another DIDComm v2 peer
 * would, so tests can make them with Kith's test parties and with exact tampering. They are
 * checked against independent output elsewhere: the ECDH-1PU draft's appendix B, the DIDComm
 * spec's appendix C vectors, and didcomm-rust (didcomm-node) packing for real.
 */

function ephemeral(): { privateKey: KeyObject; x: string } {
  const { publicKey, privateKey } = generateKeyPairSync('x25519');
  return { privateKey, x: rawPublicKeyOf(publicKey).toString('base64url') };
}

function b64(json: unknown): string {
  return Buffer.from(JSON.stringify(json), 'utf8').toString('base64url');
}

export interface AuthcryptOptions {
  /** The `skid` to write (default: the sender key's kid); the KDF still uses `sender`'s key. */
  skid?: string | undefined;
  /** The `apu` to write: default base64url(skid); null leaves it out. */
  apu?: string | null;
  /** Members to add to or override in the protected header (after the defaults). */
  header?: Record<string, unknown>;
}

/** DIDComm v2 authcrypt: ECDH-1PU+A256KW, A256CBC-HS512 over X25519, from `sender`'s static key. */
export function authcryptForTest(plaintext: Uint8Array | string, sender: RecipientPrivateKey, recipients: RecipientPublicKey[], options: AuthcryptOptions = {}): string {
  const epk = ephemeral();
  const skid = 'skid' in options ? options.skid : sender.kid;
  const apu = options.apu === undefined ? (skid === undefined ? undefined : Buffer.from(skid, 'utf8').toString('base64url')) : options.apu;
  const apv = computeApv(recipients.map((r) => r.kid));
  const header: Record<string, unknown> = {
    typ: MEDIA_TYPE.encrypted,
    alg: ECDH_1PU_A256KW,
    enc: 'A256CBC-HS512',
    epk: { kty: 'OKP', crv: 'X25519', x: epk.x },
    apv: apv.toString('base64url'),
    ...(skid === undefined ? {} : { skid }),
    ...(apu === null || apu === undefined ? {} : { apu }),
    ...options.header,
  };
  const protectedB64 = b64(header);
  const cek = randomBytes(64);
  const iv = randomBytes(16);
  const bytes = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext;
  // ECDH-1PU key wrapping: the content first, because its tag is part of every recipient's KDF.
  const { ciphertext, tag } = encryptContent('A256CBC-HS512', cek, iv, bytes, Buffer.from(protectedB64, 'ascii'));
  const apuBytes = typeof apu === 'string' ? Buffer.from(apu, 'base64url') : new Uint8Array(0);
  const wrapped = recipients.map((r) => {
    const z = Buffer.concat([diffieHellman({ privateKey: epk.privateKey, publicKey: r.publicKey }), diffieHellman({ privateKey: sender.privateKey, publicKey: r.publicKey })]);
    const kek = ecdh1puKdf({ z, algorithm: ECDH_1PU_A256KW, keyBits: 256, apu: apuBytes, apv, tag });
    return { kid: r.kid, encryptedKey: wrapKey(kek, cek) };
  });
  return serializeGeneralJwe({ protectedB64, recipients: wrapped, iv, ciphertext, tag });
}

/** DIDComm v2 anoncrypt with XC20P content: ECDH-ES+A256KW over X25519, XChaCha20-Poly1305. */
export function anoncryptXc20pForTest(plaintext: Uint8Array | string, recipients: RecipientPublicKey[]): string {
  const epk = ephemeral();
  const apv = computeApv(recipients.map((r) => r.kid));
  const protectedB64 = b64({ typ: MEDIA_TYPE.encrypted, alg: 'ECDH-ES+A256KW', enc: 'XC20P', epk: { kty: 'OKP', crv: 'X25519', x: epk.x }, apv: apv.toString('base64url') });
  const cek = randomBytes(32);
  const iv = randomBytes(24);
  const bytes = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext;
  const { ciphertext, tag } = xc20pEncrypt(cek, iv, bytes, Buffer.from(protectedB64, 'ascii'));
  const wrapped = recipients.map((r) => ({ kid: r.kid, encryptedKey: wrapKey(deriveKeyEncryptionKey(epk.privateKey, r.publicKey, new Uint8Array(0), apv), cek) }));
  return serializeGeneralJwe({ protectedB64, recipients: wrapped, iv, ciphertext, tag });
}

/** Re-encodes a JWE's protected header with `change` applied (the AAD changes with it). */
export function withProtectedHeader(packed: string, change: (header: Record<string, unknown>) => Record<string, unknown>): string {
  const jwe = JSON.parse(packed) as { protected: string } & Record<string, unknown>;
  const header = JSON.parse(Buffer.from(jwe.protected, 'base64url').toString('utf8')) as Record<string, unknown>;
  return JSON.stringify({ ...jwe, protected: b64(change(header)) });
}
