import { describe, expect, it } from 'vitest';
import { KithError } from '../../core/errors.js';
import { checkWithinTerms, isAtLeastAsProtective, retentionAtMost, type IntendedUse } from './compare.js';
import { bundledRoster, PURPOSES, type Obligations } from './roster.js';

const base: Obligations = {
  allowedPurposes: ['service-delivery', 'order-fulfilment', 'support'],
  maxRetention: 'P90D',
  thirdPartySharing: 'processors-only',
  crossSiteTracking: false,
  dataPortability: true,
  contactOnlyOnIntent: true,
  deleteOnTermination: true,
};

describe('retentionAtMost (conservative ISO 8601 duration comparison)', () => {
  const holds: ReadonlyArray<readonly [string, string]> = [
    ['P30D', 'P30D'],
    ['P30D', 'P90D'],
    ['P6M', 'P1Y'],
    ['P1Y', 'P12M'],
    ['P12M', 'P1Y'],
    ['P1Y6M', 'P18M'],
    ['P1M', 'P31D'], // the longest month
    ['P1Y', 'P366D'], // a leap year
    ['P2W', 'P14D'],
    ['P14D', 'P2W'],
    ['P1D', 'PT24H'], // days are 24 hours (UTC reckoning)
    ['PT24H', 'P1D'],
    ['PT90M', 'PT2H'],
    ['PT3600S', 'PT1H'],
    ['P0D', 'PT1S'],
    ['P1Y', 'P1Y1D'],
    ['P1M', 'P1Y'],
    ['P2Y', 'P99999999999999999999Y'], // BigInt: no precision lost
  ];
  const fails: ReadonlyArray<readonly [string, string]> = [
    ['P90D', 'P30D'],
    ['P1Y', 'P6M'],
    ['P30D', 'P1M'], // February is shorter
    ['P31D', 'P1M'],
    ['P1Y', 'P365D'], // a leap year is longer
    ['P180D', 'P6M'],
    ['P1M', 'P30D'],
    ['PT25H', 'P1D'],
    ['P1Y1D', 'P1Y'],
    ['P11M', 'P335D'], // 11 months starting in March are 337 days
    ['P100000000000000000001Y', 'P100000000000000000000Y'],
    // Not durations of the retentionSchema form: never "at most" anything.
    ['', 'P1Y'],
    ['P', 'P1Y'],
    ['PT', 'P1Y'],
    ['P1.5Y', 'P2Y'],
    ['p1y', 'P2Y'],
    ['P1Y', 'forever'],
    ['-P1D', 'P1D'],
    ['P1D ', 'P2D'],
  ];
  it.each(holds)('%s <= %s', (a, b) => expect(retentionAtMost(a, b)).toBe(true));
  it.each(fails)('not %s <= %s', (a, b) => expect(retentionAtMost(a, b)).toBe(false));

  it('is reflexive on valid durations', () => {
    for (const d of ['P1Y', 'P3M', 'P2W', 'P10D', 'PT12H', 'P1Y2M3W4DT5H6M7S', 'P0D']) expect(retentionAtMost(d, d), d).toBe(true);
  });
});

