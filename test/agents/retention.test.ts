/**
 * Retention enforced by the company's agent, over real HTTP: when the retention a consent record
 * states has run out, the company deletes what it holds under it (fields, their disclosures in
 * kept presentations, their values in events), marks the record expired, tells its systems and
 * sends her a notice, after which her record of what it holds follows. Other consents stay.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startPair, type Pair, answerAsk } from '../support/agents.js';

const sleep = (ms: number) => new Promise((resolvePromise) => setTimeout(resolvePromise, ms));
const STREET = '12 St James Square';
const ADA = { name: 'Ada Lovelace', email: 'ada@example.org', address: { street_address: STREET, locality: 'London', postal_code: 'SW1Y 4JH', country: 'GB' } };

describe('retention, enforced by a sweep', () => {
  let pair: Pair;
  let shortRecord: string;
  let longRecord: string;

  beforeEach(async () => {
    // The company retries an undelivered notice within milliseconds, so a test need not wait out its backoff.
    pair = await startPair({ company: { retry: { baseDelayMs: 1, maxDelayMs: 5 } } });
    const { company, personal, link } = pair;
    personal.agent.profile.set(ADA);
    const ask = (fields: string[], retention: string) => answerAsk(personal, company, link, { fields, purpose: 'Deliveries', retention });
    // A very short retention for the address, a year for her name and email.
    shortRecord = await ask(['address'], 'PT1S');
    longRecord = await ask(['name', 'email'], 'P1Y');
  });
  afterEach(async () => {
    await pair?.cleanup();
  });

  it('deletes what was held under the consent whose retention ended, on both sides, and leaves the others', async () => {
    const { company, personal, link } = pair;
    const relId = link.companyRelationship.id;
    expect(await company.agent.expireRetention()).toBe(0);
    await sleep(1_100);
    expect(await company.agent.expireRetention()).toBe(1);

    expect((await company.store.listHeldFields(relId)).map((f) => f.field)).toEqual(['email', 'name']);
    expect(JSON.stringify(await company.snapshot())).not.toContain(STREET);
    const theirs = await company.store.getConsentRecord(shortRecord);
    expect(theirs?.state).toBe('expired');
    expect(theirs?.record.events.at(-1)).toMatchObject({ type: 'expired', by: 'pii_controller' });
    expect((await company.store.getConsentRecord(longRecord))?.state).toBe('active');
    const expiredEvents = (await company.store.listEvents({ relationshipId: relId })).filter((e) => e.type === 'consent.expired');
    expect(expiredEvents.map((e) => e.payload)).toEqual([{ relationshipId: relId, customerRef: link.companyRelationship.customerRef, withdrawnFields: ['address'], consentRecordIds: [shortRecord] }]);

    // Her side: the notice was pushed to her agent; her record follows.
    const hers = personal.agent.disclosure.consents(link.view.id);
    expect(Object.fromEntries(hers.map((c) => [c.id, c.state]))).toEqual({ [shortRecord]: 'expired', [longRecord]: 'active' });
    const holds = personal.agent.relationships().find((r) => r.id === link.view.id)!.holds.filter((h) => h.category === 'field').map((h) => h.field).sort();
    expect(holds).toEqual(['email', 'name']);

    // Nothing left to expire; a second sweep changes nothing.
    const before = await company.snapshot();
    expect(await company.agent.expireRetention()).toBe(0);
    expect(await company.snapshot()).toEqual(before);
  });

  it('tells her later when her agent was down: the notice waits in the outbox', async () => {
    const { company, personal, link } = pair;
    const relId = link.companyRelationship.id;
    await personal.stop();
    await sleep(1_100);
    const waiting = await company.store.countPendingOutbox(relId);
    expect(await company.agent.expireRetention()).toBe(1);
    expect(await company.store.countPendingOutbox(relId)).toBe(waiting + 1);
    expect(personal.agent.disclosure.consents(link.view.id).find((c) => c.id === shortRecord)?.state).toBe('active');

    await personal.start();
    await sleep(20); // past the outbox item's backoff
    await company.agent.deliverDue();
    expect(await company.store.countPendingOutbox(relId)).toBe(0);
    expect(personal.agent.disclosure.consents(link.view.id).find((c) => c.id === shortRecord)?.state).toBe('expired');
  });
});
