import { describe, expect, it } from 'vitest';
import { demandSchema, type Demand, type Offer } from '../families/intent.js';
import { judgeOffer } from './verdict.js';

const demand: Demand = demandSchema.parse({
  '@type': 'Demand',
  description: 'A light laptop',
  category: 'electronics',
  priceSpecification: { minPrice: '300', maxPrice: '999.99', priceCurrency: 'EUR' },
  eligibleQuantity: { value: 2 },
  eligibleRegion: { addressCountry: 'DE' },
  availabilityEnds: '2026-12-20',
});

const offer: Parameters<typeof judgeOffer>[1] = {
  itemOffered: { name: 'Laptop 13"', category: 'computers' },
  price: '999.99',
  priceCurrency: 'EUR',
  eligibleQuantity: { value: 2 },
  availability: 'InStock',
  deliveryDate: '2026-12-20',
  areaServed: { addressCountry: 'DE' },
};

describe('judgeOffer', () => {
  it('meets a demand at its edges: the maximum price to the cent, the wanted-by day, a narrower category', () => {
    expect(judgeOffer(demand, offer)).toEqual({ meets: true, reasons: [] });
  });

  it('names every shortfall', () => {
    const bad: Partial<Offer> = { price: '1000.00', eligibleQuantity: { value: 1 }, deliveryDate: '2026-12-21', areaServed: { addressCountry: 'FR' }, availability: 'OutOfStock', itemOffered: { name: 'Phone', category: 'books' } };
    expect(judgeOffer(demand, { ...offer, ...bad }).reasons.sort()).toEqual(['other-category', 'other-region', 'over-budget', 'too-few', 'too-late', 'unavailable']);
    expect(judgeOffer(demand, { ...offer, price: '299.9999' }).reasons).toEqual(['under-minimum']);
  });

  it('does not judge the amount of a price in another currency, it names the currency', () => {
    expect(judgeOffer(demand, { ...offer, price: '5.00', priceCurrency: 'USD' }).reasons).toEqual(['other-currency']);
  });

  it('counts a missing delivery date as too late when she named a date', () => {
    const { deliveryDate: _date, ...undated } = offer;
    expect(judgeOffer(demand, undated).reasons).toEqual(['too-late']);
  });
});
