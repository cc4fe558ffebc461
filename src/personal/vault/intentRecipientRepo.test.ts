import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../core/clock.js';
import type { IntentRecord } from './intentRepo.js';
import type { NewIntentRecipient } from './intentRecipientRepo.js';
import type { RelationshipRecord } from './relationshipRepo.js';
import type { Vault } from './vault.js';
import { sealBehindTheVault, TEST_VAULT_PASSPHRASE, useTestVault } from '../../../test/support/testVault.js';
import { newIntent } from '../../../test/support/intents.js';
import { codeOf } from '../../../test/support/errorCodes.js';

let vault: Vault;
let clock: ManualClock;
let rel: RelationshipRecord;
let other: RelationshipRecord;
let intent: IntentRecord;
let second: IntentRecord;

const t = useTestVault();
beforeEach(() => {
  ({ vault, clock, rel, other } = t);
  intent = vault.intents.insert(newIntent());
  second = vault.intents.insert(newIntent({ outcome: null }));
});

const id = (n: number): string => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
/** The intent id recipient n was sent (fresh per recipient). */
const rid = (n: number): string => `11111111-1111-4111-8111-${String(n).padStart(12, '0')}`;

function recipient(n: number, overrides: Partial<NewIntentRecipient> = {}): NewIntentRecipient {
  return { intentId: intent.id, relationshipId: rel.id, recipientIntentId: rid(n), ...overrides };
}

