import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { companyStoreContract } from './contract.js';
import { openPostgresCompanyStore } from './postgres.js';
import { PRUNE_LOCK_KEY } from './postgresStore.js';
import type { CompanyStore } from './types.js';

const url = inject('postgresUrl');

if (url === undefined) {
  console.warn(
    'PostgreSQL not available: SKIPPING the PostgreSQL store contract suite ' +
      '(see the globalSetup warning for why; install PostgreSQL 15 or set KITH_TEST_POSTGRES_URL)',
  );
  // Registered but skipped, so the report counts every PostgreSQL test that did not run.
  describe.skip('PostgreSQL not available', () => {
    const unavailable = () => Promise.reject(new Error('PostgreSQL not available'));
    companyStoreContract('PostgreSQL', unavailable, unavailable);
  });
} else {
  // One fresh schema per opened store, so tests never see each other's rows; all dropped at the end.
  const schemas: string[] = [];
  const schemaOf = new WeakMap<CompanyStore, string>();

  companyStoreContract(
    'PostgreSQL',
    async () => {
      const schema = `kith_test_${randomBytes(6).toString('hex')}`;
      schemas.push(schema);
      const store = await openPostgresCompanyStore(url, { schema });
      schemaOf.set(store, schema);
      return store;
    },
    // Its own connection, behind the store's back; the text becomes jsonb as any JSON written there would.
    async (store, table, column, id, json) => {
      const client = new pg.Client({ connectionString: url, options: `-c search_path=${schemaOf.get(store)!}` });
      await client.connect();
      try {
        await client.query(`update "${table}" set "${column}" = $1 where id = $2`, [json, id]);
      } finally {
        await client.end();
      }
    },
  );

  describe('PostgreSQL: several processes over one database', () => {
    it('prunes the replay memory in one process at a time: a prune beside a running one deletes nothing and does not wait', async () => {
      const schema = `kith_test_${randomBytes(6).toString('hex')}`;
      schemas.push(schema);
      const store = await openPostgresCompanyStore(url, { schema });
      const other = new pg.Client({ connectionString: url });
      await other.connect();
      try {
        await store.recordSeenMessage('expired-1', 1_000);
        await store.recordSeenMessage('expired-2', 1_000);
        // Another process is pruning: it holds the lock for its transaction.
        await other.query('begin');
        await other.query('select pg_advisory_xact_lock($1::bigint)', [PRUNE_LOCK_KEY]);
        expect(await store.pruneSeenMessages(2_000)).toBe(0);
        expect(await store.hasSeenMessage('expired-1')).toBe(true);
        await other.query('commit');
        expect(await store.pruneSeenMessages(2_000)).toBe(2);
      } finally {
        await other.end();
        await store.close();
      }
    });
  });

  afterAll(async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      for (const schema of schemas) await client.query(`drop schema if exists "${schema}" cascade`);
    } finally {
      await client.end();
    }
  });
}
