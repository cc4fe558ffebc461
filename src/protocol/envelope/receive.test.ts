import { beforeEach, describe, expect, it } from 'vitest';
import { ManualClock, toEpochSeconds } from '../../core/clock.js';
import { DidError, EnvelopeError, KithError, MessageError, RelationshipError, type KithErrorCode } from '../../core/errors.js';
import { buildMessage } from '../buildMessage.js';
import { createDidResolver } from '../did/resolver.js';
import { BasicMessage, Relationship, TrustPing, createMessageRegistry } from '../families/index.js';
import type { DidcommMessage } from '../message.js';
import type { EnvelopeEngine, RecipientPublicKey, SigningKey } from './engine.js';
import { newParty } from '../../../test/support/parties.js';
import { anoncryptXc20pForTest, authcryptForTest, withProtectedHeader } from '../../../test/support/otherEnvelopes.js';
import { fastEngine } from './fastEngine.js';
import { joseEngine } from './joseEngine.js';
import { packMessage } from './pack.js';
import { DEFAULT_CLOCK_SKEW_MS, DEFAULT_MAX_MESSAGE_BYTES, receiveMessage, type ReceiveContext } from './receive.js';


const START = Date.UTC(2026, 0, 1, 12, 0, 0);
const alice = newParty('https://alice.example/didcomm');
const bob = newParty();
const mallory = newParty();

function expectKithError(error: unknown, code: KithErrorCode, type: new (...args: never[]) => KithError): void {
  expect(error).toBeInstanceOf(type);
  expect((error as KithError).code).toBe(code);
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject');
}

interface JweJson {
  protected: string;
  recipients: { header: { kid: string }; encrypted_key: string }[];
  iv: string;
  ciphertext: string;
  tag: string;
}

function flipB64Byte(value: string, index: number): string {
  const bytes = Buffer.from(value, 'base64url');
  const at = ((index % bytes.length) + bytes.length) % bytes.length;
  bytes[at] = (bytes[at] ?? 0) ^ 0x01;
  return bytes.toString('base64url');
}

