import { existsSync, rmSync } from 'node:fs';

/** SQLite's companion files of a database in WAL mode (plus the rollback journal, to be thorough). */
const COMPANION_SUFFIXES = ['-wal', '-shm', '-journal'] as const;

/** The companion files of `dbPath` that exist right now. */
export function existingCompanionFiles(dbPath: string): string[] {
  return COMPANION_SUFFIXES.map((s) => dbPath + s).filter((p) => existsSync(p));
}

/** Deletes a vault file and its companions; used only for files this process just created. */
export function removeVaultFiles(dbPath: string): void {
  for (const p of [dbPath, ...COMPANION_SUFFIXES.map((s) => dbPath + s)]) rmSync(p, { force: true });
}
