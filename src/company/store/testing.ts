import { COMPANY_JSON_COLUMNS, COMPANY_TABLES } from './migrations.js';
import type { JsonDecoder } from './rows.js';
import type { CompanyStore } from './types.js';

/**
 * Test-only: what both store implementations (and the stores their transactions hand out) offer
 * beyond CompanyStore, so tests can assert "nothing changed". Not part of CompanyStore: no
 * production code may depend on reading every table.
 */
export interface SnapshotStore {
  /**
   * Every row of every table the store owns (COMPANY_TABLES), keyed by table name: rows sorted by
   * primary key, JSON columns decoded, so both dialects snapshot identically.
   */
  snapshot(): Promise<Record<string, unknown[]>>;
}

function isSnapshotStore(store: object): store is SnapshotStore {
  return typeof (store as Partial<SnapshotStore>).snapshot === 'function';
}

/** Every row of every table of `store`; rejects for a store that cannot snapshot (a wrapper or a fake). */
export async function snapshotOf(store: CompanyStore): Promise<Record<string, unknown[]>> {
  if (!isSnapshotStore(store)) throw new TypeError(`This ${store.dialect} company store cannot take a snapshot`);
  return store.snapshot();
}

export type SnapshotTable = keyof typeof COMPANY_TABLES;

/** The tables in snapshot order, each with the columns that sort its rows deterministically. */
export const SNAPSHOT_TABLES = Object.entries(COMPANY_TABLES) as [SnapshotTable, readonly string[]][];

/** One table's rows as a snapshot shows them: JSON columns decoded, since jsonb comes back parsed and TEXT does not. */
export function snapshotRows(table: SnapshotTable, rows: readonly Record<string, unknown>[], decode: JsonDecoder): Record<string, unknown>[] {
  const jsonColumns = COMPANY_JSON_COLUMNS[table] ?? [];
  return rows.map((row) => {
    const copy = { ...row };
    for (const column of jsonColumns) copy[column] = decode(row[column]);
    return copy;
  });
}
