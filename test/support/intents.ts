import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPeerIdentity } from '../../src/protocol/agent/identity.js';
import type { Demand, Offer, SignedOffer } from '../../src/protocol/families/intent.js';
import type { NewIntent } from '../../src/personal/vault/intentRepo.js';
import { agreementUri, demandDocument, signedOfferDocument } from './documents.js';

/*
 * Real intent documents for vault tests: the vault parses demands and signed offers with the
 * protocol's schemas, so fixtures are what the protocol itself builds (offers signed by a company's
 * DIDComm key with signOffer).
 */

/** The company that signs {@link signedOffer}s, and her pairwise DID the offers name. */
export const OFFER_SELLER = createPeerIdentity().identity;
export const OFFER_CUSTOMER = createPeerIdentity().identity;

/** A demand as her agent casts it (the shared document fixture, with a postal code and a wanted-by date). */
export function demand(overrides: Partial<Demand> = {}): Demand {
  return demandDocument({ eligibleRegion: { addressCountry: 'DE', postalCode: '10115' }, availabilityEnds: '2026-12-20', ...overrides });
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

/** An offer for the recipient intent id `intentId`, signed by {@link OFFER_SELLER} for {@link OFFER_CUSTOMER}. */
export function signedOffer(identifier: string, intentId: string, overrides: Partial<Offer> = {}): SignedOffer {
  return signedOfferDocument(
    { id: identifier, intentId, seller: OFFER_SELLER, customer: OFFER_CUSTOMER.did },
    { itemOffered: { name: 'Trail shoe Alpine 39', category: 'clothing', gtin: '4006381333931' }, deliveryDate: '2026-12-10', conditions: '30 days returns', ...overrides },
  );
}

// --- agents over HTTP (test/agents/intents.test.ts, anonymousIntents.test.ts) ------------------

/** Writes a company catalog file (company/intents/catalog.ts) into `dir`; returns its path. */
export function catalogFile(dir: string, name: string, items: unknown[]): string {
  const path = join(dir, `${name}.json`);
  writeFileSync(path, JSON.stringify({ version: 1, items }));
  return path;
}

/** A catalog item that meets {@link TRAIL_SHOE_DEMAND}, and one in dollars that her rule declines when she required euros. */
export const TRAIL_SHOE = { sku: 'TS-39', name: 'Trail shoe 39', category: 'clothing', price: '129.90', priceCurrency: 'EUR', stock: 5, deliveryDays: 3, countries: ['DE'] };
export const US_TRAIL_SHOE = { ...TRAIL_SHOE, sku: 'TS-39-US', name: 'Trail shoe 39 (US)', price: '99.00', priceCurrency: 'USD', countries: [] };
/** A company terms policy accepting the agreements an intent and the tests proffer. */
export const ACCEPT_ALL_TERMS = { accept: ['service-only', 'intent-only-contact', 'service-plus-billing'] };

export const TRAIL_SHOE_DEMAND: Demand = {
  '@type': 'Demand',
  description: 'Waterproof trail shoes, size 39',
  category: 'clothing',
  priceSpecification: { maxPrice: '150', priceCurrency: 'EUR' },
  eligibleRegion: { addressCountry: 'DE' },
};

/** An intent end a day from now. */
export const inADay = (): number => Date.now() + 86_400_000;
