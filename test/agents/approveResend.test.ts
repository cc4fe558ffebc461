/**
 * Approve is idempotent when the company stored her answer but its ack was lost on the way back
 * (issue 17 item 6a): her agent keeps the pending consent record, answering again resends under
 * the same consent record id, the company answers with the first ack and stores nothing twice,
 * and she ends approved.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Disclose } from '../../src/protocol/families/index.js';
import { failure } from '../support/errorCodes.js';
import { herIdentity, herRequestFor, startPair, type Pair } from '../support/agents.js';
import { openReply, sendAs } from '../support/disclosure.js';

const ADA = { name: 'Ada Lovelace', email: 'ada@example.org' };

/** What the company keeps of her answers; the replay table and message log are left out (each resend is a new message). */
async function answersHeld(pair: Pair): Promise<Record<string, unknown>> {
  const snap = await pair.company.snapshot();
  const keep = ['consent_records', 'held_fields', 'presentations', 'connector_events', 'disclosure_requests'];
  for (const table of keep) expect(Object.keys(snap)).toContain(table);
  return Object.fromEntries(keep.map((t) => [t, snap[t]]));
}

describe('approve after a lost reply', () => {
  let pair: Pair;
  let loseNextReply = false;

  beforeEach(async () => {
    loseNextReply = false;
    // Her HTTP client: the company gets and answers every post; the armed one's reply is dropped.
    const lossy: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (!loseNextReply) return response;
      loseNextReply = false;
      await response.arrayBuffer();
      throw new TypeError('socket hang up');
    };
    pair = await startPair({ personal: { fetch: lossy } });
    pair.personal.agent.profile.set(ADA);
  });
  afterEach(async () => {
    await pair?.cleanup();
  });

  it('answering again re-presents under the same consent record id, is acked, stores nothing twice, and she ends approved', async () => {
    const { company, personal, link } = pair;
    const sent = await company.agent.requestDisclosure(link.companyRelationship.id, { fields: ['name', 'email'], purpose: 'Order confirmations', retention: 'P1Y' });
    const id = herRequestFor(personal, sent.request.id);

    loseNextReply = true;
    expect(await failure(() => personal.agent.disclosure.approve(id))).toMatchObject({ code: 'transport.unreachable' });
    // The company stored it; she still shows a pending record (she may have disclosed) and can answer again.
    const stored = (await company.store.listConsentRecords(link.companyRelationship.id)).filter((c) => c.requestId === sent.request.id);
    expect(stored.map((c) => c.state)).toEqual(['active']);
    expect(personal.agent.disclosure.consents(link.view.id).map((c) => [c.id, c.state])).toEqual([[stored[0]!.id, 'pending']]);
    expect(personal.agent.disclosure.requests().map((r) => r.id)).toContain(id);
    const held = await answersHeld(pair);

    const again = await personal.agent.disclosure.approve(id);
    expect(again.consentRecordId).toBe(stored[0]!.id);
    expect([...again.fields].sort()).toEqual(['email', 'name']);
    expect(await answersHeld(pair)).toEqual(held);
    expect(personal.agent.disclosure.consents(link.view.id).map((c) => [c.id, c.state])).toEqual([[stored[0]!.id, 'active']]);
    expect(personal.agent.disclosure.requests().map((r) => r.id)).not.toContain(id);
    expect(personal.vault.disclosed.list(link.view.id).map((f) => f.field).sort()).toEqual(['email', 'name']);
  });

  it('a decline resent after a lost reply is acked as refused; a different answer under that id stays refused, nothing changes', async () => {
    const { company, personal, link } = pair;
    const sent = await company.agent.requestDisclosure(link.companyRelationship.id, { fields: ['email'], purpose: 'Newsletter', retention: 'P1Y' });
    const id = herRequestFor(personal, sent.request.id);
    loseNextReply = true;
    expect(await failure(() => personal.agent.disclosure.decline(id))).toMatchObject({ code: 'transport.unreachable' });
    const held = await answersHeld(pair);
    const again = await personal.agent.disclosure.decline(id);
    expect(again.request.state).toBe('declined');
    expect(await answersHeld(pair)).toEqual(held);

    // The same consent record id with the other decision is not a resend: refused, nothing stored.
    const her = herIdentity(personal, link.view.id);
    const present = await sendAs(her, company, Disclose.present.type, { request_id: sent.request.id, consent_record_id: again.consentRecordId, approved: ['email'], profile_version: 0, presentations: [{ format: 'dc+sd-jwt', sd_jwt: 'eyJhbGciOiJFZERTQSJ9.e30.c2ln~' }] });
    expect({ status: present.response.status, code: present.response.json.error?.code }).toEqual({ status: 409, code: 'disclosure.replayed' });
    // The same decision under another id is not a resend either.
    const other = await sendAs(her, company, Disclose.decline.type, { request_id: sent.request.id, consent_record_id: crypto.randomUUID() });
    expect({ status: other.response.status, code: other.response.json.error?.code }).toEqual({ status: 409, code: 'disclosure.not_pending' });
    // The right resend, sent raw, is answered with the first ack.
    const resend = await sendAs(her, company, Disclose.decline.type, { request_id: sent.request.id, consent_record_id: again.consentRecordId });
    expect(resend.response.status).toBe(200);
    expect((await openReply(resend.response.text, her)).message.body).toEqual({ request_id: sent.request.id, consent_record_id: again.consentRecordId, state: 'refused', fields: [] });
    expect(await answersHeld(pair)).toEqual(held);
  });
});
