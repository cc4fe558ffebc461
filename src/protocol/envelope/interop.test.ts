import { readFileSync } from 'node:fs';
import { Message } from 'didcomm-node';
import { beforeEach, describe, expect, it } from 'vitest';
import { ManualClock, toEpochSeconds } from '../../core/clock.js';
import type { KithError } from '../../core/errors.js';
import { createDidResolver } from '../did/resolver.js';
import { BasicMessage, createMessageRegistry } from '../families/index.js';
import type { OkpPrivateJwk } from '../keys.js';
import type { DidcommMessage } from '../message.js';
import type { EnvelopeEngine } from './engine.js';
import { newParty, type Party } from '../../../test/support/parties.js';
import { didcommResolver, didcommSecrets as secretsOf } from '../../../test/support/didcommNode.js';
import { fastEngine } from './fastEngine.js';
import { MEDIA_TYPE } from './format.js';
import { joseEngine } from './joseEngine.js';
import type { ContentEncryption } from './joseParts.js';
import { packMessage } from './pack.js';
import { DEFAULT_CLOCK_SKEW_MS, DEFAULT_MAX_MESSAGE_BYTES, receiveMessage, type ReceiveContext } from './receive.js';

/*
 * INDEPENDENT IMPLEMENTATION CHECK. `didcomm-node` is the WASM build of sicpa-dlab/didcomm-rust, a
 * DIDComm v2 implementation that shares no code with Kith (Rust, askar-crypto, its own JOSE). If it
 * opens what we pack and we open what it packs, for both content encryptions we emit, our envelope
 * is DIDComm v2 and not merely self-consistent.
 *
 * Mapping of our envelope onto its API: "signed then anoncrypted" is `pack_encrypted(to, from = null,
 * sign_by = sender DID)`; its anoncrypt algorithms are named `A256cbcHs512EcdhEsA256kw` and
 * `A256gcmEcdhEsA256kw`; its default, `Xc20pEcdhEsA256kw`, is XChaCha20-Poly1305, which Kith
 * receives but does not send. Its authcrypt, `pack_encrypted(to, from = sender DID, ...)`, is
 * ECDH-1PU+A256KW with A256CBC-HS512, which Kith receives when a signature is inside (decision 0014).
 */

type AnonAlg = 'A256cbcHs512EcdhEsA256kw' | 'A256gcmEcdhEsA256kw' | 'Xc20pEcdhEsA256kw';
const ANON_ALG: Readonly<Record<ContentEncryption, AnonAlg>> = {
  'A256CBC-HS512': 'A256cbcHs512EcdhEsA256kw',
  A256GCM: 'A256gcmEcdhEsA256kw',
};
const ENCS: readonly ContentEncryption[] = ['A256CBC-HS512', 'A256GCM'];
const ENGINES: readonly (readonly [string, EnvelopeEngine])[] = [
  ['jose', joseEngine],
  ['fast', fastEngine],
];



/** didcomm-node's secrets resolver over one party's two private keys. */
function didcommSecrets(party: Party) {
  return secretsOf([party.signing, party.agreement]);
}

const START = Date.UTC(2026, 0, 1, 12, 0, 0);
const alice = newParty('https://alice.example/didcomm');
const bob = newParty('https://bob.example/didcomm');

function basicMessage(content: string): DidcommMessage {
  return {
    id: `interop-${Math.random().toString(36).slice(2)}`,
    type: BasicMessage.message.type,
    from: alice.did,
    to: [bob.did],
    created_time: toEpochSeconds(START),
    expires_time: toEpochSeconds(START) + 3600,
    body: { content },
  };
}

