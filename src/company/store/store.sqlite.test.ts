import Database from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { companyStoreContract } from './contract.js';
import { openCompanyStore } from './open.js';
import { companyMigrations } from './migrations.js';
import { openSqliteCompanyStore } from './sqlite.js';
import type { CompanyStore } from './types.js';

const dir = mkdtempSync(join(tmpdir(), 'kith-company-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// On files rather than ':memory:', so that a second connection can write behind the store's back.
const paths = new WeakMap<CompanyStore, string>();
let opened = 0;
companyStoreContract(
  'SQLite',
  async () => {
    const path = join(dir, `contract-${++opened}.db`);
    const store = await openSqliteCompanyStore(path);
    paths.set(store, path);
    return store;
  },
  async (store, table, column, id, json) => {
    const raw = new Database(paths.get(store)!);
    try {
      raw.prepare(`update "${table}" set "${column}" = ? where id = ?`).run(json, id);
    } finally {
      raw.close();
    }
  },
);

describe('SQLite company store on disk', () => {

  it('keeps its data across reopening and runs in WAL mode with foreign keys on', async () => {
    const path = join(dir, 'reopen.db');
    const first = await openCompanyStore(`sqlite:${path}`);
    await first.saveIdentity({ did: 'did:web:shop.example', keys: { k: 1 }, createdAt: 1 });
    await first.close();

    const second = await openCompanyStore(path);
    expect(await second.getIdentity()).toEqual({ did: 'did:web:shop.example', keys: { k: 1 }, createdAt: 1 });
    await second.close();

    const raw = new Database(path);
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    raw.close();
  });

  it('erases without a trace in the file bytes: secure_delete is on and the WAL is emptied, inside a transaction or not', async () => {
    const path = join(dir, 'scrub.db');
    const store = await openSqliteCompanyStore(path);
    const bytes = () => Buffer.concat([path, `${path}-wal`, `${path}-shm`].filter((p) => existsSync(p)).map((p) => readFileSync(p)));
    const walSize = () => (existsSync(`${path}-wal`) ? statSync(`${path}-wal`).size : 0);
    try {
      for (const [n, inTransaction] of [[1, false], [2, true]] as const) {
        const id = `00000000-0000-4000-8000-00000000000${n}`;
        const secret = `secret-street-${n}-${'x'.repeat(40)}`;
        await store.createRelationship({ id, theirDid: `did:peer:2.scrub${n}`, customerRef: `ref-${n}`, state: 'active', createdAt: n, updatedAt: n });
        await store.addMessage({ id: `10000000-0000-4000-8000-00000000000${n}`, relationshipId: id, messageId: `m-${n}`, direction: 'in', type: 't', body: { content: secret }, createdAt: n });
        expect(bytes().includes(secret)).toBe(true);
        if (inTransaction) await store.transaction((tx) => tx.eraseRelationship(id, 10));
        else await store.eraseRelationship(id, 10);
        expect(bytes().includes(secret)).toBe(false);
        expect(bytes().includes(`did:peer:2.scrub${n}`)).toBe(false);
        expect(walSize()).toBe(0);
      }
    } finally {
      await store.close();
    }
  });

  it('upgrades a database created before 0002_disclosure, keeping its rows', async () => {
    const path = join(dir, 'upgrade.db');
    const raw = new Database(path);
    raw.pragma('foreign_keys = ON');
    const old = new Kysely<unknown>({ dialect: new SqliteDialect({ database: raw }) });
    const initialOnly = new Migrator({
      db: old,
      provider: { getMigrations: async () => ({ '0001_initial': companyMigrations('sqlite')['0001_initial']! }) },
      migrationTableName: 'kith_vendor_migration',
      migrationLockTableName: 'kith_vendor_migration_lock',
    });
    expect((await initialOnly.migrateToLatest()).error).toBeUndefined();
    raw
      .prepare('insert into relationships (id, their_did, customer_ref, state, created_at, updated_at) values (?, ?, ?, ?, ?, ?)')
      .run('rel-1', 'did:peer:2.old', 'cust-old', 'active', 1, 1);
    await old.destroy();

    const store = await openSqliteCompanyStore(path);
    expect((await store.getRelationship('rel-1'))?.customerRef).toBe('cust-old');
    await store.setProfileVersion('rel-1', 2, 3);
    expect(await store.getProfileVersion('rel-1')).toBe(2);
    await store.close();
  });

  it('reports a path it cannot open as store.unavailable', async () => {
    await expect(openSqliteCompanyStore(join(dir, 'missing', 'dir', 'x.db'))).rejects.toMatchObject({
      code: 'store.unavailable',
    });
  });

  it('refuses database URLs of other schemes', async () => {
    await expect(openCompanyStore('mysql://localhost/kith')).rejects.toMatchObject({ code: 'config.invalid' });
  });
});
