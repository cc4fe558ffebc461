import { beforeEach, describe, expect, it } from 'vitest';
import type { Vault } from './vault.js';
import { useTestVault } from '../../../test/support/testVault.js';
import { codeOf } from '../../../test/support/errorCodes.js';
import { FIRST_PERSONA_ID } from './personaRepo.js';

let vault: Vault;
const t = useTestVault();
beforeEach(() => {
  ({ vault } = t);
});

describe('PersonaRepo', () => {
  it('starts with the first persona, "me"', () => {
    expect(vault.personas.list()).toMatchObject([{ id: FIRST_PERSONA_ID, label: 'me', nameless: false }]);
  });

  it('keeps labels unique without case, sealed, and renames', () => {
    const work = vault.personas.insert({ label: 'Work', nameless: false });
    expect(vault.personas.findByLabel('work')?.id).toBe(work.id);
    const before = vault.snapshot();
    expect(codeOf(() => vault.personas.insert({ label: 'WORK', nameless: true }))).toBe('persona.label_taken');
    expect(codeOf(() => vault.personas.update(work.id, { label: 'me' }))).toBe('persona.label_taken');
    expect(codeOf(() => vault.personas.insert({ label: '', nameless: false }))).toBe('vault.corrupt');
    expect(codeOf(() => vault.personas.insert({ label: 'two\nlines', nameless: false }))).toBe('vault.corrupt');
    expect(codeOf(() => vault.personas.update('00000000-0000-4000-8000-00000000dead', { label: 'x' }))).toBe('persona.unknown');
    expect(vault.snapshot()).toEqual(before);
    expect(vault.personas.update(work.id, { label: 'Job' }).label).toBe('Job');
    expect(vault.personas.findByLabel('work')).toBeUndefined();
    const rows = vault.snapshot()['personas'] as { data: string }[];
    expect(JSON.stringify(rows)).not.toContain('Job');
  });

  it('deletes one and seeds a first persona only into a vault that has none', () => {
    const anon = vault.personas.insert({ label: 'anonymous', nameless: true });
    vault.personas.ensureFirst();
    expect(vault.personas.list()).toHaveLength(2);
    expect(vault.personas.delete(anon.id)).toBe(true);
    expect(vault.personas.delete(anon.id)).toBe(false);
  });
});
