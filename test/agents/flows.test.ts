/**
 * The main flows between a personal agent and a company agent, in one process over real HTTP on
 * loopback: connect, messages both ways, either side being down, mute/unmute, and cut-off with a
 * signed erasure receipt.
 */
import { flattenedVerify, importJWK } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isKithError } from '../../src/core/errors.js';
import { newId } from '../../src/core/ids.js';
import { findKey } from '../../src/protocol/did/keysFromDocument.js';
import { resolvePeerDid2 } from '../../src/protocol/did/peer2.js';
import { didOf } from '../../src/protocol/did/types.js';
import { BasicMessage, Relationship } from '../../src/protocol/families/index.js';
import { systemClock } from '../../src/core/clock.js';
import { resolvePeer } from '../../src/protocol/agent/peer.js';
import { buildMessage } from '../../src/protocol/buildMessage.js';
import { createDidResolver } from '../../src/protocol/did/resolver.js';
import { packMessage } from '../../src/protocol/envelope/pack.js';
import { generateKeyPair, privateKeyObject } from '../../src/protocol/keys.js';
import { herIdentity, postEnvelopeRaw, startPair, type Pair } from '../support/agents.js';

const sleep = (ms: number) => new Promise((resolvePromise) => setTimeout(resolvePromise, ms));

async function codeOf(work: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await work();
  } catch (error) {
    return isKithError(error) ? error.code : String(error);
  }
  return undefined;
}

