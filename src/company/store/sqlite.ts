import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { StoreError } from '../../core/errors.js';
import { makePrivate, sqliteFiles, touchPrivateFile } from '../../core/privateFiles.js';
import { migrateCompanyStore } from './migrations.js';
import { SqliteCompanyStore } from './sqliteStore.js';
import type { CompanyStore } from './types.js';

/** Opens (creating if needed) and migrates a SQLite company store; `':memory:'` gives a private in-memory one. */
export async function openSqliteCompanyStore(path: string): Promise<CompanyStore> {
  let database: Database.Database;
  const onDisk = path !== ':memory:';
  try {
    // Her data is in these files: owner-only, even where the umask would let others read. SQLite
    // gives the -wal and -shm it creates the database file's mode, so the file is made private
    // first; companions left by an older version are tightened once the WAL is open.
    if (onDisk) touchPrivateFile(path);
    database = new Database(path);
    database.pragma('journal_mode = WAL');
    database.pragma('synchronous = NORMAL');
    database.pragma('foreign_keys = ON');
    database.pragma('busy_timeout = 5000');
    // Erasure must leave no trace in the file: deleted rows are overwritten with zeros instead of
    // lingering in free pages and cell gaps. Not persistent, so set on every open. (The WAL is
    // emptied after each erasure: SqliteCompanyStore.eraseRelationship.)
    database.pragma('secure_delete = ON');
    // Each checkpoint copies the WAL back and fsyncs; every 1,000 pages (the default) that is a few
    // hundred inbound messages. 10,000 pages (~40 MiB of WAL) makes it ten times rarer.
    database.pragma('wal_autocheckpoint = 10000');
    if (onDisk) makePrivate(...sqliteFiles(path));
  } catch (err) {
    throw new StoreError('store.unavailable', 'Cannot open the SQLite company store', { cause: err });
  }
  // Kysely only migrates, on the same connection, so the migrations are written once per dialect
  // (migrations.ts); the store itself runs prepared statements. Kysely runs SQLite migrations
  // outside a transaction (no transactional DDL there), so its BEGIN is never used.
  const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database }) });
  try {
    await migrateCompanyStore(db, 'sqlite');
  } catch (err) {
    await db.destroy();
    throw err;
  }
  return new SqliteCompanyStore(database);
}
