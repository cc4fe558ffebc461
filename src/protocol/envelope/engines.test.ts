import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { computeApv, type EnvelopeEngine, type ParsedJwe, type ParsedJws, type RecipientPrivateKey, type RecipientPublicKey, type SigningKey } from './engine.js';
import { fastEngine } from './fastEngine.js';
import { MEDIA_TYPE, SUPPORTED_CONTENT_ENCRYPTION, anoncryptHeaderSchema, generalJweSchema, generalJwsSchema } from './format.js';
import { joseEngine } from './joseEngine.js';
import { cekLength, ivLength, type ContentEncryption } from './joseParts.js';

/*
 * Differential tests: `joseEngine` (every operation through the `jose` library) is the reference,
 * `fastEngine` (node:crypto, synchronous) is what the agents run. Given the same ephemeral key, CEK
 * and IV they must emit the same bytes, and each must open what the other sealed.
 */

const ENGINES: readonly EnvelopeEngine[] = [joseEngine, fastEngine];
const BY_NAME: Readonly<Record<EnvelopeEngine['name'], EnvelopeEngine>> = { jose: joseEngine, fast: fastEngine };
type EngineName = EnvelopeEngine['name'];
const ENCS: readonly ContentEncryption[] = [...SUPPORTED_CONTENT_ENCRYPTION];

/** A small seeded PRNG (mulberry32), so a failing size or string can be reproduced from the seed. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Code point ranges mixing 1-, 2-, 3- and 4-byte UTF-8, plus characters JSON must escape. */
const CODE_POINT_RANGES: readonly (readonly [number, number])[] = [
  [0x20, 0x7e], // ASCII
  [0x00, 0x1f], // control characters (escaped by JSON.stringify)
  [0xa0, 0x24f], // Latin-1, Latin Extended
  [0x370, 0x3ff], // Greek
  [0x4e00, 0x9fff], // CJK
  [0x2028, 0x2029], // line and paragraph separators
  [0x1f300, 0x1f64f], // emoji (astral: surrogate pairs in JS strings)
];

/** A random Unicode string whose UTF-8 encoding is about `bytes` long (never a lone surrogate). */
function randomUnicode(random: () => number, bytes: number): string {
  let text = '';
  let size = 0;
  while (size < bytes) {
    const [low, high] = CODE_POINT_RANGES[Math.floor(random() * CODE_POINT_RANGES.length)] ?? [0x61, 0x7a];
    const codePoint = low + Math.floor(random() * (high - low + 1));
    const char = String.fromCodePoint(codePoint);
    text += char;
    size += Buffer.byteLength(char);
  }
  return text;
}

interface Party {
  signing: SigningKey;
  signingPublic: KeyObject;
  recipient: RecipientPublicKey;
  recipientPrivate: RecipientPrivateKey;
}

function newParty(did: string): Party {
  const ed = generateKeyPairSync('ed25519');
  const x = generateKeyPairSync('x25519');
  return {
    signing: { kid: `${did}#key-2`, privateKey: ed.privateKey },
    signingPublic: ed.publicKey,
    recipient: { kid: `${did}#key-1`, publicKey: x.publicKey },
    recipientPrivate: { kid: `${did}#key-1`, privateKey: x.privateKey },
  };
}

function fixedParameters(enc: ContentEncryption): { ephemeralPrivateKey: KeyObject; cek: Uint8Array; iv: Uint8Array } {
  return {
    ephemeralPrivateKey: generateKeyPairSync('x25519').privateKey,
    cek: randomBytes(cekLength(enc)),
    iv: randomBytes(ivLength(enc)),
  };
}