describe('IntentRecipientRepo', () => {
  it('stores a recipient as sent over an existing relationship, with no answer to her terms yet, and reads it back', () => {
    const r = vault.intentRecipients.insert(recipient(1));
    expect(r).toEqual({ ...recipient(1), id: r.id, state: 'sent', termsDecision: null, anonymous: false, createdAt: clock.now(), updatedAt: clock.now() });
    expect(vault.intentRecipients.get(r.id)).toEqual(r);
    const given = vault.intentRecipients.insert(recipient(2, { id: id(2), relationshipId: other.id, state: 'acknowledged', termsDecision: 'countered', anonymous: true, createdAt: 5, updatedAt: 6 }));
    expect(vault.intentRecipients.get(id(2))).toEqual(given);
    // An update keeps whether the cast opened the relationship.
    vault.intentRecipients.update(id(2), { state: 'closed' });
    expect(vault.intentRecipients.get(id(2))).toMatchObject({ state: 'closed', anonymous: true, termsDecision: 'countered' });
  });

  it('finds a recipient by the intent id that company knows, only on its own relationship', () => {
    const a = vault.intentRecipients.insert(recipient(1));
    const b = vault.intentRecipients.insert(recipient(2, { relationshipId: other.id }));
    expect(vault.intentRecipients.findByRecipientIntentId(rel.id, rid(1))).toEqual(a);
    expect(vault.intentRecipients.findByRecipientIntentId(other.id, rid(2))).toEqual(b);
    // Another company's intent id, presented on this relationship, is not this relationship's.
    expect(vault.intentRecipients.findByRecipientIntentId(rel.id, rid(2))).toBeUndefined();
    expect(vault.intentRecipients.findByRecipientIntentId(other.id, rid(1))).toBeUndefined();
    expect(vault.intentRecipients.findByRecipientIntentId(rel.id, rid(3))).toBeUndefined();
  });

  it('refuses a second cast of one intent over one relationship, a reused intent id, a duplicate id and bad input, writing nothing', () => {
    vault.intentRecipients.insert(recipient(1, { id: id(1) }));
    const before = vault.snapshot();
    expect(codeOf(() => vault.intentRecipients.insert(recipient(2)))).toBe('vault.conflict');
    expect(codeOf(() => vault.intentRecipients.insert(recipient(1, { intentId: second.id })))).toBe('vault.conflict');
    expect(codeOf(() => vault.intentRecipients.insert(recipient(3, { id: id(1), relationshipId: other.id })))).toBe('vault.conflict');
    expect(codeOf(() => vault.intentRecipients.insert(recipient(4, { intentId: id(99) })))).toBe('intent.unknown');
    expect(codeOf(() => vault.intentRecipients.insert(recipient(5, { intentId: second.id, relationshipId: id(98) })))).toBe('relationship.unknown');
    expect(codeOf(() => vault.intentRecipients.insert(recipient(6, { intentId: second.id, recipientIntentId: 'not-a-uuid' })))).toBe('vault.corrupt');
    expect(codeOf(() => vault.intentRecipients.insert(recipient(7, { intentId: second.id, state: 'lost' as 'sent' })))).toBe('vault.corrupt');
    expect(codeOf(() => vault.intentRecipients.insert(recipient(8, { intentId: second.id, termsDecision: 'maybe' as 'accepted' })))).toBe('vault.corrupt');
    expect(vault.snapshot()).toEqual(before);
  });

  it('lists oldest first, per intent, per relationship and overall', () => {
    const a = vault.intentRecipients.insert(recipient(1));
    clock.advance(10);
    const b = vault.intentRecipients.insert(recipient(2, { relationshipId: other.id }));
    const c = vault.intentRecipients.insert(recipient(3, { intentId: second.id, createdAt: clock.now() - 20 }));
    expect(vault.intentRecipients.listForIntent(intent.id).map((r) => r.id)).toEqual([a.id, b.id]);
    expect(vault.intentRecipients.listForIntent(second.id).map((r) => r.id)).toEqual([c.id]);
    expect(vault.intentRecipients.listForRelationship(rel.id).map((r) => r.id)).toEqual([c.id, a.id]);
    expect(vault.intentRecipients.listForRelationship(other.id).map((r) => r.id)).toEqual([b.id]);
    expect(vault.intentRecipients.all().map((r) => r.id)).toEqual([c.id, a.id, b.id]);
    expect(vault.intentRecipients.listForIntent(id(99))).toEqual([]);
  });

  it('updates the state, and the answer to her terms only where given', () => {
    const r = vault.intentRecipients.insert(recipient(1));
    clock.advance(100);
    expect(vault.intentRecipients.update(r.id, { state: 'acknowledged', termsDecision: 'accepted' })).toBe(true);
    expect(vault.intentRecipients.get(r.id)).toEqual({ ...r, state: 'acknowledged', termsDecision: 'accepted', updatedAt: clock.now() });
    expect(vault.intentRecipients.update(r.id, { state: 'closed' }, clock.now() + 1)).toBe(true);
    expect(vault.intentRecipients.get(r.id)).toEqual({ ...r, state: 'closed', termsDecision: 'accepted', updatedAt: clock.now() + 1 });
    expect(vault.intentRecipients.update(r.id, { state: 'closed', termsDecision: null })).toBe(true);
    expect(vault.intentRecipients.get(r.id)?.termsDecision).toBeNull();
    // The intent id it was sent is kept: it still finds the recipient.
    expect(vault.intentRecipients.findByRecipientIntentId(rel.id, rid(1))?.id).toBe(r.id);
  });

  it('reports an unknown recipient or an unexpected state as false and refuses bad changes, writing nothing', () => {
    const r = vault.intentRecipients.insert(recipient(1, { state: 'queued' }));
    const before = vault.snapshot();
    expect(vault.intentRecipients.update(id(99), { state: 'sent' })).toBe(false);
    expect(vault.intentRecipients.update(r.id, { state: 'acknowledged', from: ['sent'] })).toBe(false);
    expect(codeOf(() => vault.intentRecipients.update(r.id, { state: 'lost' as 'sent' }))).toBe('vault.corrupt');
    expect(codeOf(() => vault.intentRecipients.update(r.id, { state: 'sent', termsDecision: 'maybe' as 'accepted' }))).toBe('vault.corrupt');
    expect(codeOf(() => vault.intentRecipients.update(r.id, { state: 'sent', from: ['lost' as 'sent'] }))).toBe('vault.corrupt');
    expect(vault.snapshot()).toEqual(before);
    expect(vault.intentRecipients.update(r.id, { state: 'sent', from: ['queued', 'failed'] })).toBe(true);
  });

  it('closes every recipient of one intent, or only those in the given states, keeping their answers', () => {
    const a = vault.intentRecipients.insert(recipient(1, { state: 'acknowledged', termsDecision: 'rejected' }));
    const b = vault.intentRecipients.insert(recipient(2, { relationshipId: other.id, state: 'failed' }));
    const c = vault.intentRecipients.insert(recipient(3, { intentId: second.id }));
    clock.advance(50);
    expect(vault.intentRecipients.setStateForIntent(intent.id, { state: 'closed', from: ['sent', 'acknowledged'] })).toBe(1);
    expect(vault.intentRecipients.get(a.id)).toEqual({ ...a, state: 'closed', updatedAt: clock.now() });
    expect(vault.intentRecipients.get(b.id)).toEqual(b);
    expect(vault.intentRecipients.setStateForIntent(intent.id, { state: 'closed', from: [] })).toBe(0);
    expect(vault.intentRecipients.setStateForIntent(intent.id, { state: 'closed' })).toBe(2);
    expect(vault.intentRecipients.get(b.id)?.state).toBe('closed');
    expect(vault.intentRecipients.get(c.id)).toEqual(c);
    expect(codeOf(() => vault.intentRecipients.setStateForIntent(second.id, { state: 'lost' as 'sent' }))).toBe('vault.corrupt');
    expect(vault.intentRecipients.get(c.id)).toEqual(c);
  });

  it('reports a recipient whose stored blob does not parse as vault.corrupt, and only that one', () => {
    const stored = vault.intentRecipients.insert(recipient(1));
    const fine = vault.intentRecipients.insert(recipient(2, { relationshipId: other.id }));
    sealBehindTheVault(join(t.dir, 'vault.db'), TEST_VAULT_PASSPHRASE, 'intent_recipients', stored.id, { recipientIntentId: 'not-a-uuid', termsDecision: null });
    expect(codeOf(() => vault.intentRecipients.get(stored.id))).toBe('vault.corrupt');
    expect(codeOf(() => vault.intentRecipients.listForIntent(intent.id))).toBe('vault.corrupt');
    expect(codeOf(() => vault.intentRecipients.findByRecipientIntentId(rel.id, rid(1)))).toBe('vault.corrupt');
    expect(vault.intentRecipients.listForRelationship(other.id)).toEqual([fine]);
  });
});
