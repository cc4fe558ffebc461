import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KithError } from '../../core/errors.js';
import { demandSchema } from '../../protocol/families/intent.js';
import { catalogSchema, loadCatalog, matchCatalog } from './catalog.js';

const NOW = Date.parse('2026-12-04T12:00:00Z');
const catalog = catalogSchema.parse({
  version: 1,
  items: [
    { sku: 'TS-39', name: 'Trail shoe 39', category: 'clothing', price: '129.90', priceCurrency: 'EUR', stock: 5, deliveryDays: 3, countries: ['DE', 'AT'] },
    { sku: 'TS-39-PRO', name: 'Trail shoe 39 Pro', category: 'clothing', price: '189.00', priceCurrency: 'EUR', stock: 5, deliveryDays: 1, countries: [] },
    { sku: 'TS-39-US', name: 'Trail shoe 39 (US stock)', category: 'clothing', price: '99.00', priceCurrency: 'USD', stock: 5, deliveryDays: 2, countries: [] },
    { sku: 'TENT', name: 'Tent', category: 'outdoor-gear', price: '99.00', priceCurrency: 'EUR', stock: 0, deliveryDays: 2, countries: [] },
  ],
});
const demand = (extra: Record<string, unknown> = {}) =>
  demandSchema.parse({ '@type': 'Demand', description: 'Trail shoes size 39', category: 'clothing', priceSpecification: { maxPrice: '150', priceCurrency: 'EUR' }, eligibleRegion: { addressCountry: 'DE' }, ...extra });
const options = { now: NOW, servedCategories: ['goods'], currencyRequired: false, limit: 3 };

describe('matchCatalog', () => {
  it('offers what meets the demand, cheapest first, with a delivery date from the item', () => {
    const offers = matchCatalog(catalog, demand(), options);
    expect(offers.map((o) => o.itemOffered.sku)).toEqual(['TS-39']);
    expect(offers[0]).toMatchObject({ price: '129.90', priceCurrency: 'EUR', availability: 'InStock', deliveryDate: '2026-12-07', eligibleQuantity: { value: 1 }, areaServed: { addressCountry: 'DE' } });
  });

  it('offers nothing in a category the company does not serve, nor out of stock, nor outside the region or the date', () => {
    expect(matchCatalog(catalog, demand(), { ...options, servedCategories: ['electronics'] })).toEqual([]);
    expect(matchCatalog(catalog, demandSchema.parse({ '@type': 'Demand', description: 'A tent', category: 'outdoor-gear' }), options)).toEqual([]);
    expect(matchCatalog(catalog, demand({ eligibleRegion: { addressCountry: 'FR' } }), { ...options, currencyRequired: true })).toEqual([]);
    expect(matchCatalog(catalog, demand({ availabilityEnds: '2026-12-05' }), options)).toEqual([]);
  });

  it('offers another currency only when she did not require hers and nothing in hers matches', () => {
    const cheap = demand({ priceSpecification: { maxPrice: '100', priceCurrency: 'EUR' } });
    expect(matchCatalog(catalog, cheap, options).map((o) => o.itemOffered.sku)).toEqual(['TS-39-US']);
    expect(matchCatalog(catalog, cheap, { ...options, currencyRequired: true })).toEqual([]);
  });
});

describe('matchCatalog and her words', () => {
  it('offers only items that share a word with what she wrote, the closest first', () => {
    const shop = catalogSchema.parse({
      version: 1,
      items: [
        { sku: 'SOCK', name: 'Wool socks', category: 'clothing', price: '9.00', priceCurrency: 'EUR', stock: 9, deliveryDays: 1, countries: [] },
        { sku: 'SHOE', name: 'Trail shoe', description: 'Waterproof membrane', category: 'clothing', price: '120.00', priceCurrency: 'EUR', stock: 9, deliveryDays: 1, countries: [] },
        { sku: 'BOOT', name: 'Hiking boot', description: 'Waterproof', category: 'clothing', price: '110.00', priceCurrency: 'EUR', stock: 9, deliveryDays: 1, countries: [] },
      ],
    });
    expect(matchCatalog(shop, demand(), { ...options, limit: 5 }).map((o) => o.itemOffered.sku)).toEqual(['SHOE']);
    const waterproof = demand({ description: 'Something waterproof for trail running' });
    expect(matchCatalog(shop, waterproof, { ...options, limit: 5 }).map((o) => o.itemOffered.sku)).toEqual(['SHOE', 'BOOT']);
  });
});

describe('loadCatalog', () => {
  it('reads a catalog file and refuses a missing one or one with a bad item, naming it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kith-catalog-'));
    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify(catalog));
    expect(loadCatalog(good).items).toHaveLength(4);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ version: 1, items: [{ ...catalog.items[0], price: 'cheap' }] }));
    expect(() => loadCatalog(bad)).toThrow(KithError);
    expect(() => loadCatalog(bad)).toThrow(/items\.0\.price/);
    expect(() => loadCatalog(join(dir, 'missing.json'))).toThrow(/not found/);
  });
});
