import { describe, expect, it } from 'vitest';
import { ENDING_DAYS } from '../personal/things.js';
import { DUE_DAYS, checkContractDraft, checkThingDraft, contractWhen, documentError, durationText, emptyContractDraft, emptyThingDraft, patchOf, serverFieldErrors } from './things';
import { ApiFailure } from './api';
import type { ThingView } from './types';

const thing = (overrides: Partial<ThingView> = {}): ThingView => ({
  id: '0b0e6b46-4a43-4a8b-9a54-0d8a3c0f9a11',
  name: 'Washing machine',
  brand: 'Bosch',
  price: { amount: '499.00', currency: 'EUR' },
  contracts: [],
  links: [],
  attachments: [],
  warranty: 'none',
  recalls: [],
  registrations: [],
  proofOfPurchase: null,
  createdAt: 1,
  updatedAt: 1,
  ...overrides,
});

describe('the thing form, checked as the agent checks it', () => {
  it('builds the body from what she typed, empty fields left out, the currency upper-cased', () => {
    const { errors, fields } = checkThingDraft({ ...emptyThingDraft(), name: ' Fridge ', brand: 'Miele', gtin: '4006381333931', amount: '899,90', currency: 'eur', notes: '' });
    expect(errors).toEqual({});
    expect(fields).toEqual({ name: 'Fridge', brand: 'Miele', gtin: '4006381333931', price: { amount: '899.90', currency: 'EUR' } });
  });

  it('names each field at fault, and builds nothing', () => {
    const { errors, fields } = checkThingDraft({ ...emptyThingDraft(), name: ' ', gtin: '4006381333932', amount: '12', currency: 'EUX', purchaseDate: '2026-02-30' });
    expect(fields).toBeUndefined();
    expect(Object.keys(errors).sort()).toEqual(['currency', 'gtin', 'name', 'purchaseDate']);
    expect(errors.gtin).toMatch(/check digit/);
  });

  it('wants an amount and its currency together', () => {
    expect(checkThingDraft({ ...emptyThingDraft(), name: 'x', amount: '10' }).errors.currency).toMatch(/currency/);
    expect(checkThingDraft({ ...emptyThingDraft(), name: 'x', currency: 'EUR' }).errors.amount).toMatch(/amount/);
  });

  it('patches only what changed, a cleared field as null', () => {
    const draft = { ...emptyThingDraft(), name: 'Washing machine', brand: '', model: 'WAU28', amount: '499.00', currency: 'EUR' };
    expect(patchOf(thing(), draft).patch).toEqual({ brand: null, model: 'WAU28' });
    expect(patchOf(thing(), { ...draft, brand: 'Bosch', model: '' }).patch).toEqual({});
    expect(patchOf(thing(), { ...draft, amount: '' , currency: ''}).patch).toEqual({ brand: null, model: 'WAU28', price: null });
  });

  it('marks the fields the agent named in thing.invalid', () => {
    const failure = new ApiFailure('thing.invalid', 'Invalid thing', 400, { fields: ['gtin', 'price.currency', 'contracts.0.start'] });
    expect(Object.keys(serverFieldErrors(failure)).sort()).toEqual(['currency', 'gtin']);
  });
});

describe('contracts', () => {
  it('counts as due soon what the agent does', () => {
    expect(DUE_DAYS).toBe(ENDING_DAYS);
  });

  it('makes an ISO 8601 duration of the length and the unit', () => {
    expect(checkContractDraft({ ...emptyContractDraft('2026-03-15'), length: '6', unit: 'M', provider: ' Bosch ' }).contract).toEqual({ kind: 'warranty', start: '2026-03-15', duration: 'P6M', provider: 'Bosch' });
    expect(Object.keys(checkContractDraft({ ...emptyContractDraft(''), length: '0' }).errors).sort()).toEqual(['length', 'start']);
  });

  it('says durations and ends in words', () => {
    expect(durationText('P1Y6M')).toBe('1 year 6 months');
    expect(durationText('P2W')).toBe('14 days');
    expect(contractWhen({ status: 'ending', daysLeft: 12, start: '2025-01-01', end: '2027-03-03' })).toMatch(/^ends in 12 days, on /);
    expect(contractWhen({ status: 'ended', daysLeft: -1, start: '2025-01-01', end: '2027-03-03' })).toMatch(/^ended on /);
  });
});

describe('refused documents', () => {
  const file = { name: 'receipt.pdf', size: 11 * 1024 * 1024, type: 'application/pdf' };
  it('says which file, why, and that nothing was added', () => {
    expect(documentError({ code: 'thing.attachment_too_large', message: '', details: { limit: 10 * 1024 * 1024 } }, file)).toBe('“receipt.pdf” is too large (11.0 MB): a document may be at most 10.0 MB. Nothing was added.');
    expect(documentError({ code: 'thing.attachment_type_mismatch', message: '' }, file)).toMatch(/^“receipt.pdf” is not what it says it is: it is named as a PDF, but its content is not one/);
    expect(documentError({ code: 'thing.attachment_type_unsupported', message: '' }, { ...file, type: 'text/html' })).toMatch(/of type text\/html: Kith keeps PDFs/);
  });
});
