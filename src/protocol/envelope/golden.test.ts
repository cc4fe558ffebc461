import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/clock.js';
import { buildMessage } from '../buildMessage.js';
import { keysFor } from '../did/keysFromDocument.js';
import { createPeerDid2 } from '../did/peer2.js';
import { createDidResolver } from '../did/resolver.js';
import { BasicMessage, Relationship, createMessageRegistry } from '../families/index.js';
import { generateKeyPair, okpPrivateJwkSchema, privateKeyObject, publicKeyObject, toPrivateJwk, type OkpPrivateJwk } from '../keys.js';
import { didcommMessageSchema, type DidcommMessage } from '../message.js';
import type { EnvelopeEngine } from './engine.js';
import { fastEngine } from './fastEngine.js';
import { SUPPORTED_CONTENT_ENCRYPTION } from './format.js';
import { joseEngine } from './joseEngine.js';
import { cekLength, decryptContent, ivLength, type ContentEncryption } from './joseParts.js';
import { packMessage } from './pack.js';
import { DEFAULT_CLOCK_SKEW_MS, DEFAULT_MAX_MESSAGE_BYTES, receiveMessage } from './receive.js';

/*
 * Golden vectors: fixed keys, ephemeral key, CEK and IV, a fixed plaintext, and the exact packed
 * bytes, in docs/protocol/vectors/envelope-*.json, for other implementations to test against.
 *
 * By default this test only checks the stored files. To (re)generate them, once, with new keys:
 *   KITH_WRITE_VECTORS=1 npx vitest run golden
 * and review the diff: changing a stored vector means the wire format changed.
 */

const WRITE = process.env['KITH_WRITE_VECTORS'] === '1';
const VECTOR_DIR = new URL('../../../docs/protocol/vectors/', import.meta.url);
const ENGINES: readonly (readonly [string, EnvelopeEngine])[] = [
  ['jose', joseEngine],
  ['fast', fastEngine],
];
const ENCS: readonly ContentEncryption[] = [...SUPPORTED_CONTENT_ENCRYPTION];

const keyRef = z.object({ kid: z.string(), privateJwk: okpPrivateJwkSchema });
const partySchema = z.object({
  did: z.string(),
  serviceEndpoint: z.string().optional(),
  authentication: keyRef,
  keyAgreement: keyRef,
});
const vectorSchema = z.object({
  description: z.string(),
  generatedBy: z.string(),
  sender: partySchema,
  recipient: partySchema,
  receivedAt: z.object({ epochMs: z.number().int(), iso: z.string() }),
  // A record, not didcommMessageSchema: zod would rebuild the object in its schema's member order,
  // and the member order is part of the signed bytes. The message schema is checked separately.
  plaintext: z.record(z.string(), z.unknown()),
  plaintextJson: z.string(),
  signedJws: z.string(),
  packed: z.record(
    z.enum(['A256CBC-HS512', 'A256GCM']),
    z.object({
      ephemeralPrivateJwk: okpPrivateJwkSchema,
      cek: z.string(),
      iv: z.string(),
      jwe: z.string(),
    }),
  ),
});
type Vector = z.infer<typeof vectorSchema>;
type Party = z.infer<typeof partySchema>;

/** A fresh party: Ed25519 (V, #key-2) and X25519 (E, #key-1) keys in a did:peer:2. */
function generateParty(serviceEndpoint?: string): Party {
  const signing = generateKeyPair('Ed25519');
  const agreement = generateKeyPair('X25519');
  const { did, document } = createPeerDid2({
    authentication: signing.publicJwk,
    keyAgreement: agreement.publicJwk,
    ...(serviceEndpoint === undefined ? {} : { serviceEndpoint }),
  });
  const [auth] = keysFor(document, 'authentication');
  const [ka] = keysFor(document, 'keyAgreement');
  if (!auth || !ka) throw new Error('did:peer:2 document lacks keys');
  return {
    did,
    ...(serviceEndpoint === undefined ? {} : { serviceEndpoint }),
    authentication: { kid: auth.kid, privateJwk: signing.privateJwk },
    keyAgreement: { kid: ka.kid, privateJwk: agreement.privateJwk },
  };
}

function publicOf(jwk: OkpPrivateJwk) {
  return { kty: jwk.kty, crv: jwk.crv, x: jwk.x };
}

function fixedFor(entry: Vector['packed'][ContentEncryption]) {
  return {
    ephemeralPrivateKey: privateKeyObject(entry.ephemeralPrivateJwk),
    cek: Buffer.from(entry.cek, 'base64url'),
    iv: Buffer.from(entry.iv, 'base64url'),
  };
}

