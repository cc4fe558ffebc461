import { createDecipheriv, createPrivateKey, createPublicKey, diffieHellman, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { newParty } from '../../../test/support/parties.js';
import { authcryptForTest } from '../../../test/support/otherEnvelopes.js';
import { ECDH_1PU_A256KW, decryptAuthcrypt, ecdh1puKdf, ecdh1puSharedSecret } from './ecdh1pu.js';
import type { EnvelopeEngine, ParsedJwe } from './engine.js';
import { fastEngine } from './fastEngine.js';
import { anoncryptHeaderSchema } from './format.js';
import { joseEngine } from './joseEngine.js';
import { decryptContent, lengthPrefixed } from './joseParts.js';

/*
 * draft-madden-jose-ecdh-1pu-04 Appendix B, copied verbatim into testdata/ (see its README): Alice
 * sends "Three is a magic number." to Bob and Charlie with ECDH-1PU+A128KW and A256CBC-HS512 over
 * X25519. The draft's example wraps with A128KW where DIDComm uses A256KW; the KDF is the same
 * function with another AlgorithmID and keydatalen, so the draft's intermediate values check ours.
 */
const okp = z.object({ kty: z.literal('OKP'), crv: z.literal('X25519'), x: z.string(), d: z.string() });
const hex = z.string().regex(/^[0-9a-f]+$/);
const vectorSchema = z.object({
  keys: z.object({ alice: okp, bob: okp, charlie: okp, ephemeral: okp }),
  plaintext: z.string(),
  cekHex: hex,
  ivHex: hex,
  kdf: z.object({
    bob: z.object({ zeHex: hex, zsHex: hex, kekHex: hex }),
    charlie: z.object({ zeHex: hex, zsHex: hex, kekHex: hex }),
    cctagHex: hex,
    suppPubInfoHex: hex,
    fixedInfoHex: hex,
  }),
  jwe: z.object({
    protected: z.string(),
    recipients: z.array(z.object({ header: z.object({ kid: z.string() }), encrypted_key: z.string() })),
    iv: z.string(),
    ciphertext: z.string(),
    tag: z.string(),
  }),
});
const vector = vectorSchema.parse(JSON.parse(readFileSync(new URL('./testdata/ecdh-1pu-draft-04-appendix-b.json', import.meta.url), 'utf8')));

const privateOf = (jwk: z.infer<typeof okp>): KeyObject => createPrivateKey({ key: jwk, format: 'jwk' });
const publicOf = (jwk: z.infer<typeof okp>): KeyObject => createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x }, format: 'jwk' });
const header = JSON.parse(Buffer.from(vector.jwe.protected, 'base64url').toString('utf8')) as { apu: string; apv: string; epk: { x: string } };
const tag = Buffer.from(vector.jwe.tag, 'base64url');

const RECIPIENTS = [
  ['Bob', vector.keys.bob, vector.kdf.bob, 0],
  ['Charlie', vector.keys.charlie, vector.kdf.charlie, 1],
] as const;