describe('Kith packs, didcomm-node (didcomm-rust) unpacks', () => {
  describe.each(ENGINES)('with the %s engine', (_name, engine) => {
    it.each(ENCS)('unpacks our signed-then-anoncrypted %s envelope as anonymous, encrypted, signed by our kid, with our plaintext', async (enc) => {
      const message = basicMessage(`Grüße aus Kith 👋 (${enc})`);
      const packed = await packMessage({ message, signer: alice.signer, recipients: [bob.recipient], engine, enc });

      const [unpacked, metadata] = await Message.unpack(packed, didcommResolver(), didcommSecrets(bob), {});
      try {
        expect(metadata).toMatchObject({
          encrypted: true,
          anonymous_sender: true,
          // didcomm-rust reports a verified signature as both authenticated and non-repudiable.
          authenticated: true,
          non_repudiation: true,
          re_wrapped_in_forward: false,
          encrypted_to_kids: [bob.recipient.kid],
          sign_from: alice.signer.kid,
          sign_alg: 'EdDSA',
          enc_alg_anon: ANON_ALG[enc],
        });
        expect(metadata.encrypted_from_kid ?? undefined).toBeUndefined();
        // The inner JWS it verified is the one we made (Ed25519 is deterministic, so we can re-make it).
        expect(metadata.signed_message).toBe(await engine.sign(Buffer.from(JSON.stringify(message), 'utf8'), alice.signer));
        // Its Message adds the optional `typ` default when absent; otherwise the plaintext is ours.
        expect(unpacked.as_value()).toEqual({ ...message, typ: MEDIA_TYPE.plain });
      } finally {
        unpacked.free();
      }
    });
  });

  it('refuses an envelope of ours whose ciphertext was tampered with', async () => {
    const packed = JSON.parse(await packMessage({ message: basicMessage('x'), signer: alice.signer, recipients: [bob.recipient] })) as Record<string, string>;
    const ciphertext = Buffer.from(packed['ciphertext'] ?? '', 'base64url');
    ciphertext[0] = (ciphertext[0] ?? 0) ^ 1;
    const tampered = JSON.stringify({ ...packed, ciphertext: ciphertext.toString('base64url') });
    await expect(Message.unpack(tampered, didcommResolver(), didcommSecrets(bob), {})).rejects.toBeDefined();
  });
});