describe.each<[string, EnvelopeEngine]>([
  ['jose', joseEngine],
  ['fast', fastEngine],
])('receiveMessage with the %s engine', (_name, engine) => {
  let clock: ManualClock;
  let seen: Set<string>;
  let ctx: ReceiveContext;

  beforeEach(() => {
    clock = new ManualClock(START);
    seen = new Set();
    ctx = {
      maxBytes: DEFAULT_MAX_MESSAGE_BYTES,
      engine,
      resolver: createDidResolver(),
      registry: createMessageRegistry(),
      clock,
      clockSkewMs: DEFAULT_CLOCK_SKEW_MS,
      findRecipientKey: (kid) => (kid === bob.recipientPrivate.kid ? bob.recipientPrivate : undefined),
      hasSeen: (id) => seen.has(id),
    };
  });

  function basicMessage(overrides: Partial<DidcommMessage> = {}, content = 'Hello Bob, ünïcødé 👋'): DidcommMessage {
    return {
      ...buildMessage({ type: BasicMessage.message.type, from: alice.did, to: bob.did, body: { content } }, clock),
      ...overrides,
    };
  }

  function pack(message: DidcommMessage, options: { signer?: SigningKey; to?: RecipientPublicKey; enc?: 'A256CBC-HS512' | 'A256GCM' } = {}): Promise<string> {
    return packMessage({
      message,
      signer: options.signer ?? alice.signer,
      recipients: [options.to ?? bob.recipient],
      engine,
      ...(options.enc === undefined ? {} : { enc: options.enc }),
    });
  }

  /** Encrypts arbitrary bytes to Bob, as an attacker who knows his public key can. */
  function encryptRaw(bytes: Uint8Array | string, enc: 'A256CBC-HS512' | 'A256GCM' = 'A256CBC-HS512'): Promise<string> {
    return engine.encrypt(typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes, [bob.recipient], { enc });
  }

  async function expectRejection(input: string | Uint8Array, code: KithErrorCode, type: new (...args: never[]) => KithError): Promise<KithError> {
    const error = await rejection(receiveMessage(input, ctx));
    expectKithError(error, code, type);
    return error as KithError;
  }

  describe('on the happy path', () => {
    it.each(['A256CBC-HS512', 'A256GCM'] as const)('returns the message, the sender and recipient DIDs and kids, and the signed JWS (%s)', async (enc) => {
      const message = basicMessage();
      const packed = await pack(message, { enc });
      const received = await receiveMessage(packed, ctx);
      expect(received.message).toEqual(message);
      expect(received.senderDid).toBe(alice.did);
      expect(received.signerKid).toBe(alice.signer.kid);
      expect(received.recipientDid).toBe(bob.did);
      expect(received.recipientKid).toBe(bob.recipient.kid);
      const jws = JSON.parse(received.signedJws) as { payload: string; signatures: { header: { kid: string } }[] };
      expect(JSON.parse(Buffer.from(jws.payload, 'base64url').toString('utf8'))).toEqual(message);
      expect(jws.signatures[0]?.header.kid).toBe(alice.signer.kid);
    });

    it('accepts the envelope as bytes as well as text', async () => {
      const message = basicMessage();
      const packed = await pack(message);
      const received = await receiveMessage(Buffer.from(packed, 'utf8'), ctx);
      expect(received.message.id).toBe(message.id);
    });

    it('finds our entry among several recipients', async () => {
      const carol = newParty();
      const message = basicMessage({ to: [carol.did, bob.did] });
      const signed = await engine.sign(Buffer.from(JSON.stringify(message)), alice.signer);
      // Only the fast engine packs for several recipients (one shared epk).
      const packed = await fastEngine.encrypt(Buffer.from(signed), [carol.recipient, bob.recipient], { enc: 'A256CBC-HS512' });
      const received = await receiveMessage(packed, ctx);
      expect(received.recipientKid).toBe(bob.recipient.kid);
    });

    it('does not record the message id itself: receiving twice succeeds until the caller marks it seen', async () => {
      const packed = await pack(basicMessage());
      await receiveMessage(packed, ctx);
      const again = await receiveMessage(packed, ctx);
      seen.add(again.message.id);
      await expectRejection(packed, 'message.replayed', MessageError);
    });

    it('accepts an erasure receipt and keeps its signed JWS as evidence', async () => {
      const message: DidcommMessage = buildMessage(
        {
          type: Relationship.erasureReceipt.type,
          from: alice.did,
          to: bob.did,
          body: {
            relationship: 'rel-1',
            terminated_at: toEpochSeconds(START) - 60,
            erased_at: toEpochSeconds(START),
            erased: [{ category: 'profile', count: 1, where: 'crm' }],
          },
        },
        clock,
      );
      const received = await receiveMessage(await pack(message), ctx);
      expect(received.message.type).toBe(Relationship.erasureReceipt.type);
      // The kept JWS verifies on its own, later, against the company's key: it is evidence.
      const jws = JSON.parse(received.signedJws) as { payload: string; signatures: { protected: string; signature: string }[] };
      const [sig] = jws.signatures;
      const parsed = { payloadB64: jws.payload, protectedB64: sig?.protected ?? '', signature: Buffer.from(sig?.signature ?? '', 'base64url') };
      expect(await engine.verify(parsed, alice.signingPublic)).toBe(true);
      expect(await engine.verify(parsed, mallory.signingPublic)).toBe(false);
    });
  });

  describe('envelope.too_large', () => {
    it('is the default limit of 256 KiB', () => {
      expect(DEFAULT_MAX_MESSAGE_BYTES).toBe(256 * 1024);
    });

    it('rejects input one byte over the default limit before even parsing it', async () => {
      const error = await expectRejection('x'.repeat(DEFAULT_MAX_MESSAGE_BYTES + 1), 'envelope.too_large', EnvelopeError);
      expect(error.details).toEqual({ size: DEFAULT_MAX_MESSAGE_BYTES + 1, limit: DEFAULT_MAX_MESSAGE_BYTES });
      // Exactly at the limit the size check passes and parsing decides.
      await expectRejection('x'.repeat(DEFAULT_MAX_MESSAGE_BYTES), 'envelope.malformed', EnvelopeError);
    });

    it('counts UTF-8 bytes, not characters', async () => {
      ctx.maxBytes = 10;
      await expectRejection('ééééé€', 'envelope.too_large', EnvelopeError); // 6 characters, 13 bytes
    });

    it('rejects a valid envelope above a configured maxBytes', async () => {
      const packed = await pack(basicMessage());
      ctx.maxBytes = Buffer.byteLength(packed) - 1;
      await expectRejection(packed, 'envelope.too_large', EnvelopeError);
      ctx.maxBytes = Buffer.byteLength(packed);
      await expect(receiveMessage(packed, ctx)).resolves.toBeDefined();
    });

    it('rejects a valid envelope whose message is larger than the default limit', async () => {
      const big = basicMessage({ body: { content: 'x'.repeat(200 * 1024) } });
      await expectRejection(await pack(big), 'envelope.too_large', EnvelopeError);
    });
  });

  describe('envelope.malformed', () => {
    it.each([
      ['text that is not JSON', 'hello, this is not an envelope'],
      ['an empty string', ''],
      ['JSON that is not an object', '[1,2,3]'],
      ['an empty JSON object', '{}'],
      ['a compact JWE', 'eyJhbGciOiJFQ0RILUVTK0EyNTZLVyJ9.a.b.c.d'],
    ])('rejects %s', async (_label, input) => {
      await expectRejection(input, 'envelope.malformed', EnvelopeError);
    });

    it('rejects a truncated JWE text', async () => {
      const packed = await pack(basicMessage());
      for (const length of [1, 20, Math.floor(packed.length / 2), packed.length - 1]) {
        await expectRejection(packed.slice(0, length), 'envelope.malformed', EnvelopeError);
      }
    });

    it.each(['protected', 'recipients', 'iv', 'ciphertext', 'tag'] as const)('rejects JSON missing the %s member', async (member) => {
      const jwe = JSON.parse(await pack(basicMessage())) as Record<string, unknown>;
      delete jwe[member];
      await expectRejection(JSON.stringify(jwe), 'envelope.malformed', EnvelopeError);
    });

    it('rejects a recipient without a kid, and an empty recipients list', async () => {
      const jwe = JSON.parse(await pack(basicMessage())) as JweJson;
      await expectRejection(JSON.stringify({ ...jwe, recipients: [{ encrypted_key: jwe.recipients[0]?.encrypted_key }] }), 'envelope.malformed', EnvelopeError);
      await expectRejection(JSON.stringify({ ...jwe, recipients: [] }), 'envelope.malformed', EnvelopeError);
    });

    it('rejects members that are not base64url', async () => {
      const jwe = JSON.parse(await pack(basicMessage())) as JweJson;
      await expectRejection(JSON.stringify({ ...jwe, iv: 'not base64url!' }), 'envelope.malformed', EnvelopeError);
    });

    it('rejects a protected header that is not JSON, or lacks an X25519 epk', async () => {
      const jwe = JSON.parse(await pack(basicMessage())) as JweJson;
      await expectRejection(JSON.stringify({ ...jwe, protected: Buffer.from('not json').toString('base64url') }), 'envelope.malformed', EnvelopeError);
      const header = JSON.parse(Buffer.from(jwe.protected, 'base64url').toString('utf8')) as Record<string, unknown>;
      const noEpk = { ...header };
      delete noEpk['epk'];
      await expectRejection(JSON.stringify({ ...jwe, protected: Buffer.from(JSON.stringify(noEpk)).toString('base64url') }), 'envelope.malformed', EnvelopeError);
      const p256 = { ...header, epk: { kty: 'EC', crv: 'P-256', x: 'L0crjMN1g0Ih4sYAJ_nGoHUck2cloltUpUVQDhF2nHE', y: 'SxYgE7CmEJYi7IDhgK5jI4ZiajO8jPRZDldVhqFpYoo' } };
      await expectRejection(JSON.stringify({ ...jwe, protected: Buffer.from(JSON.stringify(p256)).toString('base64url') }), 'envelope.malformed', EnvelopeError);
    });
  });

  describe('envelope.unsupported_algorithm', () => {
    // Re-encoding the protected header changes the AAD, so these envelopes could not decrypt anyway;
    // the algorithm check runs first, and this is the code they must get.
    async function withHeader(change: Record<string, unknown>): Promise<string> {
      const jwe = JSON.parse(await pack(basicMessage())) as JweJson;
      const header = JSON.parse(Buffer.from(jwe.protected, 'base64url').toString('utf8')) as Record<string, unknown>;
      return JSON.stringify({ ...jwe, protected: Buffer.from(JSON.stringify({ ...header, ...change })).toString('base64url') });
    }

    it.each([
      ['authcrypt with A256GCM', { alg: 'ECDH-1PU+A256KW', enc: 'A256GCM' }],
      ['authcrypt with XC20P', { alg: 'ECDH-1PU+A256KW', enc: 'XC20P' }],
      ['authcrypt with A128KW', { alg: 'ECDH-1PU+A128KW' }],
      ['authcrypt in direct mode', { alg: 'ECDH-1PU' }],
      ['XC20P key wrapping', { alg: 'ECDH-ES+XC20PKW', enc: 'XC20P' }],
    ])('rejects %s, which DIDComm authcrypt does not use (alg and enc in details)', async (_label, change) => {
      const skid = alice.recipient.kid;
      const input = await withHeader({ skid, apu: Buffer.from(skid).toString('base64url'), ...change });
      const error = await expectRejection(input, 'envelope.unsupported_algorithm', EnvelopeError);
      expect(error.details).toMatchObject(change);
    });

    it.each([
      { alg: 'ECDH-ES' },
      { alg: 'ECDH-ES+A128KW' },
      { alg: 'RSA-OAEP-256' },
      { enc: 'A128GCM' },
      { enc: 'A128CBC-HS256' },
    ])('rejects %o', async (change) => {
      await expectRejection(await withHeader(change), 'envelope.unsupported_algorithm', EnvelopeError);
    });

    it('rejects a JWS signed with an algorithm other than EdDSA', async () => {
      const message = basicMessage();
      const payloadB64 = Buffer.from(JSON.stringify(message)).toString('base64url');
      const protectedB64 = Buffer.from(JSON.stringify({ typ: 'application/didcomm-signed+json', alg: 'ES256' })).toString('base64url');
      const jws = JSON.stringify({ payload: payloadB64, signatures: [{ protected: protectedB64, signature: 'AAAA', header: { kid: alice.signer.kid } }] });
      await expectRejection(await encryptRaw(jws), 'envelope.unsupported_algorithm', EnvelopeError);
    });
  });

  describe('envelope.no_recipient_key', () => {
    it('rejects an envelope encrypted to someone else', async () => {
      const packed = await pack(basicMessage({ to: [mallory.did] }), { to: mallory.recipient });
      await expectRejection(packed, 'envelope.no_recipient_key', EnvelopeError);
    });

    it('reports decrypt_failed, not no_recipient_key, when another party’s entry is relabelled with our kid', async () => {
      const jwe = JSON.parse(await pack(basicMessage({ to: [mallory.did] }), { to: mallory.recipient })) as JweJson;
      const relabelled = { ...jwe, recipients: jwe.recipients.map((r) => ({ ...r, header: { kid: bob.recipient.kid } })) };
      await expectRejection(JSON.stringify(relabelled), 'envelope.decrypt_failed', EnvelopeError);
    });
  });

  describe('envelope.decrypt_failed', () => {
    it.each(['A256CBC-HS512', 'A256GCM'] as const)('rejects a flipped ciphertext byte (%s)', async (enc) => {
      const jwe = JSON.parse(await pack(basicMessage(), { enc })) as JweJson;
      for (const index of [0, 17, -1]) {
        await expectRejection(JSON.stringify({ ...jwe, ciphertext: flipB64Byte(jwe.ciphertext, index) }), 'envelope.decrypt_failed', EnvelopeError);
      }
    });

    it.each(['A256CBC-HS512', 'A256GCM'] as const)('rejects a flipped tag byte (%s)', async (enc) => {
      const jwe = JSON.parse(await pack(basicMessage(), { enc })) as JweJson;
      for (const index of [0, -1]) {
        await expectRejection(JSON.stringify({ ...jwe, tag: flipB64Byte(jwe.tag, index) }), 'envelope.decrypt_failed', EnvelopeError);
      }
    });

    it('rejects a flipped IV byte', async () => {
      const jwe = JSON.parse(await pack(basicMessage())) as JweJson;
      await expectRejection(JSON.stringify({ ...jwe, iv: flipB64Byte(jwe.iv, 0) }), 'envelope.decrypt_failed', EnvelopeError);
    });

    it('rejects a wrong encrypted_key: one from another envelope to the same recipient, or a flipped byte', async () => {
      const jwe = JSON.parse(await pack(basicMessage())) as JweJson;
      const other = JSON.parse(await pack(basicMessage())) as JweJson;
      const otherKey = other.recipients[0]?.encrypted_key ?? '';
      const ownKey = jwe.recipients[0]?.encrypted_key ?? '';
      await expectRejection(JSON.stringify({ ...jwe, recipients: [{ header: { kid: bob.recipient.kid }, encrypted_key: otherKey }] }), 'envelope.decrypt_failed', EnvelopeError);
      await expectRejection(
        JSON.stringify({ ...jwe, recipients: [{ header: { kid: bob.recipient.kid }, encrypted_key: flipB64Byte(ownKey, 3) }] }),
        'envelope.decrypt_failed',
        EnvelopeError,
      );
    });

    it('rejects a protected header changed in a way that keeps the algorithms (the AAD no longer matches)', async () => {
      const jwe = JSON.parse(await pack(basicMessage())) as JweJson;
      const header = JSON.parse(Buffer.from(jwe.protected, 'base64url').toString('utf8')) as Record<string, unknown>;
      const changed = Buffer.from(JSON.stringify({ ...header, cty: 'application/json' })).toString('base64url');
      await expectRejection(JSON.stringify({ ...jwe, protected: changed }), 'envelope.decrypt_failed', EnvelopeError);
    });

    it('keeps the engine error as the cause', async () => {
      const jwe = JSON.parse(await pack(basicMessage())) as JweJson;
      const error = await expectRejection(JSON.stringify({ ...jwe, tag: flipB64Byte(jwe.tag, 0) }), 'envelope.decrypt_failed', EnvelopeError);
      expect(error.cause).toBeInstanceOf(Error);
    });
  });

  /** The inner JWS of a message, signed by `signer` (default Alice). */
  async function signed(message: DidcommMessage, signer: SigningKey = alice.signer): Promise<string> {
    return engine.sign(Buffer.from(JSON.stringify(message), 'utf8'), signer);
  }

  describe('XC20P anoncrypt (received, never sent)', () => {
    it('returns the message, signed by Alice, for one recipient and among several', async () => {
      const message = basicMessage();
      const received = await receiveMessage(anoncryptXc20pForTest(await signed(message), [bob.recipient]), ctx);
      expect(received.message).toEqual(message);
      expect(received.senderDid).toBe(alice.did);
      expect(received.authcryptSkid).toBeUndefined();
      const carol = newParty();
      const both = anoncryptXc20pForTest(await signed(basicMessage({ to: [carol.did, bob.did] })), [carol.recipient, bob.recipient]);
      expect((await receiveMessage(both, ctx)).recipientKid).toBe(bob.recipient.kid);
    });

    it('rejects a flipped ciphertext, tag, iv or encrypted_key byte, a short tag or iv, and a changed header as envelope.decrypt_failed', async () => {
      const jwe = JSON.parse(anoncryptXc20pForTest(await signed(basicMessage()), [bob.recipient])) as JweJson;
      const entry = jwe.recipients[0];
      if (!entry) throw new Error('no entry');
      const changedHeader = withProtectedHeader(JSON.stringify(jwe), (h) => ({ ...h, cty: 'application/json' }));
      for (const tampered of [
        { ...jwe, ciphertext: flipB64Byte(jwe.ciphertext, 7) },
        { ...jwe, tag: flipB64Byte(jwe.tag, 15) },
        { ...jwe, tag: Buffer.from(jwe.tag, 'base64url').subarray(0, 15).toString('base64url') },
        { ...jwe, iv: flipB64Byte(jwe.iv, 20) },
        { ...jwe, iv: Buffer.from(jwe.iv, 'base64url').subarray(0, 12).toString('base64url') },
        { ...jwe, recipients: [{ ...entry, encrypted_key: flipB64Byte(entry.encrypted_key, 4) }] },
      ]) {
        await expectRejection(JSON.stringify(tampered), 'envelope.decrypt_failed', EnvelopeError);
      }
      await expectRejection(changedHeader, 'envelope.decrypt_failed', EnvelopeError);
    });

    it('rejects XC20P around an unsigned plaintext as envelope.signature_malformed', async () => {
      await expectRejection(anoncryptXc20pForTest(JSON.stringify(basicMessage()), [bob.recipient]), 'envelope.signature_malformed', EnvelopeError);
    });
  });

  describe('authcrypt, ECDH-1PU+A256KW with A256CBC-HS512 (received, never sent)', () => {
    const aliceKey = alice.recipientPrivate;

    it('returns the message with the skid it was authcrypted from, for one recipient and among several', async () => {
      const message = basicMessage();
      const received = await receiveMessage(authcryptForTest(await signed(message), aliceKey, [bob.recipient]), ctx);
      expect(received.message).toEqual(message);
      expect(received.senderDid).toBe(alice.did);
      expect(received.signerKid).toBe(alice.signer.kid);
      expect(received.authcryptSkid).toBe(alice.recipient.kid);
      expect(received.recipientKid).toBe(bob.recipient.kid);
      const carol = newParty();
      const both = authcryptForTest(await signed(basicMessage({ to: [carol.did, bob.did] })), aliceKey, [carol.recipient, bob.recipient]);
      expect((await receiveMessage(both, ctx)).recipientKid).toBe(bob.recipient.kid);
    });

    it('accepts an authcrypt without apu (the KDF then has an empty PartyUInfo)', async () => {
      const received = await receiveMessage(authcryptForTest(await signed(basicMessage()), aliceKey, [bob.recipient], { apu: null }), ctx);
      expect(received.authcryptSkid).toBe(alice.recipient.kid);
    });

    it('rejects a flipped ciphertext, tag, iv or encrypted_key byte as envelope.decrypt_failed', async () => {
      const jwe = JSON.parse(authcryptForTest(await signed(basicMessage()), aliceKey, [bob.recipient])) as JweJson;
      const entry = jwe.recipients[0];
      if (!entry) throw new Error('no entry');
      for (const tampered of [
        { ...jwe, ciphertext: flipB64Byte(jwe.ciphertext, 0) },
        { ...jwe, tag: flipB64Byte(jwe.tag, 0) },
        { ...jwe, tag: flipB64Byte(jwe.tag, -1) },
        { ...jwe, iv: flipB64Byte(jwe.iv, 0) },
        { ...jwe, recipients: [{ ...entry, encrypted_key: flipB64Byte(entry.encrypted_key, 10) }] },
      ]) {
        await expectRejection(JSON.stringify(tampered), 'envelope.decrypt_failed', EnvelopeError);
      }
    });

    it('rejects an epk replaced by another X25519 key as envelope.decrypt_failed', async () => {
      const packed = authcryptForTest(await signed(basicMessage()), aliceKey, [bob.recipient]);
      const tampered = withProtectedHeader(packed, (h) => ({ ...h, epk: { kty: 'OKP', crv: 'X25519', x: mallory.agreement.publicJwk.x } }));
      await expectRejection(tampered, 'envelope.decrypt_failed', EnvelopeError);
    });

    it('rejects a skid (and apu) rewritten to another sender’s key-agreement key as envelope.decrypt_failed: Zs no longer matches', async () => {
      const packed = authcryptForTest(await signed(basicMessage()), aliceKey, [bob.recipient]);
      const skid = mallory.recipient.kid;
      const tampered = withProtectedHeader(packed, (h) => ({ ...h, skid, apu: Buffer.from(skid).toString('base64url') }));
      await expectRejection(tampered, 'envelope.decrypt_failed', EnvelopeError);
    });

    it('rejects an envelope authcrypted by Mallory around a message Alice signed as envelope.sender_mismatch', async () => {
      // Mallory replays Alice's signed message inside her own authcrypt: the signature verifies and
      // `from` is the signer, but the DID that authcrypted is not the one that signed.
      const error = await expectRejection(authcryptForTest(await signed(basicMessage()), mallory.recipientPrivate, [bob.recipient]), 'envelope.sender_mismatch', EnvelopeError);
      expect(error.message).toMatch(/skid/);
    });

    it('rejects an envelope authcrypted by Alice around a message Mallory signed as her own as envelope.sender_mismatch', async () => {
      const inner = await signed(basicMessage({ from: mallory.did }), mallory.signer);
      await expectRejection(authcryptForTest(inner, aliceKey, [bob.recipient]), 'envelope.sender_mismatch', EnvelopeError);
    });

    it('checks the signature before the sender: a forged inner signature is envelope.signature_invalid', async () => {
      const forged = await engine.sign(Buffer.from(JSON.stringify(basicMessage())), { kid: alice.signer.kid, privateKey: mallory.signer.privateKey });
      await expectRejection(authcryptForTest(forged, mallory.recipientPrivate, [bob.recipient]), 'envelope.signature_invalid', EnvelopeError);
    });

    it('rejects an authcrypt header without skid, or with an apu that is not base64url(skid), as envelope.malformed', async () => {
      const plaintext = await signed(basicMessage());
      await expectRejection(authcryptForTest(plaintext, aliceKey, [bob.recipient], { skid: undefined }), 'envelope.malformed', EnvelopeError);
      await expectRejection(authcryptForTest(plaintext, aliceKey, [bob.recipient], { apu: Buffer.from(mallory.recipient.kid).toString('base64url') }), 'envelope.malformed', EnvelopeError);
      await expectRejection(authcryptForTest(plaintext, aliceKey, [bob.recipient], { header: { skid: 42 } }), 'envelope.malformed', EnvelopeError);
    });

    it.each<[string, (p: typeof alice) => string, KithErrorCode]>([
      ['the sender’s Ed25519 signing key', (p) => p.signer.kid, 'did.key_not_found'],
      ['a key its DID document does not list', (p) => `${p.did}#key-9`, 'did.key_not_found'],
      ['a DID of an unsupported method', () => 'did:example:alice#key-x25519-1', 'did.unsupported_method'],
    ])('rejects a skid naming %s with its did.* code, before decrypting', async (_label, skidOf, code) => {
      const error = await expectRejection(authcryptForTest(await signed(basicMessage()), aliceKey, [bob.recipient], { skid: skidOf(alice) }), code, DidError);
      expect(error).toBeInstanceOf(DidError);
    });

    it('looks up no skid for an envelope that is not for us: envelope.no_recipient_key comes first', async () => {
      let resolved = 0;
      const resolver = ctx.resolver;
      ctx.resolver = { resolve: (did) => ((resolved += 1), resolver.resolve(did)) };
      const notForUs = authcryptForTest(await signed(basicMessage({ to: [mallory.did] })), aliceKey, [mallory.recipient], { skid: 'did:example:nobody#key-1' });
      await expectRejection(notForUs, 'envelope.no_recipient_key', EnvelopeError);
      expect(resolved).toBe(0);
    });

    it('rejects authcrypt around an unsigned plaintext as envelope.signature_malformed: Kith requires authcrypt(signed) (decision 0014)', async () => {
      const error = await expectRejection(authcryptForTest(JSON.stringify(basicMessage()), aliceKey, [bob.recipient]), 'envelope.signature_malformed', EnvelopeError);
      expect(error.message).toMatch(/authcrypt/i);
    });
  });

  describe('envelope.signature_malformed', () => {
    it.each([
      ['plain text', 'just some bytes'],
      ['a plaintext DIDComm message (no signature layer)', JSON.stringify({ id: '1', type: BasicMessage.message.type, body: { content: 'hi' } })],
      ['a compact JWS', 'eyJhbGciOiJFZERTQSJ9.eyJ9.c2ln'],
      ['a JWS with two signatures', JSON.stringify({ payload: 'e30', signatures: [{ protected: 'e30', signature: 'AA' }, { protected: 'e30', signature: 'AA' }] })],
      ['a JWS whose protected header is not JSON', JSON.stringify({ payload: 'e30', signatures: [{ protected: Buffer.from('nope').toString('base64url'), signature: 'AA', header: { kid: 'did:example:a#1' } }] })],
      [
        'a JWS without any kid',
        JSON.stringify({ payload: 'e30', signatures: [{ protected: Buffer.from('{"alg":"EdDSA"}').toString('base64url'), signature: 'AA' }] }),
      ],
    ])('rejects encrypted %s', async (_label, plaintext) => {
      await expectRejection(await encryptRaw(plaintext), 'envelope.signature_malformed', EnvelopeError);
    });

    it('rejects encrypted binary that is not UTF-8', async () => {
      await expectRejection(await encryptRaw(Buffer.from([0xff, 0xfe, 0x00, 0x80])), 'envelope.signature_malformed', EnvelopeError);
    });
  });

  describe('did.* from resolving the signer', () => {
    async function signedWithKid(kid: string): Promise<string> {
      const jws = await engine.sign(Buffer.from(JSON.stringify(basicMessage())), { kid, privateKey: alice.signer.privateKey });
      return encryptRaw(jws);
    }

    it.each([
      ['a garbage did:peer:2', 'did:peer:2.Egarbage.Vgarbage#key-2', 'did.invalid'],
      ['something that is not a DID', 'not-a-did#key-1', 'did.invalid'],
      ['an unsupported DID method', 'did:example:alice#key-1', 'did.unsupported_method'],
      ['an unsupported did:peer numalgo', 'did:peer:0z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK#key-1', 'did.unsupported_method'],
    ] as const)('rejects a signer kid of %s', async (_label, kid, code) => {
      const error = await expectRejection(await signedWithKid(kid), code, DidError);
      expect(error.code).toMatch(/^did\./);
    });

    it('rejects a signer kid naming a key the DID does not have', async () => {
      await expectRejection(await signedWithKid(`${alice.did}#key-9`), 'did.key_not_found', DidError);
    });

    it('rejects a signer kid naming the DID’s key agreement key (not authorised for signing)', async () => {
      await expectRejection(await signedWithKid(alice.recipient.kid), 'did.key_not_found', DidError);
    });
  });

  describe('envelope.signature_invalid', () => {
    it('rejects a forgery: signed with Mallory’s key but carrying the kid of Alice’s key', async () => {
      const forged = await engine.sign(Buffer.from(JSON.stringify(basicMessage())), { kid: alice.signer.kid, privateKey: mallory.signer.privateKey });
      await expectRejection(await encryptRaw(forged), 'envelope.signature_invalid', EnvelopeError);
    });

    it('rejects a payload altered after signing and re-encrypted', async () => {
      const signed = JSON.parse(await engine.sign(Buffer.from(JSON.stringify(basicMessage())), alice.signer)) as { payload: string };
      const altered = basicMessage({}, 'Transfer everything to Mallory');
      const tampered = JSON.stringify({ ...signed, payload: Buffer.from(JSON.stringify(altered)).toString('base64url') });
      await expectRejection(await encryptRaw(tampered), 'envelope.signature_invalid', EnvelopeError);
    });

    it('rejects a signature with one flipped byte', async () => {
      const signed = JSON.parse(await engine.sign(Buffer.from(JSON.stringify(basicMessage())), alice.signer)) as {
        payload: string;
        signatures: { protected: string; signature: string; header: { kid: string } }[];
      };
      const [sig] = signed.signatures;
      if (!sig) throw new Error('no signature');
      const tampered = JSON.stringify({ ...signed, signatures: [{ ...sig, signature: flipB64Byte(sig.signature, 7) }] });
      await expectRejection(await encryptRaw(tampered), 'envelope.signature_invalid', EnvelopeError);
    });

    it('rejects a signature whose protected header was swapped for another (typ removed)', async () => {
      const signed = JSON.parse(await engine.sign(Buffer.from(JSON.stringify(basicMessage())), alice.signer)) as {
        payload: string;
        signatures: { protected: string; signature: string; header: { kid: string } }[];
      };
      const [sig] = signed.signatures;
      if (!sig) throw new Error('no signature');
      const protectedB64 = Buffer.from('{"alg":"EdDSA"}').toString('base64url');
      const tampered = JSON.stringify({ ...signed, signatures: [{ ...sig, protected: protectedB64 }] });
      await expectRejection(await encryptRaw(tampered), 'envelope.signature_invalid', EnvelopeError);
    });
  });

  describe('message.*', () => {
    async function signedPayload(payload: unknown): Promise<string> {
      const bytes = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : Buffer.from(JSON.stringify(payload), 'utf8');
      return encryptRaw(await engine.sign(bytes, alice.signer));
    }

    it.each([
      ['text that is not JSON', 'hello'],
      ['a JSON array', [1, 2]],
      ['an object without id', { type: BasicMessage.message.type, body: {} }],
      ['an object without type', { id: '1', body: {} }],
      ['an object without body', { id: '1', type: BasicMessage.message.type }],
      ['a `to` that is a string, not a list', { id: '1', type: BasicMessage.message.type, to: 'did:example:bob', body: {} }],
      ['a wrong typ', { id: '1', typ: 'application/json', type: BasicMessage.message.type, body: {} }],
      ['a fractional created_time', { id: '1', type: BasicMessage.message.type, created_time: 1.5, body: {} }],
    ])('message.malformed: rejects a signed payload that is %s', async (_label, payload) => {
      await expectRejection(await signedPayload(payload), 'message.malformed', MessageError);
    });

    it('message.signer_mismatch: rejects a `from` other than the signer’s DID', async () => {
      await expectRejection(await pack(basicMessage({ from: mallory.did })), 'message.signer_mismatch', MessageError);
    });

    it('message.signer_mismatch: rejects a message with no `from` at all', async () => {
      const message = basicMessage();
      delete message.from;
      await expectRejection(await pack(message), 'message.signer_mismatch', MessageError);
    });

    it('message.not_addressed_to_us: rejects a `to` that lists only another DID', async () => {
      await expectRejection(await pack(basicMessage({ to: [mallory.did] })), 'message.not_addressed_to_us', MessageError);
    });

    it('message.not_addressed_to_us: rejects a message without `to`', async () => {
      const message = basicMessage();
      delete message.to;
      await expectRejection(await pack(message), 'message.not_addressed_to_us', MessageError);
    });

    it('message.not_addressed_to_us: rejects a `to` naming our key (a DID URL) instead of our DID', async () => {
      await expectRejection(await pack(basicMessage({ to: [bob.recipient.kid] })), 'message.not_addressed_to_us', MessageError);
    });

    it('message.expired: rejects a message whose expires_time is more than the clock skew ago', async () => {
      const expires = toEpochSeconds(START) + 60;
      const packed = await pack(basicMessage({ expires_time: expires }));
      clock.set(expires * 1000 + DEFAULT_CLOCK_SKEW_MS);
      await expect(receiveMessage(packed, ctx)).resolves.toBeDefined(); // still inside the skew
      clock.advance(1);
      const error = await expectRejection(packed, 'message.expired', MessageError);
      expect(error.details).toEqual({ expires_time: expires });
    });

    it('message.expired: rejects a message without expires_time once created_time plus the default TTL has passed', async () => {
      const message = basicMessage();
      delete message.expires_time;
      const packed = await pack(message);
      clock.advance(31 * 24 * 60 * 60 * 1000);
      await expectRejection(packed, 'message.expired', MessageError);
    });

    it('message.from_the_future: rejects a created_time beyond the clock skew', async () => {
      const created = toEpochSeconds(START) + DEFAULT_CLOCK_SKEW_MS / 1000 + 1;
      await expectRejection(await pack(basicMessage({ created_time: created, expires_time: created + 3600 })), 'message.from_the_future', MessageError);
      const withinSkew = toEpochSeconds(START) + DEFAULT_CLOCK_SKEW_MS / 1000;
      await expect(receiveMessage(await pack(basicMessage({ created_time: withinSkew, expires_time: withinSkew + 3600 })), ctx)).resolves.toBeDefined();
    });

    it('message.replayed: rejects a message id the store has seen', async () => {
      const message = basicMessage();
      const asked: string[] = [];
      ctx.hasSeen = (id) => {
        asked.push(id);
        return true;
      };
      const error = await expectRejection(await pack(message), 'message.replayed', MessageError);
      expect(asked).toEqual([message.id]);
      expect(error.details).toEqual({ id: message.id });
    });

    it('message.replayed: also when hasSeen answers asynchronously', async () => {
      ctx.hasSeen = async () => true;
      await expectRejection(await pack(basicMessage()), 'message.replayed', MessageError);
    });

    it('message.unknown_type: rejects a type no family registers', async () => {
      const message = basicMessage({ type: 'https://didcomm.org/unknown-family/1.0/thing' });
      await expectRejection(await pack(message), 'message.unknown_type', MessageError);
    });

    it('message.body_invalid: rejects a basicmessage with empty content', async () => {
      const error = await expectRejection(await pack(basicMessage({}, '')), 'message.body_invalid', MessageError);
      expect(error.details).toMatchObject({ type: BasicMessage.message.type });
    });

    it('message.body_invalid: rejects a trust ping whose response_requested is not a boolean', async () => {
      const message = { ...basicMessage(), type: TrustPing.ping.type, body: { response_requested: 'yes' } };
      await expectRejection(await pack(message), 'message.body_invalid', MessageError);
    });
  });

  describe('relationship.cut_off', () => {
    it('propagates the error findRecipientKey throws for the key of a relationship she ended', async () => {
      ctx.findRecipientKey = () => {
        throw new RelationshipError('relationship.cut_off', 'This relationship was cut off');
      };
      await expectRejection(await pack(basicMessage()), 'relationship.cut_off', RelationshipError);
    });

    it('propagates it from an asynchronous findRecipientKey too', async () => {
      ctx.findRecipientKey = async () => {
        throw new RelationshipError('relationship.cut_off', 'This relationship was cut off');
      };
      await expectRejection(await pack(basicMessage()), 'relationship.cut_off', RelationshipError);
    });
  });

  describe('the order of the checks', () => {
    it('reports the earliest failure: an expired, replayed message of unknown type is reported as expired', async () => {
      const packed = await pack(basicMessage({ type: 'https://didcomm.org/unknown-family/1.0/thing', expires_time: toEpochSeconds(START) + 1 }));
      ctx.hasSeen = () => true;
      clock.advance(DEFAULT_CLOCK_SKEW_MS + 10_000);
      await expectRejection(packed, 'message.expired', MessageError);
    });

    it('checks the signature before anything the payload says: a forged message to someone else is signature_invalid', async () => {
      const forged = await engine.sign(Buffer.from(JSON.stringify(basicMessage({ to: [mallory.did], from: mallory.did }))), {
        kid: alice.signer.kid,
        privateKey: mallory.signer.privateKey,
      });
      await expectRejection(await encryptRaw(forged), 'envelope.signature_invalid', EnvelopeError);
    });

    it('asks neither the key store nor the replay store about an oversized envelope', async () => {
      let calls = 0;
      ctx.findRecipientKey = () => {
        calls += 1;
        return undefined;
      };
      ctx.hasSeen = () => {
        calls += 1;
        return false;
      };
      ctx.maxBytes = 10;
      await expectRejection(await pack(basicMessage()), 'envelope.too_large', EnvelopeError);
      expect(calls).toBe(0);
    });

    it('does not consult the replay store for a message that fails verification', async () => {
      let asked = false;
      ctx.hasSeen = () => {
        asked = true;
        return false;
      };
      const forged = await engine.sign(Buffer.from(JSON.stringify(basicMessage())), { kid: alice.signer.kid, privateKey: mallory.signer.privateKey });
      await expectRejection(await encryptRaw(forged), 'envelope.signature_invalid', EnvelopeError);
      expect(asked).toBe(false);
    });
  });
});

