/**
 * Her disclosure rules between real agents over real HTTP (issue 16 item 3, decision 0020): a rule
 * approves a request by itself through the same path as her own approval, the company receives and
 * stores it with the consent record both sides keep; marketing is declined by the default rules; a
 * request no rule decides, and every request while she answers by hand, waits for her; each
 * automatic answer is listed with the rule that made it. Bad rules are refused with their own
 * codes and change nothing.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { DisclosureAsk } from '../../src/company/config.js';
import { DEFAULT_RULE_SET } from '../../src/personal/disclosure/rules.js';
import { connect, herRequestFor, startCompany, startPersonal, type CompanyHandle, type Link, type PersonalHandle } from '../support/agents.js';

const ID = (short: string) => `https://kith.invalid/terms/agreements/${short}`;
const SERVICE: DisclosureAsk = { fields: ['email'], purpose: 'Your order updates', purposeCode: 'service-delivery', retention: 'P30D' };
const MARKETING: DisclosureAsk = { fields: ['email'], purpose: 'Our newsletter', purposeCode: 'marketing', retention: 'P30D' };
const BILLING: DisclosureAsk = { fields: ['email', 'address'], purpose: 'Invoices', purposeCode: 'service-delivery', retention: 'P30D' };

const handles: { cleanup(): Promise<void> }[] = [];
afterAll(async () => {
  for (const handle of handles.reverse()) await handle.cleanup();
});

let her: PersonalHandle;
/** Accepts her service-only terms: a relationship of trust level agreed_terms. */
let agreed: CompanyHandle;
/** Has no terms policy: her proffer is rejected, so the relationship stays new. */
let stranger: CompanyHandle;
let agreedLink: Link;
let strangerLink: Link;

beforeAll(async () => {
  her = await startPersonal({ retry: { baseDelayMs: 1, maxDelayMs: 5 } });
  handles.push(her);
  [agreed, stranger] = await Promise.all([startCompany({ name: 'Agreed Shop', policy: { terms: { accept: ['service-only'] } } }), startCompany({ name: 'Stranger Shop' })]);
  handles.push(agreed, stranger);
  her.agent.profile.set({ email: 'ada@example.org', name: 'Ada Lovelace' });
  await her.agent.terms.setDefault('service-only');
  agreedLink = await connect(her, agreed);
  strangerLink = await connect(her, stranger);
  her.agent.rules.add({ id: 'email-for-service', when: { fields: ['email'], purposes: ['service-delivery'], trust: ['agreed_terms'] }, action: 'approve' });
});

/** The company asks; @returns her local id of the request. */
async function ask(company: CompanyHandle, link: Link, request: DisclosureAsk): Promise<{ hers: string; theirs: string }> {
  const sent = await company.agent.requestDisclosure(link.companyRelationship.id, request);
  expect(sent.delivered).toBe(true);
  return { hers: herRequestFor(her, sent.request.id), theirs: sent.request.id };
}

async function companyRequest(company: CompanyHandle, link: Link, id: string) {
  return (await company.store.listDisclosureRequests(link.companyRelationship.id)).find((r) => r.id === id);
}

