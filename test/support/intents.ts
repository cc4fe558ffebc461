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
