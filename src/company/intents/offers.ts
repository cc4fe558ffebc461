import { randomUUID } from 'node:crypto';
import type { Demand, Offer, SignedOffer } from '../../protocol/families/intent.js';
import type { SigningKey } from '../../protocol/envelope/engine.js';
import { signOffer } from '../../protocol/intent/signedOffer.js';
import type { IntentPolicy } from '../config.js';
import { loadCatalog, matchCatalog, type Catalog, type OfferDraft } from './catalog.js';

/** The company's side of offers: its catalog (loaded once) and the signed offers it makes from drafts. */
export interface CompanyOffers {
  /** The best catalog match for a demand, if the policy serves its category and has a catalog. */
  automatic(demand: Demand, options: { now: number; currencyRequired: boolean }): OfferDraft | undefined;
  /** Gives a draft its ids, parties, terms and validity, and signs it. */
  sign(draft: OfferDraft, parties: { intentId: string; seller: string; customer: string; terms: string | null; now: number; validHours?: number }): SignedOffer;
}

/** An ISO 8601 date-time in UTC to the second, as the offer's schema wants it. */
function isoSeconds(epochMs: number): string {
  return new Date(Math.floor(epochMs / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

export function createCompanyOffers(policy: IntentPolicy, signer: SigningKey): CompanyOffers {
  let catalog: Catalog | undefined;
  // Loaded on first use and kept: a catalog that does not load fails the cast that needed it, loudly.
  const catalogOf = (): Catalog | undefined => (policy.catalogFile === undefined ? undefined : (catalog ??= loadCatalog(policy.catalogFile)));
  return {
    automatic(demand, options) {
      const loaded = policy.categories.length === 0 ? undefined : catalogOf();
      if (!loaded) return undefined;
      return matchCatalog(loaded, demand, { now: options.now, servedCategories: policy.categories, currencyRequired: options.currencyRequired, limit: 1 })[0];
    },
    sign(draft, parties) {
      const offer: Offer = {
        '@type': 'Offer',
        identifier: randomUUID(),
        intent_id: parties.intentId,
        seller: parties.seller,
        customer: parties.customer,
        ...draft,
        validThrough: isoSeconds(parties.now + (parties.validHours ?? policy.offerValidHours) * 3_600_000),
        terms: parties.terms,
      };
      return signOffer(offer, signer);
    },
  };
}