/** Parses a packed JWE as the receive pipeline does, picking the entry for `kid`. */
function parsedJweFor(text: string, kid: string): ParsedJwe {
  const jwe = generalJweSchema.parse(JSON.parse(text));
  const header = anoncryptHeaderSchema.parse(JSON.parse(Buffer.from(jwe.protected, 'base64url').toString('utf8')));
  const entry = jwe.recipients.find((r) => r.header.kid === kid);
  if (!entry) throw new Error(`no recipient entry for ${kid}`);
  return {
    protectedB64: jwe.protected,
    header,
    encryptedKey: Buffer.from(entry.encrypted_key, 'base64url'),
    iv: Buffer.from(jwe.iv, 'base64url'),
    ciphertext: Buffer.from(jwe.ciphertext, 'base64url'),
    tag: Buffer.from(jwe.tag, 'base64url'),
  };
}

/**
 * Same as parsedJweFor, without the schema: a JWE of an empty plaintext under A256GCM has an empty
 * `ciphertext`, which the pipeline's schema refuses (it never packs one) but the engines must handle.
 */
function rawParsedJwe(text: string, index = 0): ParsedJwe {
  const jwe = JSON.parse(text) as {
    protected: string;
    recipients: { encrypted_key: string }[];
    iv: string;
    ciphertext: string;
    tag: string;
  };
  const entry = jwe.recipients[index];
  if (!entry) throw new Error(`no recipient entry ${index}`);
  return {
    protectedB64: jwe.protected,
    header: anoncryptHeaderSchema.parse(JSON.parse(Buffer.from(jwe.protected, 'base64url').toString('utf8'))),
    encryptedKey: Buffer.from(entry.encrypted_key, 'base64url'),
    iv: Buffer.from(jwe.iv, 'base64url'),
    ciphertext: Buffer.from(jwe.ciphertext, 'base64url'),
    tag: Buffer.from(jwe.tag, 'base64url'),
  };
}

function parsedJws(text: string): ParsedJws {
  const jws = generalJwsSchema.parse(JSON.parse(text));
  const [signature] = jws.signatures;
  if (!signature) throw new Error('no signature');
  return { payloadB64: jws.payload, protectedB64: signature.protected, signature: Buffer.from(signature.signature, 'base64url') };
}

function flipByte(bytes: Uint8Array, index: number): Buffer {
  const copy = Buffer.from(bytes);
  copy[index % copy.length] = (copy[index % copy.length] ?? 0) ^ 0x01;
  return copy;
}

/** The sizes exercised: the edges of AES blocks and GCM/CBC boundaries, then random sizes up to 64 KiB. */
function payloadSizes(random: () => number): number[] {
  const edges = [0, 1, 15, 16, 17, 31, 32, 33, 255, 256, 1023, 1024, 4096, 65535, 65536];
  const randomSizes = Array.from({ length: 25 }, () => Math.floor(random() * 65537));
  return [...edges, ...randomSizes];
}

const alice = newParty('did:example:alice');
const bob = newParty('did:example:bob');