describe('didcomm-node (didcomm-rust) packs, Kith unpacks', () => {
  let clock: ManualClock;

  function contextFor(engine: EnvelopeEngine): ReceiveContext {
    return {
      maxBytes: DEFAULT_MAX_MESSAGE_BYTES,
      engine,
      resolver: createDidResolver(),
      registry: createMessageRegistry(),
      clock,
      clockSkewMs: DEFAULT_CLOCK_SKEW_MS,
      findRecipientKey: (kid) => (kid === bob.recipientPrivate.kid ? bob.recipientPrivate : undefined),
      hasSeen: () => false,
    };
  }

  async function didcommPack(message: DidcommMessage, options: { from: string | null; signBy: string | null; encAlgAnon?: AnonAlg }) {
    const wasmMessage = new Message({
      id: message.id,
      typ: MEDIA_TYPE.plain,
      type: message.type,
      body: message.body,
      ...(message.from === undefined ? {} : { from: message.from }),
      ...(message.to === undefined ? {} : { to: message.to }),
      ...(message.created_time === undefined ? {} : { created_time: message.created_time }),
      ...(message.expires_time === undefined ? {} : { expires_time: message.expires_time }),
    });
    try {
      return await wasmMessage.pack_encrypted(bob.did, options.from, options.signBy, didcommResolver(), didcommSecrets(alice), {
        forward: false,
        protect_sender: false,
        ...(options.encAlgAnon === undefined ? {} : { enc_alg_anon: options.encAlgAnon }),
      });
    } finally {
      wasmMessage.free();
    }
  }

  beforeEach(() => {
    clock = new ManualClock(START + 60_000);
  });

  describe.each(ENGINES)('with the %s engine', (_name, engine) => {
    it.each(ENCS)('receives its anoncrypted (%s) message signed by the sender DID, through the whole pipeline', async (enc) => {
      const message = basicMessage(`Hallo aus Rust 🦀 (${enc})`);
      const [packed, packMetadata] = await didcommPack(message, { from: null, signBy: alice.did, encAlgAnon: ANON_ALG[enc] });
      expect(packMetadata.sign_by_kid).toBe(alice.signer.kid);
      expect(packMetadata.to_kids).toEqual([bob.recipient.kid]);
      expect(packMetadata.from_kid ?? undefined).toBeUndefined();

      const header = JSON.parse(Buffer.from((JSON.parse(packed) as { protected: string }).protected, 'base64url').toString('utf8')) as Record<string, unknown>;
      expect(header).toMatchObject({ typ: MEDIA_TYPE.encrypted, alg: 'ECDH-ES+A256KW', enc, epk: { kty: 'OKP', crv: 'X25519' } });
      expect(header['skid']).toBeUndefined();

      const received = await receiveMessage(packed, contextFor(engine));
      expect(received.senderDid).toBe(alice.did);
      expect(received.signerKid).toBe(alice.signer.kid);
      expect(received.recipientDid).toBe(bob.did);
      expect(received.recipientKid).toBe(bob.recipient.kid);
      expect(received.message).toEqual({ ...message, typ: MEDIA_TYPE.plain });
      const jws = JSON.parse(received.signedJws) as { signatures: { protected: string; header: { kid: string } }[] };
      expect(JSON.parse(Buffer.from(jws.signatures[0]?.protected ?? '', 'base64url').toString('utf8'))).toMatchObject({ alg: 'EdDSA' });
      expect(jws.signatures[0]?.header.kid).toBe(alice.signer.kid);
    });
  });

  function headerOf(packed: string): Record<string, unknown> {
    return JSON.parse(Buffer.from((JSON.parse(packed) as { protected: string }).protected, 'base64url').toString('utf8')) as Record<string, unknown>;
  }

  describe.each(ENGINES)('with the %s engine', (_name, engine) => {
    it('receives its default anoncrypt, XC20P, signed by the sender DID, through the whole pipeline', async () => {
      const message = basicMessage('XChaCha20 aus Rust 🦀');
      const [packed] = await didcommPack(message, { from: null, signBy: alice.did });
      expect(headerOf(packed)).toMatchObject({ alg: 'ECDH-ES+A256KW', enc: 'XC20P' });
      expect(Buffer.from((JSON.parse(packed) as { iv: string }).iv, 'base64url')).toHaveLength(24);
      const received = await receiveMessage(packed, contextFor(engine));
      expect(received.senderDid).toBe(alice.did);
      expect(received.signerKid).toBe(alice.signer.kid);
      expect(received.authcryptSkid).toBeUndefined();
      expect(received.message).toEqual({ ...message, typ: MEDIA_TYPE.plain });
    });

    it('receives its authcrypt (ECDH-1PU+A256KW, A256CBC-HS512) of a message signed by the same DID', async () => {
      const message = basicMessage('authcrypt(signed) aus Rust 🦀');
      const [packed, packMetadata] = await didcommPack(message, { from: alice.did, signBy: alice.did });
      expect(packMetadata.from_kid).toBe(alice.recipient.kid);
      expect(headerOf(packed)).toMatchObject({
        alg: 'ECDH-1PU+A256KW',
        enc: 'A256CBC-HS512',
        skid: alice.recipient.kid,
        apu: Buffer.from(alice.recipient.kid).toString('base64url'),
      });
      const received = await receiveMessage(packed, contextFor(engine));
      expect(received.authcryptSkid).toBe(alice.recipient.kid);
      expect(received.senderDid).toBe(alice.did);
      expect(received.signerKid).toBe(alice.signer.kid);
      expect(received.message).toEqual({ ...message, typ: MEDIA_TYPE.plain });
    });

    it('refuses its authcrypt once the tag, the ciphertext or the epk changes, as envelope.decrypt_failed', async () => {
      const [packed] = await didcommPack(basicMessage('to be tampered with'), { from: alice.did, signBy: alice.did });
      const jwe = JSON.parse(packed) as Record<string, string>;
      const flip = (b64: string, at: number) => {
        const bytes = Buffer.from(b64, 'base64url');
        bytes[at] = (bytes[at] ?? 0) ^ 1;
        return bytes.toString('base64url');
      };
      const header = headerOf(packed) as { epk: { x: string } };
      const otherEpk = Buffer.from(JSON.stringify({ ...header, epk: { ...header.epk, x: bob.agreement.publicJwk.x } })).toString('base64url');
      for (const tampered of [
        { ...jwe, tag: flip(jwe['tag'] ?? '', 3) },
        { ...jwe, ciphertext: flip(jwe['ciphertext'] ?? '', 20) },
        { ...jwe, protected: otherEpk },
      ]) {
        const error = (await receiveMessage(JSON.stringify(tampered), contextFor(engine)).catch((e: unknown) => e)) as KithError;
        expect(error.code).toBe('envelope.decrypt_failed');
      }
    });
  });

  it('is refused with envelope.signature_malformed when didcomm-node authcrypts without signing: Kith requires a signature inside (decision 0014)', async () => {
    const [packed] = await didcommPack(basicMessage('authcrypt'), { from: alice.did, signBy: null });
    expect(headerOf(packed)['alg']).toBe('ECDH-1PU+A256KW');
    const error = (await receiveMessage(packed, contextFor(fastEngine)).catch((e: unknown) => e)) as KithError;
    expect(error.code).toBe('envelope.signature_malformed');
    expect(error.message).toMatch(/authcrypt/i);
  });

  it('is refused with envelope.signature_malformed when didcomm-node anoncrypts without signing (nothing proves the sender)', async () => {
    const [packed] = await didcommPack(basicMessage('unsigned'), { from: null, signBy: null, encAlgAnon: 'A256cbcHs512EcdhEsA256kw' });
    const error = (await receiveMessage(packed, contextFor(fastEngine)).catch((e: unknown) => e)) as KithError;
    expect(error.code).toBe('envelope.signature_malformed');
  });
});