/** Her agent's log lines of one event about one request (what her rules decided when they asked her). */
function logged(event: string, requestId: string): Record<string, unknown>[] {
  return readFileSync(her.logPath, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((entry) => entry['event'] === event && entry['request'] === requestId);
}

describe('her rules answer requests she need not see', () => {
  it('the trust levels: agreed terms and new', () => {
    expect(her.agent.vault.agreements.current(agreedLink.view.id)?.signed.record.agreementId).toBe(ID('service-only'));
    expect(her.agent.rules.trustOf(her.record(agreedLink.view.id))).toBe('agreed_terms');
    expect(her.agent.rules.trustOf(her.record(strangerLink.view.id))).toBe('new');
  });

  it('approves email for service delivery to a company that agreed her terms: the company receives and stores it under the consent record both keep', async () => {
    const { hers, theirs } = await ask(agreed, agreedLink, SERVICE);
    await vi.waitFor(async () => expect((await companyRequest(agreed, agreedLink, theirs))?.state).toBe('fulfilled'));
    await vi.waitFor(() => expect(her.agent.disclosure.request(hers).state).toBe('approved'));

    const request = her.agent.disclosure.request(hers);
    expect(request.answeredFields).toEqual(['email']);
    expect(request.answeredBy).toEqual({ ruleId: 'email-for-service', ruleText: 'Approve email for service-delivery to companies that agreed your terms' });
    const holdings = await agreed.agent.holdings(agreedLink.companyRelationship.id);
    expect(holdings.fields.map((f) => [f.field, f.value])).toEqual([['email', 'ada@example.org']]);
    const theirConsent = holdings.consentRecords.find((c) => c.id === request.consentRecordId);
    expect(theirConsent?.state).toBe('active');
    await vi.waitFor(() => expect(her.vault.consents.get(request.consentRecordId!)?.state).toBe('active'));
    expect(her.vault.consents.get(request.consentRecordId!)?.record.processing).toEqual(theirConsent?.record.processing);
    // What she holds as disclosed, field by field, like an answer by hand.
    expect(her.vault.disclosed.list(agreedLink.view.id).map((d) => [d.field, d.consentRecordId])).toEqual([['email', request.consentRecordId]]);
  });

  it('declines marketing by the default rules, recorded as refused on both sides', async () => {
    const { hers, theirs } = await ask(stranger, strangerLink, MARKETING);
    await vi.waitFor(async () => expect((await companyRequest(stranger, strangerLink, theirs))?.state).toBe('declined'));
    await vi.waitFor(() => expect(her.agent.disclosure.request(hers).state).toBe('declined'));
    const request = her.agent.disclosure.request(hers);
    expect(request.answeredBy).toEqual({ ruleId: 'decline-marketing', ruleText: 'Decline anything for marketing' });
    const theirConsent = (await stranger.agent.holdings(strangerLink.companyRelationship.id)).consentRecords.find((c) => c.id === request.consentRecordId);
    expect(theirConsent?.state).toBe('refused');
    expect((await stranger.agent.holdings(strangerLink.companyRelationship.id)).fields).toEqual([]);
  });

  it('a request outside her rules waits for her: a new company, or more than the rule names', async () => {
    const fromStranger = await ask(stranger, strangerLink, SERVICE);
    const more = await ask(agreed, agreedLink, BILLING);
    for (const { hers } of [fromStranger, more]) {
      await vi.waitFor(() => expect(logged('disclosure_rule_asks', hers)).toEqual([expect.objectContaining({ reason: 'rule', rule: 'ask-everything-else' })]));
      expect(her.agent.disclosure.request(hers).state).toBe('pending');
      expect(her.agent.disclosure.request(hers).answeredBy).toBeUndefined();
    }
    expect(her.agent.rules.test(more.hers)).toMatchObject({ action: 'ask', reason: 'rule', trust: 'agreed_terms', rule: { id: 'ask-everything-else' } });
    expect(her.agent.disclosure.requests().map((r) => r.id)).toEqual(expect.arrayContaining([fromStranger.hers, more.hers]));
    // She answers them herself, as before.
    await her.agent.disclosure.decline(fromStranger.hers);
    await her.agent.disclosure.decline(more.hers);
  });

  it('one switch makes her answer everything by hand; off again, the rules apply', async () => {
    expect(her.agent.rules.setManual(true).manual).toBe(true);
    const service = await ask(agreed, agreedLink, SERVICE);
    const marketing = await ask(stranger, strangerLink, MARKETING);
    for (const { hers } of [service, marketing]) {
      await vi.waitFor(() => expect(logged('disclosure_rule_asks', hers)).toEqual([expect.objectContaining({ reason: 'manual' })]));
      expect(her.agent.disclosure.request(hers).state).toBe('pending');
      expect(her.agent.rules.test(hers)).toMatchObject({ action: 'ask', reason: 'manual', rule: null });
    }
    expect(her.agent.rules.setManual(false).manual).toBe(false);
    // Off: the rules say what they would do with the same requests (she still answers these by hand).
    expect(her.agent.rules.test(service.hers)).toMatchObject({ action: 'approve', fields: ['email'], rule: { id: 'email-for-service' } });
    expect(her.agent.rules.test(marketing.hers)).toMatchObject({ action: 'decline', rule: { id: 'decline-marketing' } });
    await her.agent.disclosure.decline(service.hers);
    await her.agent.disclosure.decline(marketing.hers);
  });

  it('a company she trusts: her trusted level, and a rule for it', async () => {
    expect(her.agent.rules.setTrusted(strangerLink.view.id, true)).toEqual({ relationshipId: strangerLink.view.id, trust: 'trusted' });
    her.agent.rules.add({ id: 'trusted-name', when: { fields: ['name', 'email'], trust: ['trusted'] }, action: 'approve' }, 1);
    const { hers, theirs } = await ask(stranger, strangerLink, { fields: ['name'], purpose: 'Addressing you', purposeCode: 'support', retention: 'P30D' });
    await vi.waitFor(async () => expect((await companyRequest(stranger, strangerLink, theirs))?.state).toBe('fulfilled'));
    await vi.waitFor(() => expect(her.agent.disclosure.request(hers).answeredBy?.ruleId).toBe('trusted-name'));
    her.agent.rules.remove('trusted-name');
    expect(her.agent.rules.setTrusted(strangerLink.view.id, false).trust).toBe('new');
  });

  it('lists every automatic answer with the rule that made it, over her local API (kith requests --auto)', async () => {
    const res = await fetch(`${her.url}/api/requests?auto=1`, { headers: { authorization: `Bearer ${her.token}` } });
    expect(res.status).toBe(200);
    const { requests } = (await res.json()) as { requests: { state: string; answeredBy: { ruleId: string } | null }[] };
    expect(requests.map((r) => [r.state, r.answeredBy?.ruleId])).toEqual([
      ['approved', 'email-for-service'],
      ['declined', 'decline-marketing'],
      ['approved', 'trusted-name'],
    ]);
  });

  it('a rule never discloses a field she has not got: when she removed it, the request waits for her', async () => {
    her.agent.rules.add({ id: 'name-for-support', when: { fields: ['name'], purposes: ['support'], trust: ['agreed_terms'] }, action: 'approve' }, 1);
    her.agent.profile.remove(['name']);
    const { hers } = await ask(agreed, agreedLink, { fields: ['name'], purpose: 'Addressing you', purposeCode: 'support', retention: 'P30D' });
    await vi.waitFor(() => expect(logged('disclosure_rule_asks', hers)).toEqual([expect.objectContaining({ reason: 'field_missing', rule: 'name-for-support' })]));
    expect(her.agent.disclosure.request(hers).state).toBe('pending');
    expect(her.agent.rules.test(hers)).toMatchObject({ action: 'ask', reason: 'field_missing', fields: ['name'] });
    her.agent.rules.remove('name-for-support');
    await her.agent.disclosure.decline(hers);
  });
});

describe('bad rules are refused with their own codes, and change nothing', () => {
  const api = (method: string, path: string, body?: unknown) =>
    fetch(`${her.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${her.token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    }).then(async (res) => ({ status: res.status, json: (await res.json()) as { error?: { code: string; details?: Record<string, unknown> } } }));

  const cases: [string, string, string, unknown, number, string][] = [
    ['an approval of a field she has not got', 'POST', '/api/rules', { rule: { when: { fields: ['phone_number'] }, action: 'approve' } }, 422, 'rules.field_not_held'],
    ['an unknown purpose', 'POST', '/api/rules', { rule: { when: { purposes: ['profiling'] }, action: 'decline' } }, 422, 'rules.unknown_purpose'],
    ['an unknown field', 'POST', '/api/rules', { rule: { when: { fields: ['shirt_size'] }, action: 'decline' } }, 422, 'rules.unknown_field'],
    ['an unknown action', 'POST', '/api/rules', { rule: { when: {}, action: 'maybe' } }, 400, 'rules.invalid'],
    ['an approval naming no fields', 'POST', '/api/rules', { rule: { when: { purposes: ['support'] }, action: 'approve' } }, 400, 'rules.invalid'],
    ['an unknown condition', 'POST', '/api/rules', { rule: { when: { persona: 'work' }, action: 'ask' } }, 400, 'rules.invalid'],
    ['an unknown trust level', 'POST', '/api/rules', { rule: { when: { trust: ['friends'] }, action: 'ask' } }, 400, 'rules.invalid'],
    ['a rule id already taken', 'POST', '/api/rules', { rule: { id: 'email-for-service', when: {}, action: 'ask' } }, 400, 'rules.invalid'],
    ['an unknown relationship', 'POST', '/api/rules', { rule: { when: { relationships: ['nobody-at-all'] }, action: 'ask' } }, 404, 'relationship.unknown'],
    ['a position past the end', 'POST', '/api/rules', { rule: { when: {}, action: 'ask' }, position: 99 }, 400, 'rules.invalid'],
    ['a rule file of another version', 'PUT', '/api/rules', { version: 2, rules: [] }, 400, 'rules.invalid'],
    ['a rule file without a rule list', 'PUT', '/api/rules', { version: 1, rules: 'all' }, 400, 'rules.invalid'],
    ['a rule file with one bad rule among good ones', 'PUT', '/api/rules', { version: 1, rules: [{ when: {}, action: 'ask' }, { when: { fields: ['phone_number'] }, action: 'approve' }] }, 422, 'rules.field_not_held'],
    ['a rule file that is not an object', 'PUT', '/api/rules', [1, 2], 400, 'api.bad_request'],
    ['moving a rule that does not exist', 'POST', '/api/rules/no-such-rule/move', { position: 1 }, 404, 'rules.unknown_rule'],
    ['removing a rule that does not exist', 'POST', '/api/rules/no-such-rule/remove', undefined, 404, 'rules.unknown_rule'],
    ['a switch that is not a boolean', 'PUT', '/api/rules/manual', { manual: 'on' }, 400, 'api.bad_request'],
  ];

  it.each(cases)('%s', async (_name, method, path, body, status, code) => {
    const before = her.snapshot();
    const rulesBefore = her.agent.rules.view();
    const res = await api(method, path, body);
    expect({ status: res.status, code: res.json.error?.code }).toEqual({ status, code });
    expect(her.snapshot()).toEqual(before);
    expect(her.agent.rules.view()).toEqual(rulesBefore);
  });

  it('a rule past the most a set holds (200) is refused, and nothing changes', () => {
    const stored = her.vault.settings.get('disclosure.rules');
    try {
      her.agent.rules.replace({ version: 1, rules: Array.from({ length: 200 }, (_, i) => ({ id: `r-${i}`, when: { legalBases: ['contract'] }, action: 'ask' })) });
      const before = her.snapshot();
      expect(() => her.agent.rules.add({ when: {}, action: 'ask' })).toThrow(expect.objectContaining({ code: 'rules.invalid' }));
      expect(her.snapshot()).toEqual(before);
    } finally {
      her.vault.settings.set('disclosure.rules', stored);
    }
  });

  it('the refusal of a field she has not got names it', async () => {
    const res = await api('POST', '/api/rules', { rule: { when: { fields: ['email', 'phone_number'] }, action: 'approve' } });
    expect(res.json.error?.details).toEqual({ fields: ['phone_number'] });
  });

  it('a stored rule set that no longer parses answers nothing: every request waits for her', () => {
    const stored = her.vault.settings.get('disclosure.rules');
    try {
      her.vault.settings.set('disclosure.rules', { version: 1, manual: false, rules: [{ id: 'x', when: { fields: ['email'] }, action: 'approve-all' }] });
      expect(her.agent.rules.view()).toMatchObject({ manual: true, rules: [] });
    } finally {
      her.vault.settings.set('disclosure.rules', stored);
    }
  });

  it('the defaults a newcomer starts with: decline marketing, ask about everything else', () => {
    expect(DEFAULT_RULE_SET.rules.map((r) => [r.id, r.action])).toEqual([
      ['decline-marketing', 'decline'],
      ['ask-everything-else', 'ask'],
    ]);
  });
});
