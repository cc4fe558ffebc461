import { createPublicKey, generateKeyPairSync, randomBytes, sign as edSign, verify as edVerify, type KeyObject } from 'node:crypto';
import { computeApv, type EncryptOptions, type EnvelopeEngine, type ParsedJwe, type ParsedJws, type RecipientPrivateKey, type RecipientPublicKey, type SenderPublicKey, type SigningKey } from './engine.js';
import { ECDH_1PU_A256KW, decryptAuthcrypt } from './ecdh1pu.js';
import { MEDIA_TYPE, SIGNED_PROTECTED_HEADER, serializeGeneralJwe, serializeGeneralJws } from './format.js';
import { rawPublicKeyOf } from '../keys.js';
import { decryptXc20pAnoncrypt } from './xc20p.js';
import { cekLength, decryptContent, deriveKeyEncryptionKey, encryptContent, ivLength, unwrapKey, wrapKey, type ContentEncryption } from './joseParts.js';

const SIGNED_PROTECTED_B64 = Buffer.from(JSON.stringify(SIGNED_PROTECTED_HEADER)).toString('base64url');
const EMPTY = new Uint8Array(0);

export function signSync(payload: Uint8Array, signer: SigningKey): string {
  const payloadB64 = Buffer.from(payload).toString('base64url');
  const signature = edSign(null, Buffer.from(`${SIGNED_PROTECTED_B64}.${payloadB64}`), signer.privateKey);
  return serializeGeneralJws(payloadB64, SIGNED_PROTECTED_B64, signature.toString('base64url'), signer.kid);
}

/**
 * A new X25519 key per message (or the fixed one of a test vector), and its public `x`. The key
 * pair stays as KeyObjects and only the public half is exported, as DER: re-importing a DER
 * private key cost ~0.5 ms (OpenSSL 3's decoder), five times the generation, and the JWK export
 * that can deadlock on Node 20 (see keys.ts) is not used. 300,000 generations with DER export under
 * GC pressure ran clean here.
 */
function ephemeralKey(options: EncryptOptions): { ephemeral: KeyObject; epkX: string } {
  if (options.fixed) return { ephemeral: options.fixed.ephemeralPrivateKey, epkX: rawPublicKeyOf(options.fixed.ephemeralPrivateKey).toString('base64url') };
  const { publicKey, privateKey } = generateKeyPairSync('x25519');
  return { ephemeral: privateKey, epkX: rawPublicKeyOf(publicKey).toString('base64url') };
}

export function encryptSync(plaintext: Uint8Array, recipients: RecipientPublicKey[], options: EncryptOptions): string {
  const enc: ContentEncryption = options.enc;
  const { ephemeral, epkX } = ephemeralKey(options);
  const apv = computeApv(recipients.map((r) => r.kid));
  // Member order matches what jose emits ({...protected, epk, apv}, epk as {x, crv, kty}).
  const header = {
    typ: MEDIA_TYPE.encrypted,
    alg: 'ECDH-ES+A256KW',
    enc,
    epk: { x: epkX, crv: 'X25519', kty: 'OKP' },
    apv: apv.toString('base64url'),
  };
  const protectedB64 = Buffer.from(JSON.stringify(header)).toString('base64url');
  const cek = options.fixed?.cek ?? randomBytes(cekLength(enc));
  const iv = options.fixed?.iv ?? randomBytes(ivLength(enc));
  const wrapped = recipients.map((r) => ({
    kid: r.kid,
    encryptedKey: wrapKey(deriveKeyEncryptionKey(ephemeral, r.publicKey, EMPTY, apv), cek),
  }));
  const { ciphertext, tag } = encryptContent(enc, cek, iv, plaintext, Buffer.from(protectedB64, 'ascii'));
  return serializeGeneralJwe({ protectedB64, recipients: wrapped, iv, ciphertext, tag });
}

export function decryptSync(jwe: ParsedJwe, recipient: RecipientPrivateKey, sender?: SenderPublicKey): Buffer {
  if (jwe.header.alg === ECDH_1PU_A256KW) return decryptAuthcrypt(jwe, recipient, sender);
  if (jwe.header.enc === 'XC20P') return decryptXc20pAnoncrypt(jwe, recipient);
  const apu = jwe.header.apu ? Buffer.from(jwe.header.apu, 'base64url') : EMPTY;
  const apv = jwe.header.apv ? Buffer.from(jwe.header.apv, 'base64url') : EMPTY;
  const kek = deriveKeyEncryptionKey(recipient.privateKey, createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: jwe.header.epk.x }, format: 'jwk' }), apu, apv);
  const cek = unwrapKey(kek, jwe.encryptedKey);
  const enc = jwe.header.enc as ContentEncryption;
  if (cek.length !== cekLength(enc)) throw new Error('unwrapped key has the wrong length');
  return decryptContent(enc, cek, jwe.iv, jwe.ciphertext, jwe.tag, Buffer.from(jwe.protectedB64, 'ascii'));
}

export function verifySync(jws: ParsedJws, publicKey: KeyObject): boolean {
  return edVerify(null, Buffer.from(`${jws.protectedB64}.${jws.payloadB64}`), publicKey, jws.signature);
}

export const fastEngine: EnvelopeEngine = {
  name: 'fast',
  sign: async (payload, signer) => signSync(payload, signer),
  encrypt: async (plaintext, recipients, options) => encryptSync(plaintext, recipients, options),
  decrypt: async (jwe, recipient, sender) => decryptSync(jwe, recipient, sender),
  verify: async (jws, publicKey) => verifySync(jws, publicKey),
};
