import { beforeEach, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../core/clock.js';
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

const challenge = (relationshipId: string, challengeId = 'c0ffee00-0000-4000-8000-000000000001') => ({
  relationshipId,
  challengeId,
  messageId: 'd00d0000-0000-4000-8000-000000000001',
  code: 'K7Q4MX',
  agent: 'Sam, Acme support',
  expiresAt: clock.now() + 300_000,
});

describe('VerificationRepo', () => {
  it('keeps a challenge pending, finds it by the company id in its relationship only, and lists per relationship', () => {
    const mine = vault.verifications.insert(challenge(rel.id));
    clock.advance(1);
    const theirs = vault.verifications.insert(challenge(other.id));
    expect(mine).toMatchObject({ state: 'pending', code: 'K7Q4MX', agent: 'Sam, Acme support' });
    expect(vault.verifications.findByChallengeId(rel.id, mine.challengeId)).toEqual(mine);
    expect(vault.verifications.findByChallengeId(other.id, mine.challengeId)).toEqual(theirs);
    expect(vault.verifications.findByChallengeId(rel.id, 'another')).toBeUndefined();
    expect(vault.verifications.list(rel.id)).toEqual([mine]);
    expect(vault.verifications.list()).toEqual([mine, theirs]);
  });

  it('settles once: a second answer changes nothing', () => {
    const record = vault.verifications.insert(challenge(rel.id));
    clock.advance(5);
    expect(vault.verifications.settle(record.id, 'approved')).toBe(true);
    const settled = vault.verifications.get(record.id);
    expect(settled).toMatchObject({ state: 'approved', updatedAt: record.createdAt + 5 });
    expect(vault.verifications.settle(record.id, 'refused')).toBe(false);
    expect(vault.verifications.get(record.id)).toEqual(settled);
  });

  it('refuses a redelivered challenge and a code outside the alphabet, writing nothing', () => {
    vault.verifications.insert(challenge(rel.id));
    const before = vault.verifications.list();
    expect(codeOf(() => vault.verifications.insert(challenge(rel.id)))).toBe('vault.conflict');
    expect(codeOf(() => vault.verifications.insert({ ...challenge(rel.id, 'other'), code: 'K0Q4MX' }))).toBe('vault.corrupt');
    expect(vault.verifications.list()).toEqual(before);
  });
});
