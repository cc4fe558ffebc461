import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { vendorStoreContract } from './contract.js';
import { openVendorStore } from './open.js';
import { openSqliteVendorStore } from './sqlite.js';

vendorStoreContract('SQLite', () => openSqliteVendorStore(':memory:'));

describe('SQLite vendor store on disk', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kith-vendor-store-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps its data across reopening and runs in WAL mode with foreign keys on', async () => {
    const path = join(dir, 'reopen.db');
    const first = await openVendorStore(`sqlite:${path}`);
    await first.saveIdentity({ did: 'did:web:shop.example', keys: { k: 1 }, createdAt: 1 });
    await first.close();

    const second = await openVendorStore(path);
    expect(await second.getIdentity()).toEqual({ did: 'did:web:shop.example', keys: { k: 1 }, createdAt: 1 });
    await second.close();

    const raw = new Database(path);
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    raw.close();
  });

  it('reports a path it cannot open as store.unavailable', async () => {
    await expect(openSqliteVendorStore(join(dir, 'missing', 'dir', 'x.db'))).rejects.toMatchObject({
      code: 'store.unavailable',
    });
  });

  it('refuses database URLs of other schemes', async () => {
    await expect(openVendorStore('mysql://localhost/kith')).rejects.toMatchObject({ code: 'config.invalid' });
  });
});