describe('isAtLeastAsProtective', () => {
  it('holds for the same obligations, and for stronger ones in every respect', () => {
    expect(isAtLeastAsProtective(base, base)).toEqual({ ok: true, weaker: [] });
    const stronger: Obligations = { ...base, allowedPurposes: ['support'], maxRetention: 'P30D', thirdPartySharing: 'none' };
    expect(isAtLeastAsProtective(stronger, base)).toEqual({ ok: true, weaker: [] });
  });

  it('names each obligation in which the alternative is weaker, in schema order', () => {
    const cases: ReadonlyArray<readonly [Partial<Obligations>, string]> = [
      [{ allowedPurposes: ['service-delivery', 'marketing'] }, 'allowedPurposes'],
      [{ maxRetention: 'P91D' }, 'maxRetention'],
      [{ maxRetention: 'P3M' }, 'maxRetention'], // could be 92 days
      [{ thirdPartySharing: 'allowed' }, 'thirdPartySharing'],
      [{ crossSiteTracking: true }, 'crossSiteTracking'],
      [{ dataPortability: false }, 'dataPortability'],
      [{ contactOnlyOnIntent: false }, 'contactOnlyOnIntent'],
      [{ deleteOnTermination: false }, 'deleteOnTermination'],
    ];
    for (const [change, name] of cases) expect(isAtLeastAsProtective({ ...base, ...change }, base), name).toEqual({ ok: false, weaker: [name] });
    const worst: Obligations = {
      allowedPurposes: ['marketing'],
      maxRetention: 'P10Y',
      thirdPartySharing: 'allowed',
      crossSiteTracking: true,
      dataPortability: false,
      contactOnlyOnIntent: false,
      deleteOnTermination: false,
    };
    expect(isAtLeastAsProtective(worst, base).weaker).toEqual([
      'allowedPurposes',
      'maxRetention',
      'thirdPartySharing',
      'crossSiteTracking',
      'dataPortability',
      'contactOnlyOnIntent',
      'deleteOnTermination',
    ]);
    // The other way round only the purposes differ: base allows three that worst does not.
    expect(isAtLeastAsProtective(base, worst)).toEqual({ ok: false, weaker: ['allowedPurposes'] });
    expect(isAtLeastAsProtective(base, { ...worst, allowedPurposes: [...PURPOSES] })).toEqual({ ok: true, weaker: [] });
  });

  it('orders sharing none < processors-only < allowed', () => {
    const sharing = ['none', 'processors-only', 'allowed'] as const;
    for (const [i, a] of sharing.entries()) {
      for (const [j, b] of sharing.entries()) {
        const result = isAtLeastAsProtective({ ...base, thirdPartySharing: a }, { ...base, thirdPartySharing: b });
        expect(result.ok, `${a} vs ${b}`).toBe(i <= j);
      }
    }
  });

  it('finds "service-only" the most protective agreement of the bundled roster', async () => {
    const { roster } = await bundledRoster();
    const byName = new Map(roster.agreements.map((a) => [a.id.split('/').at(-1)!, a.obligations]));
    const serviceOnly = byName.get('service-only')!;
    for (const [name, obligations] of byName) expect(isAtLeastAsProtective(serviceOnly, obligations), name).toEqual({ ok: true, weaker: [] });
    expect(isAtLeastAsProtective(byName.get('loyalty-program')!, serviceOnly).weaker).toEqual([
      'allowedPurposes',
      'maxRetention',
      'thirdPartySharing',
      'contactOnlyOnIntent',
    ]);
    expect(isAtLeastAsProtective(byName.get('data-for-research')!, byName.get('intent-only-contact')!).weaker).toEqual([
      'allowedPurposes',
      'maxRetention',
      'deleteOnTermination',
    ]);
  });
});

describe('checkWithinTerms', () => {
  function outcome(use: IntendedUse): string {
    try {
      checkWithinTerms(base, use);
      return 'within';
    } catch (err) {
      expect(err).toBeInstanceOf(KithError);
      const error = err as KithError;
      return `${error.code}:${String(error.details?.['obligation'])}`;
    }
  }

  it('accepts an allowed purpose with a retention within the maximum', () => {
    expect(outcome({ purpose: 'support', retention: 'P90D' })).toBe('within');
    expect(outcome({ purpose: 'order-fulfilment', retention: 'P2M' })).toBe('within'); // at most 62 days
    expect(outcome({ purpose: 'service-delivery', retention: 'PT1H' })).toBe('within');
  });

  it('refuses a purpose the terms do not allow, or that is not in the vocabulary', () => {
    for (const purpose of ['marketing', 'billing', 'Support', 'support ', '', 'to improve our services']) {
      expect(outcome({ purpose, retention: 'P1D' }), purpose).toBe('terms.outside_terms:allowedPurposes');
    }
  });

  it('refuses a retention longer than the maximum, or possibly longer', () => {
    for (const retention of ['P91D', 'P3M', 'P1Y', 'PT2161H']) expect(outcome({ purpose: 'support', retention }), retention).toBe('terms.outside_terms:maxRetention');
  });

  it('refuses an unspecified retention (null): the terms cap retention, and no limit is no promise to respect it', () => {
    expect(outcome({ purpose: 'support', retention: null })).toBe('terms.outside_terms:maxRetention');
  });

  it('refuses a retention that is not an ISO 8601 duration', () => {
    for (const retention of ['90 days', 'P', 'P1.5D', 'forever']) expect(outcome({ purpose: 'support', retention }), retention).toBe('terms.outside_terms:maxRetention');
  });

  it('checks the purpose first', () => {
    expect(outcome({ purpose: 'marketing', retention: null })).toBe('terms.outside_terms:allowedPurposes');
  });
});
