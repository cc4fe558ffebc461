/**
 * Removing a field from her profile, between real agents over real HTTP on loopback: every live
 * company holding it is told (consent 1.0 withdraw), erases it everywhere it kept it (its held
 * fields, the presentations it keeps as evidence, the events for its own systems), and both sides
 * record the withdrawal in the same consent record; companies that never had it hear nothing.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AgentEvent } from '../../src/personal/events.js';
import { consentRecordSchema } from '../../src/protocol/consentRecord.js';
import { Consent } from '../../src/protocol/families/index.js';
import { failure } from '../support/errorCodes.js';
import { connect, herIdentity, startCompany, startPersonal, type CompanyHandle, type Link, type PersonalHandle, answerAsk } from '../support/agents.js';
import { decodeSdJwtParts, openReply, sendAs } from '../support/disclosure.js';

const sleep = (ms: number) => new Promise((resolvePromise) => setTimeout(resolvePromise, ms));

const STREET = '12 St James Square';
const ADA = {
  name: 'Ada Lovelace',
  email: 'ada@example.org',
  address: { street_address: STREET, locality: 'London', postal_code: 'SW1Y 4JH', country: 'GB' },
};

interface Connected {
  company: CompanyHandle;
  link: Link;
}

describe('removing a field from her profile: the companies holding it erase it', () => {
  let personal: PersonalHandle;
  let companies: Connected[];
  /** A and B hold name, email and address under one consent record each; D holds only email. */
  let a: Connected, b: Connected, d: Connected;
  let events: AgentEvent[];

  beforeEach(async () => {
    personal = await startPersonal({ retry: { baseDelayMs: 1, maxDelayMs: 5 } });
    personal.agent.profile.set(ADA);
    companies = [];
    for (const [name, fields] of [
      ['A Co', ['name', 'email', 'address']],
      ['B Co', ['name', 'email', 'address']],
      ['D Co', ['email']],
    ] as const) {
      const company = await startCompany({ name });
      const link = await connect(personal, company);
      await answerAsk(personal, company, link, { fields: [...fields], purpose: 'Deliveries' });
      companies.push({ company, link });
    }
    [a, b, d] = companies as [Connected, Connected, Connected];
    events = [];
    personal.agent.events.on((event) => events.push(event));
  });
  afterEach(async () => {
    await personal?.cleanup();
    for (const one of companies ?? []) await one.company.cleanup();
  });

  const rel = (one: Connected) => one.link.companyRelationship.id;
  const herId = (one: Connected) => one.link.view.id;
  const herFields = (one: Connected) =>
    personal.agent
      .relationships()
      .find((r) => r.id === herId(one))!
      .holds.filter((h) => h.category === 'field')
      .map((h) => h.field)
      .sort();

  it('reaches exactly the companies holding it, which erase every copy and record the withdrawal in the consent record both keep', async () => {
    const dInbound = d.company.inbound.length;
    const change = personal.agent.profile.remove(['address']);
    expect(change).toMatchObject({ version: 2, fields: ['address'], removed: ['address'], done: false });
    expect(change.deliveries.map((x) => x.relationshipId).sort()).toEqual([herId(a), herId(b)].sort());
    expect(events).toEqual([{ type: 'profile.changed', version: 2, fields: ['address'], deliveries: 2 }]);
    expect(personal.agent.profile.profile().fields.map((f) => f.field)).toEqual(['email', 'name']);

    expect(await personal.agent.profile.deliver()).toEqual({ acked: 2, retrying: 0, failed: 0, skipped: 0 });
    expect(personal.agent.profile.change(2)).toMatchObject({ done: true, summary: { total: 2, acked: 2, pending: 0, failed: 0, skipped: 0 } });

    for (const one of [a, b]) {
      // The company: name and email stay, the address is nowhere in anything it stored.
      expect((await one.company.store.listHeldFields(rel(one))).map((f) => f.field)).toEqual(['email', 'name']);
      expect(JSON.stringify(await one.company.snapshot())).not.toContain(STREET);
      // Its presentation still proves the name and email she gave, from her DID, without the address.
      const [presentation] = await one.company.store.listPresentations(rel(one));
      const disclosed = decodeSdJwtParts(presentation!.sdJwt).map((part) => (Array.isArray(part) ? part[1] : undefined));
      expect(disclosed.filter(Boolean).sort()).toEqual(['email', 'name']);
      expect(presentation!.sdJwt.endsWith('~')).toBe(true);

      // One consent record, on both sides, still active for name and email, with the withdrawal of the address.
      const [theirs] = await one.company.store.listConsentRecords(rel(one));
      const [hers] = personal.agent.disclosure.consents(herId(one));
      expect(theirs!.state).toBe('active');
      expect(hers!.state).toBe('active');
      const record = consentRecordSchema.parse(theirs!.record);
      expect(record.events.map((e) => [e.type, e.by, e.pii_categories])).toEqual([
        ['requested', 'pii_controller', undefined],
        ['given', 'pii_principal', undefined],
        ['withdrawn', 'pii_principal', ['address']],
      ]);
      expect(consentRecordSchema.parse(hers!.record).events.map((e) => [e.type, e.pii_categories])).toEqual(record.events.map((e) => [e.type, e.pii_categories]));

      // Its own systems hear of the withdrawal, and the earlier disclosure event no longer carries the address.
      const all = await one.company.store.listEvents({ relationshipId: rel(one) });
      expect(all.find((e) => e.type === 'consent.withdrawn')?.payload).toMatchObject({ withdrawnFields: ['address'], consentRecordIds: [theirs!.id], reason: 'removed_from_profile' });
      expect(Object.keys((all.find((e) => e.type === 'profile.disclosed')?.payload as { fields: object }).fields).sort()).toEqual(['email', 'name']);

      // Her record of what it holds.
      expect(herFields(one)).toEqual(['email', 'name']);
    }
    // D never had the address: not a byte reached it.
    expect(d.company.inbound.length).toBe(dInbound);
    expect(herFields(d)).toEqual(['email']);
    expect(await personal.agent.profile.deliver()).toEqual({ acked: 0, retrying: 0, failed: 0, skipped: 0 });
  });

  it('withdraws a whole consent record when its only field goes, and a field removed and set again in between is updated instead', async () => {
    // Email: D's record covered only the email, so it is withdrawn whole.
    personal.agent.profile.remove(['email']);
    // Name: removed, then set again before anything was sent: the companies get the new name, nothing is erased.
    personal.agent.profile.remove(['name']);
    personal.agent.profile.set({ name: 'Ada King' });
    expect(await personal.agent.profile.deliver()).toEqual({ acked: 3, retrying: 0, failed: 0, skipped: 0 });

    const [theirs] = await d.company.store.listConsentRecords(rel(d));
    expect(theirs!.state).toBe('withdrawn');
    expect(theirs!.record.events.at(-1)).toEqual({ type: 'withdrawn', at: expect.any(String), by: 'pii_principal' });
    expect(personal.agent.disclosure.consents(herId(d))[0]!.state).toBe('withdrawn');
    expect(await d.company.store.listHeldFields(rel(d))).toEqual([]);
    expect(await d.company.store.listPresentations(rel(d))).toEqual([]);

    for (const one of [a, b]) {
      expect((await one.company.store.listHeldFields(rel(one))).map((f) => [f.field, f.value])).toEqual([
        ['address', ADA.address],
        ['name', 'Ada King'],
      ]);
      expect((await one.company.store.listConsentRecords(rel(one)))[0]!.record.events.at(-1)).toMatchObject({ type: 'withdrawn', pii_categories: ['email'] });
    }
  });

  it('refuses a field she has no value for, or one Kith does not know, and changes nothing', async () => {
    const before = personal.vault.snapshot();
    expect(await failure(() => personal.agent.profile.remove(['nickname']))).toMatchObject({ code: 'profile.field_not_set', details: { fields: ['nickname'] } });
    expect(await failure(() => personal.agent.profile.remove(['shirt_size']))).toMatchObject({ code: 'profile.unknown_field' });
    expect(await failure(() => personal.agent.profile.remove([]))).toMatchObject({ code: 'profile.field_not_set' });
    expect(personal.vault.snapshot()).toEqual(before);
    expect(personal.agent.profile.profile().version).toBe(1);
  });

  it('sends the withdrawal again to a company that was down, and skips one she cut off', async () => {
    await b.company.stop();
    await personal.agent.cutOff(herId(d));
    const change = personal.agent.profile.remove(['address', 'email']);
    expect(change.deliveries.map((x) => x.relationshipId).sort()).toEqual([herId(a), herId(b)].sort());
    expect(await personal.agent.profile.deliver()).toEqual({ acked: 1, retrying: 1, failed: 0, skipped: 0 });
    expect(personal.agent.profile.change(change.version).deliveries.find((x) => x.relationshipId === herId(b))).toMatchObject({ state: 'pending', lastError: 'transport.unreachable' });
    expect(herFields(b)).toEqual(['address', 'email', 'name']);

    await b.company.start();
    await sleep(20);
    expect(await personal.agent.profile.deliver()).toEqual({ acked: 1, retrying: 0, failed: 0, skipped: 0 });
    expect((await b.company.store.listHeldFields(rel(b))).map((f) => f.field)).toEqual(['name']);
    expect(herFields(b)).toEqual(['name']);
  });

  it('acknowledges a resent withdrawal with nothing erased, and changes nothing but its replay memory', async () => {
    personal.agent.profile.remove(['address']);
    await personal.agent.profile.deliver();
    const before = await a.company.snapshot();

    // Her ack was "lost": the same withdrawal comes again in a new message.
    const her = herIdentity(personal, herId(a));
    const id = randomUUID();
    const { response } = await sendAs(her, a.company, Consent.withdraw.type, { fields: ['address'], reason: 'removed_from_profile' }, { id });
    expect(response.status).toBe(200);
    const ack = await openReply(response.text, her);
    expect(ack.message.type).toBe(Consent.withdrawAck.type);
    expect(ack.message.thid).toBe(id);
    expect(ack.message.body).toEqual({ fields: ['address'], erased: [], consent_records: [] });
    const after = await a.company.snapshot();
    expect({ ...after, seen_messages: [] }).toEqual({ ...before, seen_messages: [] });
  });

  it('refuses a malformed withdrawal with message.body_invalid, and nothing changes', async () => {
    const her = herIdentity(personal, herId(a));
    const before = await a.company.snapshot();
    for (const body of [{ fields: [], reason: 'withdrawn' }, { fields: ['address', 'address'], reason: 'withdrawn' }, { fields: ['Address'], reason: 'withdrawn' }, { fields: ['address'] }]) {
      const { response } = await sendAs(her, a.company, Consent.withdraw.type, body);
      expect({ status: response.status, code: response.json.error?.code }).toEqual({ status: 422, code: 'message.body_invalid' });
    }
    expect(await a.company.snapshot()).toEqual(before);
  });
});
