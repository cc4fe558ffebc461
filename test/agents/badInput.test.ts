/**
 * The bad-input matrix: every kind of bad bytes, POSTed over real HTTP to each agent's DIDComm
 * endpoint, is refused with the right status and error code, and leaves the agent's whole state
 * (every row of the company store, every row of her vault) exactly as it was.
 */
import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { isKithError, type KithErrorCode } from '../../src/core/errors.js';
import { exportVault, importVault, openExport, sealExport } from '../../src/personal/vault/export.js';
import { Vault } from '../../src/personal/vault/vault.js';
import { createPeerIdentity, signingKeyOf, type LocalIdentity } from '../../src/protocol/agent/identity.js';
import { resolvePeer } from '../../src/protocol/agent/peer.js';
import { buildMessage } from '../../src/protocol/buildMessage.js';
import { createDidResolver } from '../../src/protocol/did/resolver.js';
import type { SigningKey } from '../../src/protocol/envelope/engine.js';
import { fastEngine } from '../../src/protocol/envelope/fastEngine.js';
import { packMessage } from '../../src/protocol/envelope/pack.js';
import { BasicMessage, Connect } from '../../src/protocol/families/index.js';
import { privateKeyObject } from '../../src/protocol/keys.js';
import type { DidcommMessage } from '../../src/protocol/message.js';
import {
  connect,
  herIdentity,
  postEnvelopeRaw,
  startPair,
  startPersonal,
  startCompany,
  type Link,
  type Pair,
  type PersonalHandle,
  type CompanyHandle,
} from '../support/agents.js';

const resolver = createDidResolver();
const DEFAULT_LIMIT = 256 * 1024;

/** Who is under test: where bad bytes go, how to see its whole state, and who it would trust. */
interface Side {
  endpoint(): string;
  snapshot(): Promise<unknown>;
  /** The legitimate peer: a message it signs to `self` is accepted. */
  peer(): LocalIdentity;
  /** The DID of the agent under test. */
  self(): string;
  /** A registered message type that this agent does not take, with a valid body. */
  unexpected: { type: string; body: Record<string, unknown> };
}

interface MessageOptions {
  type?: string;
  from?: string;
  to?: string;
  body?: Record<string, unknown>;
  id?: string;
  clock?: ManualClock;
  ttlMs?: number;
}

function message(side: Side, options: MessageOptions = {}): DidcommMessage {
  return buildMessage(
    {
      type: options.type ?? BasicMessage.message.type,
      from: options.from ?? side.peer().did,
      to: options.to ?? side.self(),
      body: options.body ?? { content: 'hello from the bad-input matrix' },
      ...(options.id ? { id: options.id } : {}),
      ...(options.ttlMs ? { ttlMs: options.ttlMs } : {}),
    },
    options.clock ?? { now: () => Date.now() },
  );
}

/** Signs and encrypts, to the key of `encryptTo` (default: the agent under test). */
async function seal(side: Side, msg: DidcommMessage, options: { signer?: SigningKey; encryptTo?: string } = {}): Promise<string> {
  const recipient = await resolvePeer(resolver, options.encryptTo ?? side.self());
  return packMessage({ message: msg, signer: options.signer ?? signingKeyOf(side.peer()), recipients: [recipient.agreementKey] });
}

const good = (side: Side, options: MessageOptions = {}) => seal(side, message(side, options));

type Jwe = Record<string, unknown> & { protected: string; iv: string; ciphertext: string; tag: string };

function alterJwe(packed: string, change: (jwe: Jwe) => void): string {
  const jwe = JSON.parse(packed) as Jwe;
  change(jwe);
  return JSON.stringify(jwe);
}

/** Flips one bit in a middle byte, so the base64url text really encodes different bytes. */
function flipBit(b64: string): string {
  const bytes = Buffer.from(b64, 'base64url');
  const at = Math.floor(bytes.length / 2);
  bytes[at] = (bytes[at] ?? 0) ^ 0x01;
  return bytes.toString('base64url');
}

