import { createPeerIdentity, signingKeyOf } from '../../src/protocol/agent/identity.js';
import { demandSchema, offerSchema, type Demand, type Offer, type SignedOffer } from '../../src/protocol/families/intent.js';
import { signOffer } from '../../src/protocol/intent/signedOffer.js';
import type { NewIntent } from '../../src/personal/vault/intentRepo.js';
import { agreementUri } from './documents.js';

/*
 * Real intent documents for vault tests: the vault parses demands and signed offers with the
 * protocol's schemas, so fixtures are what the protocol itself builds (offers signed by a company's
 * DIDComm key with signOffer).
 */

/** The company that signs {@link signedOffer}s, and her pairwise DID the offers name. */
export const OFFER_SELLER = createPeerIdentity().identity;
export const OFFER_CUSTOMER = createPeerIdentity().identity;

/** A demand as her agent casts it (schema.org Demand, checked with the protocol's schema). */
export function demand(overrides: Partial<Demand> = {}): Demand {
  return demandSchema.parse({
    '@type': 'Demand',
    description: 'Waterproof trail shoes, size 39',
    category: 'clothing',
    priceSpecification: { maxPrice: '150', priceCurrency: 'EUR' },
    eligibleQuantity: { value: 1 },
    eligibleRegion: { addressCountry: 'DE', postalCode: '10115' },
    availabilityEnds: '2026-12-20',
    ...overrides,
  });
}

/** Insert input for an intent (open, no disclosure, expiring at `expiresAt`). */
export function newIntent(overrides: Partial<NewIntent> = {}): NewIntent {
  return {
    demand: demand(),
    outcome: 'Dry feet on winter hikes',
    currencyRequired: true,
    expiresAt: Date.UTC(2026, 11, 20),
    agreementId: agreementUri('intent-only-contact'),
    disclose: [],
    ...overrides,
  };
}

/** An offer for the recipient intent id `intentId`, signed by {@link OFFER_SELLER}. */
export function signedOffer(identifier: string, intentId: string, overrides: Partial<Offer> = {}): SignedOffer {
  const offer = offerSchema.parse({
    '@type': 'Offer',
    identifier,
    intent_id: intentId,
    seller: OFFER_SELLER.did,
    customer: OFFER_CUSTOMER.did,
    itemOffered: { name: 'Trail shoe Alpine 39', category: 'clothing', gtin: '4006381333931' },
    price: '129.90',
    priceCurrency: 'EUR',
    eligibleQuantity: { value: 1 },
    availability: 'InStock',
    deliveryDate: '2026-12-10',
    validThrough: '2027-01-15T08:00:00Z',
    conditions: '30 days returns',
    terms: agreementUri('intent-only-contact'),
    ...overrides,
  });
  return signOffer(offer, signingKeyOf(OFFER_SELLER));
}