describe('draft-madden-jose-ecdh-1pu-04 Appendix B (X25519, Alice to Bob and Charlie)', () => {
  it('has the protected header the draft prints in B.1, and its cctag is our length-prefixed tag', () => {
    expect(JSON.parse(Buffer.from(vector.jwe.protected, 'base64url').toString('utf8'))).toEqual({
      alg: 'ECDH-1PU+A128KW',
      enc: 'A256CBC-HS512',
      apu: Buffer.from('Alice').toString('base64url'),
      apv: Buffer.from('Bob and Charlie').toString('base64url'),
      epk: { kty: 'OKP', crv: 'X25519', x: vector.keys.ephemeral.x },
    });
    expect(lengthPrefixed(tag).toString('hex')).toBe(vector.kdf.cctagHex);
  });

  it.each(RECIPIENTS)('gives %s the draft’s Ze and Zs, from either side of the exchange', (_name, recipient, kdf) => {
    const z = ecdh1puSharedSecret(privateOf(recipient), publicOf(vector.keys.ephemeral), publicOf(vector.keys.alice));
    expect(z.toString('hex')).toBe(kdf.zeHex + kdf.zsHex);
    // The sender's view: ephemeral private with the recipient's public, Alice's static private with it.
    expect(diffieHellman({ privateKey: privateOf(vector.keys.ephemeral), publicKey: publicOf(recipient) }).toString('hex')).toBe(kdf.zeHex);
    expect(diffieHellman({ privateKey: privateOf(vector.keys.alice), publicKey: publicOf(recipient) }).toString('hex')).toBe(kdf.zsHex);
  });

  it.each(RECIPIENTS)('derives %s’s key-encryption key of B.9/B.10 with our Concat KDF (AlgorithmID, apu, apv, keydatalen, cctag)', (_name, _recipient, kdf) => {
    const kek = ecdh1puKdf({
      z: Buffer.from(kdf.zeHex + kdf.zsHex, 'hex'),
      algorithm: 'ECDH-1PU+A128KW',
      keyBits: 128,
      apu: Buffer.from(header.apu, 'base64url'),
      apv: Buffer.from(header.apv, 'base64url'),
      tag,
    });
    expect(kek.toString('hex')).toBe(kdf.kekHex);
  });

  it('uses the FixedInfo the draft prints: AlgorithmID || PartyUInfo || PartyVInfo || SuppPubInfo', () => {
    const fixedInfo = Buffer.concat([
      lengthPrefixed(Buffer.from('ECDH-1PU+A128KW', 'ascii')),
      lengthPrefixed(Buffer.from('Alice')),
      lengthPrefixed(Buffer.from('Bob and Charlie')),
      Buffer.from(vector.kdf.suppPubInfoHex, 'hex'),
    ]);
    expect(fixedInfo.toString('hex')).toBe(vector.kdf.fixedInfoHex);
    expect(vector.kdf.suppPubInfoHex).toBe(`00000080${vector.kdf.cctagHex}`);
  });

  it.each(RECIPIENTS)('unwraps %s’s encrypted_key to the draft’s CEK and decrypts the draft’s plaintext', (_name, _recipient, kdf, index) => {
    const entry = vector.jwe.recipients[index];
    if (!entry) throw new Error('no recipient entry');
    const decipher = createDecipheriv('id-aes128-wrap', Buffer.from(kdf.kekHex, 'hex'), Buffer.from('A6A6A6A6A6A6A6A6', 'hex'));
    const cek = Buffer.concat([decipher.update(Buffer.from(entry.encrypted_key, 'base64url')), decipher.final()]);
    expect(cek.toString('hex')).toBe(vector.cekHex);
    expect(Buffer.from(vector.jwe.iv, 'base64url').toString('hex')).toBe(vector.ivHex);
    const plaintext = decryptContent('A256CBC-HS512', cek, Buffer.from(vector.jwe.iv, 'base64url'), Buffer.from(vector.jwe.ciphertext, 'base64url'), tag, Buffer.from(vector.jwe.protected, 'ascii'));
    expect(plaintext.toString('utf8')).toBe(vector.plaintext);
  });

  it('derives another key once one bit of the tag changes (the tag is KDF input: the draft’s fix for multi-recipient forgery)', () => {
    const flipped = Buffer.from(tag);
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    const kek = ecdh1puKdf({ z: Buffer.from(vector.kdf.bob.zeHex + vector.kdf.bob.zsHex, 'hex'), algorithm: 'ECDH-1PU+A128KW', keyBits: 128, apu: Buffer.from('Alice'), apv: Buffer.from('Bob and Charlie'), tag: flipped });
    expect(kek.toString('hex')).not.toBe(vector.kdf.bob.kekHex);
  });

  it('is not opened by decryptAuthcrypt, which takes only ECDH-1PU+A256KW (DIDComm’s one authcrypt algorithm)', () => {
    const [bobEntry] = vector.jwe.recipients;
    if (!bobEntry) throw new Error('no recipient entry');
    const jwe: ParsedJwe = {
      protectedB64: vector.jwe.protected,
      header: anoncryptHeaderSchema.parse(JSON.parse(Buffer.from(vector.jwe.protected, 'base64url').toString('utf8'))),
      encryptedKey: Buffer.from(bobEntry.encrypted_key, 'base64url'),
      iv: Buffer.from(vector.jwe.iv, 'base64url'),
      ciphertext: Buffer.from(vector.jwe.ciphertext, 'base64url'),
      tag,
    };
    expect(() => decryptAuthcrypt(jwe, { kid: 'bob-key-2', privateKey: privateOf(vector.keys.bob) }, { kid: 'alice', publicKey: publicOf(vector.keys.alice) })).toThrow(/ECDH-1PU\+A256KW/);
  });
});

