import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../core/clock.js';
import type { SignedOffer } from '../../protocol/families/intent.js';
import { createDidResolver } from '../../protocol/did/resolver.js';
import { verifySignedOffer } from '../../protocol/intent/signedOffer.js';
import type { IntentRecipientRecord } from './intentRecipientRepo.js';
import type { IntentRecord } from './intentRepo.js';
import type { NewOffer } from './offerRepo.js';
import type { RelationshipRecord } from './relationshipRepo.js';
import type { Vault } from './vault.js';
import { sealBehindTheVault, TEST_VAULT_PASSPHRASE, useTestVault } from '../../../test/support/testVault.js';
import { newIntent, signedOffer } from '../../../test/support/intents.js';
import { codeOf } from '../../../test/support/errorCodes.js';

let vault: Vault;
let clock: ManualClock;
let rel: RelationshipRecord;
let other: RelationshipRecord;
let intent: IntentRecord;
let second: IntentRecord;
/** The intent cast to `rel` and to `other`, and the second intent cast to `rel`. */
let atRel: IntentRecipientRecord;
let atOther: IntentRecipientRecord;
let secondAtRel: IntentRecipientRecord;

const t = useTestVault();
beforeEach(() => {
  ({ vault, clock, rel, other } = t);
  intent = vault.intents.insert(newIntent());
  second = vault.intents.insert(newIntent());
  atRel = vault.intentRecipients.insert({ intentId: intent.id, relationshipId: rel.id, recipientIntentId: rid(1) });
  atOther = vault.intentRecipients.insert({ intentId: intent.id, relationshipId: other.id, recipientIntentId: rid(2) });
  secondAtRel = vault.intentRecipients.insert({ intentId: second.id, relationshipId: rel.id, recipientIntentId: rid(3) });
});

const id = (n: number): string => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const rid = (n: number): string => `11111111-1111-4111-8111-${String(n).padStart(12, '0')}`;
const MEETS = { meets: true, reasons: [] };

/** Offer n from a recipient (default: the intent at `rel`). */
function offer(n: number, to: IntentRecipientRecord = atRel, overrides: Partial<NewOffer> = {}): NewOffer {
  return { intentId: to.intentId, recipientId: to.id, relationshipId: to.relationshipId, signed: signedOffer(id(n), to.recipientIntentId), verdict: MEETS, ...overrides };
}

