import type Database from 'better-sqlite3';

/**
 * The vault's tables. Plaintext columns hold only random ids, states, timestamps, counters and
 * blind indexes (`*_idx`); everything personal lives in the encrypted `data` blob.
 */
export const SCHEMA_VERSION = 1;

const DDL = `
CREATE TABLE IF NOT EXISTS meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;

CREATE TABLE IF NOT EXISTS relationships (
  id TEXT PRIMARY KEY,
  my_did_idx TEXT NOT NULL UNIQUE,
  their_did_idx TEXT NOT NULL,
  route_idx TEXT NOT NULL UNIQUE,
  state TEXT NOT NULL CHECK (state IN ('pending', 'active', 'muted', 'cut_off')),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  data BLOB NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS relationships_their_did ON relationships (their_did_idx);

CREATE TABLE IF NOT EXISTS keys (
  id TEXT PRIMARY KEY,
  relationship_id TEXT REFERENCES relationships (id),
  kid_idx TEXT NOT NULL UNIQUE,
  purpose TEXT NOT NULL CHECK (purpose IN ('authentication', 'keyAgreement')),
  created_at INTEGER NOT NULL,
  data BLOB NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS keys_relationship ON keys (relationship_id);

CREATE TABLE IF NOT EXISTS messages (
  id TEXT PRIMARY KEY,
  relationship_id TEXT NOT NULL REFERENCES relationships (id),
  message_id_idx TEXT NOT NULL UNIQUE,
  direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
  status TEXT NOT NULL CHECK (status IN ('shown', 'held', 'queued', 'sent')),
  created_at INTEGER NOT NULL,
  data BLOB NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS messages_relationship ON messages (relationship_id, created_at);

CREATE TABLE IF NOT EXISTS receipts (
  id TEXT PRIMARY KEY,
  relationship_id TEXT NOT NULL REFERENCES relationships (id),
  kind TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  data BLOB NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS receipts_relationship ON receipts (relationship_id, created_at);

CREATE TABLE IF NOT EXISTS outbox (
  id TEXT PRIMARY KEY,
  relationship_id TEXT NOT NULL REFERENCES relationships (id),
  next_attempt_at INTEGER NOT NULL,
  attempts INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  data BLOB NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (next_attempt_at);

CREATE TABLE IF NOT EXISTS seen (
  id_idx TEXT PRIMARY KEY,
  expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS seen_expiry ON seen (expires_at);

CREATE TABLE IF NOT EXISTS settings (
  key_idx TEXT PRIMARY KEY,
  updated_at INTEGER NOT NULL,
  data BLOB NOT NULL
) STRICT;
`;

/** Creates the tables of a new vault. Idempotent, and writes nothing when they already exist. */
export function createSchema(db: Database.Database): void {
  db.exec(DDL);
}

/**
 * Per-connection settings. `secure_delete` is not persistent, so it must be set on every open:
 * without it, deleted private keys would linger in free pages.
 */
export function applyPragmas(db: Database.Database): void {
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('secure_delete = ON');
}
