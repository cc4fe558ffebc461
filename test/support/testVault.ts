import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { deriveRowKeys, sealRow } from '../../src/personal/vault/crypto.js';
import { parseKeyring, unwrapDataKey } from '../../src/personal/vault/keyring.js';
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

/** The passphrase of every {@link useTestVault} vault. */
export const TEST_VAULT_PASSPHRASE = 'pw';

/**
 * A fresh vault per test in a temp dir (cheap scrypt cost, a ManualClock), closed and removed after.
 * Returns a holder whose fields are replaced before each test.
 */
export function useTestVault(): TestVault {
  const holder = {} as TestVault;
  beforeEach(() => {
    holder.dir = mkdtempSync(join(tmpdir(), 'kith-vault-'));
    holder.clock = new ManualClock();
    holder.vault = Vault.create(join(holder.dir, 'vault.db'), TEST_VAULT_PASSPHRASE, { kdf: { N: 2 ** 12 }, clock: holder.clock });
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

/**
 * Replaces the encrypted payload of one row with `value` (any JSON), sealed under the vault's own
 * row key through a second connection, behind the vault's back: what an older Kith or another
 * program could have written. For the tests of a payload that no longer matches its schema.
 */
export function sealBehindTheVault(path: string, passphrase: string, table: string, rowId: string, value: unknown): void {
  const db = new Database(path);
  try {
    const meta = db.prepare("SELECT value FROM meta WHERE key = 'keyring'").get() as { value: string };
    const dataKey = unwrapDataKey(parseKeyring(meta.value), passphrase);
    const { rowKey } = deriveRowKeys(dataKey);
    dataKey.fill(0);
    const changed = db.prepare(`UPDATE "${table}" SET data = ? WHERE id = ?`).run(sealRow(rowKey, table, rowId, Buffer.from(JSON.stringify(value), 'utf8')), rowId).changes;
    if (changed !== 1) throw new Error(`No row ${rowId} in ${table}`);
  } finally {
    db.close();
  }
}
