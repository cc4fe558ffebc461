import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeEach, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../core/clock.js';
import type { SignedReceipt } from '../../protocol/families/thing.js';
import type { RelationshipRecord } from './relationshipRepo.js';
import type { Vault } from './vault.js';
import { useTestVault } from '../../../test/support/testVault.js';
import { codeOf } from '../../../test/support/errorCodes.js';

let vault: Vault;
let clock: ManualClock;
let rel: RelationshipRecord;
let other: RelationshipRecord;

const t = useTestVault();
beforeEach(() => {
  ({ vault, clock, rel, other } = t);
});

const signed = (receiptId = 'c0ffee00-0000-4000-8000-000000000001'): SignedReceipt => ({
  receipt: {
    receipt_id: receiptId,
    seller: 'did:web:shop.example',
    seller_name: 'Acme Outfitters',
    buyer: 'did:peer:2.her',
    issued_at: '2026-03-15T10:00:00.000Z',
    purchase_date: '2026-03-15',
    price: { amount: '899.00', currency: 'EUR' },
    product: { name: 'Trail bike TR-1', gtin: '4006381333931', serialNumber: 'AO-TR1-000317' },
    warranty: { start: '2026-03-15', duration: 'P2Y' },
  },
  signature: 'eyJhbGciOiJFZERTQSJ9..c2ln',
});

describe('ThingReceiptRepo', () => {
  it('keeps a receipt pending, finds it by the seller’s id in its relationship only, and lists by state', () => {
    const mine = vault.thingReceipts.insert({ relationshipId: rel.id, signed: signed(), messageId: 'm-1' });
    clock.advance(1);
    const theirs = vault.thingReceipts.insert({ relationshipId: other.id, signed: signed(), messageId: 'm-2' });
    expect(mine).toMatchObject({ state: 'pending', thingId: null, signed: signed() });
    expect(vault.thingReceipts.findByReceiptId(rel.id, mine.signed.receipt.receipt_id)).toEqual(mine);
    expect(vault.thingReceipts.findByReceiptId(other.id, mine.signed.receipt.receipt_id)).toEqual(theirs);
    expect(vault.thingReceipts.findByReceiptId(rel.id, 'c0ffee00-0000-4000-8000-000000000002')).toBeUndefined();
    expect(vault.thingReceipts.list()).toEqual([mine, theirs]);
    expect(vault.thingReceipts.list('pending')).toEqual([mine, theirs]);
    expect(vault.thingReceipts.list('accepted')).toEqual([]);
    expect(vault.thingReceipts.ids()).toEqual([mine.id, theirs.id]);
  });

  it('settles once, with the thing made of it: a second answer changes nothing', () => {
    const record = vault.thingReceipts.insert({ relationshipId: rel.id, signed: signed(), messageId: 'm-1' });
    const thing = vault.things.insert({ name: 'Trail bike TR-1' });
    clock.advance(5);
    expect(vault.thingReceipts.settle(record.id, 'accepted', thing.id)).toBe(true);
    const settled = vault.thingReceipts.get(record.id);
    expect(settled).toMatchObject({ state: 'accepted', thingId: thing.id, updatedAt: record.createdAt + 5 });
    expect(vault.thingReceipts.settle(record.id, 'declined', null)).toBe(false);
    expect(vault.thingReceipts.get(record.id)).toEqual(settled);
    // Deleting the thing keeps the receipt, answered, without its thing.
    vault.things.remove(thing.id);
    expect(vault.thingReceipts.get(record.id)).toMatchObject({ state: 'accepted', thingId: null });
  });

  it('refuses the same receipt twice on a relationship, a malformed one, and an unknown relationship, writing nothing', () => {
    vault.thingReceipts.insert({ relationshipId: rel.id, signed: signed(), messageId: 'm-1' });
    const before = vault.snapshot();
    expect(codeOf(() => vault.thingReceipts.insert({ relationshipId: rel.id, signed: signed(), messageId: 'm-2' }))).toBe('vault.conflict');
    const bad = { ...signed(), receipt: { ...signed().receipt, product: { name: 'Bike', gtin: '4006381333932' } } };
    expect(codeOf(() => vault.thingReceipts.insert({ relationshipId: rel.id, signed: bad, messageId: 'm-3' }))).toBe('vault.corrupt');
    expect(codeOf(() => vault.thingReceipts.insert({ relationshipId: '00000000-0000-4000-8000-00000000dead', signed: signed('c0ffee00-0000-4000-8000-000000000009'), messageId: 'm-4' }))).toBe('relationship.unknown');
    expect(vault.snapshot()).toEqual(before);
  });

  it('keeps only ids, states, times and a blind index in plaintext', () => {
    const record = vault.thingReceipts.insert({ relationshipId: rel.id, signed: signed(), messageId: 'm-1' });
    const db = new Database(join(t.dir, 'vault.db'), { readonly: true });
    try {
      const row = db.prepare('SELECT * FROM thing_receipts WHERE id = ?').get(record.id) as Record<string, unknown>;
      const plaintext = JSON.stringify({ ...row, data: undefined });
      for (const value of ['Trail bike', '4006381333931', 'AO-TR1-000317', 'c0ffee00-0000-4000-8000-000000000001', 'shop.example']) expect(plaintext).not.toContain(value);
      expect((row['data'] as Buffer).toString('latin1')).not.toContain('Trail bike');
    } finally {
      db.close();
    }
  });
});
