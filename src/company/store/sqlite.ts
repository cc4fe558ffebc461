import Database from 'better-sqlite3';
import {
  CompiledQuery,
  Kysely,
  SqliteDialect,
  SqliteDriver,
  type DatabaseConnection,
  type Driver,
  type SqliteDialectConfig,
} from 'kysely';
import { StoreError } from '../../core/errors.js';
import type { CompanyDatabase } from './kyselyStore.js';
import { SqliteCompanyStore } from './sqliteStore.js';
import { migrateCompanyStore } from './migrations.js';
import type { CompanyStore } from './types.js';

/**
 * A deferred BEGIN takes the write lock only at the first write, and when another process wrote in
 * between SQLite fails the upgrade with SQLITE_BUSY instead of waiting. BEGIN IMMEDIATE takes it up
 * front, so busy_timeout applies and read-then-write transactions (outbox claims) serialise.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;

  constructor(config: SqliteDialectConfig) {
    super(config);
    this.#config = config;
  }

  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config);
  }
}

/** Opens (creating if needed) and migrates a SQLite vendor store; `':memory:'` gives a private in-memory one. */
export async function openSqliteCompanyStore(path: string): Promise<CompanyStore> {
  let database: Database.Database;
  try {
    database = new Database(path);
    database.pragma('journal_mode = WAL');
    database.pragma('synchronous = NORMAL');
    database.pragma('foreign_keys = ON');
    database.pragma('busy_timeout = 5000');
    // Each checkpoint copies the WAL back and fsyncs; every 1,000 pages (the default) that is a few
    // hundred inbound messages. 10,000 pages (~40 MiB of WAL) makes it ten times rarer.
    database.pragma('wal_autocheckpoint = 10000');
  } catch (err) {
    throw new StoreError('store.unavailable', 'Cannot open the SQLite vendor store', { cause: err });
  }
  const db = new Kysely<CompanyDatabase>({ dialect: new ImmediateSqliteDialect({ database }) });
  try {
    await migrateCompanyStore(db, 'sqlite');
  } catch (err) {
    await db.destroy();
    throw err;
  }
  // Kysely only migrates; the store itself runs prepared statements on the same connection.
  return new SqliteCompanyStore(database);
}
