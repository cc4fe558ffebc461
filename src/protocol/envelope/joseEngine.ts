import { webcrypto, type KeyObject } from 'node:crypto';
import { FlattenedEncrypt, GeneralSign, flattenedDecrypt, flattenedVerify } from 'jose';
import { computeApv, type EnvelopeEngine, type ParsedJwe, type ParsedJws } from './engine.js';
import { ECDH_1PU_A256KW, decryptAuthcrypt } from './ecdh1pu.js';
import { decryptXc20pAnoncrypt } from './xc20p.js';
import { MEDIA_TYPE, SIGNED_PROTECTED_HEADER, serializeGeneralJwe, serializeGeneralJws } from './format.js';

/**
 * The reference engine: every operation through `jose`. It handles one recipient per message,
 * because jose gives each extra recipient its own `epk`, which DIDComm does not allow.
 */
export const joseEngine: EnvelopeEngine = {
  name: 'jose',

  async sign(payload, signer) {
    const jws = await new GeneralSign(payload)
      .addSignature(signer.privateKey)
      .setProtectedHeader({ ...SIGNED_PROTECTED_HEADER })
      .setUnprotectedHeader({ kid: signer.kid })
      .sign();
    const [signature] = jws.signatures;
    if (!signature?.protected) throw new Error('jose produced no signature');
    return serializeGeneralJws(jws.payload, signature.protected, signature.signature, signer.kid);
  },

  async encrypt(plaintext, recipients, options) {
    const [recipient] = recipients;
    if (!recipient || recipients.length !== 1) throw new Error('the jose engine packs for exactly one recipient');
    const epk = options.fixed ? await extractableX25519(options.fixed.ephemeralPrivateKey) : undefined;
    const encrypter = new FlattenedEncrypt(plaintext)
      .setProtectedHeader({ typ: MEDIA_TYPE.encrypted, alg: 'ECDH-ES+A256KW', enc: options.enc })
      .setUnprotectedHeader({ kid: recipient.kid })
      .setKeyManagementParameters(
        epk ? { apv: computeApv([recipient.kid]), epk } : { apv: computeApv([recipient.kid]) },
      );
    if (options.fixed) encrypter.setContentEncryptionKey(options.fixed.cek).setInitializationVector(options.fixed.iv);
    const jwe = await encrypter.encrypt(recipient.publicKey);
    if (!jwe.protected || !jwe.encrypted_key || !jwe.iv || !jwe.tag) throw new Error('jose produced an incomplete JWE');
    return serializeGeneralJwe({
      protectedB64: jwe.protected,
      recipients: [{ kid: recipient.kid, encryptedKey: Buffer.from(jwe.encrypted_key, 'base64url') }],
      iv: Buffer.from(jwe.iv, 'base64url'),
      ciphertext: Buffer.from(jwe.ciphertext, 'base64url'),
      tag: Buffer.from(jwe.tag, 'base64url'),
    });
  },

  async decrypt(jwe: ParsedJwe, recipient, sender) {
    // jose has neither ECDH-1PU nor XChaCha20: these two go through the modules both engines share.
    if (jwe.header.alg === ECDH_1PU_A256KW) return decryptAuthcrypt(jwe, recipient, sender);
    if (jwe.header.enc === 'XC20P') return decryptXc20pAnoncrypt(jwe, recipient);
    const result = await flattenedDecrypt(
      {
        protected: jwe.protectedB64,
        encrypted_key: Buffer.from(jwe.encryptedKey).toString('base64url'),
        iv: Buffer.from(jwe.iv).toString('base64url'),
        ciphertext: Buffer.from(jwe.ciphertext).toString('base64url'),
        tag: Buffer.from(jwe.tag).toString('base64url'),
      },
      recipient.privateKey,
      { keyManagementAlgorithms: ['ECDH-ES+A256KW'], contentEncryptionAlgorithms: ['A256CBC-HS512', 'A256GCM'] },
    );
    return result.plaintext;
  },

  async verify(jws: ParsedJws, publicKey: KeyObject) {
    try {
      await flattenedVerify(
        { payload: jws.payloadB64, protected: jws.protectedB64, signature: Buffer.from(jws.signature).toString('base64url') },
        publicKey,
        { algorithms: ['EdDSA', 'Ed25519'] },
      );
      return true;
    } catch {
      return false;
    }
  },
};

/**
 * jose turns a KeyObject `epk` into a non-extractable CryptoKey and then needs its public half,
 * which without `SubtleCrypto.getPublicKey` (absent from Node 20) fails with 'CryptoKey for "epk"
 * must be extractable'. Hand it an extractable CryptoKey instead.
 */
async function extractableX25519(privateKey: KeyObject): Promise<webcrypto.CryptoKey> {
  return webcrypto.subtle.importKey('jwk', privateKey.export({ format: 'jwk' }), { name: 'X25519' }, true, ['deriveBits']);
}