async function pack(vector: Vector, enc: ContentEncryption, engine: EnvelopeEngine): Promise<string> {
  const entry = vector.packed[enc];
  if (!entry) throw new Error(`vector has no ${enc} entry`);
  return packMessage({
    message: JSON.parse(vector.plaintextJson) as DidcommMessage,
    signer: { kid: vector.sender.authentication.kid, privateKey: privateKeyObject(vector.sender.authentication.privateJwk) },
    recipients: [{ kid: vector.recipient.keyAgreement.kid, publicKey: publicKeyObject(publicOf(vector.recipient.keyAgreement.privateJwk)) }],
    engine,
    enc,
    fixed: fixedFor(entry),
  });
}

interface VectorSpec {
  file: string;
  description: string;
  make(sender: Party, recipient: Party, clock: ManualClock): DidcommMessage;
  senderEndpoint?: string;
  recipientEndpoint?: string;
}

const CREATED = Date.UTC(2026, 0, 1, 9, 0, 0);

const SPECS: readonly VectorSpec[] = [
  {
    file: 'envelope-basicmessage.json',
    description:
      'A BasicMessage 2.0 from a customer (did:peer:2, no endpoint) to a vendor, signed (EdDSA) then anoncrypted (ECDH-ES+A256KW over X25519), once per content encryption.',
    recipientEndpoint: 'https://vendor.example/didcomm',
    make: (sender, recipient, clock) =>
      buildMessage(
        { id: randomUUID(), type: BasicMessage.message.type, from: sender.did, to: recipient.did, body: { content: 'Hello from Kith: grüße, 你好, 👋 — "quoted" \\ line\nbreak' } },
        clock,
      ),
  },
  {
    file: 'envelope-erasure-receipt.json',
    description:
      'A Kith relationship 1.0 erasure receipt from a vendor to a customer, signed then anoncrypted: the signed JWS inside is what the customer keeps as evidence.',
    senderEndpoint: 'https://vendor.example/didcomm',
    make: (sender, recipient, clock) =>
      buildMessage(
        {
          id: randomUUID(),
          type: Relationship.erasureReceipt.type,
          from: sender.did,
          to: recipient.did,
          thid: randomUUID(),
          body: {
            relationship: recipient.did,
            terminated_at: Math.floor(CREATED / 1000) - 86_400,
            erased_at: Math.floor(CREATED / 1000),
            erased: [
              { category: 'profile', count: 1, where: 'crm' },
              { category: 'orders', count: 12, where: 'shop database' },
            ],
          },
        },
        clock,
      ),
  },
];

async function generateVector(spec: VectorSpec): Promise<Vector> {
  const clock = new ManualClock(CREATED);
  const sender = generateParty(spec.senderEndpoint);
  const recipient = generateParty(spec.recipientEndpoint);
  const plaintext = spec.make(sender, recipient, clock);
  const signedJws = await fastEngine.sign(Buffer.from(JSON.stringify(plaintext), 'utf8'), {
    kid: sender.authentication.kid,
    privateKey: privateKeyObject(sender.authentication.privateJwk),
  });
  const receivedAt = CREATED + 60 * 60 * 1000;
  const vector: Vector = {
    description: spec.description,
    generatedBy: 'src/protocol/envelope/golden.test.ts with KITH_WRITE_VECTORS=1',
    sender,
    recipient,
    receivedAt: { epochMs: receivedAt, iso: new Date(receivedAt).toISOString() },
    plaintext,
    plaintextJson: JSON.stringify(plaintext),
    signedJws,
    // Filled in below, one content encryption at a time.
    packed: {} as Vector['packed'],
  };
  for (const enc of ENCS) {
    vector.packed[enc] = {
      ephemeralPrivateJwk: toPrivateJwk(generateKeyPairSync('x25519').privateKey),
      cek: randomBytes(cekLength(enc)).toString('base64url'),
      iv: randomBytes(ivLength(enc)).toString('base64url'),
      jwe: '',
    };
    const jwe = await pack(vector, enc, joseEngine);
    // Never store bytes the two engines disagree on.
    expect(await pack(vector, enc, fastEngine)).toBe(jwe);
    vector.packed[enc] = { ...vector.packed[enc], jwe };
  }
  return vectorSchema.parse(vector);
}

