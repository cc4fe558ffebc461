import type Database from 'better-sqlite3';
import type { z } from 'zod';
import type { Clock } from '../../core/clock.js';
import { isKithError, VaultError } from '../../core/errors.js';
import { describeZodIssues } from '../../core/json.js';
import { blindIndex, openRow, sealRow, type RowKeys } from './crypto.js';
import { translateSqliteError } from './sqliteErrors.js';

/** A record a salvage pass could not read: its table and row id (never its content). */
export interface SkippedRecord {
  table: string;
  id: string;
}

/**
 * What every repository shares: the connection, the row keys and the clock. Repositories never
 * see the data key, and after `close()` every access fails with `vault.locked` instead of using
 * zeroed keys.
 */
export class VaultContext {
  readonly clock: Clock;
  #db: Database.Database | null;
  #keys: RowKeys | null;
  readonly #statements = new Map<string, Database.Statement>();
  #checkpointPending = false;
  /** Writes attempted through {@link write} on this connection, per table: part of {@link tableVersion}. */
  readonly #tableWrites = new Map<string, number>();
  /** While a salvage pass runs ({@link salvaging}): the records it passed over; null otherwise. */
  #skipped: SkippedRecord[] | null = null;

  constructor(db: Database.Database, keys: RowKeys, clock: Clock) {
    this.#db = db;
    this.#keys = keys;
    this.clock = clock;
  }

