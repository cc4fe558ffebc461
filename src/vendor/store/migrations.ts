import { Migrator, sql, type Kysely, type Migration } from 'kysely';
import { StoreError } from '../../core/errors.js';

export type StoreDialect = 'sqlite' | 'postgres';

// Own names so the vendor store can share a database with other kysely users without colliding.
const MIGRATION_TABLE = 'kith_vendor_migration';
const MIGRATION_LOCK_TABLE = 'kith_vendor_migration_lock';

/** Times are bigint on PostgreSQL (ms overflow int4); SQLite's INTEGER is already 64-bit. JSON is jsonb vs TEXT. */
function columnTypes(dialect: StoreDialect): { time: 'bigint' | 'integer'; json: 'jsonb' | 'text' } {
  return dialect === 'postgres' ? { time: 'bigint', json: 'jsonb' } : { time: 'integer', json: 'text' };
}

// Migrations take Kysely<any> by design: they describe past schemas, not the current typed one.
function initial(dialect: StoreDialect): Migration {
  const { time, json } = columnTypes(dialect);
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('agent_identity')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('did', 'text', (c) => c.notNull())
        .addColumn('keys', json, (c) => c.notNull())
        .addColumn('created_at', time, (c) => c.notNull())
        .addCheckConstraint('agent_identity_single_row', sql`id = 1`)
        .execute();

      await db.schema
        .createTable('relationships')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('their_did', 'text', (c) => c.notNull().unique())
        .addColumn('customer_ref', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('created_at', time, (c) => c.notNull())
        .addColumn('updated_at', time, (c) => c.notNull())
        .addCheckConstraint('relationships_state_check', sql`state in ('active', 'muted', 'cut_off')`)
        .execute();

      await db.schema
        .createTable('seen_messages')
        .addColumn('message_id', 'text', (c) => c.primaryKey())
        .addColumn('expires_at', time, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('seen_messages_expiry').on('seen_messages').column('expires_at').execute();

      await db.schema
        .createTable('messages')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('relationship_id', 'text', (c) => c.notNull().references('relationships.id'))
        .addColumn('message_id', 'text', (c) => c.notNull())
        .addColumn('direction', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('body', json, (c) => c.notNull())
        .addColumn('created_at', time, (c) => c.notNull())
        .addCheckConstraint('messages_direction_check', sql`direction in ('in', 'out')`)
        .execute();
      await db.schema
        .createIndex('messages_by_relationship')
        .on('messages')
        .columns(['relationship_id', 'created_at', 'id'])
        .execute();

      await db.schema
        .createTable('outbox')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('relationship_id', 'text', (c) => c.notNull().references('relationships.id'))
        .addColumn('message_id', 'text', (c) => c.notNull())
        .addColumn('packed', 'text', (c) => c.notNull())
        .addColumn('created_at', time, (c) => c.notNull())
        .addColumn('next_attempt_at', time, (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.createIndex('outbox_due').on('outbox').columns(['next_attempt_at']).execute();
      await db.schema
        .createIndex('outbox_by_relationship')
        .on('outbox')
        .columns(['relationship_id', 'created_at', 'id'])
        .execute();

      await db.schema
        .createTable('tombstones')
        .addColumn('did_sha256', 'text', (c) => c.primaryKey())
        .addColumn('relationship_id', 'text', (c) => c.notNull().references('relationships.id'))
        .addColumn('erased_at', time, (c) => c.notNull())
        .execute();
    },
  };
}

/** Append-only: never edit a migration that has shipped, add a new key instead. */
export function vendorMigrations(dialect: StoreDialect): Record<string, Migration> {
  return {
    '0001_initial': initial(dialect),
  };
}

/** Brings the schema to the latest version; `schema` pins where kysely keeps its bookkeeping on PostgreSQL. */
export async function migrateVendorStore(db: Kysely<any>, dialect: StoreDialect, schema?: string): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => vendorMigrations(dialect) },
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: MIGRATION_LOCK_TABLE,
    ...(schema === undefined ? {} : { migrationTableSchema: schema }),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    throw new StoreError('store.unavailable', 'Vendor store migration failed', {
      cause: error,
      details: { dialect, ...(failed === undefined ? {} : { migration: failed }) },
    });
  }
}

/** Tables the store owns, in snapshot order, with the columns that sort their rows deterministically. */
export const VENDOR_TABLES = {
  agent_identity: ['id'],
  relationships: ['id'],
  seen_messages: ['message_id'],
  messages: ['id'],
  outbox: ['id'],
  tombstones: ['did_sha256'],
} as const;
