import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { KithError } from '../../core/errors.js';
import { createPeerIdentity, signingKeyOf } from '../agent/identity.js';
import { createDidResolver } from '../did/resolver.js';
import { signReceipt, verifySignedReceipt } from '../things/receipt.js';
import { Thing, recallBodySchema, receiptAnswerBodySchema, receiptDocumentSchema, registerBodySchema, signedReceiptSchema, type ReceiptDocument } from './thing.js';
import { createMessageRegistry } from './index.js';

const company = createPeerIdentity('http://127.0.0.1:7401/didcomm').identity;
const stranger = createPeerIdentity('http://127.0.0.1:7402/didcomm').identity;
const her = createPeerIdentity('http://127.0.0.1:7400/didcomm/r1').identity;
const resolver = createDidResolver();

function receipt(overrides: Partial<ReceiptDocument> = {}): ReceiptDocument {
  return {
    receipt_id: randomUUID(),
    seller: company.did,
    seller_name: 'Acme Outfitters',
    buyer: her.did,
    issued_at: '2026-03-15T10:00:00.000Z',
    purchase_date: '2026-03-15',
    price: { amount: '899.00', currency: 'EUR' },
    product: { name: 'Trail bike', brand: 'Acme', model: 'TR-1', gtin: '4006381333931', serialNumber: 'SN-0001' },
    warranty: { start: '2026-03-15', duration: 'P2Y', scope: 'Frame and gears', provider: 'Acme Outfitters' },
    ...overrides,
  };
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof KithError) return error.code;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('thing 1.0 bodies', () => {
  it('takes a receipt with schema.org product fields and warranty terms, and refuses a malformed one', () => {
    expect(receiptDocumentSchema.safeParse(receipt()).success).toBe(true);
    expect(receiptDocumentSchema.safeParse(receipt({ product: { name: 'Bike', gtin: '4006381333932' } })).success).toBe(false);
    expect(receiptDocumentSchema.safeParse(receipt({ price: { amount: '1,00', currency: 'EUR' } })).success).toBe(false);
    expect(receiptDocumentSchema.safeParse(receipt({ price: { amount: '1.00', currency: 'EUX' } })).success).toBe(false);
    expect(receiptDocumentSchema.safeParse(receipt({ warranty: { start: '2026-03-15', duration: 'PT2H' } })).success).toBe(false);
    expect(receiptDocumentSchema.safeParse({ ...receipt(), extra: 1 }).success).toBe(false);
    expect(receiptDocumentSchema.safeParse(receipt({ product: { name: '' } })).success).toBe(false);
  });

  it('takes a registration naming the gtin or the model, each field once, and nothing else', () => {
    const presentation = { format: 'dc+sd-jwt', sd_jwt: 'x~' };
    const base = { registration_id: randomUUID(), consent_record_id: randomUUID(), purpose: 'Warranty and recalls', presentation };
    expect(registerBodySchema.safeParse({ ...base, fields: ['gtin', 'serial_number'] }).success).toBe(true);
    expect(registerBodySchema.safeParse({ ...base, fields: ['model'] }).success).toBe(true);
    expect(registerBodySchema.safeParse({ ...base, fields: ['serial_number'] }).success).toBe(false);
    expect(registerBodySchema.safeParse({ ...base, fields: ['gtin', 'gtin'] }).success).toBe(false);
    expect(registerBodySchema.safeParse({ ...base, fields: ['gtin', 'email'] }).success).toBe(false);
  });

  it('takes a recall naming a gtin or a model, with an https link at most', () => {
    const base = { recall_id: randomUUID(), text: 'Stop using the brake lever', issued_at: '2026-04-01T00:00:00.000Z' };
    expect(recallBodySchema.safeParse({ ...base, gtin: '4006381333931' }).success).toBe(true);
    expect(recallBodySchema.safeParse({ ...base, model: 'TR-1', url: 'https://acme.example/recall' }).success).toBe(true);
    expect(recallBodySchema.safeParse(base).success).toBe(false);
    expect(recallBodySchema.safeParse({ ...base, model: 'TR-1', url: 'javascript:alert(1)' }).success).toBe(false);
    expect(receiptAnswerBodySchema.safeParse({ receipt_id: randomUUID(), state: 'maybe' }).success).toBe(false);
  });

  it('registers five messages, each with one receiving side', () => {
    const registry = createMessageRegistry();
    for (const definition of Object.values(Thing)) expect(registry.has(definition.type)).toBe(true);
    expect(Thing.receipt.type).toBe('https://kith.invalid/protocols/thing/1.0/receipt');
    expect(Thing.receipt.receivers).toEqual(['person']);
    expect(Thing.register.receivers).toEqual(['company']);
  });
});

describe('signed receipts', () => {
  it('verifies a receipt the seller signed, whatever the order of its members', async () => {
    const signed = signReceipt(receipt(), signingKeyOf(company));
    const reordered = { signature: signed.signature, receipt: Object.fromEntries(Object.entries(signed.receipt).reverse()) };
    expect(await verifySignedReceipt(reordered, company.did, resolver)).toEqual(signed);
    expect(signedReceiptSchema.parse(JSON.parse(JSON.stringify(signed)))).toEqual(signed);
  });

  it('refuses a receipt signed by another key, naming another seller, altered, or malformed', async () => {
    // Signed by a stranger's key while naming the company as seller.
    expect(await refusal(verifySignedReceipt(signReceipt(receipt(), signingKeyOf(stranger)), company.did, resolver))).toBe('thing.receipt_invalid');
    // Honestly signed by a stranger, arriving on the company's relationship.
    expect(await refusal(verifySignedReceipt(signReceipt(receipt({ seller: stranger.did }), signingKeyOf(stranger)), company.did, resolver))).toBe('thing.receipt_invalid');
    const signed = signReceipt(receipt(), signingKeyOf(company));
    expect(await refusal(verifySignedReceipt({ ...signed, receipt: { ...signed.receipt, price: { amount: '1.00', currency: 'EUR' } } }, company.did, resolver))).toBe('thing.receipt_invalid');
    expect(await refusal(verifySignedReceipt({ ...signed, signature: 'not-a-jws' }, company.did, resolver))).toBe('thing.receipt_invalid');
    expect(await refusal(verifySignedReceipt({ receipt: { ...signed.receipt, purchase_date: 'yesterday' }, signature: signed.signature }, company.did, resolver))).toBe('thing.receipt_invalid');
    expect(await refusal(verifySignedReceipt({ ...signed, extra: 1 }, company.did, resolver))).toBe('thing.receipt_invalid');
  });
});
