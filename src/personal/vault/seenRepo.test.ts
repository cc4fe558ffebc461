import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/clock.js';
import { Vault } from './vault.js';

let dir: string;
let vault: Vault;
let clock: ManualClock;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kith-vault-'));
  clock = new ManualClock();
  vault = Vault.create(join(dir, 'vault.db'), 'pw', { kdf: { N: 2 ** 12 }, clock });
});
afterEach(() => {
  vault.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('SeenRepo', () => {
  it('records an id once and reports the second delivery as a replay', () => {
    expect(vault.seen.has('msg-1')).toBe(false);
    expect(vault.seen.record('msg-1', clock.now() + 60_000)).toBe(true);
    expect(vault.seen.has('msg-1')).toBe(true);
    expect(vault.seen.record('msg-1', clock.now() + 60_000)).toBe(false);
  });

  it('treats an expired entry as absent and renews it', () => {
    vault.seen.record('msg-1', clock.now() + 1000);
    clock.advance(1000);
    expect(vault.seen.has('msg-1')).toBe(false);
    expect(vault.seen.record('msg-1', clock.now() + 1000)).toBe(true);
    expect(vault.seen.has('msg-1')).toBe(true);
  });

  it('prunes expired entries only', () => {
    vault.seen.record('old', clock.now() + 10);
    vault.seen.record('new', clock.now() + 10_000);
    expect(vault.seen.prune(clock.now() + 10)).toBe(1);
    expect(vault.seen.has('new')).toBe(true);
    expect(vault.snapshot()['seen']).toHaveLength(1);
  });

  it('stores a blind index, not the message id', () => {
    vault.seen.record('urn:uuid:visible-id', clock.now() + 10);
    expect(JSON.stringify(vault.snapshot()['seen'])).not.toContain('visible-id');
    // The id kept for export is sealed: neither it nor its hex appears in the table.
    const sealed = JSON.stringify(vault.snapshot()['seen_ids']);
    expect(sealed).not.toContain('visible-id');
    expect(sealed).not.toContain(Buffer.from('visible-id').toString('hex'));
    expect(vault.seen.unexpired()).toEqual([{ messageId: 'urn:uuid:visible-id', expiresAt: clock.now() + 10 }]);
    vault.seen.prune(clock.now() + 10);
    expect(vault.snapshot()['seen_ids']).toEqual([]);
  });
});
