import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, inject } from 'vitest';
import { companyStoreContract } from './contract.js';
import { openPostgresCompanyStore } from './postgres.js';

const url = inject('postgresUrl');

if (url === undefined) {
  console.warn(
    'PostgreSQL not available: SKIPPING the PostgreSQL store contract suite ' +
      '(see the globalSetup warning for why; install PostgreSQL 15 or set KITH_TEST_POSTGRES_URL)',
  );
  // Registered but skipped, so the report counts every PostgreSQL test that did not run.
  describe.skip('PostgreSQL not available', () => {
    companyStoreContract('PostgreSQL', () => Promise.reject(new Error('PostgreSQL not available')));
  });
} else {
  // One fresh schema per opened store, so tests never see each other's rows; all dropped at the end.
  const schemas: string[] = [];

  companyStoreContract('PostgreSQL', () => {
    const schema = `kith_test_${randomBytes(6).toString('hex')}`;
    schemas.push(schema);
    return openPostgresCompanyStore(url, { schema });
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
