import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import type { RelationshipRecord } from '../../src/personal/vault/relationshipRepo.js';
import { Vault } from '../../src/personal/vault/vault.js';

export interface TestVault {
  dir: string;
  vault: Vault;
  clock: ManualClock;
  /** Two relationships with distinct DIDs and routes, for repos whose rows belong to one. */
  rel: RelationshipRecord;
  other: RelationshipRecord;
}

/**
 * A fresh vault per test in a temp dir (cheap scrypt cost, a ManualClock), closed and removed after.
 * Returns a holder whose fields are replaced before each test.
 */
export function useTestVault(): TestVault {
  const holder = {} as TestVault;
  beforeEach(() => {
    holder.dir = mkdtempSync(join(tmpdir(), 'kith-vault-'));
    holder.clock = new ManualClock();
    holder.vault = Vault.create(join(holder.dir, 'vault.db'), 'pw', { kdf: { N: 2 ** 12 }, clock: holder.clock });
    const base = { theirDid: 'did:web:shop.example', vendorName: null, theirEndpoint: null, customerRef: null, invitationId: null };
    holder.rel = holder.vault.relationships.insert({ ...base, myDid: 'did:peer:2.a', routeToken: 'ra' });
    holder.other = holder.vault.relationships.insert({ ...base, myDid: 'did:peer:2.b', routeToken: 'rb' });
  });
  afterEach(() => {
    holder.vault.close();
    rmSync(holder.dir, { recursive: true, force: true });
  });
  return holder;
}