describe('the jose and fast envelope engines', () => {
  it.each(ENCS)('emit byte-identical JWE text for the same fixed ephemeral key, CEK and IV, for random Unicode payloads of 0 to 64 KiB (%s)', async (enc) => {
    const random = prng(enc === 'A256GCM' ? 0x6a6f7365 : 0x66617374);
    for (const size of payloadSizes(random)) {
      const plaintext = Buffer.from(randomUnicode(random, size), 'utf8');
      const fixed = fixedParameters(enc);
      const viaJose = await joseEngine.encrypt(plaintext, [bob.recipient], { enc, fixed });
      const viaFast = await fastEngine.encrypt(plaintext, [bob.recipient], { enc, fixed });
      expect(viaFast, `payload of ${plaintext.length} bytes`).toBe(viaJose);
    }
  });

  it('emit byte-identical JWS text, because Ed25519 signatures are deterministic', async () => {
    const random = prng(0x5167);
    for (const size of payloadSizes(random)) {
      const message = {
        id: `msg-${size}`,
        type: 'https://didcomm.org/basicmessage/2.0/message',
        from: 'did:example:alice',
        to: ['did:example:bob'],
        created_time: 1767225600,
        body: { content: randomUnicode(random, size) },
      };
      const payload = Buffer.from(JSON.stringify(message), 'utf8');
      const viaJose = await joseEngine.sign(payload, alice.signing);
      const viaFast = await fastEngine.sign(payload, alice.signing);
      expect(viaFast).toBe(viaJose);
      const parsed = JSON.parse(viaFast) as { signatures: { protected: string; header: { kid: string } }[] };
      expect(JSON.parse(Buffer.from(parsed.signatures[0]?.protected ?? '', 'base64url').toString('utf8'))).toEqual({
        typ: MEDIA_TYPE.signed,
        alg: 'EdDSA',
      });
      expect(parsed.signatures[0]?.header).toEqual({ kid: alice.signing.kid });
    }
  });

  it('sign the empty payload identically as well', async () => {
    const empty = new Uint8Array(0);
    // An empty payload is base64url "", which the DIDComm JWS schema refuses (payload.min(1)); the
    // engines still agree on it.
    expect(await fastEngine.sign(empty, alice.signing)).toBe(await joseEngine.sign(empty, alice.signing));
  });

  describe.each(ENCS)('with %s', (enc) => {
    it.each<[EngineName, EngineName]>([
      ['jose', 'fast'],
      ['fast', 'jose'],
      ['jose', 'jose'],
      ['fast', 'fast'],
    ])('a JWE packed by the %s engine with random parameters is opened by the %s engine', async (packerName, openerName) => {
      const [packer, opener] = [BY_NAME[packerName], BY_NAME[openerName]];
      const random = prng(0x1234 + (enc === 'A256GCM' ? 1 : 0));
      for (const size of [0, 1, 16, 100, 5000, 65536, Math.floor(random() * 65536)]) {
        const plaintext = Buffer.from(randomUnicode(random, size), 'utf8');
        const packed = await packer.encrypt(plaintext, [bob.recipient], { enc });
        const opened = await opener.decrypt(rawParsedJwe(packed), bob.recipientPrivate);
        expect(Buffer.from(opened).equals(plaintext), `payload of ${plaintext.length} bytes`).toBe(true);
      }
    });

    it.each<[EngineName, EngineName]>([
      ['jose', 'fast'],
      ['fast', 'jose'],
    ])('a JWE packed by the %s engine with fixed parameters is opened by the %s engine', async (packerName, openerName) => {
      const [packer, opener] = [BY_NAME[packerName], BY_NAME[openerName]];
      const plaintext = Buffer.from(randomUnicode(prng(7), 3000), 'utf8');
      const packed = await packer.encrypt(plaintext, [bob.recipient], { enc, fixed: fixedParameters(enc) });
      const opened = await opener.decrypt(parsedJweFor(packed, bob.recipient.kid), bob.recipientPrivate);
      expect(Buffer.from(opened).equals(plaintext)).toBe(true);
    });

    it('each engine verifies the signature the other made, and neither verifies a signature under another key', async () => {
      const payload = Buffer.from(JSON.stringify({ id: '1', type: 't', body: { content: randomUnicode(prng(9), 200) } }), 'utf8');
      for (const signer of ENGINES) {
        const jws = parsedJws(await signer.sign(payload, alice.signing));
        for (const verifier of ENGINES) {
          expect(await verifier.verify(jws, alice.signingPublic)).toBe(true);
          expect(await verifier.verify(jws, bob.signingPublic)).toBe(false);
        }
      }
    });

    it('the protected header holds typ, alg, enc, one X25519 epk and apv = SHA-256 of the sorted recipient kids', async () => {
      const packed = await fastEngine.encrypt(Buffer.from('hello'), [bob.recipient], { enc });
      const jwe = generalJweSchema.parse(JSON.parse(packed));
      const header = JSON.parse(Buffer.from(jwe.protected, 'base64url').toString('utf8')) as Record<string, unknown>;
      expect(Object.keys(header)).toEqual(['typ', 'alg', 'enc', 'epk', 'apv']);
      expect(header).toMatchObject({ typ: MEDIA_TYPE.encrypted, alg: 'ECDH-ES+A256KW', enc, epk: { kty: 'OKP', crv: 'X25519' } });
      expect(header['apv']).toBe(computeApv([bob.recipient.kid]).toString('base64url'));
      expect(jwe.recipients).toEqual([{ header: { kid: bob.recipient.kid }, encrypted_key: expect.any(String) }]);
      expect(Buffer.from(jwe.iv, 'base64url')).toHaveLength(ivLength(enc));
      expect(Buffer.from(jwe.tag, 'base64url')).toHaveLength(enc === 'A256GCM' ? 16 : 32);
    });

    it('the fast engine encrypts to several recipients under one shared epk, and every recipient can decrypt with either engine', async () => {
      const carol = newParty('did:example:carol');
      const dave = newParty('did:example:dave');
      const recipients = [dave, bob, carol];
      const plaintext = Buffer.from(randomUnicode(prng(11), 4000), 'utf8');
      const packed = await fastEngine.encrypt(
        plaintext,
        recipients.map((p) => p.recipient),
        { enc },
      );
      const jwe = generalJweSchema.parse(JSON.parse(packed));
      expect(jwe.recipients.map((r) => r.header.kid)).toEqual(recipients.map((p) => p.recipient.kid));
      // One epk for all of them: it sits in the protected header, not in any per-recipient header.
      expect(jwe.recipients.every((r) => Object.keys(r.header).join() === 'kid')).toBe(true);
      const header = anoncryptHeaderSchema.parse(JSON.parse(Buffer.from(jwe.protected, 'base64url').toString('utf8')));
      expect(header.apv).toBe(computeApv(recipients.map((p) => p.recipient.kid)).toString('base64url'));
      expect(new Set(jwe.recipients.map((r) => r.encrypted_key)).size).toBe(recipients.length);
      for (const party of recipients) {
        for (const engine of ENGINES) {
          const opened = await engine.decrypt(parsedJweFor(packed, party.recipient.kid), party.recipientPrivate);
          expect(Buffer.from(opened).equals(plaintext), `${party.recipient.kid} via ${engine.name}`).toBe(true);
        }
      }
      // A recipient's private key does not open another recipient's entry.
      for (const engine of ENGINES) {
        await expect(engine.decrypt(parsedJweFor(packed, carol.recipient.kid), bob.recipientPrivate)).rejects.toThrow();
      }
    });

    it('the fast engine emits the same bytes for several recipients whatever order the apv kids sort in', async () => {
      const carol = newParty('did:example:carol');
      const fixed = fixedParameters(enc);
      const plaintext = Buffer.from('multi');
      const forward = JSON.parse(await fastEngine.encrypt(plaintext, [bob.recipient, carol.recipient], { enc, fixed })) as { protected: string };
      const backward = JSON.parse(await fastEngine.encrypt(plaintext, [carol.recipient, bob.recipient], { enc, fixed })) as { protected: string };
      expect(forward.protected).toBe(backward.protected);
    });

    it('the jose engine refuses to pack for more than one recipient, since jose would give each its own epk', async () => {
      const carol = newParty('did:example:carol');
      await expect(joseEngine.encrypt(Buffer.from('x'), [bob.recipient, carol.recipient], { enc })).rejects.toThrow(/exactly one recipient/);
    });

    describe('tampering with any single part makes both engines refuse to decrypt', () => {
      const tamperings: readonly [string, (jwe: ParsedJwe) => ParsedJwe][] = [
        ['the first ciphertext byte', (jwe) => ({ ...jwe, ciphertext: flipByte(jwe.ciphertext, 0) })],
        ['a middle ciphertext byte', (jwe) => ({ ...jwe, ciphertext: flipByte(jwe.ciphertext, Math.floor(jwe.ciphertext.length / 2)) })],
        ['the last ciphertext byte', (jwe) => ({ ...jwe, ciphertext: flipByte(jwe.ciphertext, jwe.ciphertext.length - 1) })],
        ['a truncated ciphertext', (jwe) => ({ ...jwe, ciphertext: Buffer.from(jwe.ciphertext).subarray(0, jwe.ciphertext.length - 16) })],
        ['the first tag byte', (jwe) => ({ ...jwe, tag: flipByte(jwe.tag, 0) })],
        ['the last tag byte', (jwe) => ({ ...jwe, tag: flipByte(jwe.tag, jwe.tag.length - 1) })],
        ['a truncated tag', (jwe) => ({ ...jwe, tag: Buffer.from(jwe.tag).subarray(0, jwe.tag.length - 1) })],
        ['an IV byte', (jwe) => ({ ...jwe, iv: flipByte(jwe.iv, 3) })],
        ['an encrypted_key byte', (jwe) => ({ ...jwe, encryptedKey: flipByte(jwe.encryptedKey, 5) })],
        ['a truncated encrypted_key', (jwe) => ({ ...jwe, encryptedKey: Buffer.from(jwe.encryptedKey).subarray(0, jwe.encryptedKey.length - 8) })],
        [
          'the protected header re-encoded with an extra member',
          (jwe) => {
            const header = { ...jwe.header, kid: 'added' };
            return { ...jwe, protectedB64: Buffer.from(JSON.stringify(header)).toString('base64url'), header };
          },
        ],
        [
          'the protected header with another apv',
          (jwe) => {
            const header = { ...jwe.header, apv: computeApv(['did:example:mallory#key-1']).toString('base64url') };
            return { ...jwe, protectedB64: Buffer.from(JSON.stringify(header)).toString('base64url'), header };
          },
        ],
        [
          'the protected header with another epk',
          (jwe) => {
            const x = generateKeyPairSync('x25519').publicKey.export({ format: 'jwk' }).x ?? '';
            const header = { ...jwe.header, epk: { kty: 'OKP' as const, crv: 'X25519' as const, x } };
            return { ...jwe, protectedB64: Buffer.from(JSON.stringify(header)).toString('base64url'), header };
          },
        ],
        [
          'the protected header with its members reordered (same meaning, different AAD)',
          (jwe) => {
            const { typ, alg, enc: e, epk, apv } = jwe.header;
            const header = { apv, epk, enc: e, alg, typ };
            return { ...jwe, protectedB64: Buffer.from(JSON.stringify(header)).toString('base64url'), header: jwe.header };
          },
        ],
      ];

      it.each(tamperings)('%s', async (_label, tamper) => {
        const plaintext = Buffer.from(randomUnicode(prng(13), 2000), 'utf8');
        for (const packer of ENGINES) {
          const packed = await packer.encrypt(plaintext, [bob.recipient], { enc });
          const intact = parsedJweFor(packed, bob.recipient.kid);
          for (const opener of ENGINES) {
            // The untouched JWE opens, so the failure below is the tampering's doing.
            expect(Buffer.from(await opener.decrypt(intact, bob.recipientPrivate)).equals(plaintext)).toBe(true);
            await expect(opener.decrypt(tamper(intact), bob.recipientPrivate), `${packer.name} -> ${opener.name}`).rejects.toThrow();
          }
        }
      });

      it('a JWE opened with the wrong private key', async () => {
        const packed = await fastEngine.encrypt(Buffer.from('secret'), [bob.recipient], { enc });
        for (const opener of ENGINES) {
          await expect(opener.decrypt(parsedJweFor(packed, bob.recipient.kid), alice.recipientPrivate)).rejects.toThrow();
        }
      });
    });
  });

  it('a signature over a payload altered by one byte verifies with neither engine', async () => {
    const payload = Buffer.from('{"id":"1","type":"t","body":{}}');
    const jws = parsedJws(await fastEngine.sign(payload, alice.signing));
    const altered = Buffer.from(jws.payloadB64, 'base64url');
    altered[2] = (altered[2] ?? 0) ^ 0x20;
    const tampered = { ...jws, payloadB64: altered.toString('base64url') };
    for (const engine of ENGINES) {
      expect(await engine.verify(tampered, alice.signingPublic)).toBe(false);
      expect(await engine.verify({ ...jws, signature: flipByte(jws.signature, 10) }, alice.signingPublic)).toBe(false);
    }
  });
});