  /** @throws VaultError `vault.locked` after close. */
  get db(): Database.Database {
    if (this.#db === null) throw new VaultError('vault.locked', 'The vault is closed');
    return this.#db;
  }

  get closed(): boolean {
    return this.#db === null;
  }

  #rowKeys(): RowKeys {
    if (this.#keys === null) throw new VaultError('vault.locked', 'The vault is closed');
    return this.#keys;
  }

  /** Prepared statements are cached: repositories run the same few queries all the time. */
  stmt(sql: string): Database.Statement {
    const db = this.db;
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  /**
   * A key that changes whenever this vault's content may have: after any row this connection
   * changed (SQLite's total_changes(), whatever statement did it, so no write path can be missed),
   * or a commit by another connection (PRAGMA data_version). Lists kept between calls are rebuilt
   * when it changes.
   */
  contentVersion(): string {
    return `${String(this.db.pragma('data_version', { simple: true }))}:${String(this.stmt('SELECT total_changes()').pluck().get())}`;
  }

  /**
   * Like {@link contentVersion} for one table only, for a table whose every write goes through
   * {@link write}: a list of that table stays kept while other tables change.
   */
  tableVersion(table: string): string {
    return `${String(this.db.pragma('data_version', { simple: true }))}:${this.#tableWrites.get(table) ?? 0}`;
  }

  /** Runs a write, turning SQLite constraint failures into Kith errors. */
  write<T>(table: string, fn: () => T): T {
    this.#tableWrites.set(table, (this.#tableWrites.get(table) ?? 0) + 1);
    try {
      return fn();
    } catch (err) {
      throw translateSqliteError(err, table);
    }
  }

  /**
   * Validates and encrypts a record payload for one row. Validation before writing keeps
   * unreadable records off the disk.
   * @throws VaultError `vault.corrupt` if the value does not match the schema (nothing is written).
   */
  seal<T>(table: string, rowId: string, schema: z.ZodType<T>, value: T): Buffer {
    const data = this.check(table, schema, value);
    return sealRow(this.#rowKeys().rowKey, table, rowId, Buffer.from(JSON.stringify(data), 'utf8'));
  }

  /**
   * Encrypts raw bytes for one row (a document she keeps), bound to `table:rowId` like every blob;
   * `table` names the column's own scope when a row has two blobs, so they cannot be swapped.
   */
  sealBytes(table: string, rowId: string, bytes: Uint8Array): Buffer {
    return sealRow(this.#rowKeys().rowKey, table, rowId, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  }

  /** @throws VaultError `vault.corrupt` if the blob does not decrypt for this table and row. */
  openBytes(table: string, rowId: string, blob: Buffer): Buffer {
    return openRow(this.#rowKeys().rowKey, table, rowId, blob);
  }

  /**
   * Validates input before it is written, so nothing unreadable ever reaches the disk.
   * @throws VaultError `vault.corrupt` (meaning "would corrupt the vault"); nothing is written.
   */
  check<T>(table: string, schema: z.ZodType<T>, value: unknown): T {
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      throw new VaultError('vault.corrupt', 'Refusing to write a record that does not match its schema', {
        details: { table, issues: describeZodIssues(parsed.error) },
      });
    }
    return parsed.data;
  }

  /**
   * Decrypts and validates a row payload.
   * @throws VaultError `vault.corrupt` if decryption fails (altered, or moved from another row) or
   * the JSON does not match the schema.
   */
  open<T>(table: string, rowId: string, schema: z.ZodType<T>, blob: Buffer): T {
    const plaintext = openRow(this.#rowKeys().rowKey, table, rowId, blob);
    let value: unknown;
    try {
      value = JSON.parse(plaintext.toString('utf8'));
    } catch (cause) {
      throw new VaultError('vault.corrupt', 'A vault record is not valid JSON', { cause, details: { table, id: rowId } });
    } finally {
      plaintext.fill(0);
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      throw new VaultError('vault.corrupt', 'A vault record does not match its schema', {
        details: { table, id: rowId, issues: describeZodIssues(parsed.error) },
      });
    }
    return parsed.data;
  }

  /**
   * One record of a list read, as a list of zero or one: outside a salvage pass it is `[decode()]`
   * and every error goes on (a normal read fails closed on a corrupt record); inside one, a record
   * that does not open (`vault.corrupt` naming its table and row) is noted and left out.
   */
  readable<T>(decode: () => T): T[] {
    try {
      return [decode()];
    } catch (err) {
      const skipped = this.#skipped;
      const table = isKithError(err) ? err.details?.['table'] : undefined;
      const id = isKithError(err) ? err.details?.['id'] : undefined;
      if (skipped === null || !isKithError(err) || err.code !== 'vault.corrupt' || typeof table !== 'string' || typeof id !== 'string') throw err;
      skipped.push({ table, id });
      return [];
    }
  }

  /**
   * Runs `fn` as a salvage pass: the lists it reads leave out the records that do not open, and
   * come back with them named. Not re-entrant (a salvage pass inside another is a bug).
   */
  salvaging<T>(fn: () => T): { value: T; skipped: SkippedRecord[] } {
    if (this.#skipped !== null) throw new Error('A salvage pass is already running');
    const skipped: SkippedRecord[] = [];
    this.#skipped = skipped;
    try {
      return { value: fn(), skipped };
    } finally {
      this.#skipped = null;
    }
  }

  /**
   * Validates a raw row as SQLite returned it.
   * @throws VaultError `vault.corrupt` on unexpected column values.
   */
  row<T>(table: string, schema: z.ZodType<T>, raw: unknown): T {
    const parsed = schema.safeParse(raw);
    if (!parsed.success) {
      throw new VaultError('vault.corrupt', 'A vault row has unexpected columns', {
        details: { table, issues: describeZodIssues(parsed.error) },
      });
    }
    return parsed.data;
  }

  /** Blind index of `value` within `scope` (one scope per column). */
  index(scope: string, value: string): string {
    return blindIndex(this.#rowKeys().indexKey, scope, value);
  }

  /**
   * Pushes deleted content out of the WAL: `secure_delete` zeroes it in the database pages, and a
   * TRUNCATE checkpoint copies those pages back and empties the WAL. Inside a transaction the
   * checkpoint cannot run, so it is deferred until the outermost transaction ends.
   */
  scrubWal(): void {
    const db = this.db;
    if (db.inTransaction) {
      this.#checkpointPending = true;
      return;
    }
    this.#checkpointPending = false;
    db.pragma('wal_checkpoint(TRUNCATE)');
  }

  /** Called after a transaction: runs a checkpoint deferred by {@link scrubWal}. */
  afterTransaction(): void {
    if (this.#checkpointPending && this.#db !== null && !this.#db.inTransaction) this.scrubWal();
  }

  /** Zeroes the row keys and forgets the connection (the owner closes it). */
  close(): void {
    if (this.#keys !== null) {
      this.#keys.rowKey.fill(0);
      this.#keys.indexKey.fill(0);
    }
    this.#keys = null;
    this.#db = null;
    this.#statements.clear();
  }
}

/**
 * A value read from the vault and kept between calls until its content may have changed
 * ({@link VaultContext.contentVersion}): the lists and counts every page reads, which would
 * otherwise decrypt thousands of rows each time. Never kept from inside a transaction, which could
 * still roll back. Callers share the value: keep it frozen or hand out copies.
 */
export class KeptRead<T> {
  readonly #ctx: VaultContext;
  readonly #table: string | undefined;
  #kept: { version: string; value: T } | undefined;

  /** @param table kept until that table changes ({@link VaultContext.tableVersion}); else until anything does. */
  constructor(ctx: VaultContext, table?: string) {
    this.#ctx = ctx;
    this.#table = table;
  }

  get(read: () => T): T {
    const version = this.version();
    if (this.#kept?.version === version) return this.#kept.value;
    const value = read();
    if (!this.#ctx.db.inTransaction) this.#kept = { version, value };
    return value;
  }

  /** The version the kept value is checked against now. */
  version(): string {
    return this.#table === undefined ? this.#ctx.contentVersion() : this.#ctx.tableVersion(this.#table);
  }

  /**
   * After a write of the owner's own, outside a transaction: carries the kept value (if it was
   * current at `before`, the version read just before the write) over to the new version by
   * `change`, instead of reading everything again. Otherwise the next {@link get} reads afresh.
   */
  adjust(before: string, change: (value: T) => T): void {
    if (this.#kept?.version !== before || this.#ctx.db.inTransaction) return;
    const after = this.version();
    // Another connection committed between `before` and the write: its changes are not in `change`.
    if (commitsOf(after) !== commitsOf(before)) {
      this.#kept = undefined;
      return;
    }
    this.#kept = { version: after, value: change(this.#kept.value) };
  }
}

/** The other connections' part of a version (PRAGMA data_version, before the colon). */
function commitsOf(version: string): string {
  return version.slice(0, version.indexOf(':'));
}
