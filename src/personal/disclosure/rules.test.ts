import { describe, expect, it } from 'vitest';
import { DEFAULT_RULE_SET, evaluateRules, ruleSetSchema, ruleText, type RequestFacts, type Rule, type RuleSet } from './rules.js';

const WORK = '6f1c3a52-5d0e-4b8e-9a51-0d6c2b7e4a10';
const ME = '00000000-0000-4000-8000-000000000001';

const facts = (over: Partial<RequestFacts> = {}): RequestFacts => ({
  fields: ['email'],
  purposeCode: 'service-delivery',
  legalBasis: 'consent',
  retention: 'P30D',
  trust: 'agreed_terms',
  relationshipId: 'rel-1',
  persona: WORK,
  has: () => true,
  ...over,
});

const set = (...rules: Rule[]): RuleSet => ({ version: 1, manual: false, rules });
const approveEmail: Rule = { id: 'email', when: { fields: ['email', 'name'], purposes: ['service-delivery'], trust: ['agreed_terms', 'trusted'] }, action: 'approve' };

describe('her rules, evaluated', () => {
  it('first match wins; nothing matching asks her', () => {
    const rules = set({ id: 'no', when: { purposes: ['service-delivery'] }, action: 'decline' }, approveEmail);
    expect(evaluateRules(rules, facts())).toMatchObject({ action: 'decline', rule: { id: 'no' } });
    expect(evaluateRules(set(approveEmail), facts({ purposeCode: 'billing' }))).toEqual({ action: 'ask', rule: null, reason: 'no_rule' });
  });

  it('approves exactly what was asked, when every asked field is among the rule’s', () => {
    expect(evaluateRules(set(approveEmail), facts({ fields: ['name', 'email'] }))).toMatchObject({ action: 'approve', fields: ['name', 'email'] });
    expect(evaluateRules(set(approveEmail), facts({ fields: ['email', 'address'] })).action).toBe('ask');
  });

  it('never a field she has not got: the matching approval asks her instead', () => {
    expect(evaluateRules(set(approveEmail), facts({ fields: ['email', 'name'], has: (f) => f === 'email' }))).toEqual({ action: 'ask', rule: approveEmail, reason: 'field_missing', missing: ['name'] });
  });

  it('each condition: purpose named or not, legal basis, retention cap, trust level, relationship', () => {
    const only = (when: Rule['when']) => set({ id: 'r', when, action: 'decline' });
    const cases: [Rule['when'], Partial<RequestFacts>, boolean][] = [
      [{ purposes: ['service-delivery'] }, { purposeCode: null }, false],
      [{ legalBases: ['contract'] }, { legalBasis: 'contract' }, true],
      [{ legalBases: ['contract'] }, {}, false],
      [{ maxRetention: 'P1M' }, { retention: 'P4W' }, true],
      // Conservative, as terms are: a month may be 28 days.
      [{ maxRetention: 'P1M' }, { retention: 'P30D' }, false],
      [{ maxRetention: 'P30D' }, { retention: 'P1M' }, false],
      [{ maxRetention: 'P1Y' }, { retention: null }, false],
      [{ trust: ['trusted'] }, {}, false],
      [{ trust: ['new'] }, { trust: 'new' }, true],
      [{ relationships: ['rel-2'] }, {}, false],
      [{ relationships: ['rel-1'] }, {}, true],
      [{ personas: [ME] }, {}, false],
      [{ personas: [ME, WORK] }, {}, true],
      [{}, {}, true],
    ];
    for (const [when, over, matched] of cases) expect({ when, over, action: evaluateRules(only(when), facts(over)).action }).toEqual({ when, over, action: matched ? 'decline' : 'ask' });
  });

  it('the switch: every request waits for her', () => {
    expect(evaluateRules({ ...set(approveEmail), manual: true }, facts())).toEqual({ action: 'ask', rule: null, reason: 'manual' });
  });

  it('the defaults decline marketing and ask about the rest', () => {
    expect(evaluateRules(DEFAULT_RULE_SET, facts({ purposeCode: 'marketing', trust: 'trusted' }))).toMatchObject({ action: 'decline', rule: { id: 'decline-marketing' } });
    expect(evaluateRules(DEFAULT_RULE_SET, facts())).toMatchObject({ action: 'ask', reason: 'rule', rule: { id: 'ask-everything-else' } });
    expect(ruleSetSchema.safeParse(DEFAULT_RULE_SET).success).toBe(true);
  });

  it('in words', () => {
    expect(ruleText(approveEmail)).toBe('Approve email, name for service-delivery to companies that agreed your terms or companies you trust');
    expect(ruleText({ id: 'x', when: { legalBases: ['contract'], maxRetention: 'P1Y', relationships: ['r1'] }, action: 'ask' }, () => 'Acme')).toBe(
      'Ask me about anything on the legal basis of contract kept at most P1Y (only Acme)',
    );
    expect(ruleText({ id: 'w', when: { fields: ['email'], personas: [WORK] }, action: 'approve' }, undefined, () => 'work')).toBe('Approve email as your work persona');
  });

  it('the stored shape refuses an approval without fields, an unknown condition, and two rules with one id', () => {
    expect(ruleSetSchema.safeParse(set({ id: 'a', when: {}, action: 'approve' })).success).toBe(false);
    expect(ruleSetSchema.safeParse({ version: 1, manual: false, rules: [{ id: 'a', when: { persona: 'work' }, action: 'ask' }] }).success).toBe(false);
    expect(ruleSetSchema.safeParse(set({ id: 'a', when: {}, action: 'ask' }, { id: 'a', when: {}, action: 'decline' })).success).toBe(false);
  });
});
