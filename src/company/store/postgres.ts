import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { StoreError } from '../../core/errors.js';
import { PostgresCompanyStore, type CompanyDatabase } from './postgresStore.js';
import { migrateCompanyStore } from './migrations.js';
import type { CompanyStore } from './types.js';

/** Plain lower-case identifiers only: the name goes into a connection option string, not a bound parameter. */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

// Times are int8 and all fit in 2^53, so Number is exact. Set per pool rather than through
// pg.types.setTypeParser, which would change every other pg user in the process.
const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8 && format !== 'binary'
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

export interface PostgresCompanyStoreOptions {
  /** Schema to keep the tables in (created if missing); it becomes the pool's search_path. */
  schema?: string;
}

export async function openPostgresCompanyStore(url: string, opts: PostgresCompanyStoreOptions = {}): Promise<CompanyStore> {
  const { schema } = opts;
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new StoreError('store.unavailable', 'Invalid PostgreSQL schema name', { details: { schema } });
  }
  const pool = new pg.Pool({
    connectionString: url,
    types,
    ...(schema === undefined ? {} : { options: `-c search_path=${schema}` }),
  });
  // An idle client whose server went away emits 'error' on the pool; unhandled, that kills the
  // process. The pool already discards the client, and the next query reports store.unavailable.
  pool.on('error', () => {});
  // The same for a client that is checked out (a transaction between two of its queries) when the
  // server goes away (a restart: FATAL 57P01): its 'error' has no listener and would kill the
  // process; the query in flight fails (store.unavailable, 503) and the pool drops the client.
  pool.on('connect', (client) => {
    client.on('error', () => {});
  });
  const db = new Kysely<CompanyDatabase>({ dialect: new PostgresDialect({ pool }) });
  try {
    if (schema !== undefined) await sql`create schema if not exists ${sql.id(schema)}`.execute(db);
    // Pin kysely's bookkeeping tables to our schema: unpinned, its existence check looks across
    // every schema and can mistake another store's tables for ours.
    const current = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db);
    await migrateCompanyStore(db, 'postgres', current.rows[0]?.schema ?? 'public');
  } catch (err) {
    await db.destroy();
    throw err instanceof StoreError
      ? err
      : new StoreError('store.unavailable', 'Cannot open the PostgreSQL company store', { cause: err });
  }
  return new PostgresCompanyStore(db);
}
