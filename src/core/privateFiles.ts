import { chmodSync, closeSync, existsSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';

/*
 * Files holding personal data or secrets (databases, keys, tokens, exports, logs) are readable by
 * their owner only: 0600, in directories of 0700. A `mode` given to open or write applies only
 * when the file is created (and through the umask), so a file that already existed keeps its old
 * mode: each helper sets the mode afterwards as well.
 */

export const PRIVATE_FILE_MODE = 0o600;
export const PRIVATE_DIR_MODE = 0o700;

/** The CLIs' umask: whatever they create, directly or through a library (SQLite), is private. */
export const PRIVATE_UMASK = 0o077;

/** Writes a file readable by its owner only, whether or not it existed. */
export function writePrivateFile(path: string, data: string | Uint8Array): void {
  writeFileSync(path, data, { mode: PRIVATE_FILE_MODE });
  chmodSync(path, PRIVATE_FILE_MODE);
}

/**
 * Replaces a file in one step: the data goes to a new file beside it (0600 from its creation), which
 * is then renamed over it. A reader sees the old contents or the new, never half of them, and the
 * new file never inherits a looser mode the old one may have had.
 */
export function replacePrivateFile(path: string, data: string | Uint8Array): void {
  const fresh = `${path}.${randomBytes(6).toString('hex')}.new`;
  try {
    writeFileSync(fresh, data, { mode: PRIVATE_FILE_MODE, flag: 'wx' });
    chmodSync(fresh, PRIVATE_FILE_MODE);
    renameSync(fresh, path);
  } catch (error) {
    rmSync(fresh, { force: true });
    throw error;
  }
}

/** Creates the file if missing (empty), and makes it readable by its owner only. */
export function touchPrivateFile(path: string): void {
  closeSync(openSync(path, 'a', PRIVATE_FILE_MODE));
  chmodSync(path, PRIVATE_FILE_MODE);
}

/** Makes each of `paths` that exists readable by its owner only. */
export function makePrivate(...paths: string[]): void {
  for (const path of paths) if (existsSync(path)) chmodSync(path, PRIVATE_FILE_MODE);
}

/** Creates the directory (and its parents) if missing; the directory itself ends 0700 either way. */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  chmodSync(dir, PRIVATE_DIR_MODE);
}

/** A SQLite database and the files SQLite keeps beside it (WAL mode's -wal and -shm, the rollback journal). */
export function sqliteFiles(dbPath: string): string[] {
  return [dbPath, `${dbPath}-wal`, `${dbPath}-shm`, `${dbPath}-journal`];
}
