import { RelationshipError, VaultError } from '../../core/errors.js';

interface SqliteLikeError {
  code: string;
}

function sqliteCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && typeof (err as SqliteLikeError).code === 'string') {
    const code = (err as SqliteLikeError).code;
    return code.startsWith('SQLITE_') ? code : undefined;
  }
  return undefined;
}

/**
 * Maps SQLite failures of a write to Kith errors. SQLite's own messages name columns, never
 * values, but we still replace them so callers only ever switch on Kith codes.
 */
export function translateSqliteError(err: unknown, table: string): unknown {
  const code = sqliteCode(err);
  if (code === undefined) return err;
  if (isDiskFull(code)) return diskFull(err);
  if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY') {
    return new RelationshipError('relationship.unknown', 'The record refers to an unknown relationship', {
      cause: err,
      details: { table },
    });
  }
  // Not vault.exists: that code means "a vault is already at this path" and its CLI text says so,
  // which would send her looking for a second vault when one record merely clashed with another.
  if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    return new VaultError('vault.conflict', 'A record with the same identifier already exists in the vault', {
      cause: err,
      details: { table },
    });
  }
  if (code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CONSTRAINT')) {
    return new VaultError('vault.corrupt', 'The vault database rejected or failed a write', {
      cause: err,
      details: { table, sqlite: code },
    });
  }
  return err;
}

/** True when SQLite says the file is not a database or is damaged. */
export function isCorruptionError(err: unknown): boolean {
  const code = sqliteCode(err);
  return code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT' || code === 'SQLITE_ERROR';
}

function isDiskFull(code: string | undefined): boolean {
  return code === 'SQLITE_FULL' || code === 'SQLITE_IOERR_WRITE' || code === 'SQLITE_IOERR_FSYNC';
}

function diskFull(cause: unknown): VaultError {
  return new VaultError('vault.disk_full', 'The disk holding the vault is full: nothing was written', { cause });
}

/**
 * A write SQLite could not make for want of disk space, as `vault.disk_full`. SQLite rolls the
 * transaction back, so nothing of it is stored and the vault stays whole; anything else passes.
 */
export function translateDiskFull(err: unknown): unknown {
  return isDiskFull(sqliteCode(err)) ? diskFull(err) : err;
}
