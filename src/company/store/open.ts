import { ConfigError } from '../../core/errors.js';
import { openPostgresCompanyStore } from './postgres.js';
import { openSqliteCompanyStore } from './sqlite.js';
import type { CompanyStore } from './types.js';

/**
 * `postgres://…` / `postgresql://…` open PostgreSQL; `sqlite:PATH` (also `sqlite:///abs/path`) or a
 * plain file path opens SQLite. Any other `scheme://` is refused rather than taken as a file name.
 */
export async function openCompanyStore(dbUrl: string): Promise<CompanyStore> {
  if (/^postgres(ql)?:\/\//i.test(dbUrl)) return openPostgresCompanyStore(dbUrl);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(dbUrl) && !/^sqlite:/i.test(dbUrl)) {
    throw new ConfigError('config.invalid', 'Unsupported company database URL scheme', {
      details: { scheme: dbUrl.slice(0, dbUrl.indexOf(':')) },
    });
  }
  const path = sqlitePath(dbUrl);
  // better-sqlite3 would silently open a temporary database for an empty path.
  if (path.length === 0) throw new ConfigError('config.invalid', 'The company database path is empty');
  return openSqliteCompanyStore(path);
}

function sqlitePath(dbUrl: string): string {
  if (!/^sqlite:/i.test(dbUrl)) return dbUrl;
  const rest = dbUrl.slice('sqlite:'.length);
  return rest.startsWith('//') ? rest.slice(2) : rest;
}
