/**
 * Her personas between real agents over real HTTP on loopback: two selves across four companies,
 * a work email change reaching only the two companies that know her work self; a company moved to
 * another persona is sent that persona's values (and told to erase what it has none of); rules per
 * persona; and the bad input (unknown persona, a persona in use or the default removed, a name for
 * a nameless persona) refused with its code and nothing changed.
 */
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { codeOf, failure } from '../support/errorCodes.js';
import { answerAsk, connect, startCompany, startPersonal, type CompanyHandle, type Link, type PersonalHandle } from '../support/agents.js';

interface Connected {
  company: CompanyHandle;
  link: Link;
}

const HOME = { name: 'Ada Lovelace', email: 'ada@home.example' };
const WORK = { name: 'Ada Lovelace', email: 'ada@analytical.example', organization: 'Analytical Engines Ltd' };

describe('personas: several selves, each company knowing one', () => {
  let personal: PersonalHandle;
  let companies: Connected[];
  let workId: string;
  /** Shop and Bank know "me"; Supplier and Payroll know "work". */
  let shop: Connected, bank: Connected, supplier: Connected, payroll: Connected;

  beforeEach(async () => {
    personal = await startPersonal({ retry: { baseDelayMs: 1, maxDelayMs: 5 } });
    personal.agent.profile.set(HOME);
    workId = personal.agent.personas.create({ label: 'work' }).id;
    personal.agent.profile.set(WORK, 'work');
    companies = [];
    for (const [name, persona] of [
      ['Shop', 'me'],
      ['Bank', 'me'],
      ['Supplier', 'work'],
      ['Payroll', 'work'],
    ] as const) {
      const company = await startCompany({ name });
      const link = await connect(personal, company, { persona });
      await answerAsk(personal, company, link, { fields: ['name', 'email'], purpose: 'Orders and invoices' });
      companies.push({ company, link });
    }
    [shop, bank, supplier, payroll] = companies as [Connected, Connected, Connected, Connected];
  });
  afterEach(async () => {
    await personal?.cleanup();
    for (const one of companies ?? []) await one.company.cleanup();
  });

  const rel = (one: Connected) => one.link.companyRelationship.id;
  /** Her agent's log lines saying her rules left a request of this relationship to her. */
  const loggedAsks = (relationshipId: string) =>
    readFileSync(personal.logPath, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((entry) => entry['event'] === 'disclosure_rule_asks' && entry['relationship'] === relationshipId);
  const held = async (one: Connected) => Object.fromEntries((await one.company.store.listHeldFields(rel(one))).map((f) => [f.field, f.value]));

  it('discloses each persona\'s values to the companies that know it', async () => {
    expect(shop.link.view.persona).toEqual({ id: personal.agent.personas.resolve('me').id, label: 'me' });
    expect(supplier.link.view.persona).toEqual({ id: workId, label: 'work' });
    expect(await held(shop)).toEqual({ name: HOME.name, email: HOME.email });
    expect(await held(bank)).toEqual({ name: HOME.name, email: HOME.email });
    expect(await held(supplier)).toEqual({ name: WORK.name, email: WORK.email });
    expect(await held(payroll)).toEqual({ name: WORK.name, email: WORK.email });
    expect(personal.agent.personas.list().map((p) => [p.label, p.relationships, p.fields, p.isDefault])).toEqual([
      ['me', 2, 2, true],
      ['work', 2, 3, false],
    ]);
  });

  it('a work email change reaches only the two companies that know her work self', async () => {
    const before = { shop: shop.company.inbound.length, bank: bank.company.inbound.length };
    const change = personal.agent.profile.set({ email: 'ada@engines.example' }, 'work');
    expect(change).toMatchObject({ persona: { id: workId, label: 'work' }, fields: ['email'] });
    expect(change?.deliveries.map((d) => d.company).sort()).toEqual(['Payroll', 'Supplier']);
    expect(await personal.agent.profile.deliver()).toEqual({ acked: 2, retrying: 0, failed: 0, skipped: 0 });
    expect((await held(supplier))['email']).toBe('ada@engines.example');
    expect((await held(payroll))['email']).toBe('ada@engines.example');
    // Her own self is untouched, and its companies heard nothing.
    expect(personal.agent.profile.profile('me').fields.find((f) => f.field === 'email')?.value).toBe(HOME.email);
    expect((await held(shop))['email']).toBe(HOME.email);
    expect((await held(bank))['email']).toBe(HOME.email);
    expect({ shop: shop.company.inbound.length, bank: bank.company.inbound.length }).toEqual(before);
    // The profile view of a persona lists only the companies that know it.
    expect(personal.agent.profile.profile('work').fields.find((f) => f.field === 'email')?.heldBy.map((h) => h.company).sort()).toEqual(['Payroll', 'Supplier']);
  });

  it('moving a company to another persona sends it that persona\'s values, and withdraws what the persona has none of', async () => {
    personal.agent.profile.remove(['name'], 'work');
    await personal.agent.profile.deliver();
    expect(await held(supplier)).toEqual({ email: WORK.email });
    // Shop holds name and email from "me"; as "work" it gets the work email, and its name is withdrawn.
    const moved = personal.agent.profile.move(shop.link.view.id, 'work');
    expect(moved?.change).toMatchObject({ persona: { label: 'work' }, moved: { relationshipId: shop.link.view.id, company: 'Shop' }, fields: ['email', 'name'], removed: ['name'] });
    expect(await personal.agent.profile.deliver()).toMatchObject({ acked: 1 });
    expect(await held(shop)).toEqual({ email: WORK.email });
    expect(personal.agent.relationship(shop.link.view.id).persona.label).toBe('work');
    // Now a work change reaches Shop too; moving again to the same persona changes nothing.
    expect(personal.agent.profile.move(shop.link.view.id, 'work')).toBeUndefined();
    expect(personal.agent.profile.set({ email: 'ada@new.example' }, 'work')?.deliveries.map((d) => d.company).sort()).toEqual(['Payroll', 'Shop', 'Supplier']);
  });

  it('answers requests by a rule for one persona only, recorded with the rule', async () => {
    personal.agent.rules.add({ id: 'work-email', when: { fields: ['email'], personas: ['work'] }, action: 'approve', note: 'Work contacts get my work email' }, 1);
    const receipts = (one: Connected) => personal.agent.disclosure.requests({ all: true }).find((r) => r.purpose === 'Receipts' && r.relationshipId === one.link.view.id);
    for (const one of [supplier, shop]) await one.company.agent.requestDisclosure(rel(one), { fields: ['email'], purpose: 'Receipts' });
    // The rule answers after the request is stored, and the company records the answer.
    await vi.waitFor(() => expect(receipts(supplier)).toMatchObject({ state: 'approved', answeredBy: { ruleId: 'work-email', ruleText: 'Approve email as your work persona' } }));
    // (Her first ask of Shop was the request answered by hand when she connected.)
    await vi.waitFor(() => expect(loggedAsks(shop.link.view.id)).toEqual([expect.anything(), expect.objectContaining({ reason: 'rule', rule: 'ask-everything-else' })]));
    expect(receipts(shop)?.state).toBe('pending');
    expect((await supplier.company.store.listHeldFields(rel(supplier))).filter((f) => f.field === 'email').map((f) => f.value)).toEqual([WORK.email]);
  });

  it('refuses a persona deleted while in use, the default, an unknown one and a name for a nameless one, changing nothing', async () => {
    const before = personal.vault.snapshot();
    expect(codeOf(() => personal.agent.personas.remove('work'))).toBe('persona.in_use');
    expect(codeOf(() => personal.agent.personas.remove('me'))).toBe('persona.is_default');
    expect(codeOf(() => personal.agent.profile.set({ email: 'x@example.org' }, 'nobody'))).toBe('persona.unknown');
    expect(codeOf(() => personal.agent.profile.move(shop.link.view.id, 'nobody'))).toBe('persona.unknown');
    expect(await failure(() => personal.agent.connect(shop.company.agent.invitationUrl(), { persona: 'nobody' }))).toMatchObject({ code: 'persona.unknown' });
    expect(codeOf(() => personal.agent.personas.create({ label: 'WORK' }))).toBe('persona.label_taken');
    expect(codeOf(() => personal.agent.personas.update('work', { nameless: true }))).toBe('persona.nameless');
    expect(codeOf(() => personal.agent.personas.create({ label: 'x'.repeat(41) }))).toBe('persona.invalid_label');
    expect(codeOf(() => personal.agent.personas.update('work', { label: 'two\nlines' }))).toBe('persona.invalid_label');
    expect(personal.vault.snapshot()).toEqual(before);

    const anonymous = personal.agent.personas.create({ label: 'anonymous', nameless: true });
    const after = personal.vault.snapshot();
    expect(codeOf(() => personal.agent.profile.set({ name: 'Ada' }, 'anonymous'))).toBe('persona.nameless');
    expect(personal.vault.snapshot()).toEqual(after);
    // Removing the persona the company used: move it away first, then the persona goes with its values.
    personal.agent.profile.set({ email: 'someone@mask.example' }, anonymous.id);
    expect(personal.agent.personas.remove(anonymous.id)).toMatchObject({ label: 'anonymous', fields: 1 });
    expect(personal.agent.personas.list().map((p) => p.label)).toEqual(['me', 'work']);
  });
});
