/**
 * Apps substitutable like email clients (issue 17): a DIDComm v2 peer on didcomm-rust's defaults
 * (didcomm-node, its WASM build, sharing no code with Kith) talks to both agents over real HTTP.
 * Its default anoncrypt content encryption is XC20P and its authcrypt is ECDH-1PU+A256KW; both
 * agents accept either around a signed message, and refuse what decision 0014 refuses (authcrypt
 * without a signature inside, a sender key of another DID) with the pipeline's code, changing nothing.
 */
import { Message } from 'didcomm-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agreementKeyOf, createPeerIdentity, signingKeyOf, type LocalIdentity } from '../../src/protocol/agent/identity.js';
import { resolvePeer } from '../../src/protocol/agent/peer.js';
import { buildMessage } from '../../src/protocol/buildMessage.js';
import { createDidResolver } from '../../src/protocol/did/resolver.js';
import { fastEngine } from '../../src/protocol/envelope/fastEngine.js';
import { MEDIA_TYPE } from '../../src/protocol/envelope/format.js';
import { BasicMessage } from '../../src/protocol/families/index.js';
import type { DidcommMessage } from '../../src/protocol/message.js';
import { didcommResolver, didcommSecrets } from '../support/didcommNode.js';
import { authcryptForTest } from '../support/otherEnvelopes.js';
import { herIdentity, postEnvelopeRaw, startPair, type Pair } from '../support/agents.js';

type Packing = 'anoncrypt-xc20p' | 'authcrypt';
const PACKINGS: readonly Packing[] = ['anoncrypt-xc20p', 'authcrypt'];

function basicMessage(from: string, to: string, content: string): DidcommMessage {
  return buildMessage({ type: BasicMessage.message.type, from, to, body: { content } }, { now: () => Date.now() });
}

/** didcomm-node packs `message` from `sender` on its defaults, signed by the sender's DID. */
async function didcommPack(message: DidcommMessage, sender: LocalIdentity, packing: Packing, options: { sign?: boolean } = {}): Promise<string> {
  // A basic message has no attachments: pass the members didcomm-node's IMessage types.
  const { id, type, body, from, to, created_time, expires_time } = message;
  const wasm = new Message({
    id,
    typ: MEDIA_TYPE.plain,
    type,
    body,
    ...(from === undefined ? {} : { from }),
    ...(to === undefined ? {} : { to }),
    ...(created_time === undefined ? {} : { created_time }),
    ...(expires_time === undefined ? {} : { expires_time }),
  });
  try {
    const to = message.to?.[0];
    if (!to) throw new Error('message has no recipient');
    const [packed] = await wasm.pack_encrypted(
      to,
      packing === 'authcrypt' ? sender.did : null,
      options.sign === false ? null : sender.did,
      didcommResolver(),
      didcommSecrets([sender.signing, sender.agreement]),
      // Its defaults otherwise: XC20P for anoncrypt, ECDH-1PU+A256KW/A256CBC-HS512 for authcrypt.
      { forward: false, protect_sender: false },
    );
    const header = JSON.parse(Buffer.from((JSON.parse(packed) as { protected: string }).protected, 'base64url').toString('utf8')) as Record<string, unknown>;
    expect(header).toMatchObject(packing === 'authcrypt' ? { alg: 'ECDH-1PU+A256KW', enc: 'A256CBC-HS512', skid: sender.agreement.kid } : { alg: 'ECDH-ES+A256KW', enc: 'XC20P' });
    return packed;
  } finally {
    wasm.free();
  }
}

