import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { KithError } from '../../core/errors.js';
import { Vault } from './vault.js';

let dir: string;
let vault: Vault;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kith-vault-'));
  vault = Vault.create(join(dir, 'vault.db'), 'pw', { kdf: { N: 2 ** 12 } });
});
afterEach(() => {
  vault.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('SettingsRepo', () => {
  it('stores any JSON value, overwrites it and returns undefined for unknown keys', () => {
    expect(vault.settings.get('profile')).toBeUndefined();
    vault.settings.set('profile', { name: 'Ada', tags: ['a', 1, null] });
    expect(vault.settings.get('profile')).toEqual({ name: 'Ada', tags: ['a', 1, null] });
    vault.settings.set('profile', false);
    expect(vault.settings.get('profile')).toBe(false);
    expect(vault.snapshot()['settings']).toHaveLength(1);
  });

  it('deletes a setting and lists all of them, even awkward key names', () => {
    vault.settings.set('a', 1);
    vault.settings.set('__proto__', 2);
    expect(vault.settings.entries()).toEqual(Object.fromEntries([['a', 1], ['__proto__', 2]]));
    expect(vault.settings.delete('a')).toBe(true);
    expect(vault.settings.delete('a')).toBe(false);
    expect(Object.keys(vault.settings.entries())).toEqual(['__proto__']);
  });

  it('refuses a value that is not JSON', () => {
    let code: string | undefined;
    try {
      vault.settings.set('when', new Date());
    } catch (err) {
      code = (err as KithError).code;
    }
    expect(code).toBe('vault.corrupt');
    expect(vault.settings.get('when')).toBeUndefined();
  });
});
