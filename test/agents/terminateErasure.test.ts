/**
 * relationship/terminate honours `erasure_requested` (issue 17 item 6f): `false` ends the
 * relationship without erasing anything and the signed receipt says so; `true` erases.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BasicMessage, Relationship } from '../../src/protocol/families/index.js';
import { herIdentity, startPair, type Pair } from '../support/agents.js';
import { openReply, sendAs } from '../support/disclosure.js';

describe('relationship/terminate and erasure_requested', () => {
  let pair: Pair;

  beforeEach(async () => {
    pair = await startPair();
    await pair.company.agent.sendMessage(pair.link.companyRelationship.id, 'Welcome aboard');
  });
  afterEach(async () => {
    await pair?.cleanup();
  });

  const relId = () => pair.link.companyRelationship.id;

  it('with false: cuts the relationship off, erases nothing, and the receipt says erasure was not requested', async () => {
    const { company, personal, link } = pair;
    const her = herIdentity(personal, link.view.id);
    const messagesBefore = await company.store.listMessages(relId());
    expect(messagesBefore.length).toBeGreaterThan(0);

    const { response } = await sendAs(her, company, Relationship.terminate.type, { erasure_requested: false });
    expect(response.status).toBe(200);
    const reply = await openReply(response.text, her);
    expect(reply.message.type).toBe(Relationship.erasureReceipt.type);
    expect(reply.message.body).toEqual({ relationship: her.did, terminated_at: expect.any(Number), erased: [], erasure_requested: false });

    // Nothing erased: her DID, customer number and messages are all still there; no deletion on record.
    const after = await company.store.getRelationship(relId());
    expect(after).toMatchObject({ state: 'cut_off', theirDid: her.did, customerRef: link.companyRelationship.customerRef });
    expect(await company.store.listMessages(relId())).toEqual(messagesBefore);
    expect(await company.store.listDataRightsRequests({ relationshipId: relId() })).toEqual([]);
    expect((await company.store.listEvents({ relationshipId: relId() })).map((e) => e.type)).not.toContain('relationship.erased');

    // Cut off all the same: her old DID is refused from now on.
    const { response: later } = await sendAs(her, company, BasicMessage.message.type, { content: 'still there?' });
    expect({ status: later.status, code: later.json.error?.code }).toEqual({ status: 410, code: 'relationship.cut_off' });
  });

  it('with true: erases, and the receipt lists what went', async () => {
    const { company, personal, link } = pair;
    const her = herIdentity(personal, link.view.id);
    const { response } = await sendAs(her, company, Relationship.terminate.type, { erasure_requested: true });
    expect(response.status).toBe(200);
    const body = (await openReply(response.text, her)).message.body as { erased: { category: string; count: number }[]; erased_at?: number };
    expect(body.erased_at).toEqual(expect.any(Number));
    expect(body.erased.find((e) => e.category === 'messages')?.count).toBeGreaterThan(0);
    expect(await company.store.listMessages(relId())).toEqual([]);
    expect((await company.store.getRelationship(relId()))?.customerRef).toBe('');
  });

  it('a receipt claiming erasure without saying when, or listing erasures it was not asked for, does not parse', () => {
    const base = { relationship: 'did:example:her', terminated_at: 1 };
    expect(Relationship.erasureReceipt.body.safeParse({ ...base, erased: [] }).success).toBe(false);
    expect(Relationship.erasureReceipt.body.safeParse({ ...base, erased: [{ category: 'messages', count: 1, where: 'x' }], erasure_requested: false }).success).toBe(false);
    expect(Relationship.erasureReceipt.body.safeParse({ ...base, erased_at: 1, erased: [] }).success).toBe(true);
    expect(Relationship.erasureReceipt.body.safeParse({ ...base, erased: [], erasure_requested: false }).success).toBe(true);
  });
});