describe('a didcomm-rust peer on its defaults, end to end through both agents', () => {
  let pair: Pair;
  let her: LocalIdentity;

  beforeAll(async () => {
    pair = await startPair();
    her = herIdentity(pair.personal, pair.link.view.id);
  });
  afterAll(async () => {
    await pair?.cleanup();
  });

  it.each(PACKINGS)('the company agent takes her basic message packed by didcomm-node as %s, and stores it once', async (packing) => {
    const content = `from didcomm-rust, ${packing}`;
    const packed = await didcommPack(basicMessage(her.did, pair.company.did, content), her, packing);
    const before = JSON.stringify(await pair.company.snapshot());
    expect(before).not.toContain(content);
    const response = await postEnvelopeRaw(pair.company.didcommUrl, packed);
    expect(response.status).toBe(202);
    expect(JSON.stringify(await pair.company.snapshot())).toContain(content);
    const again = await postEnvelopeRaw(pair.company.didcommUrl, packed);
    expect({ status: again.status, code: again.json.error?.code }).toEqual({ status: 409, code: 'message.replayed' });
  });

  it.each(PACKINGS)('her agent takes the company’s basic message packed by didcomm-node as %s, and shows it', async (packing) => {
    const content = `company via didcomm-rust, ${packing}`;
    const packed = await didcommPack(basicMessage(pair.company.did, pair.link.record.myDid, content), pair.company.identity, packing);
    const response = await postEnvelopeRaw(pair.personal.didcommUrl(pair.link.view.id), packed);
    expect(response.status).toBe(202);
    expect(pair.personal.agent.messages(pair.link.view.id).map((m) => m.content)).toContain(content);
  });

  it('both agents refuse didcomm-node’s authcrypt without a signature inside as envelope.signature_malformed, changing nothing', async () => {
    const toCompany = await didcommPack(basicMessage(her.did, pair.company.did, 'unsigned'), her, 'authcrypt', { sign: false });
    const companyBefore = await pair.company.snapshot();
    const refused = await postEnvelopeRaw(pair.company.didcommUrl, toCompany);
    expect({ status: refused.status, code: refused.json.error?.code }).toEqual({ status: 400, code: 'envelope.signature_malformed' });
    expect(await pair.company.snapshot()).toEqual(companyBefore);

    const toHer = await didcommPack(basicMessage(pair.company.did, pair.link.record.myDid, 'unsigned'), pair.company.identity, 'authcrypt', { sign: false });
    const herBefore = pair.personal.snapshot();
    const refusedByHer = await postEnvelopeRaw(pair.personal.didcommUrl(pair.link.view.id), toHer);
    expect({ status: refusedByHer.status, code: refusedByHer.json.error?.code }).toEqual({ status: 400, code: 'envelope.signature_malformed' });
    expect(pair.personal.snapshot()).toEqual(herBefore);
  });

  it('the company agent refuses her signed message authcrypted with a stranger’s key as envelope.sender_mismatch, changing nothing', async () => {
    const stranger = createPeerIdentity('http://127.0.0.1:9/didcomm').identity;
    const signed = await fastEngine.sign(Buffer.from(JSON.stringify(basicMessage(her.did, pair.company.did, 'not from the stranger'))), signingKeyOf(her));
    const company = await resolvePeer(createDidResolver(), pair.company.did);
    const packed = authcryptForTest(signed, agreementKeyOf(stranger), [company.agreementKey]);
    const before = await pair.company.snapshot();
    const response = await postEnvelopeRaw(pair.company.didcommUrl, packed);
    expect({ status: response.status, code: response.json.error?.code }).toEqual({ status: 400, code: 'envelope.sender_mismatch' });
    expect(await pair.company.snapshot()).toEqual(before);
  });

  it('the company agent refuses didcomm-node’s authcrypt with a tampered tag as envelope.decrypt_failed, changing nothing', async () => {
    const packed = JSON.parse(await didcommPack(basicMessage(her.did, pair.company.did, 'tampered'), her, 'authcrypt')) as Record<string, string>;
    const tag = Buffer.from(packed['tag'] ?? '', 'base64url');
    tag[7] = (tag[7] ?? 0) ^ 1;
    const before = await pair.company.snapshot();
    const response = await postEnvelopeRaw(pair.company.didcommUrl, JSON.stringify({ ...packed, tag: tag.toString('base64url') }));
    expect({ status: response.status, code: response.json.error?.code }).toEqual({ status: 400, code: 'envelope.decrypt_failed' });
    expect(await pair.company.snapshot()).toEqual(before);
  });
});
