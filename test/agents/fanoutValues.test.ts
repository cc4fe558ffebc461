/**
 * A fan-out run reads each owed value once (src/personal/profile/fanout.ts `valueOf`), but only for
 * the profile version it read it at: a change made while the run is still sending (between two
 * companies) must reach the companies sent to after it with the new value, never the run's first
 * one. Real agents over real HTTP on loopback; her fan-out sends to one company at a time so the
 * change lands exactly between the two sends.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { answerAsk, connect, startCompany, startPersonal, type CompanyHandle, type Link, type PersonalHandle } from '../support/agents.js';

describe('fan-out: values read once per run, and afresh after a change mid-run', () => {
  let personal: PersonalHandle;
  let companies: { company: CompanyHandle; link: Link }[];

  beforeEach(async () => {
    personal = await startPersonal({ fanoutConcurrency: 1, retry: { baseDelayMs: 1, maxDelayMs: 5 } });
    personal.agent.profile.set({ email: 'ada@first.example' });
    companies = [];
    for (const name of ['Shop', 'Bank']) {
      const company = await startCompany({ name });
      const link = await connect(personal, company);
      await answerAsk(personal, company, link, { fields: ['email'], purpose: 'Receipts' });
      companies.push({ company, link });
    }
  });
  afterEach(async () => {
    await personal?.cleanup();
    for (const one of companies ?? []) await one.company.cleanup();
  });

  const heldEmail = async (one: { company: CompanyHandle; link: Link }) =>
    (await one.company.store.listHeldFields(one.link.companyRelationship.id)).find((f) => f.field === 'email')?.value;

  it('sends the company after a mid-run change the new value, and every company ends with it', async () => {
    personal.agent.profile.set({ email: 'ada@second.example' });
    let changedMidRun = false;
    const stop = personal.agent.events.on((event) => {
      // Right after the first company's ack is recorded, before the run sends to the second.
      if (event.type === 'profile.delivery' && event.state === 'acked' && !changedMidRun) {
        changedMidRun = true;
        personal.agent.profile.set({ email: 'ada@third.example' });
      }
    });
    try {
      expect(await personal.agent.profile.deliver()).toEqual({ acked: 2, retrying: 0, failed: 0, skipped: 0 });
    } finally {
      stop();
    }
    expect(changedMidRun).toBe(true);
    const [first, second] = companies as [(typeof companies)[0], (typeof companies)[0]];
    const firstSent = await heldEmail(first);
    const secondSent = await heldEmail(second);
    // One of them was sent before the change (the second value), the other after it: the third, not the run's first read.
    expect([firstSent, secondSent].sort()).toEqual(['ada@second.example', 'ada@third.example']);
    // The change queued a delivery for the one that got the older value; the next run settles it.
    expect(await personal.agent.profile.deliver()).toEqual({ acked: 1, retrying: 0, failed: 0, skipped: 0 });
    expect(await heldEmail(first)).toBe('ada@third.example');
    expect(await heldEmail(second)).toBe('ada@third.example');
    const profile = personal.agent.profile.profile();
    expect(profile.fields.find((f) => f.field === 'email')?.heldBy.map((h) => h.version)).toEqual([profile.version, profile.version]);
  });
});
