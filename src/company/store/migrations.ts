import { Migrator, sql, type Kysely, type Migration } from 'kysely';
import { StoreError } from '../../core/errors.js';

export type StoreDialect = 'sqlite' | 'postgres';

// Own names so the company store can share a database with other kysely users without colliding.
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

/** Selective disclosure: what we asked her, what she consented to, what we hold, the evidence, and events for connectors. */
function disclosure(dialect: StoreDialect): Migration {
  const { time, json } = columnTypes(dialect);
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('disclosure_requests')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('relationship_id', 'text', (c) => c.notNull().references('relationships.id'))
        .addColumn('message_id', 'text', (c) => c.notNull())
        .addColumn('nonce', 'text', (c) => c.notNull().unique())
        .addColumn('fields', json, (c) => c.notNull())
        .addColumn('credentials', json, (c) => c.notNull())
        .addColumn('purpose', 'text', (c) => c.notNull())
        .addColumn('retention', 'text')
        .addColumn('legal_basis', 'text', (c) => c.notNull())
        .addColumn('terms_ref', 'text')
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('created_at', time, (c) => c.notNull())
        .addColumn('updated_at', time, (c) => c.notNull())
        .addCheckConstraint(
          'disclosure_requests_state_check',
          sql`state in ('pending', 'fulfilled', 'declined', 'withdrawn')`,
        )
        .execute();
      await db.schema
        .createIndex('disclosure_requests_by_relationship')
        .on('disclosure_requests')
        .columns(['relationship_id', 'created_at', 'id'])
        .execute();

      await db.schema
        .createTable('consent_records')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('relationship_id', 'text', (c) => c.notNull().references('relationships.id'))
        .addColumn('request_id', 'text')
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('record', json, (c) => c.notNull())
        .addColumn('created_at', time, (c) => c.notNull())
        .addColumn('updated_at', time, (c) => c.notNull())
        .addCheckConstraint('consent_records_state_check', sql`state in ('active', 'refused', 'withdrawn', 'expired')`)
        .execute();
      await db.schema
        .createIndex('consent_records_by_relationship')
        .on('consent_records')
        .columns(['relationship_id', 'created_at', 'id'])
        .execute();

      await db.schema
        .createTable('held_fields')
        .addColumn('relationship_id', 'text', (c) => c.notNull().references('relationships.id'))
        .addColumn('field', 'text', (c) => c.notNull())
        .addColumn('value', json, (c) => c.notNull())
        .addColumn('version', time, (c) => c.notNull())
        .addColumn('consent_record_id', 'text', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('issuer', 'text')
        .addColumn('updated_at', time, (c) => c.notNull())
        .addPrimaryKeyConstraint('held_fields_pk', ['relationship_id', 'field'])
        .addCheckConstraint('held_fields_source_check', sql`source in ('self', 'credential')`)
        .execute();

      await db.schema
        .createTable('profile_versions')
        .addColumn('relationship_id', 'text', (c) => c.primaryKey().references('relationships.id'))
        .addColumn('version', time, (c) => c.notNull())
        .addColumn('updated_at', time, (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('presentations')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('relationship_id', 'text', (c) => c.notNull().references('relationships.id'))
        .addColumn('message_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('sd_jwt', 'text', (c) => c.notNull())
        .addColumn('received_at', time, (c) => c.notNull())
        .addCheckConstraint('presentations_kind_check', sql`kind in ('disclosure', 'update')`)
        .execute();
      await db.schema
        .createIndex('presentations_by_relationship')
        .on('presentations')
        .columns(['relationship_id', 'received_at', 'id'])
        .execute();

      // relationship_id is deliberately not a foreign key: events outlive erasure bookkeeping.
      await db.schema
        .createTable('connector_events')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('relationship_id', 'text')
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('payload', json, (c) => c.notNull())
        .addColumn('created_at', time, (c) => c.notNull())
        .addColumn('next_attempt_at', time, (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('dispatched_at', time)
        .execute();
      // Partial on both dialects: dispatched events (most rows, eventually) stay out of the index
      // the dispatcher's "undispatched and due" claim scans.
      await db.schema
        .createIndex('connector_events_due')
        .on('connector_events')
        .columns(['next_attempt_at', 'created_at', 'id'])
        .where(sql<boolean>`dispatched_at is null`)
        .execute();
      await db.schema
        .createIndex('connector_events_by_relationship')
        .on('connector_events')
        .columns(['relationship_id', 'created_at', 'id'])
        .execute();
    },
  };
}

/** IEEE 7012-style terms: the agreement records of each relationship and where each stands. */
function terms(dialect: StoreDialect): Migration {
  const { time, json } = columnTypes(dialect);
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('terms_agreements')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('relationship_id', 'text', (c) => c.notNull().references('relationships.id'))
        .addColumn('proposed_by', 'text', (c) => c.notNull())
        .addColumn('agreement_id', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('thread_id', 'text', (c) => c.notNull())
        .addColumn('signed', json, (c) => c.notNull())
        .addColumn('obligations', json, (c) => c.notNull())
        .addColumn('reason', 'text')
        .addColumn('created_at', time, (c) => c.notNull())
        .addColumn('updated_at', time, (c) => c.notNull())
        .addCheckConstraint('terms_agreements_proposed_by_check', sql`proposed_by in ('person', 'company')`)
        .addCheckConstraint(
          'terms_agreements_state_check',
          sql`state in ('proffered', 'countered', 'agreed', 'superseded', 'rejected', 'declined')`,
        )
        .execute();
      await db.schema
        .createIndex('terms_agreements_by_relationship')
        .on('terms_agreements')
        .columns(['relationship_id', 'created_at', 'id'])
        .execute();
      await db.schema
        .createIndex('terms_agreements_by_thread')
        .on('terms_agreements')
        .columns(['relationship_id', 'thread_id'])
        .execute();
      // Partial on both dialects: at most one agreement in force per relationship.
      await db.schema
        .createIndex('terms_agreements_one_agreed')
        .on('terms_agreements')
        .column('relationship_id')
        .unique()
        .where(sql<boolean>`state = 'agreed'`)
        .execute();
    },
  };
}

/** Intentcasting (decision 0012): the intents she cast to the company and the offers it made for them. */
function intents(dialect: StoreDialect): Migration {
  const { time, json } = columnTypes(dialect);
  return {
    async up(db: Kysely<any>): Promise<void> {
      // currency_required is 0 or 1 on both dialects (SQLite has no boolean), so snapshots match.
      await db.schema
        .createTable('intents')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('relationship_id', 'text', (c) => c.notNull().references('relationships.id'))
        .addColumn('message_id', 'text', (c) => c.notNull())
        .addColumn('demand', json, (c) => c.notNull())
        .addColumn('outcome', 'text')
        .addColumn('currency_required', 'integer', (c) => c.notNull())
        .addColumn('expires_at', time, (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('created_at', time, (c) => c.notNull())
        .addColumn('updated_at', time, (c) => c.notNull())
        .addCheckConstraint('intents_currency_required_check', sql`currency_required in (0, 1)`)
        .addCheckConstraint('intents_state_check', sql`state in ('open', 'accepted', 'declined', 'closed', 'expired')`)
        .execute();
      await db.schema
        .createIndex('intents_by_relationship')
        .on('intents')
        .columns(['relationship_id', 'created_at', 'id'])
        .execute();
      // What the offers' foreign key points at: an offer's intent must be of the offer's relationship.
      await db.schema.createIndex('intents_id_relationship').on('intents').columns(['id', 'relationship_id']).unique().execute();

      // The foreign key to the intent is named so that translateError (OFFERS_INTENT_FK) tells its
      // violation from a relationship's. It cascades: erasure deletes offers first, and an offer a
      // concurrent writer slips in before the intent goes is deleted with it instead of failing
      // the erasure.
      await db.schema
        .createTable('offers')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('intent_id', 'text', (c) => c.notNull())
        .addColumn('relationship_id', 'text', (c) => c.notNull().references('relationships.id'))
        .addColumn('signed', json, (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('created_at', time, (c) => c.notNull())
        .addColumn('updated_at', time, (c) => c.notNull())
        .addForeignKeyConstraint('offers_intent_fk', ['intent_id', 'relationship_id'], 'intents', ['id', 'relationship_id'], (fk) => fk.onDelete('cascade'))
        .addCheckConstraint('offers_state_check', sql`state in ('offered', 'accepted', 'declined', 'withdrawn', 'closed')`)
        .execute();
      await db.schema
        .createIndex('offers_by_intent')
        .on('offers')
        .columns(['intent_id', 'created_at', 'id'])
        .execute();
      await db.schema.createIndex('offers_by_relationship').on('offers').column('relationship_id').execute();
    },
  };
}

/**
 * Delivery state per connector (issue 14): one row per (event, connector) once a connector was
 * tried, so one failing company system neither holds back nor repeats the others; `dead` rows are
 * the dead letters. Deleted with their event (erasure deletes a relationship's events).
 */
function connectorDeliveries(dialect: StoreDialect): Migration {
  const { time } = columnTypes(dialect);
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('connector_deliveries')
        .addColumn('event_id', 'text', (c) => c.notNull().references('connector_events.id').onDelete('cascade'))
        .addColumn('connector_id', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('next_attempt_at', time)
        .addColumn('last_error', 'text')
        .addColumn('updated_at', time, (c) => c.notNull())
        .addPrimaryKeyConstraint('connector_deliveries_pk', ['event_id', 'connector_id'])
        .addCheckConstraint('connector_deliveries_state_check', sql`state in ('delivered', 'failed', 'dead')`)
        .execute();
      await db.schema
        .createIndex('connector_deliveries_dead')
        .on('connector_deliveries')
        .columns(['connector_id', 'updated_at'])
        .where(sql<boolean>`state = 'dead'`)
        .execute();
    },
  };
}

/**
 * Her data rights requests (access, and deletion at cut-off) in the Data Rights Protocol's words.
 * Deliberately not a foreign key and not erased with the relationship: the record that a request
 * was answered outlives what it was about, and holds no personal value (ids, exercise, status).
 */
function dataRights(dialect: StoreDialect): Migration {
  const { time } = columnTypes(dialect);
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('data_rights_requests')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('relationship_id', 'text', (c) => c.notNull())
        .addColumn('request_id', 'text', (c) => c.notNull())
        .addColumn('exercise', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('reason', 'text')
        .addColumn('received_at', time, (c) => c.notNull())
        .addColumn('updated_at', time, (c) => c.notNull())
        .addUniqueConstraint('data_rights_requests_request', ['relationship_id', 'request_id'])
        .addCheckConstraint('data_rights_requests_exercise_check', sql`exercise in ('access', 'deletion')`)
        .addCheckConstraint('data_rights_requests_status_check', sql`status in ('open', 'in_progress', 'fulfilled', 'denied', 'expired')`)
        .execute();
      await db.schema
        .createIndex('data_rights_requests_by_time')
        .on('data_rights_requests')
        .columns(['received_at', 'id'])
        .execute();
    },
  };
}

/**
 * The call-center console (issue 14): caller verifications (the challenge sent, her answer kept as
 * the JWS received) and the audit log of who looked at which customer. The audit log's
 * relationship_id is deliberately not a foreign key and not erased: it is the company's record of
 * its own people's access, and holds no personal value.
 */
function console_(dialect: StoreDialect): Migration {
  const { time } = columnTypes(dialect);
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('caller_verifications')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('relationship_id', 'text', (c) => c.notNull().references('relationships.id'))
        .addColumn('message_id', 'text', (c) => c.notNull())
        .addColumn('code', 'text', (c) => c.notNull())
        .addColumn('operator', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('expires_at', time, (c) => c.notNull())
        .addColumn('created_at', time, (c) => c.notNull())
        .addColumn('answered_at', time)
        .addColumn('answer_message_id', 'text')
        .addColumn('signer_kid', 'text')
        .addColumn('answer_jws', 'text')
        .addCheckConstraint('caller_verifications_state_check', sql`state in ('pending', 'approved', 'refused')`)
        .execute();
      await db.schema
        .createIndex('caller_verifications_by_relationship')
        .on('caller_verifications')
        .columns(['relationship_id', 'created_at', 'id'])
        .execute();

      await db.schema
        .createTable('audit_log')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('operator', 'text', (c) => c.notNull())
        .addColumn('relationship_id', 'text')
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('at', time, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('audit_log_by_time').on('audit_log').columns(['at', 'id']).execute();
      await db.schema.createIndex('audit_log_by_relationship').on('audit_log').columns(['relationship_id', 'at', 'id']).execute();
    },
  };
}

/**
 * Her things (issue 13, docs/protocol/thing.md): the signed receipts the company sent (the signed
 * document as sent) and her registrations of things it makes (the product's GTIN and model, what a
 * recall is matched on, the claims she shared and the presentation as received). Both erased with
 * the relationship.
 */
function things(dialect: StoreDialect): Migration {
  const { time, json } = columnTypes(dialect);
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('thing_receipts')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('relationship_id', 'text', (c) => c.notNull().references('relationships.id'))
        .addColumn('message_id', 'text', (c) => c.notNull())
        .addColumn('signed', json, (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('created_at', time, (c) => c.notNull())
        .addColumn('answered_at', time)
        .addCheckConstraint('thing_receipts_state_check', sql`state in ('sent', 'accepted', 'declined')`)
        .execute();
      await db.schema.createIndex('thing_receipts_by_relationship').on('thing_receipts').columns(['relationship_id', 'created_at', 'id']).execute();
      await db.schema
        .createTable('thing_registrations')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('relationship_id', 'text', (c) => c.notNull().references('relationships.id'))
        .addColumn('consent_record_id', 'text', (c) => c.notNull())
        .addColumn('message_id', 'text', (c) => c.notNull())
        .addColumn('gtin', 'text')
        .addColumn('model', 'text')
        .addColumn('claims', json, (c) => c.notNull())
        .addColumn('sd_jwt', 'text', (c) => c.notNull())
        .addColumn('created_at', time, (c) => c.notNull())
        .addCheckConstraint('thing_registrations_product_check', sql`gtin is not null or model is not null`)
        .execute();
      await db.schema.createIndex('thing_registrations_by_relationship').on('thing_registrations').columns(['relationship_id', 'created_at', 'id']).execute();
      await db.schema.createIndex('thing_registrations_by_gtin').on('thing_registrations').columns(['gtin']).execute();
      await db.schema.createIndex('thing_registrations_by_model').on('thing_registrations').columns(['model']).execute();
    },
  };
}

/** Append-only: never edit a migration that has shipped, add a new key instead. */
export function companyMigrations(dialect: StoreDialect): Record<string, Migration> {
  return {
    '0001_initial': initial(dialect),
    '0002_disclosure': disclosure(dialect),
    '0003_terms': terms(dialect),
    '0004_intents': intents(dialect),
    '0005_connector_deliveries': connectorDeliveries(dialect),
    '0006_data_rights': dataRights(dialect),
    '0007_console': console_(dialect),
    '0008_things': things(dialect),
    '0009_service_cases': serviceCases(dialect),
  };
}

/**
 * Service cases about her things (docs/protocol/service.md): the case (her case id, unique per
 * relationship; the details she shared as JSON) and its thread, one row a message. Both are erased
 * with the relationship.
 */
function serviceCases(dialect: StoreDialect): Migration {
  const { time, json } = columnTypes(dialect);
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('service_cases')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('relationship_id', 'text', (c) => c.notNull().references('relationships.id'))
        .addColumn('case_id', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('warranty_claim', 'integer', (c) => c.notNull())
        .addColumn('details', json, (c) => c.notNull())
        .addColumn('created_at', time, (c) => c.notNull())
        .addColumn('updated_at', time, (c) => c.notNull())
        .addUniqueConstraint('service_cases_case', ['relationship_id', 'case_id'])
        .addCheckConstraint('service_cases_state_check', sql`state in ('open', 'answered', 'resolved')`)
        .addCheckConstraint('service_cases_warranty_check', sql`warranty_claim in (0, 1)`)
        .execute();
      await db.schema.createIndex('service_cases_by_update').on('service_cases').columns(['updated_at', 'id']).execute();
      await db.schema.createIndex('service_cases_by_state').on('service_cases').columns(['state', 'updated_at', 'id']).execute();

      await db.schema
        .createTable('service_case_entries')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('case_row_id', 'text', (c) => c.notNull().references('service_cases.id'))
        .addColumn('relationship_id', 'text', (c) => c.notNull().references('relationships.id'))
        .addColumn('message_id', 'text', (c) => c.notNull())
        .addColumn('author', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('text', 'text')
        .addColumn('created_at', time, (c) => c.notNull())
        .addCheckConstraint('service_case_entries_author_check', sql`author in ('person', 'company')`)
        .addCheckConstraint('service_case_entries_kind_check', sql`kind in ('open', 'reply', 'resolve')`)
        .execute();
      await db.schema.createIndex('service_case_entries_by_case').on('service_case_entries').columns(['case_row_id', 'created_at', 'id']).execute();
      await db.schema.createIndex('service_case_entries_by_relationship').on('service_case_entries').column('relationship_id').execute();
    },
  };
}

/** Brings the schema to the latest version; `schema` pins where kysely keeps its bookkeeping on PostgreSQL. */
export async function migrateCompanyStore(db: Kysely<any>, dialect: StoreDialect, schema?: string): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => companyMigrations(dialect) },
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: MIGRATION_LOCK_TABLE,
    ...(schema === undefined ? {} : { migrationTableSchema: schema }),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    throw new StoreError('store.unavailable', 'Company store migration failed', {
      cause: error,
      details: { dialect, ...(failed === undefined ? {} : { migration: failed }) },
    });
  }
}

/** Tables the store owns, in snapshot order, with the columns that sort their rows deterministically. */
export const COMPANY_TABLES = {
  agent_identity: ['id'],
  relationships: ['id'],
  seen_messages: ['message_id'],
  messages: ['id'],
  outbox: ['id'],
  tombstones: ['did_sha256'],
  disclosure_requests: ['id'],
  consent_records: ['id'],
  terms_agreements: ['id'],
  held_fields: ['relationship_id', 'field'],
  profile_versions: ['relationship_id'],
  presentations: ['id'],
  connector_events: ['id'],
  connector_deliveries: ['event_id', 'connector_id'],
  data_rights_requests: ['id'],
  intents: ['id'],
  offers: ['id'],
  caller_verifications: ['id'],
  audit_log: ['id'],
  thing_receipts: ['id'],
  thing_registrations: ['id'],
  service_cases: ['id'],
  service_case_entries: ['id'],
} as const;

/** The JSON columns of COMPANY_TABLES, decoded in snapshots so both dialects snapshot identically. */
export const COMPANY_JSON_COLUMNS: Partial<Record<keyof typeof COMPANY_TABLES, readonly string[]>> = {
  agent_identity: ['keys'],
  messages: ['body'],
  disclosure_requests: ['fields', 'credentials'],
  consent_records: ['record'],
  terms_agreements: ['signed', 'obligations'],
  held_fields: ['value'],
  connector_events: ['payload'],
  intents: ['demand'],
  offers: ['signed'],
  thing_receipts: ['signed'],
  thing_registrations: ['claims'],
  service_cases: ['details'],
};