describe('OfferRepo', () => {
  it('stores an offer under its identifier as received, undecided, and keeps the signed offer as evidence', async () => {
    const o = vault.offers.insert(offer(1));
    expect(o).toEqual({ ...offer(1), id: id(1), state: 'received', decidedBy: null, createdAt: clock.now(), updatedAt: clock.now() });
    const read = vault.offers.get(id(1));
    expect(read).toEqual(o);
    // The evidence still verifies from the company's DID alone.
    expect(await verifySignedOffer(read?.signed, createDidResolver())).toEqual(o.signed);
    expect(vault.offers.get(id(2))).toBeUndefined();
    const given = vault.offers.insert(offer(2, atOther, { id: id(2), state: 'declined', verdict: { meets: false, reasons: ['price above 150 EUR'] }, decidedBy: 'outside-constraints', createdAt: 5, updatedAt: 6 }));
    expect(vault.offers.get(id(2))).toEqual(given);
  });

  it('refuses a redelivered offer, inconsistent references and bad input, writing nothing', () => {
    vault.offers.insert(offer(1));
    const before = vault.snapshot();
    expect(codeOf(() => vault.offers.insert(offer(1)))).toBe('vault.conflict');
    // Another company chose the same identifier: the first offer keeps it.
    expect(codeOf(() => vault.offers.insert(offer(1, atOther)))).toBe('vault.conflict');
    expect(codeOf(() => vault.offers.insert(offer(2, atRel, { id: id(3) })))).toBe('vault.corrupt');
    expect(codeOf(() => vault.offers.insert(offer(4, atRel, { recipientId: id(99) })))).toBe('intent.unknown');
    expect(codeOf(() => vault.offers.insert(offer(5, atRel, { intentId: second.id })))).toBe('vault.corrupt');
    expect(codeOf(() => vault.offers.insert(offer(6, atRel, { relationshipId: other.id })))).toBe('vault.corrupt');
    // An offer answering another recipient's intent id, though it came from this recipient.
    expect(codeOf(() => vault.offers.insert(offer(7, atRel, { signed: signedOffer(id(7), rid(2)) })))).toBe('vault.corrupt');
    expect(codeOf(() => vault.offers.insert(offer(8, atRel, { state: 'maybe' as 'received' })))).toBe('vault.corrupt');
    expect(codeOf(() => vault.offers.insert(offer(9, atRel, { verdict: { meets: 'yes' } as unknown as NewOffer['verdict'] })))).toBe('vault.corrupt');
    expect(codeOf(() => vault.offers.insert(offer(10, atRel, { decidedBy: '' })))).toBe('vault.corrupt');
    // The signed offer is checked with the protocol's schema: no signature, a member Kith does not send.
    expect(codeOf(() => vault.offers.insert(offer(11, atRel, { signed: { offer: signedOffer(id(11), rid(1)).offer } as SignedOffer })))).toBe('vault.corrupt');
    const extra = signedOffer(id(12), rid(1));
    expect(codeOf(() => vault.offers.insert(offer(12, atRel, { signed: { ...extra, offer: { ...extra.offer, tracking: 'x' } } as SignedOffer })))).toBe('vault.corrupt');
    expect(codeOf(() => vault.offers.insert(offer(13, atRel, { signed: undefined as unknown as SignedOffer })))).toBe('vault.corrupt');
    expect(vault.snapshot()).toEqual(before);
  });

  it('lists the offers of an intent side by side by arrival then id, per recipient, per relationship and overall', () => {
    clock.advance(10);
    vault.offers.insert(offer(3));
    vault.offers.insert(offer(2, atOther));
    vault.offers.insert(offer(1, atRel, { createdAt: clock.now() - 5 }));
    vault.offers.insert(offer(4, secondAtRel, { createdAt: clock.now() - 5 }));
    expect(vault.offers.listForIntent(intent.id).map((o) => o.id)).toEqual([id(1), id(2), id(3)]);
    expect(vault.offers.listForIntent(second.id).map((o) => o.id)).toEqual([id(4)]);
    expect(vault.offers.listForRecipient(atRel.id).map((o) => o.id)).toEqual([id(1), id(3)]);
    expect(vault.offers.listForRecipient(atOther.id).map((o) => o.id)).toEqual([id(2)]);
    expect(vault.offers.listForRelationship(rel.id).map((o) => o.id)).toEqual([id(1), id(4), id(3)]);
    expect(vault.offers.listForRelationship(other.id).map((o) => o.id)).toEqual([id(2)]);
    expect(vault.offers.all().map((o) => o.id)).toEqual([id(1), id(4), id(2), id(3)]);
  });

  it('settles an offer: the state, and who decided only where given, the signed offer unchanged', () => {
    const o = vault.offers.insert(offer(1, atRel, { verdict: { meets: false, reasons: ['delivery after 2026-12-20'] } }));
    clock.advance(100);
    expect(vault.offers.update(id(1), { state: 'declined', decidedBy: 'outside-constraints' })).toBe(true);
    expect(vault.offers.get(id(1))).toEqual({ ...o, state: 'declined', decidedBy: 'outside-constraints', updatedAt: clock.now() });
    expect(vault.offers.update(id(1), { state: 'closed' }, clock.now() + 1)).toBe(true);
    expect(vault.offers.get(id(1))).toEqual({ ...o, state: 'closed', decidedBy: 'outside-constraints', updatedAt: clock.now() + 1 });
    expect(vault.offers.update(id(1), { state: 'accepted', decidedBy: null })).toBe(true);
    expect(vault.offers.get(id(1))?.decidedBy).toBeNull();
    expect(JSON.stringify(vault.offers.get(id(1))?.signed)).toBe(JSON.stringify(o.signed));
  });

  it('reports an unknown offer or an unexpected state as false and refuses bad changes, writing nothing', () => {
    vault.offers.insert(offer(1, atRel, { state: 'withdrawn' }));
    const before = vault.snapshot();
    expect(vault.offers.update(id(2), { state: 'accepted' })).toBe(false);
    expect(vault.offers.update(id(1), { state: 'accepted', from: ['received'] })).toBe(false);
    expect(codeOf(() => vault.offers.update(id(1), { state: 'maybe' as 'received' }))).toBe('vault.corrupt');
    expect(codeOf(() => vault.offers.update(id(1), { state: 'declined', decidedBy: '' }))).toBe('vault.corrupt');
    expect(codeOf(() => vault.offers.update(id(1), { state: 'declined', from: ['maybe' as 'received'] }))).toBe('vault.corrupt');
    expect(vault.snapshot()).toEqual(before);
    expect(vault.offers.update(id(1), { state: 'closed', from: ['withdrawn'] })).toBe(true);
  });

  it('closes the other open offers of an intent, keeping who decided', () => {
    vault.offers.insert(offer(1));
    const declined = vault.offers.insert(offer(2, atOther, { state: 'declined', decidedBy: 'terms-refused' }));
    vault.offers.insert(offer(3, atOther));
    const elsewhere = vault.offers.insert(offer(4, secondAtRel));
    clock.advance(20);
    vault.transaction(() => {
      vault.offers.update(id(1), { state: 'accepted', from: ['received'] });
      expect(vault.offers.setStateForIntent(intent.id, { state: 'closed', from: ['received'] })).toBe(1);
    });
    expect(vault.offers.listForIntent(intent.id).map((o) => o.state)).toEqual(['accepted', 'declined', 'closed']);
    expect(vault.offers.get(id(2))).toEqual(declined);
    expect(vault.offers.get(id(3))?.updatedAt).toBe(clock.now());
    expect(vault.offers.get(id(4))).toEqual(elsewhere);
    expect(vault.offers.setStateForIntent(intent.id, { state: 'closed' })).toBe(3);
    expect(vault.offers.get(id(2))).toMatchObject({ state: 'closed', decidedBy: 'terms-refused' });
  });

  const badBlobs: [string, (data: Record<string, unknown>) => Record<string, unknown>][] = [
    ['a signed offer without its signature', (data) => ({ ...data, signed: { offer: (data['signed'] as SignedOffer).offer } })],
    ['an offer whose price is a number', (data) => ({ ...data, signed: { ...(data['signed'] as SignedOffer), offer: { ...(data['signed'] as SignedOffer).offer, price: 129.9 } } })],
    ['no verdict', (data) => ({ ...data, verdict: null })],
  ];

  it.each(badBlobs)('reports an offer whose stored blob holds %s as vault.corrupt on every read, and returns none of it', (_name, bad) => {
    const stored = vault.offers.insert(offer(1));
    const fine = vault.offers.insert(offer(2, atOther));
    const { signed, verdict, decidedBy } = stored;
    sealBehindTheVault(join(t.dir, 'vault.db'), TEST_VAULT_PASSPHRASE, 'intent_offers', stored.id, bad({ signed, verdict, decidedBy }));
    expect(codeOf(() => vault.offers.get(stored.id))).toBe('vault.corrupt');
    expect(codeOf(() => vault.offers.listForIntent(intent.id))).toBe('vault.corrupt');
    expect(codeOf(() => vault.offers.all())).toBe('vault.corrupt');
    expect(codeOf(() => vault.offers.update(stored.id, { state: 'closed' }))).toBe('vault.corrupt');
    expect(vault.offers.listForRelationship(other.id)).toEqual([fine]);
  });
});