describe('a personal agent and a company agent over real HTTP', () => {
  let pair: Pair;
  // Her retries are due within milliseconds, so a test can retry without waiting a second.
  beforeEach(async () => {
    pair = await startPair({ personal: { retry: { baseDelayMs: 1, maxDelayMs: 5 } } });
  });
  afterEach(async () => {
    await pair?.cleanup();
  });

  /** How many copies of a DIDComm message her vault holds, held ones included. */
  const copiesInVault = (messageId: string) => pair.personal.vault.messages.listAll().filter((m) => m.messageId === messageId).length;
  const companyCopies = async (messageId: string) =>
    (await pair.company.agent.messages(pair.link.companyRelationship.id)).filter((m) => m.messageId === messageId).length;
  const companyPending = () => pair.company.store.pendingOutbox(pair.link.companyRelationship.id, 100);

  it('connects her from a fresh pairwise DID, and both sides agree on the relationship', async () => {
    const { view, record, companyRelationship } = pair.link;
    expect(view.state).toBe('active');
    expect(view.company).toBe(pair.company.name);
    expect(view.theirDid).toBe(pair.company.did);
    expect(view.customerRef).toBe(companyRelationship.customerRef);
    expect(companyRelationship.theirDid).toBe(record.myDid);
    expect(companyRelationship.state).toBe('active');
    expect(record.myDid).toMatch(/^did:peer:2\./);
    expect(pair.personal.vault.keys.listForRelationship(view.id).map((k) => k.purpose).sort()).toEqual(['authentication', 'keyAgreement']);
  });

  it('carries messages both ways and stores each once on each side', async () => {
    const mine = await pair.personal.agent.sendMessage(pair.link.view.id, 'Is my order on its way?');
    expect(mine.status).toBe('sent');
    expect(await companyCopies(mine.messageId)).toBe(1);
    const atCompany = (await pair.company.agent.messages(pair.link.companyRelationship.id)).find((m) => m.messageId === mine.messageId);
    expect(atCompany).toMatchObject({ direction: 'in', type: BasicMessage.message.type, body: { content: 'Is my order on its way?' } });

    const theirs = await pair.company.agent.sendMessage(pair.link.companyRelationship.id, 'It ships tomorrow.');
    expect(theirs.delivered).toBe(true);
    expect(copiesInVault(theirs.messageId)).toBe(1);
    expect(await companyPending()).toEqual([]);

    const thread = pair.personal.agent.messages(pair.link.view.id);
    expect(thread.map((m) => [m.direction, m.status, m.content])).toEqual([
      ['out', 'sent', 'Is my order on its way?'],
      ['in', 'shown', 'It ships tomorrow.'],
    ]);
  });

  it('keeps a company message sent while her agent is down in the company’s outbox, and pickup brings it exactly once', async () => {
    await pair.personal.stop();
    const sent = await pair.company.agent.sendMessage(pair.link.companyRelationship.id, 'Your invoice is ready.');
    expect(sent.delivered).toBe(false);
    const [queued, ...rest] = await companyPending();
    expect(rest).toEqual([]);
    expect(queued?.messageId).toBe(sent.messageId);
    expect(copiesInVault(sent.messageId)).toBe(0);

    await pair.personal.start();
    expect(await pair.personal.agent.pickup()).toEqual({ received: 1, failed: 0 });
    expect(copiesInVault(sent.messageId)).toBe(1);
    expect(pair.personal.agent.messages(pair.link.view.id).map((m) => [m.status, m.content])).toEqual([['shown', 'Your invoice is ready.']]);
    expect(await companyPending()).toEqual([]);

    // The company's delivery loop finds nothing left to push.
    expect(await pair.company.agent.deliverDue()).toBe(0);
    // A push of the same message landing after the pickup (her confirmation lost, say) is
    // recognised as a replay, and the company drops its copy: still exactly one in her vault.
    await pair.company.store.enqueueOutbox({ ...queued!, id: newId(), nextAttemptAt: Date.now(), attempts: 0 });
    expect(await pair.company.agent.deliverDue()).toBe(1);
    expect(await companyPending()).toEqual([]);
    const direct = await postEnvelopeRaw(pair.personal.didcommUrl(pair.link.view.id), queued!.packed);
    expect([direct.status, direct.json.error?.code]).toEqual([409, 'message.replayed']);
    expect(await pair.personal.agent.pickup()).toEqual({ received: 0, failed: 0 });
    expect(copiesInVault(sent.messageId)).toBe(1);
  });

  it('confirms picked-up messages that are bad in themselves but leaves those it failed to check for later', async () => {
    const relationshipId = pair.link.companyRelationship.id;
    const enqueue = (messageId: string, packed: string) =>
      pair.company.store.enqueueOutbox({ id: newId(), relationshipId, messageId, packed, createdAt: Date.now(), nextAttemptAt: Date.now() + 3_600_000, attempts: 0 });
    // Bad in itself: not an envelope at all.
    await enqueue('malformed-1', JSON.stringify({ not: 'a JWE' }));
    // Not checkable right now: signed by a did:web whose document cannot be fetched.
    const stranger = 'did:web:127.0.0.1%3A1';
    const message = buildMessage({ type: BasicMessage.message.type, from: stranger, to: pair.link.record.myDid, body: { content: 'from afar' } }, systemClock);
    const her = await resolvePeer(createDidResolver(), pair.link.record.myDid);
    const packed = await packMessage({
      message,
      signer: { kid: `${stranger}#key-1`, privateKey: privateKeyObject(generateKeyPair('Ed25519').privateJwk) },
      recipients: [her.agreementKey],
    });
    await enqueue(message.id, packed);

    expect(await pair.personal.agent.pickup()).toEqual({ received: 0, failed: 2 });
    expect((await companyPending()).map((item) => item.messageId)).toEqual([message.id]);
  });

  it('queues her message while the company is down, and deliverOutbox later delivers it exactly once', async () => {
    await pair.company.stop();
    const outcome = await pair.personal.agent.sendMessage(pair.link.view.id, 'Please call me back.');
    expect(outcome.status).toBe('queued');
    expect(pair.personal.vault.outbox.countPending(pair.link.view.id)).toBe(1);
    expect(pair.personal.vault.messages.findByMessageId(outcome.messageId)?.status).toBe('queued');
    const [item] = pair.personal.vault.outbox.list();
    expect(await companyCopies(outcome.messageId)).toBe(0);

    // Still down: the retry fails and the message stays queued.
    await sleep(10);
    expect(await pair.personal.agent.deliverOutbox()).toBe(0);
    expect(pair.personal.vault.outbox.countPending(pair.link.view.id)).toBe(1);

    await pair.company.start();
    await sleep(10);
    expect(await pair.personal.agent.deliverOutbox()).toBe(1);
    expect(await companyCopies(outcome.messageId)).toBe(1);
    expect(pair.personal.vault.messages.findByMessageId(outcome.messageId)?.status).toBe('sent');
    expect(pair.personal.vault.outbox.countPending(pair.link.view.id)).toBe(0);
    expect(await pair.personal.agent.deliverOutbox()).toBe(0);

    // Sending it again (as after a crash before she recorded the delivery) does not double it.
    pair.personal.vault.outbox.enqueue({ relationshipId: pair.link.view.id, messageId: item!.messageId, plaintext: item!.plaintext });
    expect(await pair.personal.agent.deliverOutbox()).toBe(0);
    expect(pair.personal.vault.outbox.countPending(pair.link.view.id)).toBe(0);
    expect(await companyCopies(outcome.messageId)).toBe(1);
  });

  it('holds company messages in the company’s outbox while she is muted, and unmuting delivers them', async () => {
    expect((await pair.personal.agent.mute(pair.link.view.id)).state).toBe('muted');
    expect((await pair.company.store.getRelationship(pair.link.companyRelationship.id))?.state).toBe('muted');

    const sent = await pair.company.agent.sendMessage(pair.link.companyRelationship.id, 'A special offer for you!');
    expect(sent.delivered).toBe(false);
    expect((await companyPending()).map((item) => item.messageId)).toEqual([sent.messageId]);
    expect(await pair.company.agent.deliverDue()).toBe(0);
    expect(copiesInVault(sent.messageId)).toBe(0);

    expect((await pair.personal.agent.unmute(pair.link.view.id)).state).toBe('active');
    expect((await pair.company.store.getRelationship(pair.link.companyRelationship.id))?.state).toBe('active');
    expect(await companyPending()).toEqual([]);
    expect(copiesInVault(sent.messageId)).toBe(1);
    expect(pair.personal.agent.messages(pair.link.view.id).map((m) => [m.status, m.content])).toEqual([['shown', 'A special offer for you!']]);
  });

  it('keeps a company message picked up while she is muted as held, and unmuting shows it', async () => {
    await pair.personal.agent.mute(pair.link.view.id);
    const sent = await pair.company.agent.sendMessage(pair.link.companyRelationship.id, 'We have news.');
    expect(sent.delivered).toBe(false);

    expect(await pair.personal.agent.pickup()).toEqual({ received: 1, failed: 0 });
    expect(await companyPending()).toEqual([]);
    expect(pair.personal.agent.messages(pair.link.view.id)).toEqual([]);
    expect(pair.personal.agent.messages(pair.link.view.id, { includeHeld: true }).map((m) => [m.status, m.content])).toEqual([['held', 'We have news.']]);

    await pair.personal.agent.unmute(pair.link.view.id);
    expect(pair.personal.agent.messages(pair.link.view.id).map((m) => [m.status, m.content])).toEqual([['shown', 'We have news.']]);
    expect(copiesInVault(sent.messageId)).toBe(1);
  });

  it('cuts off with a receipt signed by the company’s DID key, destroys her keys and erases the company’s copy', async () => {
    const relationshipId = pair.link.view.id;
    const herDid = pair.link.record.myDid;
    expect((await pair.personal.agent.sendMessage(relationshipId, 'Forget me, please.')).status).toBe('sent');
    await pair.company.agent.sendMessage(pair.link.companyRelationship.id, 'Sorry to see you go.');
    await pair.personal.agent.mute(relationshipId);
    await pair.company.agent.sendMessage(pair.link.companyRelationship.id, 'One last offer?');
    expect(await companyPending()).toHaveLength(1);
    const oldKids = [herIdentity(pair.personal, relationshipId)].flatMap((identity) => [identity.signing.kid, identity.agreement.kid]);

    const receipt = await pair.personal.agent.cutOff(relationshipId);

    // The receipt verifies against the Ed25519 key the company's DID document lists for authentication,
    // with jose alone (independently of Kith's receive pipeline).
    const general = JSON.parse(receipt.jws) as { payload: string; signatures: { protected: string; signature: string; header?: { kid?: string } }[] };
    expect(general.signatures).toHaveLength(1);
    const [signature] = general.signatures;
    const kid = signature!.header?.kid ?? '';
    expect(didOf(kid)).toBe(pair.company.did);
    const key = findKey(resolvePeerDid2(pair.company.did), kid, 'authentication');
    const publicKey = await importJWK({ ...key.jwk }, 'EdDSA');
    const flattened = { payload: general.payload, protected: signature!.protected, signature: signature!.signature };
    const verified = await flattenedVerify(flattened, publicKey);
    const plaintext = JSON.parse(new TextDecoder().decode(verified.payload)) as { type: string; from: string; to: string[]; body: Record<string, unknown> };
    expect(plaintext.type).toBe(Relationship.erasureReceipt.type);
    expect(plaintext.from).toBe(pair.company.did);
    expect(plaintext.to).toEqual([herDid]);
    expect(plaintext.body).toEqual(receipt.body);
    expect(plaintext.body['relationship']).toBe(herDid);
    expect(plaintext.body['erased']).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ category: 'messages', count: 3 }),
        expect.objectContaining({ category: 'outbox', count: 1 }),
      ]),
    );
    // …and a receipt altered after signing does not.
    const forgedPayload = Buffer.from(JSON.stringify({ ...plaintext, body: { ...plaintext.body, erased: [] } })).toString('base64url');
    await expect(flattenedVerify({ ...flattened, payload: forgedPayload }, publicKey)).rejects.toThrow();
    expect(pair.personal.agent.receipts(relationshipId).map((r) => r.jws)).toEqual([receipt.jws]);

    // Her keys for the relationship are gone.
    expect(pair.personal.vault.keys.listForRelationship(relationshipId)).toEqual([]);
    for (const oldKid of oldKids) expect(pair.personal.vault.keys.getByKid(oldKid)).toBeUndefined();
    expect(pair.personal.agent.relationship(relationshipId).state).toBe('cut_off');

    // The company holds no messages or outbox for it, and no longer knows her DID.
    const store = pair.company.store;
    expect(await store.listMessages(pair.link.companyRelationship.id)).toEqual([]);
    expect(await store.pendingOutbox(pair.link.companyRelationship.id, 100)).toEqual([]);
    expect(await store.countPendingOutbox(pair.link.companyRelationship.id)).toBe(0);
    expect(await store.findRelationshipByDid(herDid)).toBeUndefined();
    expect(await store.isTombstoned(herDid)).toBe(true);
    expect((await store.getRelationship(pair.link.companyRelationship.id))?.state).toBe('cut_off');
    // (Its replay memory still lists bare message ids until they expire, as it must to refuse a
    // replay; those rows name no relationship, DID or content.)
    // The erasure event tells the company's systems which customer number to erase, then is redacted.
    expect(await pair.company.agent.dispatchEvents()).toBeGreaterThan(0);
    const everything = JSON.stringify(await pair.company.snapshot());
    for (const gone of [herDid, 'Forget me, please.', 'Sorry to see you go.', 'One last offer?', pair.link.companyRelationship.customerRef]) {
      expect(everything).not.toContain(gone);
    }

    // Neither side can write on it any more.
    expect(await codeOf(() => pair.personal.agent.sendMessage(relationshipId, 'hello?'))).toBe('relationship.cut_off');
    expect(await codeOf(() => pair.company.agent.sendMessage(pair.link.companyRelationship.id, 'hello?'))).toBe('relationship.cut_off');
  });
});
