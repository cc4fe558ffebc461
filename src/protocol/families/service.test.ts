import { describe, expect, it } from 'vitest';
import { CASE_STATES, MAX_CASE_TEXT, SHAREABLE_THING_FIELDS, Service } from './service.js';

const CASE_ID = '5a3e8c1d-9f47-4b2a-8e6c-0d1f7b3a9c52';
const OPEN = {
  case_id: CASE_ID,
  thing: { model: 'CF-300', serialNumber: 'SN-1', purchaseDate: '2025-11-02', gtin: '4006381333931', price: { amount: '899.00', currency: 'EUR' } },
  text: 'The freezer is warm.\nSince Monday.',
  warranty_claim: true,
  identifier: { kind: 'policy_number', value: '88-123', label: 'Home insurance' },
};

describe('service 1.0', () => {
  it('takes a case-open with the picked details, or none, and an optional identifier', () => {
    const body = Service.caseOpen.body;
    expect(body.safeParse(OPEN).success).toBe(true);
    expect(body.safeParse({ ...OPEN, thing: {} }).success).toBe(true);
    const { identifier: _identifier, ...withoutIdentifier } = OPEN;
    expect(body.safeParse(withoutIdentifier).success).toBe(true);
    expect(SHAREABLE_THING_FIELDS).toEqual(['name', 'brand', 'model', 'gtin', 'mpn', 'serialNumber', 'purchaseDate', 'price', 'seller']);
  });

  it('refuses a thing member the family does not know (her notes, where it is, anything else), and bad values', () => {
    const body = Service.caseOpen.body;
    for (const thing of [{ notes: 'x' }, { location: 'Kitchen' }, { colour: 'red' }, { gtin: '4006381333932' }, { purchaseDate: '02/11/2025' }, { price: { amount: '-1', currency: 'EUR' } }, { price: { amount: '1', currency: 'EUX' } }, { model: '' }]) {
      expect(body.safeParse({ ...OPEN, thing }).success, JSON.stringify(thing)).toBe(false);
    }
  });

  it('refuses a case without an id or a UUID, without text, with blank, too long or control-laden text, or without the flag', () => {
    const body = Service.caseOpen.body;
    const { case_id: _id, ...noId } = OPEN;
    expect(body.safeParse(noId).success).toBe(false);
    expect(body.safeParse({ ...OPEN, case_id: 'case-1' }).success).toBe(false);
    expect(body.safeParse({ ...OPEN, text: 'x'.repeat(MAX_CASE_TEXT) }).success).toBe(true);
    for (const text of ['', '   \n', 'x'.repeat(MAX_CASE_TEXT + 1), 'warm\u0000', 'warm\u001b[31m', 'abc\u202edcba', undefined]) {
      expect(body.safeParse({ ...OPEN, text }).success, JSON.stringify(text)).toBe(false);
    }
    for (const warranty_claim of ['yes', 1, undefined]) expect(body.safeParse({ ...OPEN, warranty_claim }).success).toBe(false);
    for (const identifier of [{ kind: 'passport', value: 'X' }, { kind: 'policy_number', value: '' }, { kind: 'policy_number', value: '88-123', issued_at: '2026-01-01T00:00:00Z' }]) {
      expect(body.safeParse({ ...OPEN, identifier }).success, JSON.stringify(identifier)).toBe(false);
    }
  });

  it('replies and resolves name the case; a resolve may have no words', () => {
    expect(Service.caseReply.body.safeParse({ case_id: CASE_ID, text: 'Monday, 9–12.' }).success).toBe(true);
    expect(Service.caseReply.body.safeParse({ case_id: CASE_ID }).success).toBe(false);
    expect(Service.caseReply.body.safeParse({ text: 'x' }).success).toBe(false);
    expect(Service.caseResolve.body.safeParse({ case_id: CASE_ID }).success).toBe(true);
    expect(Service.caseResolve.body.safeParse({ case_id: CASE_ID, text: '' }).success).toBe(false);
  });

  it('acknowledges with one of the three states', () => {
    for (const state of CASE_STATES) expect(Service.ack.body.safeParse({ case_id: CASE_ID, state }).success).toBe(true);
    for (const state of ['closed', 'OPEN', undefined]) expect(Service.ack.body.safeParse({ case_id: CASE_ID, state }).success).toBe(false);
  });

  it('goes to the company to open; replies, resolves and acks travel both ways', () => {
    expect(Service.caseOpen.receivers).toEqual(['company']);
    for (const definition of [Service.caseReply, Service.caseResolve, Service.ack]) expect(definition.receivers).toEqual(['person', 'company']);
  });
});
