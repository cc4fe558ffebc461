import { beforeEach, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../core/clock.js';
import type { Vault } from './vault.js';
import { useTestVault } from '../../../test/support/testVault.js';
import { codeOf } from '../../../test/support/errorCodes.js';
import { FIRST_PERSONA_ID as ME } from './personaRepo.js';

let vault: Vault;
let clock: ManualClock;

const t = useTestVault();
beforeEach(() => {
  ({ vault, clock } = t);
});

describe('ProfileRepo', () => {
  it('starts empty at version 0', () => {
    expect(vault.profile.currentVersion()).toBe(0);
    expect(vault.profile.all()).toEqual([]);
    expect(vault.profile.get('email')).toBeUndefined();
    expect(vault.profile.changes()).toEqual([]);
    expect(vault.profile.change(1)).toBeUndefined();
  });

  it('applies a change as one new version with the values and the time', () => {
    const at = clock.now();
    const address = { street_address: '1 Main St', locality: 'Hove' };
    expect(vault.profile.applyChange({ email: 'ada@example.org', address })).toBe(1);
    expect(vault.profile.currentVersion()).toBe(1);
    expect(vault.profile.get('email')).toEqual({ field: 'email', value: 'ada@example.org', persona: ME, version: 1, updatedAt: at });
    expect(vault.profile.get('address')?.value).toEqual(address);
    expect(vault.profile.change(1)).toEqual({ version: 1, fields: { email: 'ada@example.org', address }, persona: ME, createdAt: at });
  });

  it('keeps each field at the version that last set it, and lists fields by name', () => {
    vault.profile.applyChange({ name: 'Ada', email: 'a@example.org' });
    clock.advance(10);
    expect(vault.profile.applyChange({ email: 'b@example.org' }, clock.now() + 5)).toBe(2);
    expect(vault.profile.all()).toEqual([
      { field: 'email', value: 'b@example.org', persona: ME, version: 2, updatedAt: clock.now() + 5 },
      { field: 'name', value: 'Ada', persona: ME, version: 1, updatedAt: clock.now() - 10 },
    ]);
  });

  it('deletes a field set to null and logs the removal', () => {
    vault.profile.applyChange({ name: 'Ada', phone_number: '+44 1234' });
    expect(vault.profile.applyChange({ phone_number: null })).toBe(2);
    expect(vault.profile.get('phone_number')).toBeUndefined();
    expect(vault.profile.all().map((f) => f.field)).toEqual(['name']);
    expect(vault.profile.change(2)?.fields).toEqual({ phone_number: null });
    // Removing a field she never had is still a change.
    expect(vault.profile.applyChange({ nickname: null })).toBe(3);
  });

  it('lists changes newest first, up to a limit', () => {
    vault.profile.applyChange({ a: 1 });
    vault.profile.applyChange({ b: 2 });
    vault.profile.applyChange({ c: 3 });
    expect(vault.profile.changes().map((c) => c.version)).toEqual([3, 2, 1]);
    expect(vault.profile.changes(2).map((c) => c.version)).toEqual([3, 2]);
    expect(vault.profile.changes(0)).toEqual([]);
  });

  it('refuses an empty change, an empty name and a non-JSON value without writing anything', () => {
    vault.profile.applyChange({ name: 'Ada' });
    const before = vault.snapshot();
    expect(codeOf(() => vault.profile.applyChange({}))).toBe('vault.corrupt');
    expect(codeOf(() => vault.profile.applyChange({ '': 'x' }))).toBe('vault.corrupt');
    expect(codeOf(() => vault.profile.applyChange({ birthdate: new Date() }))).toBe('vault.corrupt');
    expect(codeOf(() => vault.profile.applyChange({ name: undefined }))).toBe('vault.corrupt');
    expect(vault.snapshot()).toEqual(before);
    expect(vault.profile.currentVersion()).toBe(1);
  });

  it('rolls the whole change back when the enclosing transaction fails', () => {
    vault.profile.applyChange({ name: 'Ada' });
    expect(() =>
      vault.transaction(() => {
        vault.profile.applyChange({ name: 'Grace', email: 'g@example.org' });
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(vault.profile.currentVersion()).toBe(1);
    expect(vault.profile.get('name')?.value).toBe('Ada');
    expect(vault.profile.get('email')).toBeUndefined();
  });

  it('stores field names only as blind indexes', () => {
    vault.profile.applyChange({ email: 'ada@example.org' });
    const rows = vault.snapshot()['profile_fields'] as { field_idx: string }[];
    expect(rows).toHaveLength(1);
    expect(rows[0]?.field_idx).toMatch(/^[0-9a-f]{64}$/);
  });

  it('restores fields and changes exactly, refusing duplicates', () => {
    vault.profile.restoreChange({ version: 4, fields: { email: 'a@example.org' }, createdAt: 7 });
    vault.profile.restoreField({ field: 'email', value: 'a@example.org', version: 4, updatedAt: 7 });
    expect(vault.profile.currentVersion()).toBe(4);
    expect(vault.profile.get('email')).toEqual({ field: 'email', value: 'a@example.org', persona: ME, version: 4, updatedAt: 7 });
    expect(codeOf(() => vault.profile.restoreField({ field: 'email', value: 'b', version: 4, updatedAt: 7 }))).toBe('vault.conflict');
    expect(codeOf(() => vault.profile.restoreChange({ version: 4, fields: { x: 1 }, createdAt: 7 }))).toBe('vault.conflict');
    expect(codeOf(() => vault.profile.restoreField({ field: 'name', value: null, version: 4, updatedAt: 7 }))).toBe('vault.corrupt');
    expect(vault.profile.applyChange({ name: 'Ada' })).toBe(5);
  });

  it('keeps each persona\'s values apart under one version counter, and forgets a persona\'s values only', () => {
    const work = vault.personas.insert({ label: 'work', nameless: false }).id;
    vault.profile.applyChange({ email: 'ada@home.example' });
    expect(vault.profile.applyChange({ email: 'ada@work.example', title: 'Engineer' }, clock.now(), work)).toBe(2);
    expect(vault.profile.get('email')?.value).toBe('ada@home.example');
    expect(vault.profile.get('email', work)).toMatchObject({ value: 'ada@work.example', persona: work, version: 2 });
    expect(vault.profile.get('title')).toBeUndefined();
    expect(vault.profile.all(work).map((f) => f.field)).toEqual(['email', 'title']);
    expect(vault.profile.everyPersona()).toHaveLength(3);
    expect(vault.profile.change(2)).toMatchObject({ persona: work, fields: { email: 'ada@work.example', title: 'Engineer' } });
    // Removing a field of one persona leaves the other's.
    vault.profile.applyChange({ email: null }, clock.now(), work);
    expect(vault.profile.get('email')?.value).toBe('ada@home.example');
    expect(vault.profile.forgetPersona(work)).toBe(1);
    expect(vault.profile.all(work)).toEqual([]);
    expect(vault.profile.all().map((f) => f.field)).toEqual(['email']);
  });

  it('logs a relationship moved to another persona as a version that changes no value', () => {
    const work = vault.personas.insert({ label: 'work', nameless: false }).id;
    vault.profile.applyChange({ email: 'ada@home.example' });
    const relationshipId = '00000000-0000-4000-8000-0000000000c1';
    expect(vault.profile.logMove(relationshipId, work, { email: null })).toBe(2);
    expect(vault.profile.change(2)).toMatchObject({ persona: work, moved: { relationshipId }, fields: { email: null } });
    expect(vault.profile.get('email')?.value).toBe('ada@home.example');
  });
});
