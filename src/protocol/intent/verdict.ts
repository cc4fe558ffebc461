import type { Demand, Offer } from '../families/intent.js';
import { serves } from './categories.js';

/** Why an offer does not meet what she asked for; each one a short, stable code she can filter on. */
export type OfferShortfall = 'over-budget' | 'under-minimum' | 'other-currency' | 'too-few' | 'too-late' | 'other-region' | 'other-category' | 'unavailable';

export interface OfferVerdict {
  meets: boolean;
  reasons: OfferShortfall[];
}

/** Amounts are decimal strings of at most 4 places: compared exactly as scaled integers. */
function scaled(amount: string): bigint {
  const [whole, fraction = ''] = amount.split('.');
  return BigInt(whole ?? '0') * 10_000n + BigInt(fraction.padEnd(4, '0'));
}

/** Seconds since the epoch at the end of a calendar day (UTC), for "wanted by" comparisons. */
function endOfDay(date: string): number {
  return Date.parse(`${date}T23:59:59Z`) / 1000;
}

/**
 * Whether an offer meets the demand it answers, checked member by member, for her comparison and
 * her rule ("decline offers outside my constraints"). A price in another currency is not converted:
 * it is `other-currency`, and its amount is not judged against her range.
 */
export function judgeOffer(demand: Demand, offer: Pick<Offer, 'price' | 'priceCurrency' | 'itemOffered' | 'eligibleQuantity' | 'deliveryDate' | 'availability'> & { areaServed?: Offer['areaServed'] }): OfferVerdict {
  const reasons: OfferShortfall[] = [];
  const price = demand.priceSpecification;
  if (price && offer.priceCurrency !== price.priceCurrency) reasons.push('other-currency');
  else if (price) {
    if (price.maxPrice !== undefined && scaled(offer.price) > scaled(price.maxPrice)) reasons.push('over-budget');
    if (price.minPrice !== undefined && scaled(offer.price) < scaled(price.minPrice)) reasons.push('under-minimum');
  }
  // Her category or a narrower one under it.
  if (!serves([demand.category], offer.itemOffered.category)) reasons.push('other-category');
  if (demand.eligibleQuantity && offer.eligibleQuantity.value < demand.eligibleQuantity.value) reasons.push('too-few');
  if (demand.availabilityEnds && (offer.deliveryDate === undefined || endOfDay(offer.deliveryDate) > endOfDay(demand.availabilityEnds))) reasons.push('too-late');
  const region = demand.eligibleRegion;
  if (region && offer.areaServed && offer.areaServed.addressCountry !== region.addressCountry) reasons.push('other-region');
  if (offer.availability === 'OutOfStock') reasons.push('unavailable');
  return { meets: reasons.length === 0, reasons };
}
