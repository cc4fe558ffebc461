import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { KithError } from '../../core/errors.js';
import { createPeerIdentity, signingKeyOf } from '../agent/identity.js';
import { createDidResolver } from '../did/resolver.js';
import { demandSchema, intentCastBodySchema, offerSchema, type Offer } from '../families/intent.js';
import { INTENT_CATEGORIES, intentCategorySchema, serves } from './categories.js';
import { signOffer, verifySignedOffer } from './signedOffer.js';

const company = createPeerIdentity('http://127.0.0.1:7401/didcomm').identity;
const stranger = createPeerIdentity('http://127.0.0.1:7402/didcomm').identity;
const her = createPeerIdentity('http://127.0.0.1:7400/didcomm/r1').identity;
const resolver = createDidResolver();

function offer(overrides: Partial<Offer> = {}): Offer {
  return offerSchema.parse({
    '@type': 'Offer',
    identifier: randomUUID(),
    intent_id: randomUUID(),
    seller: company.did,
    customer: her.did,
    itemOffered: { name: 'Trail shoe, size 39', category: 'clothing', gtin: '4006381333931' },
    price: '129.90',
    priceCurrency: 'EUR',
    eligibleQuantity: { value: 1 },
    availability: 'InStock',
    deliveryDate: '2026-12-10',
    validThrough: '2027-01-15T08:00:00Z',
    conditions: '30 days returns',
    terms: 'https://kith.invalid/terms/agreements/intent-only-contact',
    ...overrides,
  });
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(KithError);
  return (error as KithError).code;
}

describe('intent categories', () => {
  it('are unique slugs whose parents are in the list', () => {
    const ids = INTENT_CATEGORIES.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const c of INTENT_CATEGORIES) {
      expect(c.id).toMatch(/^[a-z]+(-[a-z]+)*$/);
      if (c.parent !== null) expect(ids).toContain(c.parent);
    }
  });

  it('match a company serving the category itself or one of its ancestors, not a sibling or a child', () => {
    expect(serves(['computers'], 'computers')).toBe(true);
    expect(serves(['electronics'], 'computers')).toBe(true);
    expect(serves(['goods'], 'computers')).toBe(true);
    expect(serves(['phones'], 'computers')).toBe(false);
    expect(serves(['computers'], 'electronics')).toBe(false);
    expect(serves([], 'books')).toBe(false);
  });

  it('refuse an id that is not in the list', () => {
    expect(intentCategorySchema.safeParse('spaceships').success).toBe(false);
  });
});

describe('the demand of an intent', () => {
  const demand = { '@type': 'Demand', description: 'Waterproof trail shoes', category: 'clothing', priceSpecification: { maxPrice: '150', priceCurrency: 'EUR' } };

  it('takes the schema.org Demand members Kith uses', () => {
    expect(demandSchema.parse({ ...demand, eligibleQuantity: { value: 1 }, eligibleRegion: { addressCountry: 'DE', postalCode: '10115' }, availabilityEnds: '2026-12-20' })).toMatchObject(demand);
  });

  it('refuses unknown members, an unknown category, a minimum above the maximum, a bad currency or amount', () => {
    expect(demandSchema.safeParse({ ...demand, tracking: 'x' }).success).toBe(false);
    expect(demandSchema.safeParse({ ...demand, category: 'spaceships' }).success).toBe(false);
    expect(demandSchema.safeParse({ ...demand, priceSpecification: { minPrice: '200', maxPrice: '150', priceCurrency: 'EUR' } }).success).toBe(false);
    expect(demandSchema.safeParse({ ...demand, priceSpecification: { maxPrice: '150', priceCurrency: 'euro' } }).success).toBe(false);
    expect(demandSchema.safeParse({ ...demand, priceSpecification: { maxPrice: '1e3', priceCurrency: 'EUR' } }).success).toBe(false);
  });

  it('travels in a cast with its own id per recipient, an expiry and her terms', () => {
    const body = { intent_id: randomUUID(), demand: { ...demand, validThrough: '2027-01-15T08:00:00Z' }, currency_required: true, terms: { agreement: {} } };
    expect(intentCastBodySchema.safeParse({ ...body, demand }).success).toBe(false);
    expect(intentCastBodySchema.safeParse({ ...body, demand: { ...demand, validThrough: '2027-01-15T08:00:00.123+02:00' } }).success).toBe(false);
    expect(intentCastBodySchema.safeParse(body).success).toBe(true);
    expect(intentCastBodySchema.safeParse({ ...body, intent_id: 'same-for-everyone' }).success).toBe(false);
  });
});

describe('a signed offer', () => {
  it('verifies against the seller’s DID, whatever the member order and spacing in transit', async () => {
    const signed = signOffer(offer(), signingKeyOf(company));
    const reordered = JSON.parse(JSON.stringify({ signature: signed.signature, offer: Object.fromEntries(Object.entries(signed.offer).reverse()) }, null, 2)) as unknown;
    expect(await verifySignedOffer(reordered, resolver)).toEqual(signed);
  });

  it('is refused as intent.offer_invalid when a member was changed after signing', async () => {
    const signed = signOffer(offer(), signingKeyOf(company));
    expect(await refusal(verifySignedOffer({ ...signed, offer: { ...signed.offer, price: '1.00' } }, resolver))).toBe('intent.offer_invalid');
  });

  it('is refused when signed by another DID than its seller, or with a malformed signature or shape', async () => {
    expect(await refusal(verifySignedOffer(signOffer(offer(), signingKeyOf(stranger)), resolver))).toBe('intent.offer_invalid');
    const signed = signOffer(offer(), signingKeyOf(company));
    expect(await refusal(verifySignedOffer({ ...signed, signature: 'not-a-jws' }, resolver))).toBe('intent.offer_invalid');
    expect(await refusal(verifySignedOffer({ ...signed, extra: 1 }, resolver))).toBe('intent.offer_invalid');
    expect(await refusal(verifySignedOffer({ offer: { ...signed.offer, price: 129.9 }, signature: signed.signature }, resolver))).toBe('intent.offer_invalid');
  });
});
