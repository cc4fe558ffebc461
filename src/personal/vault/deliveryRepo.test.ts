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

/** Logs profile versions 1..n so deliveries can refer to them. */
function versions(n: number): void {
  for (let i = 1; i <= n; i++) vault.profile.applyChange({ [`f${i}`]: i });
}

describe('DeliveryRepo', () => {
  it('creates pending deliveries with no attempts, due now', () => {
    versions(1);
    const d = vault.deliveries.create({ version: 1, relationshipId: rel.id, fields: ['email'] });
    expect(d).toEqual({
      id: d.id,
      version: 1,
      relationshipId: rel.id,
      state: 'pending',
      attempts: 0,
      nextAttemptAt: clock.now(),
      createdAt: clock.now(),
      updatedAt: clock.now(),
      fields: ['email'],
    });
    expect(d.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(vault.deliveries.get(d.id)).toEqual(d);
    expect(vault.deliveries.countPending()).toBe(1);
    expect(vault.deliveries.nextDueAt()).toBe(clock.now());
  });

  it('refuses an unknown version, an unknown relationship, a second delivery of a version and empty fields', () => {
    versions(1);
    vault.deliveries.create({ version: 1, relationshipId: rel.id, fields: ['email'] });
    expect(codeOf(() => vault.deliveries.create({ version: 2, relationshipId: rel.id, fields: ['email'] }))).toBe('profile.unknown_change');
    expect(codeOf(() => vault.deliveries.create({ version: 1, relationshipId: '00000000-0000-4000-8000-000000000000', fields: ['email'] }))).toBe(
      'relationship.unknown',
    );
    expect(codeOf(() => vault.deliveries.create({ version: 1, relationshipId: rel.id, fields: ['name'] }))).toBe('vault.conflict');
    expect(codeOf(() => vault.deliveries.create({ version: 1, relationshipId: other.id, fields: [] }))).toBe('vault.corrupt');
    expect(vault.deliveries.countPending()).toBe(1);
  });

  it('gives each due company all of its pending deliveries to coalesce, oldest relationship first', () => {
    versions(3);
    const now = clock.now();
    // `other` has one due delivery; `rel` has one due and one not yet due (still part of its notice).
    const o1 = vault.deliveries.create({ version: 1, relationshipId: other.id, fields: ['a'] });
    const r2 = vault.deliveries.create({ version: 2, relationshipId: rel.id, fields: ['b'], nextAttemptAt: now + 60_000 });
    const r1 = vault.deliveries.create({ version: 1, relationshipId: rel.id, fields: ['a'], nextAttemptAt: now - 5 });
    expect(vault.deliveries.dueByRelationship(now, 10)).toEqual([
      { relationshipId: rel.id, deliveries: [r1, r2] },
      { relationshipId: other.id, deliveries: [o1] },
    ]);
    expect(vault.deliveries.dueByRelationship(now, 1)).toEqual([{ relationshipId: rel.id, deliveries: [r1, r2] }]);
    expect(vault.deliveries.dueByRelationship(now - 10, 10)).toEqual([]);
  });

  it('leaves out companies whose pending deliveries are all in the future, and settled deliveries', () => {
    versions(2);
    const now = clock.now();
    const r1 = vault.deliveries.create({ version: 1, relationshipId: rel.id, fields: ['a'] });
    vault.deliveries.create({ version: 2, relationshipId: other.id, fields: ['a'], nextAttemptAt: now + 1 });
    const r2 = vault.deliveries.create({ version: 2, relationshipId: rel.id, fields: ['a'] });
    vault.deliveries.settle([r1.id], 'failed', 'profile.field_not_held');
    expect(vault.deliveries.dueByRelationship(now, 10)).toEqual([{ relationshipId: rel.id, deliveries: [r2] }]);
    expect(vault.deliveries.pendingFor(rel.id)).toEqual([r2]);
  });

  it('acks only the pending deliveries of that company up to the version', () => {
    versions(3);
    const r1 = vault.deliveries.create({ version: 1, relationshipId: rel.id, fields: ['a'] });
    const r2 = vault.deliveries.create({ version: 2, relationshipId: rel.id, fields: ['a'] });
    const r3 = vault.deliveries.create({ version: 3, relationshipId: rel.id, fields: ['a'] });
    const o2 = vault.deliveries.create({ version: 2, relationshipId: other.id, fields: ['a'] });
    clock.advance(100);
    expect(vault.deliveries.ackUpTo(rel.id, 2, clock.now())).toBe(2);
    expect(vault.deliveries.get(r1.id)).toEqual({ ...r1, state: 'acked', updatedAt: clock.now() });
    expect(vault.deliveries.get(r2.id)?.state).toBe('acked');
    expect(vault.deliveries.get(r3.id)?.state).toBe('pending');
    expect(vault.deliveries.get(o2.id)?.state).toBe('pending');
    expect(vault.deliveries.ackUpTo(rel.id, 2)).toBe(0);
    expect(vault.deliveries.pendingFor(rel.id)).toEqual([r3]);
  });

  it('reschedules pending deliveries with one more attempt and the error, ignoring settled ones', () => {
    versions(2);
    const r1 = vault.deliveries.create({ version: 1, relationshipId: rel.id, fields: ['a'] });
    const r2 = vault.deliveries.create({ version: 2, relationshipId: rel.id, fields: ['b'] });
    vault.deliveries.ackUpTo(rel.id, 1);
    clock.advance(5);
    const next = clock.now() + 1000;
    vault.deliveries.reschedule([r1.id, r2.id], next, 'transport.unreachable');
    expect(vault.deliveries.get(r1.id)?.attempts).toBe(0);
    expect(vault.deliveries.get(r2.id)).toEqual({
      ...r2,
      attempts: 1,
      nextAttemptAt: next,
      updatedAt: clock.now(),
      lastError: 'transport.unreachable',
    });
    vault.deliveries.reschedule([r2.id], next + 1000, 'x'.repeat(500));
    expect(vault.deliveries.get(r2.id)).toMatchObject({ attempts: 2, state: 'pending', lastError: 'x'.repeat(200) });
    expect(vault.deliveries.nextDueAt()).toBe(next + 1000);
    expect(vault.deliveries.dueByRelationship(clock.now(), 10)).toEqual([]);
  });

  it('settles only pending deliveries as failed or skipped, replacing or clearing the error', () => {
    versions(3);
    const r1 = vault.deliveries.create({ version: 1, relationshipId: rel.id, fields: ['a'] });
    const r2 = vault.deliveries.create({ version: 2, relationshipId: rel.id, fields: ['a'] });
    const r3 = vault.deliveries.create({ version: 3, relationshipId: rel.id, fields: ['a'] });
    vault.deliveries.reschedule([r2.id, r3.id], clock.now(), 'transport.unreachable');
    vault.deliveries.ackUpTo(rel.id, 1);
    vault.deliveries.settle([r1.id, r2.id], 'failed', 'profile.field_not_held');
    vault.deliveries.settle([r3.id], 'skipped', null);
    expect(vault.deliveries.get(r1.id)?.state).toBe('acked');
    expect(vault.deliveries.get(r2.id)).toMatchObject({ state: 'failed', lastError: 'profile.field_not_held', attempts: 1 });
    const skipped = vault.deliveries.get(r3.id);
    expect(skipped?.state).toBe('skipped');
    expect(skipped).not.toHaveProperty('lastError');
    expect(vault.deliveries.countPending()).toBe(0);
    expect(vault.deliveries.nextDueAt()).toBeUndefined();
  });

  it('lists the deliveries of one version in creation order', () => {
    versions(2);
    const a = vault.deliveries.create({ version: 1, relationshipId: other.id, fields: ['a'] });
    clock.advance(1);
    const b = vault.deliveries.create({ version: 1, relationshipId: rel.id, fields: ['a'] });
    vault.deliveries.create({ version: 2, relationshipId: rel.id, fields: ['a'] });
    expect(vault.deliveries.forVersion(1)).toEqual([a, b]);
    expect(vault.deliveries.forVersion(3)).toEqual([]);
  });

  it('restores a delivery exactly as exported', () => {
    versions(1);
    const exported = {
      id: '00000000-0000-4000-8000-00000000000d',
      version: 1,
      relationshipId: rel.id,
      state: 'failed' as const,
      attempts: 4,
      nextAttemptAt: 5,
      createdAt: 1,
      updatedAt: 6,
      fields: ['a', 'b'],
      lastError: 'profile.field_not_held',
    };
    expect(vault.deliveries.create(exported)).toEqual(exported);
    expect(vault.deliveries.list()).toEqual([exported]);
  });
});
