import { describe, expect, it } from 'vitest';
import { contractEnd, durationSchema, gtinCheckDigitValid, gtinSchema, iso4217Schema, parseDuration, priceSchema, thingFieldsSchema } from './fields.js';

describe('thing fields', () => {
  it('takes GTINs whose GS1 check digit is right, of every length, and refuses one digit off', () => {
    // Real barcodes: an EAN-13, a UPC-A, a GTIN-8 and a GTIN-14.
    for (const gtin of ['4006381333931', '036000291452', '96385074', '10614141000415']) {
      expect(gtinCheckDigitValid(gtin)).toBe(true);
      expect(gtinSchema.safeParse(gtin).success).toBe(true);
      const last = Number(gtin.at(-1));
      expect(gtinSchema.safeParse(`${gtin.slice(0, -1)}${(last + 1) % 10}`).success).toBe(false);
    }
    for (const bad of ['400638133393', '40063813339310000', '4006381333931 ', 'abcdefghijklm', '']) expect(gtinSchema.safeParse(bad).success).toBe(false);
  });

  it('takes ISO 4217 currencies only, and non-negative decimal prices', () => {
    expect(iso4217Schema.safeParse('EUR').success).toBe(true);
    expect(iso4217Schema.safeParse('JPY').success).toBe(true);
    expect(iso4217Schema.safeParse('EUX').success).toBe(false);
    expect(iso4217Schema.safeParse('eur').success).toBe(false);
    expect(priceSchema.safeParse({ amount: '1299.00', currency: 'EUR' }).success).toBe(true);
    expect(priceSchema.safeParse({ amount: '-5', currency: 'EUR' }).success).toBe(false);
    expect(priceSchema.safeParse({ amount: '1e3', currency: 'EUR' }).success).toBe(false);
  });

  it('reads ISO 8601 calendar durations and refuses zero, times and junk', () => {
    expect(parseDuration('P2Y')).toEqual({ years: 2, months: 0, days: 0 });
    expect(parseDuration('P1Y6M2W3D')).toEqual({ years: 1, months: 6, days: 17 });
    for (const bad of ['P', 'P0Y', 'PT5H', '2Y', 'P-1Y', 'P1.5Y', 'P1000Y', 'p2y']) expect(durationSchema.safeParse(bad).success).toBe(false);
  });

  it('computes a contract’s last covered day as calendars do', () => {
    expect(contractEnd('2026-03-15', 'P2Y')).toBe('2028-03-14');
    expect(contractEnd('2026-01-31', 'P1M')).toBe('2026-02-27');
    expect(contractEnd('2024-02-29', 'P1Y')).toBe('2025-02-27');
    expect(contractEnd('2026-12-01', 'P90D')).toBe('2027-02-28');
    expect(contractEnd('2026-12-01', 'P1W')).toBe('2026-12-07');
    expect(contractEnd('2026-11-15', 'P3M')).toBe('2027-02-14');
  });

  it('refuses fields it does not know, blank names and overlong notes', () => {
    expect(thingFieldsSchema.safeParse({ name: 'Bike' }).success).toBe(true);
    expect(thingFieldsSchema.safeParse({ name: 'Bike', colour: 'red' }).success).toBe(false);
    expect(thingFieldsSchema.safeParse({ name: '   ' }).success).toBe(false);
    expect(thingFieldsSchema.safeParse({ name: 'Bike', notes: 'x'.repeat(4001) }).success).toBe(false);
    expect(thingFieldsSchema.safeParse({ name: 'Bike', purchaseDate: '2026-02-30' }).success).toBe(false);
  });
});