describe('decryptAuthcrypt, through both engines', () => {
  const alice = newParty();
  const bob = newParty();
  const carol = newParty();
  const aliceSender = { kid: alice.recipient.kid, publicKey: alice.recipient.publicKey };

  function parsed(packed: string, entry = 0): ParsedJwe {
    const jwe = JSON.parse(packed) as { protected: string; recipients: { encrypted_key: string }[]; iv: string; ciphertext: string; tag: string };
    return {
      protectedB64: jwe.protected,
      header: anoncryptHeaderSchema.parse(JSON.parse(Buffer.from(jwe.protected, 'base64url').toString('utf8'))),
      encryptedKey: Buffer.from(jwe.recipients[entry]?.encrypted_key ?? '', 'base64url'),
      iv: Buffer.from(jwe.iv, 'base64url'),
      ciphertext: Buffer.from(jwe.ciphertext, 'base64url'),
      tag: Buffer.from(jwe.tag, 'base64url'),
    };
  }

  function flip(bytes: Uint8Array, at = 0): Buffer {
    const copy = Buffer.from(bytes);
    copy[at] = (copy[at] ?? 0) ^ 1;
    return copy;
  }

  describe.each<[string, EnvelopeEngine]>([
    ['jose', joseEngine],
    ['fast', fastEngine],
  ])('%s engine', (_name, engine) => {
    it('opens authcrypt from Alice’s key-agreement key for each of two recipients', async () => {
      const packed = authcryptForTest('für Bob und Carol', alice.recipientPrivate, [bob.recipient, carol.recipient]);
      expect(parsed(packed).header).toMatchObject({ alg: ECDH_1PU_A256KW, enc: 'A256CBC-HS512', skid: alice.recipient.kid });
      expect(Buffer.from(await engine.decrypt(parsed(packed, 0), bob.recipientPrivate, aliceSender)).toString('utf8')).toBe('für Bob und Carol');
      expect(Buffer.from(await engine.decrypt(parsed(packed, 1), carol.recipientPrivate, aliceSender)).toString('utf8')).toBe('für Bob und Carol');
    });

    it('fails without the sender key, with another sender key, or with a sender kid other than skid', async () => {
      const jwe = parsed(authcryptForTest('x', alice.recipientPrivate, [bob.recipient]));
      await expect(engine.decrypt(jwe, bob.recipientPrivate)).rejects.toThrow();
      await expect(engine.decrypt(jwe, bob.recipientPrivate, { kid: alice.recipient.kid, publicKey: carol.recipient.publicKey })).rejects.toThrow();
      await expect(engine.decrypt(jwe, bob.recipientPrivate, { kid: carol.recipient.kid, publicKey: alice.recipient.publicKey })).rejects.toThrow();
    });

    it('fails for a flipped ciphertext, tag, iv or encrypted_key, and for a recipient it was not for', async () => {
      const jwe = parsed(authcryptForTest('x'.repeat(40), alice.recipientPrivate, [bob.recipient]));
      for (const broken of [
        { ...jwe, ciphertext: flip(jwe.ciphertext, 5) },
        { ...jwe, tag: flip(jwe.tag, 31) },
        { ...jwe, tag: jwe.tag.subarray(0, 16) },
        { ...jwe, iv: flip(jwe.iv) },
        { ...jwe, encryptedKey: flip(jwe.encryptedKey, 9) },
      ]) {
        await expect(engine.decrypt(broken, bob.recipientPrivate, aliceSender)).rejects.toThrow();
      }
      await expect(engine.decrypt(jwe, carol.recipientPrivate, aliceSender)).rejects.toThrow();
    });

    it('fails when one recipient re-encrypts new content for another under the sender’s name (the tag binds the KDF)', async () => {
      // Carol, also a recipient, knows the CEK; without the tag in the KDF she could re-encrypt
      // and keep Bob's encrypted_key. With it, Bob's KEK changes with any new tag.
      const packed = authcryptForTest('original', alice.recipientPrivate, [bob.recipient, carol.recipient]);
      const other = parsed(authcryptForTest('forged!!', alice.recipientPrivate, [bob.recipient, carol.recipient]));
      const forged: ParsedJwe = { ...other, encryptedKey: parsed(packed, 0).encryptedKey };
      await expect(engine.decrypt(forged, bob.recipientPrivate, aliceSender)).rejects.toThrow();
    });
  });
});