async function expectRefused(side: Side, body: string | Uint8Array, status: number, code: KithErrorCode, url = side.endpoint()) {
  const before = await side.snapshot();
  const response = await postEnvelopeRaw(url, body);
  expect({ status: response.status, code: response.json.error?.code }).toEqual({ status, code });
  expect(await side.snapshot()).toEqual(before);
  return response;
}

/** Streams `total` bytes with chunked transfer encoding (no Content-Length), as a raw node:http request. */
function postChunked(url: string, total: number): Promise<{ status: number; body: string }> {
  return new Promise((resolvePromise, reject) => {
    let answered = false;
    const req = request(url, { method: 'POST', headers: { 'content-type': 'application/didcomm-encrypted+json', 'transfer-encoding': 'chunked' } }, (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    // The server may answer 413 and close before we finish writing; that is the point.
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    const chunk = Buffer.alloc(16 * 1024, 0x61);
    let sent = 0;
    const writeMore = () => {
      while (sent < total) {
        sent += chunk.length;
        if (!req.write(chunk)) {
          req.once('drain', writeMore);
          return;
        }
      }
      req.end();
    };
    writeMore();
  });
}

/** The cases every DIDComm endpoint must refuse the same way, whichever agent it belongs to. */
function sharedCases(side: () => Side): void {
  const stranger = createPeerIdentity('http://127.0.0.1:9/didcomm').identity;

  it('refuses a message signed with a key that is not the kid’s key as envelope.signature_invalid', async () => {
    const s = side();
    const forged: SigningKey = { kid: s.peer().signing.kid, privateKey: privateKeyObject(stranger.signing.privateJwk) };
    await expectRefused(s, await seal(s, message(s), { signer: forged }), 400, 'envelope.signature_invalid');
  });

  it('refuses a message whose signer is not its `from` as message.signer_mismatch', async () => {
    const s = side();
    await expectRefused(s, await seal(s, message(s), { signer: signingKeyOf(stranger) }), 400, 'message.signer_mismatch');
  });

  it('refuses a message whose `to` lists another DID as message.not_addressed_to_us', async () => {
    const s = side();
    await expectRefused(s, await good(s, { to: stranger.did }), 400, 'message.not_addressed_to_us');
  });

  it('refuses an envelope encrypted to somebody else’s key as envelope.no_recipient_key', async () => {
    const s = side();
    await expectRefused(s, await seal(s, message(s), { encryptTo: stranger.did }), 400, 'envelope.no_recipient_key');
  });

  it('refuses an expired message as message.expired', async () => {
    const s = side();
    const twoDaysAgo = new ManualClock(Date.now() - 2 * 24 * 60 * 60 * 1000);
    await expectRefused(s, await good(s, { clock: twoDaysAgo, ttlMs: 60_000 }), 400, 'message.expired');
  });

  it('refuses a message created an hour in the future as message.from_the_future', async () => {
    const s = side();
    await expectRefused(s, await good(s, { clock: new ManualClock(Date.now() + 60 * 60 * 1000) }), 400, 'message.from_the_future');
  });

  it('accepts a valid message once and refuses the same bytes again as message.replayed', async () => {
    const s = side();
    const packed = await good(s, { body: { content: 'sent twice, kept once' } });
    const before = await s.snapshot();
    const first = await postEnvelopeRaw(s.endpoint(), packed);
    expect(first.status).toBe(202);
    const afterFirst = await s.snapshot();
    expect(afterFirst).not.toEqual(before);
    await expectRefused(s, packed, 409, 'message.replayed');
    expect(await s.snapshot()).toEqual(afterFirst);
  });

  it('refuses a freshly packed envelope that reuses an accepted message id as message.replayed', async () => {
    const s = side();
    const id = `replay-${Date.now()}-${Math.random()}`;
    expect((await postEnvelopeRaw(s.endpoint(), await good(s, { id }))).status).toBe(202);
    await expectRefused(s, await good(s, { id, body: { content: 'same id, new content' } }), 409, 'message.replayed');
  });

  it('refuses bytes that are not JSON as envelope.malformed', async () => {
    await expectRefused(side(), '{"protected": "eyJ', 400, 'envelope.malformed');
  });

  it('refuses an empty body as envelope.malformed', async () => {
    await expectRefused(side(), '', 400, 'envelope.malformed');
  });

  it('refuses JSON that is not a JWE as envelope.malformed', async () => {
    await expectRefused(side(), JSON.stringify({ hello: 'world', ciphertext: 42 }), 400, 'envelope.malformed');
  });

  it('refuses a truncated JWE as envelope.malformed', async () => {
    const s = side();
    const packed = await good(s);
    await expectRefused(s, packed.slice(0, Math.floor(packed.length / 2)), 400, 'envelope.malformed');
  });

  it('refuses a JWE that lost its tag as envelope.malformed', async () => {
    const s = side();
    const packed = alterJwe(await good(s), (jwe) => {
      delete (jwe as Partial<Jwe>).tag;
    });
    await expectRefused(s, packed, 400, 'envelope.malformed');
  });

  it('refuses a JWE with a tampered ciphertext as envelope.decrypt_failed', async () => {
    const s = side();
    await expectRefused(s, alterJwe(await good(s), (jwe) => (jwe.ciphertext = flipBit(jwe.ciphertext))), 400, 'envelope.decrypt_failed');
  });

  it('refuses a JWE with a tampered tag as envelope.decrypt_failed', async () => {
    const s = side();
    await expectRefused(s, alterJwe(await good(s), (jwe) => (jwe.tag = flipBit(jwe.tag))), 400, 'envelope.decrypt_failed');
  });

  it('refuses a JWE with a tampered IV as envelope.decrypt_failed', async () => {
    const s = side();
    await expectRefused(s, alterJwe(await good(s), (jwe) => (jwe.iv = flipBit(jwe.iv))), 400, 'envelope.decrypt_failed');
  });

  it('refuses a JWE whose protected header names another key-wrapping algorithm as envelope.unsupported_algorithm', async () => {
    const s = side();
    const packed = alterJwe(await good(s), (jwe) => {
      const header = JSON.parse(Buffer.from(jwe.protected, 'base64url').toString('utf8')) as Record<string, unknown>;
      // ECDH-1PU with A128KW: an authcrypt variant DIDComm does not use (Kith takes only +A256KW).
      jwe.protected = Buffer.from(JSON.stringify({ ...header, alg: 'ECDH-1PU+A128KW' })).toString('base64url');
    });
    await expectRefused(s, packed, 400, 'envelope.unsupported_algorithm');
  });

  it('refuses an encrypted payload that is not a signed message as envelope.signature_malformed', async () => {
    const s = side();
    const recipient = await resolvePeer(resolver, s.self());
    const unsigned = await fastEngine.encrypt(Buffer.from(JSON.stringify(message(s))), [recipient.agreementKey], { enc: 'A256CBC-HS512' });
    await expectRefused(s, unsigned, 400, 'envelope.signature_malformed');
  });

  it('refuses a signature whose kid is not in the sender’s DID document as did.key_not_found', async () => {
    const s = side();
    const signer: SigningKey = { kid: `${s.peer().did}#key-9`, privateKey: privateKeyObject(s.peer().signing.privateJwk) };
    await expectRefused(s, await seal(s, message(s), { signer }), 400, 'did.key_not_found');
  });

  it('refuses a sender whose DID method is not supported as did.unsupported_method', async () => {
    const s = side();
    const signer: SigningKey = { kid: 'did:example:mallory#key-1', privateKey: privateKeyObject(stranger.signing.privateJwk) };
    await expectRefused(s, await seal(s, message(s, { from: 'did:example:mallory' }), { signer }), 400, 'did.unsupported_method');
  });

  it('refuses a message of an unknown type as message.unknown_type', async () => {
    const s = side();
    await expectRefused(s, await good(s, { type: 'https://didcomm.org/no-such-family/1.0/thing', body: {} }), 422, 'message.unknown_type');
  });

  it('refuses a basic message whose body fails its schema as message.body_invalid', async () => {
    const s = side();
    await expectRefused(s, await good(s, { body: { content: 42 } }), 422, 'message.body_invalid');
  });

  it('refuses a known message type that this agent does not take as message.unexpected', async () => {
    const s = side();
    await expectRefused(s, await good(s, s.unexpected), 422, 'message.unexpected');
  });

  it('refuses a body one byte over the default 256 KiB limit as envelope.too_large', async () => {
    const s = side();
    const body = JSON.stringify({ protected: 'a'.repeat(DEFAULT_LIMIT) });
    expect(Buffer.byteLength(body)).toBeGreaterThan(DEFAULT_LIMIT);
    const response = await expectRefused(s, body, 413, 'envelope.too_large');
    expect(response.json.error?.details?.['limit']).toBe(DEFAULT_LIMIT);
  });

  it('refuses an oversized body streamed without Content-Length as envelope.too_large', async () => {
    const s = side();
    const before = await s.snapshot();
    const response = await postChunked(s.endpoint(), DEFAULT_LIMIT + 64 * 1024);
    expect(response.status).toBe(413);
    expect((JSON.parse(response.body) as { error: { code: string } }).error.code).toBe('envelope.too_large');
    expect(await s.snapshot()).toEqual(before);
  });
}

describe('the company agent’s DIDComm endpoint refuses bad input and changes nothing', () => {
  let pair: Pair;
  let small: CompanyHandle;
  const side = (): Side => ({
    endpoint: () => pair.company.didcommUrl,
    snapshot: () => pair.company.snapshot(),
    peer: () => herIdentity(pair.personal, pair.link.view.id),
    self: () => pair.company.did,
    unexpected: { type: Connect.response.type, body: { vendor: { name: 'Not A Company' }, customer_ref: 'C-1' } },
  });

  beforeAll(async () => {
    pair = await startPair();
    small = await startCompany({ name: 'Small Limits Ltd', maxMessageBytes: 4096 });
  });
  afterAll(async () => {
    await pair?.cleanup();
    await small?.cleanup();
  });

  sharedCases(side);

  it('refuses a message over a configured 4 KiB limit as envelope.too_large, though the default limit would take it', async () => {
    const s = side();
    const packed = await good(s, { body: { content: 'x'.repeat(6000) } });
    expect(Buffer.byteLength(packed)).toBeGreaterThan(4096);
    const smallSide: Side = { ...s, endpoint: () => small.didcommUrl, snapshot: () => small.snapshot() };
    const response = await expectRefused(smallSide, packed, 413, 'envelope.too_large');
    expect(response.json.error?.details?.['limit']).toBe(4096);
    expect((await postEnvelopeRaw(pair.company.didcommUrl, packed)).status).toBe(202);
  });

  it('refuses a basic message from a stranger’s fresh did:peer:2 as relationship.unknown', async () => {
    const s = side();
    const stranger = createPeerIdentity('http://127.0.0.1:9/didcomm').identity;
    const packed = await seal(s, message(s, { from: stranger.did }), { signer: signingKeyOf(stranger) });
    await expectRefused(s, packed, 404, 'relationship.unknown');
  });

  describe('after she cut the relationship off', () => {
    let cut: Pair;
    let oldIdentity: LocalIdentity;
    const cutSide = (): Side => ({
      endpoint: () => cut.company.didcommUrl,
      snapshot: () => cut.company.snapshot(),
      peer: () => oldIdentity,
      self: () => cut.company.did,
      unexpected: { type: Connect.response.type, body: {} },
    });

    beforeAll(async () => {
      cut = await startPair();
      // Her private keys are destroyed by the cut-off: keep a copy to play a thief who had them.
      oldIdentity = herIdentity(cut.personal, cut.link.view.id);
      await cut.personal.agent.cutOff(cut.link.view.id);
      expect(cut.personal.vault.keys.listForRelationship(cut.link.view.id)).toEqual([]);
    });
    afterAll(async () => {
      await cut?.cleanup();
    });

    it('refuses a basic message signed with her old keys as relationship.cut_off', async () => {
      const s = cutSide();
      await expectRefused(s, await good(s, { body: { content: 'remember me?' } }), 410, 'relationship.cut_off');
    });

    it('refuses a new connect request from her old DID as relationship.cut_off', async () => {
      const s = cutSide();
      await expectRefused(s, await good(s, { type: Connect.request.type, body: {} }), 410, 'relationship.cut_off');
    });
  });
});

describe('the personal agent’s DIDComm endpoint refuses bad input and changes nothing', () => {
  let pair: Pair;
  let second: Link;
  let small: PersonalHandle;
  let smallLink: Link;
  const side = (): Side => ({
    endpoint: () => pair.personal.didcommUrl(pair.link.view.id),
    snapshot: async () => pair.personal.snapshot(),
    peer: () => pair.company.identity,
    self: () => pair.link.record.myDid,
    unexpected: { type: Connect.request.type, body: {} },
  });

  beforeAll(async () => {
    pair = await startPair();
    second = await connect(pair.personal, pair.company);
    small = await startPersonal({ maxMessageBytes: 8192 });
    smallLink = await connect(small, pair.company);
  });
  afterAll(async () => {
    await small?.cleanup();
    await pair?.cleanup();
  });

  sharedCases(side);

  it('refuses a message over a configured 8 KiB limit as envelope.too_large', async () => {
    const smallSide: Side = {
      ...side(),
      endpoint: () => small.didcommUrl(smallLink.view.id),
      snapshot: async () => small.snapshot(),
      self: () => smallLink.record.myDid,
    };
    const packed = await good(smallSide, { body: { content: 'x'.repeat(10_000) } });
    expect(Buffer.byteLength(packed)).toBeGreaterThan(8192);
    expect(Buffer.byteLength(packed)).toBeLessThan(DEFAULT_LIMIT);
    const response = await expectRefused(smallSide, packed, 413, 'envelope.too_large');
    expect(response.json.error?.details?.['limit']).toBe(8192);
  });

  it('refuses a message posted to an unknown route token as relationship.unknown', async () => {
    const s = side();
    await expectRefused(s, await good(s), 404, 'relationship.unknown', `${pair.personal.url}/didcomm/no-such-route-token`);
  });

  it('refuses a message from a different company to her pairwise DID as relationship.unknown', async () => {
    const s = side();
    const otherCompany = createPeerIdentity('http://127.0.0.1:9/didcomm').identity;
    const packed = await seal(s, message(s, { from: otherCompany.did }), { signer: signingKeyOf(otherCompany) });
    await expectRefused(s, packed, 404, 'relationship.unknown');
  });

  it('refuses a message for one relationship posted on another relationship’s route as message.not_addressed_to_us', async () => {
    const s = side();
    await expectRefused(s, await good(s), 400, 'message.not_addressed_to_us', pair.personal.didcommUrl(second.view.id));
  });

  describe('after she cut the relationship off', () => {
    let cut: Pair;
    let oldRoute: string;
    let oldDid: string;
    const cutSide = (): Side => ({
      endpoint: () => oldRoute,
      snapshot: async () => cut.personal.snapshot(),
      peer: () => cut.company.identity,
      self: () => oldDid,
      unexpected: { type: Connect.request.type, body: {} },
    });

    beforeAll(async () => {
      cut = await startPair();
      oldRoute = cut.personal.didcommUrl(cut.link.view.id);
      oldDid = cut.link.record.myDid;
      await cut.personal.agent.cutOff(cut.link.view.id);
    });
    afterAll(async () => {
      await cut?.cleanup();
    });

    it('refuses a company message to her old DID as relationship.cut_off', async () => {
      const s = cutSide();
      await expectRefused(s, await good(s, { body: { content: 'we miss you' } }), 410, 'relationship.cut_off');
    });
  });

  describe('her vault and its exports', () => {
    async function expectRejected(work: () => Promise<unknown> | unknown, code: KithErrorCode): Promise<void> {
      let caught: unknown;
      try {
        await work();
      } catch (error) {
        caught = error;
      }
      expect(isKithError(caught) ? caught.code : caught).toBe(code);
    }

    it('refuses the wrong passphrase as vault.wrong_passphrase and leaves the vault files byte for byte unchanged', async () => {
      const rest = await startPair();
      try {
        await rest.personal.agent.sendMessage(rest.link.view.id, 'a message so the vault is not empty');
        const snapshot = rest.personal.snapshot();
        await rest.personal.stop();
        rest.personal.vault.close();
        const files = ['', '-wal', '-shm', '-journal'].map((suffix) => `${rest.personal.vaultPath}${suffix}`);
        const bytes = () => files.map((file) => (existsSync(file) ? readFileSync(file).toString('hex') : null));
        const before = bytes();

        await expectRejected(() => Vault.open(rest.personal.vaultPath, 'not my passphrase'), 'vault.wrong_passphrase');
        expect(bytes()).toEqual(before);

        const reopened = Vault.open(rest.personal.vaultPath, rest.personal.passphrase);
        try {
          expect(reopened.snapshot()).toEqual(snapshot);
        } finally {
          reopened.close();
        }
      } finally {
        await rest.cleanup();
      }
    });

    /** What `kith import` does: open the export, restore it into a new vault. */
    async function restore(text: string, target: string, passphrase = 'export passphrase'): Promise<void> {
      importVault(target, 'new vault passphrase', await openExport(text, passphrase), { kdf: { N: 2 ** 12 } }).close();
    }

    async function expectImportRefused(text: string, code: KithErrorCode, passphrase?: string): Promise<void> {
      const target = join(pair.personal.dir, `imported-${Math.random().toString(36).slice(2)}.db`);
      const before = pair.personal.snapshot();
      await expectRejected(() => restore(text, target, passphrase), code);
      for (const suffix of ['', '-wal', '-shm', '-journal']) expect(existsSync(`${target}${suffix}`)).toBe(false);
      expect(pair.personal.snapshot()).toEqual(before);
    }

    it('refuses a truncated export as export.corrupted and creates no vault', async () => {
      const plain = await sealExport(exportVault(pair.personal.vault), '', { plain: true });
      await expectImportRefused(plain.slice(0, Math.floor(plain.length * 0.7)), 'export.corrupted');
    });

    it('refuses an export whose key lost its private half as export.corrupted and creates no vault', async () => {
      const document = exportVault(pair.personal.vault);
      const [key] = document.keys;
      expect(key).toBeDefined();
      const damaged = { ...document, keys: [{ ...key, privateJwk: { ...key!.privateJwk, d: undefined } }, ...document.keys.slice(1)] };
      await expectImportRefused(JSON.stringify(damaged), 'export.corrupted');
    });

    it('refuses an export whose messages belong to a relationship it does not contain as export.corrupted and creates no vault', async () => {
      const document = exportVault(pair.personal.vault);
      expect(document.messages.length).toBeGreaterThan(0);
      const inconsistent = { ...document, relationships: [], keys: [], receipts: [], outbox: [] };
      await expectImportRefused(JSON.stringify(inconsistent), 'export.corrupted');
    });

    it('refuses an encrypted export with a tampered ciphertext as export.corrupted and creates no vault', async () => {
      const sealed = await sealExport(exportVault(pair.personal.vault), 'export passphrase');
      const tampered = JSON.stringify({ ...(JSON.parse(sealed) as Record<string, string>), ciphertext: flipBit((JSON.parse(sealed) as { ciphertext: string }).ciphertext) });
      await expectImportRefused(tampered, 'export.corrupted', 'export passphrase');
    });

    it('refuses foreign JSON as export.foreign and creates no vault', async () => {
      await expectImportRefused(JSON.stringify({ name: 'Ada', contacts: [{ city: 'London' }] }), 'export.foreign');
    });

    it('refuses a JWE that is not a Kith export (a DIDComm envelope) as export.foreign and creates no vault', async () => {
      await expectImportRefused(await good(side()), 'export.foreign');
    });
  });
});