describe('didcomm-node (didcomm-rust) opens Kith’s golden vectors', () => {
  const files = ['envelope-basicmessage.json', 'envelope-erasure-receipt.json'];

  interface StoredKey {
    kid: string;
    privateJwk: OkpPrivateJwk;
  }
  interface StoredVector {
    recipient: { keyAgreement: StoredKey };
    sender: { authentication: StoredKey };
    plaintextJson: string;
    signedJws: string;
    packed: Record<ContentEncryption, { jwe: string }>;
  }

  it.each(files.flatMap((file) => ENCS.map((enc) => [file, enc] as const)))(
    'unpacks docs/protocol/vectors/%s (%s) to its plaintext, signed by its sender kid',
    async (file, enc) => {
      const vector = JSON.parse(readFileSync(new URL(`../../../docs/protocol/vectors/${file}`, import.meta.url), 'utf8')) as StoredVector;
      const { kid, privateJwk } = vector.recipient.keyAgreement;
      const secrets = {
        async get_secret(wanted: string) {
          return wanted === kid ? { id: kid, type: 'JsonWebKey2020', privateKeyJwk: { ...privateJwk } } : null;
        },
        async find_secrets(kids: string[]) {
          return kids.filter((k) => k === kid);
        },
      };
      const [unpacked, metadata] = await Message.unpack(vector.packed[enc].jwe, didcommResolver(), secrets, {});
      try {
        expect(metadata).toMatchObject({ encrypted: true, anonymous_sender: true, sign_from: vector.sender.authentication.kid, enc_alg_anon: ANON_ALG[enc] });
        expect(metadata.signed_message).toBe(vector.signedJws);
        expect(unpacked.as_value()).toEqual({ ...(JSON.parse(vector.plaintextJson) as object), typ: MEDIA_TYPE.plain });
      } finally {
        unpacked.free();
      }
    },
  );
});

