import { describe, expect, it } from 'vitest';
import { ENDING_DAYS } from '../personal/things.js';
import { REGISTRATION_CLAIMS } from '../protocol/families/thing.js';
import { SHAREABLE_THING_FIELDS } from '../protocol/families/service.js';
import { CASE_FIELDS, REGISTRATION_FIELDS, caseStateText, claimLabel, defaultSupporter, detailText, registrationShares, serviceError, DUE_DAYS, checkContractDraft, checkThingDraft, contractWhen, documentError, durationText, emptyContractDraft, emptyThingDraft, patchOf, serverFieldErrors } from './things';
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

describe('registrations and service cases in words', () => {
  it('offers exactly the claims a registration may carry, each from its thing field, and the details a case may carry', () => {
    expect(Object.fromEntries(REGISTRATION_FIELDS.map((f) => [f.claim, f.field]))).toEqual(REGISTRATION_CLAIMS);
    expect(CASE_FIELDS.map((f) => f.field)).toEqual(SHAREABLE_THING_FIELDS);
  });

  it('says what a registration shares: what she ticked, and the GTIN and model the agent adds when she ticked neither', () => {
    const bike = thing({ gtin: '4006381333931', model: 'TR-1', serialNumber: 'SN-1' });
    expect(registrationShares(bike, ['serial_number'])).toEqual(['serial_number', 'gtin', 'model']);
    expect(registrationShares(bike, ['gtin', 'serial_number'])).toEqual(['gtin', 'serial_number']);
    // A field the thing lacks is not shared; a thing with neither GTIN nor model shares nothing a recall can match.
    expect(registrationShares(thing(), ['serial_number'])).toEqual([]);
    expect(['gtin', 'model', 'serial_number', 'purchase_date'].map(claimLabel)).toEqual(['GTIN (barcode)', 'model', 'serial number', 'purchase date']);
  });

  it('shows a price with its currency and a date in words', () => {
    expect(detailText(thing(), 'price')).toBe('499.00 EUR');
    expect(detailText(thing({ purchaseDate: '2026-03-15' }), 'purchaseDate')).toMatch(/2026/);
    expect(detailText(thing(), 'serialNumber')).toBeUndefined();
  });

  it('picks the company a case goes to as the agent does: servicer, else maker, else seller, a live one first', () => {
    const links: ThingView['links'] = [
      { relationshipId: 'a', role: 'seller', companyName: 'Shop' },
      { relationshipId: 'b', role: 'maker', companyName: 'Maker' },
      { relationshipId: 'c', role: 'insurer', companyName: 'Insurer' },
    ];
    expect(defaultSupporter(thing({ links }), () => true)?.relationshipId).toBe('b');
    expect(defaultSupporter(thing({ links }), (r) => r !== 'b')?.relationshipId).toBe('a');
    expect(defaultSupporter(thing({ links: [links[2]!] }), () => true)).toBeUndefined();
  });

  it('says whom a case waits for', () => {
    expect(caseStateText('open', 'Acme').text).toBe('Open: waiting for Acme');
    expect(caseStateText('answered', 'Acme').text).toBe('Answered by Acme');
    expect(caseStateText('resolved', 'Acme').text).toBe('Resolved');
  });

  it('puts the agent’s refusals in words, saying nothing was sent', () => {
    expect(serviceError({ code: 'relationship.not_active', message: 'x' }, 'Acme')).toBe('You muted Acme: unmute it on its page first. Nothing was sent.');
    expect(serviceError({ code: 'service.no_supporter', message: 'x' }, undefined)).toMatch(/^No company made, sold or services this thing/);
    expect(serviceError({ code: 'thing.invalid', message: 'This thing has no serialNumber to share' }, 'Acme')).toBe('This thing has no serialNumber to share. Nothing was sent.');
    expect(serviceError({ code: 'thing.invalid', message: 'Add one first.' }, 'Acme')).toBe('Add one first. Nothing was sent.');
    expect(serviceError({ code: 'transport.unreachable', message: 'The company could not be reached' }, 'Acme')).toBe('The company could not be reached');
  });
});
