import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../core/clock.js';
import type { Demand } from '../../protocol/families/intent.js';
import type { RelationshipRecord } from './relationshipRepo.js';
import type { Vault } from './vault.js';
import { sealBehindTheVault, TEST_VAULT_PASSPHRASE, useTestVault } from '../../../test/support/testVault.js';
import { demand, newIntent, signedOffer } from '../../../test/support/intents.js';
import { codeOf } from '../../../test/support/errorCodes.js';

let vault: Vault;
let clock: ManualClock;
let rel: RelationshipRecord;

const t = useTestVault();
beforeEach(() => {
  ({ vault, clock, rel } = t);
});

const id = (n: number): string => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

/** Casts intent `intentId` to `rel` and stores offer `offerId` for it. */
function offerFor(intentId: string, offerId: string): void {
  const recipient = vault.intentRecipients.insert({ intentId, relationshipId: rel.id, recipientIntentId: id(900 + Number(offerId.slice(-3))) });
  vault.offers.insert({ intentId, recipientId: recipient.id, relationshipId: rel.id, signed: signedOffer(offerId, recipient.recipientIntentId), verdict: { meets: true, reasons: [] } });
}

describe('IntentRepo', () => {
  it('stores a new intent as open, accepting nothing, created now, and reads it back', () => {
    const i = vault.intents.insert(newIntent({ disclose: ['email'] }));
    expect(i).toEqual({ ...newIntent({ disclose: ['email'] }), id: i.id, state: 'open', acceptedOfferId: null, createdAt: clock.now(), updatedAt: clock.now() });
    expect(i.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(vault.intents.get(i.id)).toEqual(i);
    expect(vault.intents.get(id(1))).toBeUndefined();
    const given = vault.intents.insert(newIntent({ id: id(2), state: 'closed', outcome: null, currencyRequired: false, createdAt: 5, updatedAt: 7 }));
    expect(vault.intents.get(id(2))).toEqual(given);
    expect(given).toMatchObject({ outcome: null, currencyRequired: false, createdAt: 5, updatedAt: 7 });
  });

  it('refuses a duplicate id and invalid input, writing nothing', () => {
    vault.intents.insert(newIntent({ id: id(1) }));
    const before = vault.snapshot();
    expect(codeOf(() => vault.intents.insert(newIntent({ id: id(1) })))).toBe('vault.conflict');
    expect(codeOf(() => vault.intents.insert(newIntent({ id: 'nope' })))).toBe('vault.corrupt');
    expect(codeOf(() => vault.intents.insert(newIntent({ state: 'pending' as 'open' })))).toBe('vault.corrupt');
    expect(codeOf(() => vault.intents.insert(newIntent({ agreementId: '' })))).toBe('vault.corrupt');
    expect(codeOf(() => vault.intents.insert(newIntent({ outcome: '' })))).toBe('vault.corrupt');
    expect(codeOf(() => vault.intents.insert(newIntent({ disclose: [''] })))).toBe('vault.corrupt');
    expect(codeOf(() => vault.intents.insert(newIntent({ expiresAt: -1 })))).toBe('vault.corrupt');
    // The demand is checked with the protocol's schema: an unknown category, a member schema.org has but Kith does not send.
    expect(codeOf(() => vault.intents.insert(newIntent({ demand: { ...demand(), category: 'spaceships' as Demand['category'] } })))).toBe('vault.corrupt');
    expect(codeOf(() => vault.intents.insert(newIntent({ demand: { ...demand(), seller: 'x' } as Demand })))).toBe('vault.corrupt');
    // An accepted intent names the offer she accepted.
    expect(codeOf(() => vault.intents.insert(newIntent({ state: 'accepted' })))).toBe('vault.corrupt');
    expect(vault.snapshot()).toEqual(before);
  });

  it('lists oldest first, optionally in one state', () => {
    const a = vault.intents.insert(newIntent());
    clock.advance(10);
    const b = vault.intents.insert(newIntent({ state: 'expired' }));
    const c = vault.intents.insert(newIntent({ createdAt: clock.now() - 20 }));
    expect(vault.intents.list().map((i) => i.id)).toEqual([c.id, a.id, b.id]);
    expect(vault.intents.list({ state: 'open' }).map((i) => i.id)).toEqual([c.id, a.id]);
    expect(vault.intents.list({ state: 'expired' }).map((i) => i.id)).toEqual([b.id]);
    expect(vault.intents.list({ state: 'accepted' })).toEqual([]);
    expect(codeOf(() => vault.intents.list({ state: 'gone' as 'open' }))).toBe('vault.corrupt');
  });

  it('finds the open intents that have expired by a time, soonest first', () => {
    const late = vault.intents.insert(newIntent({ expiresAt: 300 }));
    const soon = vault.intents.insert(newIntent({ expiresAt: 100 }));
    vault.intents.insert(newIntent({ expiresAt: 50, state: 'closed' }));
    expect(vault.intents.openExpiredBy(99)).toEqual([]);
    expect(vault.intents.openExpiredBy(100).map((i) => i.id)).toEqual([soon.id]);
    expect(vault.intents.openExpiredBy(1000).map((i) => i.id)).toEqual([soon.id, late.id]);
  });

  it('updates the state, and the accepted offer only where given', () => {
    const i = vault.intents.insert(newIntent());
    offerFor(i.id, id(101));
    clock.advance(100);
    expect(vault.intents.update(i.id, { state: 'accepted', acceptedOfferId: id(101) })).toBe(true);
    expect(vault.intents.get(i.id)).toEqual({ ...i, state: 'accepted', acceptedOfferId: id(101), updatedAt: clock.now() });
    expect(vault.intents.update(i.id, { state: 'closed' }, clock.now() + 5)).toBe(true);
    expect(vault.intents.get(i.id)).toEqual({ ...i, state: 'closed', acceptedOfferId: id(101), updatedAt: clock.now() + 5 });
    expect(vault.intents.update(i.id, { state: 'open', acceptedOfferId: null })).toBe(true);
    expect(vault.intents.get(i.id)?.acceptedOfferId).toBeNull();
  });

  it('changes only an intent in an expected state when asked to (compare and set)', () => {
    const i = vault.intents.insert(newIntent());
    offerFor(i.id, id(101));
    expect(vault.intents.update(i.id, { state: 'accepted', acceptedOfferId: id(101), from: ['open'] })).toBe(true);
    const before = vault.snapshot();
    expect(vault.intents.update(i.id, { state: 'expired', from: ['open'] })).toBe(false);
    expect(vault.intents.update(i.id, { state: 'closed', from: [] })).toBe(false);
    expect(vault.snapshot()).toEqual(before);
    expect(vault.intents.update(i.id, { state: 'closed', from: ['open', 'accepted'] })).toBe(true);
  });

  it('reports an unknown intent as false and refuses bad changes, writing nothing', () => {
    const i = vault.intents.insert(newIntent());
    const j = vault.intents.insert(newIntent());
    offerFor(j.id, id(102));
    const before = vault.snapshot();
    expect(vault.intents.update(id(1), { state: 'closed' })).toBe(false);
    expect(codeOf(() => vault.intents.update(i.id, { state: 'gone' as 'open' }))).toBe('vault.corrupt');
    expect(codeOf(() => vault.intents.update(i.id, { state: 'accepted' }))).toBe('vault.corrupt');
    expect(codeOf(() => vault.intents.update(i.id, { state: 'closed', from: ['gone' as 'open'] }))).toBe('vault.corrupt');
    expect(codeOf(() => vault.intents.update(i.id, { state: 'accepted', acceptedOfferId: 'nope' }))).toBe('vault.corrupt');
    // The accepted offer must be an offer of this intent: not a missing one, not another intent's.
    expect(codeOf(() => vault.intents.update(i.id, { state: 'accepted', acceptedOfferId: id(101) }))).toBe('intent.offer_unknown');
    expect(codeOf(() => vault.intents.update(i.id, { state: 'accepted', acceptedOfferId: id(102) }))).toBe('intent.offer_unknown');
    expect(vault.snapshot()).toEqual(before);
  });

  it('removes an intent with its recipients and offers, and nothing else', () => {
    const i = vault.intents.insert(newIntent());
    const j = vault.intents.insert(newIntent());
    offerFor(i.id, id(101));
    offerFor(j.id, id(102));
    expect(vault.intents.remove(i.id)).toBe(true);
    expect(vault.intents.remove(i.id)).toBe(false);
    expect(vault.intents.list().map((x) => x.id)).toEqual([j.id]);
    expect(vault.intentRecipients.all().map((r) => r.intentId)).toEqual([j.id]);
    expect(vault.offers.all().map((o) => o.id)).toEqual([id(102)]);
  });

  const badBlobs: [string, (data: Record<string, unknown>) => Record<string, unknown>][] = [
    ['a demand of another shape', (data) => ({ ...data, demand: { what: 'shoes' } })],
    ['a demand in an unknown category', (data) => ({ ...data, demand: { ...(data['demand'] as Demand), category: 'spaceships' } })],
    ['no disclosure list', (data) => ({ ...data, disclose: undefined })],
    ['an accepted offer that is not an id', (data) => ({ ...data, acceptedOfferId: 42 })],
  ];

  it.each(badBlobs)('reports an intent whose stored blob holds %s as vault.corrupt on every read, and returns none of it', (_name, bad) => {
    const stored = vault.intents.insert(newIntent());
    clock.advance(1);
    const fine = vault.intents.insert(newIntent({ state: 'closed' }));
    const { demand: d, outcome, currencyRequired, agreementId, disclose, acceptedOfferId } = stored;
    sealBehindTheVault(join(t.dir, 'vault.db'), TEST_VAULT_PASSPHRASE, 'intents', stored.id, bad({ demand: d, outcome, currencyRequired, agreementId, disclose, acceptedOfferId }));
    expect(codeOf(() => vault.intents.get(stored.id))).toBe('vault.corrupt');
    expect(codeOf(() => vault.intents.list())).toBe('vault.corrupt');
    expect(codeOf(() => vault.intents.openExpiredBy(Number.MAX_SAFE_INTEGER))).toBe('vault.corrupt');
    expect(codeOf(() => vault.intents.update(stored.id, { state: 'closed' }))).toBe('vault.corrupt');
    // Only that intent: the other reads as written.
    expect(vault.intents.list({ state: 'closed' })).toEqual([fine]);
  });
});
