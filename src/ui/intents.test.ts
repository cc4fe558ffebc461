import { describe, expect, it } from 'vitest';
import { demandSchema } from '../protocol/families/intent.js';
import { INTENT_CATEGORIES } from '../protocol/intent/categories.js';
import { categoryLabel, checkDraft, emptyDraft, entryShown, groupCategories, normaliseAmount, offerCompany, priceRangeText, SHORTFALL, type IntentDraft } from './intents';

const NOW = Date.UTC(2026, 11, 4, 12, 0, 0);
const draft = (overrides: Partial<IntentDraft> = {}): IntentDraft => ({ ...emptyDraft(['rel-1', 'rel-2']), description: 'Waterproof trail shoes, size 39', category: 'clothing', ...overrides });

describe('the new-intent form', () => {
  it('builds the cast the agent takes from a full form, and a demand its schema accepts', () => {
    const { errors, body } = checkDraft(
      draft({ minPrice: '50', maxPrice: '149,90', currency: 'eur', currencyOnly: true, quantity: '2', country: 'de', postalCode: ' 10115 ', wantedBy: '2026-12-20', outcome: ' Dry feet ', endsIn: '1w', disclose: ['email'] }),
      NOW,
    );
    expect(errors).toEqual({});
    expect(body).toEqual({
      demand: {
        '@type': 'Demand',
        description: 'Waterproof trail shoes, size 39',
        category: 'clothing',
        priceSpecification: { minPrice: '50', maxPrice: '149.90', priceCurrency: 'EUR' },
        eligibleQuantity: { value: 2 },
        eligibleRegion: { addressCountry: 'DE', postalCode: '10115' },
        availabilityEnds: '2026-12-20',
      },
      outcome: 'Dry feet',
      expiresAt: NOW + 7 * 86_400_000,
      currencyRequired: true,
      to: ['rel-1', 'rel-2'],
      disclose: ['email'],
    });
    expect(demandSchema.safeParse(body!.demand).success).toBe(true);
  });

  it('sends only what she filled in: no price without an amount, no anonymous or disclose members unless chosen', () => {
    const { body } = checkDraft(draft(), NOW);
    expect(body).toEqual({ demand: { '@type': 'Demand', description: 'Waterproof trail shoes, size 39', category: 'clothing' }, expiresAt: NOW + 3 * 86_400_000, to: ['rel-1', 'rel-2'] });
    expect(checkDraft(draft({ to: [], anonymous: true }), NOW).body).toMatchObject({ anonymous: true });
    expect(checkDraft(draft({ to: [], anonymous: true }), NOW).body).not.toHaveProperty('to');
  });

  it('names the field and the rule for each mistake, and builds nothing', () => {
    const { errors, body } = checkDraft(
      draft({ description: '  ', category: '', minPrice: '200', maxPrice: '150', currency: 'EU', quantity: '0', country: 'Germany', wantedBy: '2026-12-01', to: [] }),
      NOW,
    );
    expect(body).toBeUndefined();
    expect(errors).toEqual({
      description: 'What you want: say what you want; it cannot be empty.',
      category: 'Category: choose one.',
      maxPrice: 'Max price: must not be below the min price (200).',
      currency: 'Currency: three letters (ISO 4217), such as EUR or USD.',
      quantity: 'Quantity: a whole number from 1 to 1,000,000.',
      country: 'Country: a two-letter country code (ISO 3166-1), such as DE or FR.',
      wantedBy: 'Wanted by: must be today or later.',
      to: 'Send to: choose at least one company, or ask the companies in your directory.',
    });
    expect(checkDraft(draft({ maxPrice: '12.345678' }), NOW).errors.maxPrice).toBe('Max price: write an amount such as 150 or 149.90 (digits, at most 4 decimals).');
    expect(checkDraft(draft({ postalCode: '10115' }), NOW).errors.postalCode).toBe('Postal code: give the country too.');
    expect(checkDraft(draft({ category: 'Trail Shoes' }), NOW).errors.category).toMatch(/^Category: a category id/);
  });

  it('reads amounts as people write them', () => {
    expect(normaliseAmount('149,90')).toBe('149.90');
    expect(normaliseAmount(' 0150 ')).toBe('150');
    expect(normaliseAmount('0.5')).toBe('0.5');
    expect(normaliseAmount('1e3')).toBeUndefined();
    expect(normaliseAmount('-3')).toBeUndefined();
  });
});

describe('intents in words', () => {
  it('groups the shipped categories under goods and services, children after their parent', () => {
    const groups = groupCategories(INTENT_CATEGORIES);
    expect(groups.map((g) => g.label)).toEqual(['Goods', 'Services']);
    const goods = groups[0]!.options;
    expect(goods[0]).toEqual({ id: 'goods', label: 'Any goods', depth: 0 });
    expect(goods.slice(1, 4).map((o) => o.label)).toEqual(['Electronics', 'Electronics › Computers and tablets', 'Electronics › Phones']);
    expect(groups.flatMap((g) => g.options).length).toBe(INTENT_CATEGORIES.length);
    expect(categoryLabel('clothing', INTENT_CATEGORIES)).toBe('Clothing and shoes');
    expect(categoryLabel('clothing', undefined)).toBe('clothing');
  });

  it('says price ranges, companies and every shortfall the agent judges', () => {
    const demand = { '@type': 'Demand' as const, description: 'x', category: 'clothing' as const };
    expect(priceRangeText({ ...demand, priceSpecification: { maxPrice: '150', priceCurrency: 'EUR' } })).toBe('up to 150 EUR');
    expect(priceRangeText({ ...demand, priceSpecification: { minPrice: '50', maxPrice: '150', priceCurrency: 'EUR' } })).toBe('from 50 to 150 EUR');
    expect(priceRangeText(demand)).toBeNull();
    expect(offerCompany({ company: 'Acme', anonymous: false, relationshipId: 'abcdef123' })).toBe('Acme');
    expect(offerCompany({ company: 'Acme', anonymous: true, relationshipId: 'abcdef123' })).toBe('Anonymous company (Acme)');
    expect(Object.keys(SHORTFALL).sort()).toEqual(['other-category', 'other-currency', 'other-region', 'over-budget', 'too-few', 'too-late', 'unavailable', 'under-minimum']);
  });

  it('shows a directory entry with the companies last verified and why its last refresh failed', () => {
    const company = { name: 'Shop', did: 'did:peer:2.x', url: 'https://shop.example', categories: ['books'], accepts: [] };
    const entry = { id: 'e1', url: 'https://shop.example/', kind: 'company' as const, companies: [company], checkedAt: 5, error: null, addedAt: 1 };
    expect(entryShown(entry)).toEqual({ id: 'e1', url: 'https://shop.example/', kind: 'company', companies: [{ name: 'Shop', categories: ['books'] }], problem: undefined, checkedAt: 5 });
    expect(entryShown({ ...entry, error: 'directory.unreachable: answered 503' }).problem).toBe('directory.unreachable: answered 503');
  });
});