function readVector(file: string): Vector {
  return vectorSchema.parse(JSON.parse(readFileSync(new URL(file, VECTOR_DIR), 'utf8')));
}

if (WRITE) {
  beforeAll(async () => {
    mkdirSync(VECTOR_DIR, { recursive: true });
    for (const spec of SPECS) {
      const vector = await generateVector(spec);
      writeFileSync(new URL(spec.file, VECTOR_DIR), `${JSON.stringify(vector, null, 2)}\n`);
    }
  });
}

describe.each(SPECS.map((s) => [s.file, s] as const))('golden vector docs/protocol/vectors/%s', (file) => {
  let vector: Vector;
  beforeAll(() => {
    vector = readVector(file);
  });

  it('is self-consistent: the DIDs are the did:peer:2 of the stored keys, and plaintextJson is the serialised plaintext', () => {
    for (const party of [vector.sender, vector.recipient]) {
      const { did } = createPeerDid2({
        authentication: publicOf(party.authentication.privateJwk),
        keyAgreement: publicOf(party.keyAgreement.privateJwk),
        ...(party.serviceEndpoint === undefined ? {} : { serviceEndpoint: party.serviceEndpoint }),
      });
      expect(did).toBe(party.did);
      expect(party.authentication.kid).toBe(`${did}#key-2`);
      expect(party.keyAgreement.kid).toBe(`${did}#key-1`);
    }
    expect(JSON.stringify(vector.plaintext)).toBe(vector.plaintextJson);
    expect(didcommMessageSchema.safeParse(vector.plaintext).success).toBe(true);
    expect(vector.plaintext.from).toBe(vector.sender.did);
    expect(vector.plaintext.to).toEqual([vector.recipient.did]);
    expect(Object.keys(vector.packed).sort()).toEqual([...ENCS].sort());
  });

  it.each(ENGINES)('signs the stored plaintext to the stored JWS with the %s engine', async (_name, engine) => {
    const signed = await engine.sign(Buffer.from(vector.plaintextJson, 'utf8'), {
      kid: vector.sender.authentication.kid,
      privateKey: privateKeyObject(vector.sender.authentication.privateJwk),
    });
    expect(signed).toBe(vector.signedJws);
  });

  describe.each(ENCS)('%s', (enc) => {
    it.each(ENGINES)('packs to exactly the stored bytes with the %s engine and the fixed parameters', async (_name, engine) => {
      expect(await pack(vector, enc, engine)).toBe(vector.packed[enc]?.jwe);
    });

    it.each(ENGINES)('unpacks the stored bytes through receiveMessage with the %s engine to the stored plaintext', async (_name, engine) => {
      const jwe = vector.packed[enc]?.jwe ?? '';
      const recipientKey = { kid: vector.recipient.keyAgreement.kid, privateKey: privateKeyObject(vector.recipient.keyAgreement.privateJwk) };
      const received = await receiveMessage(jwe, {
        maxBytes: DEFAULT_MAX_MESSAGE_BYTES,
        engine,
        resolver: createDidResolver(),
        registry: createMessageRegistry(),
        clock: new ManualClock(vector.receivedAt.epochMs),
        clockSkewMs: DEFAULT_CLOCK_SKEW_MS,
        findRecipientKey: (kid) => (kid === recipientKey.kid ? recipientKey : undefined),
        hasSeen: () => false,
      });
      expect(received.message).toEqual(vector.plaintext);
      expect(received.senderDid).toBe(vector.sender.did);
      expect(received.signerKid).toBe(vector.sender.authentication.kid);
      expect(received.recipientDid).toBe(vector.recipient.did);
      expect(received.signedJws).toBe(vector.signedJws);
    });

    it('decrypts with the stored CEK alone to the stored JWS (for implementers checking their content decryption)', () => {
      const entry = vector.packed[enc];
      const jwe = JSON.parse(entry?.jwe ?? '{}') as { protected: string; recipients: { header: { kid: string }; encrypted_key: string }[]; iv: string; ciphertext: string; tag: string };
      expect(jwe.iv).toBe(entry?.iv);
      const plaintext = decryptContent(
        enc,
        Buffer.from(entry?.cek ?? '', 'base64url'),
        Buffer.from(jwe.iv, 'base64url'),
        Buffer.from(jwe.ciphertext, 'base64url'),
        Buffer.from(jwe.tag, 'base64url'),
        Buffer.from(jwe.protected, 'ascii'),
      );
      expect(plaintext.toString('utf8')).toBe(vector.signedJws);
    });
  });
});
