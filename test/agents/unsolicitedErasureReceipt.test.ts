/**
 * Found by the fuzzer (issue 17 item 1): an erasure receipt is the company's answer to her
 * terminate. One the company pushes when she asked for none must be refused and change nothing;
 * before the fix it destroyed her keys, cut the relationship off and withdrew her consents, so a
 * company (or anyone holding its key) could end her relationship and wipe her record of it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { signingKeyOf } from '../../src/protocol/agent/identity.js';
import { resolvePeer } from '../../src/protocol/agent/peer.js';
import { buildMessage } from '../../src/protocol/buildMessage.js';
import { createDidResolver } from '../../src/protocol/did/resolver.js';
import { packMessage } from '../../src/protocol/envelope/pack.js';
import { Relationship } from '../../src/protocol/families/index.js';
import { postEnvelopeRaw, startPair, type Pair } from '../support/agents.js';

let pair: Pair;
beforeEach(async () => {
  pair = await startPair();
});
afterEach(async () => {
  await pair?.cleanup();
});

describe('an erasure receipt she did not ask for', () => {
  it('is refused with message.unexpected and leaves her vault and relationship as they were', async () => {
    const { company, personal, link } = pair;
    const now = Math.floor(Date.now() / 1000);
    const message = buildMessage(
      { type: Relationship.erasureReceipt.type, from: company.did, to: link.record.myDid, body: { relationship: link.record.myDid, terminated_at: now, erased_at: now, erased: [] } },
      { now: () => Date.now() },
    );
    const recipient = await resolvePeer(createDidResolver(), link.record.myDid);
    const packed = await packMessage({ message, signer: signingKeyOf(company.identity), recipients: [recipient.agreementKey] });
    const before = personal.snapshot();

    const response = await postEnvelopeRaw(personal.didcommUrl(link.view.id), packed);

    expect({ status: response.status, code: response.json.error?.code }).toEqual({ status: 422, code: 'message.unexpected' });
    expect(personal.snapshot()).toEqual(before);
    expect(personal.record(link.view.id).state).toBe('active');
    // Her relationship still works: the company's next message reaches her.
    expect((await company.agent.sendMessage(link.companyRelationship.id, 'still here')).delivered).toBe(true);
  });

  it('is still kept when it answers her own cut-off', async () => {
    const { personal, link } = pair;
    const receipt = await personal.agent.cutOff(link.view.id);
    expect(receipt.kind).toBe('erasure');
    expect(personal.record(link.view.id).state).toBe('cut_off');
  });
});
