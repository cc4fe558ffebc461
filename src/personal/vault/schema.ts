import type Database from 'better-sqlite3';

/**
 * The vault's tables. Plaintext columns hold only random ids, states, timestamps, counters and
 * blind indexes (`*_idx`); everything personal lives in the encrypted `data` blob.
 *
 * Version 2 added her profile, its change log and fan-out deliveries, disclosure requests, consent
 * records, what each company holds, and held credentials. Version 3 added her terms agreement
 * records (IEEE 7012-style). Version 4 added her intents, the companies each was cast to and the
 * offers they answered with (docs/decisions/0012-intentcasting.md). Version 5 added the caller
 * verifications companies asked her for (docs/protocol/caller-verification.md). Version 6 added her
 * things, the companies linked to each by role, and their documents (issue 13). Version 7 added the
 * administrative identities each company knows her by (docs/protocol/account.md). Version 8 added
 * the replay cache's message ids, sealed, so an export carries the cache to a new vault. Version 9
 * added her personas (docs/decisions/0022-personas.md). Version 10 added the signed receipts sellers
 * sent her, pending her answer (docs/protocol/thing.md). Version 11 added the service cases she
 * opened about her things (docs/protocol/service.md). Every
 * change so far only adds tables and indexes, so {@link createSchema} is also the migration (see
 * {@link MIGRATABLE_SCHEMA_VERSIONS}).
 */
export const SCHEMA_VERSION = 11;

/** Stored `schema_version` values that `Vault.open` upgrades to {@link SCHEMA_VERSION}. */
export const MIGRATABLE_SCHEMA_VERSIONS: readonly string[] = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10'];

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

-- Schema version 2 -------------------------------------------------------------------------

CREATE TABLE IF NOT EXISTS profile_fields (
  field_idx TEXT PRIMARY KEY,
  version INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  data BLOB NOT NULL
) STRICT;

CREATE TABLE IF NOT EXISTS profile_changes (
  version INTEGER PRIMARY KEY CHECK (version > 0),
  created_at INTEGER NOT NULL,
  data BLOB NOT NULL
) STRICT;

CREATE TABLE IF NOT EXISTS profile_deliveries (
  id TEXT PRIMARY KEY,
  version INTEGER NOT NULL REFERENCES profile_changes (version),
  relationship_id TEXT NOT NULL REFERENCES relationships (id),
  state TEXT NOT NULL CHECK (state IN ('pending', 'acked', 'failed', 'skipped')),
  attempts INTEGER NOT NULL,
  next_attempt_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  data BLOB NOT NULL,
  UNIQUE (version, relationship_id)
) STRICT;
CREATE INDEX IF NOT EXISTS profile_deliveries_due ON profile_deliveries (state, next_attempt_at);
CREATE INDEX IF NOT EXISTS profile_deliveries_relationship ON profile_deliveries (relationship_id, state, version);

CREATE TABLE IF NOT EXISTS disclosure_requests (
  id TEXT PRIMARY KEY,
  relationship_id TEXT NOT NULL REFERENCES relationships (id),
  request_idx TEXT NOT NULL UNIQUE,
  state TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'declined')),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  data BLOB NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS disclosure_requests_relationship ON disclosure_requests (relationship_id, created_at);

CREATE TABLE IF NOT EXISTS consent_records (
  id TEXT PRIMARY KEY,
  relationship_id TEXT NOT NULL REFERENCES relationships (id),
  request_id TEXT REFERENCES disclosure_requests (id),
  state TEXT NOT NULL CHECK (state IN ('pending', 'active', 'refused', 'withdrawn', 'expired')),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  data BLOB NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS consent_records_relationship ON consent_records (relationship_id, created_at);
CREATE INDEX IF NOT EXISTS consent_records_request ON consent_records (request_id);

CREATE TABLE IF NOT EXISTS disclosed_fields (
  relationship_id TEXT NOT NULL REFERENCES relationships (id),
  field_idx TEXT NOT NULL,
  version INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (relationship_id, field_idx)
) STRICT;
CREATE INDEX IF NOT EXISTS disclosed_fields_field ON disclosed_fields (field_idx);

CREATE TABLE IF NOT EXISTS credentials (
  id TEXT PRIMARY KEY,
  created_at INTEGER NOT NULL,
  data BLOB NOT NULL
) STRICT;

-- Schema version 3 -------------------------------------------------------------------------

-- thread_idx: blind index of relationship id + DIDComm thread id (a message id may be the company's
-- own string, so like messages.message_id_idx it is never stored in plaintext).
CREATE TABLE IF NOT EXISTS agreements (
  id TEXT PRIMARY KEY,
  relationship_id TEXT NOT NULL REFERENCES relationships (id),
  proposed_by TEXT NOT NULL CHECK (proposed_by IN ('person', 'company')),
  state TEXT NOT NULL CHECK (state IN ('proffered', 'countered', 'agreed', 'superseded', 'rejected', 'declined')),
  thread_idx TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  data BLOB NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS agreements_relationship ON agreements (relationship_id, created_at);
CREATE INDEX IF NOT EXISTS agreements_thread ON agreements (thread_idx, created_at);
-- At most one agreement in force per relationship.
CREATE UNIQUE INDEX IF NOT EXISTS agreements_agreed ON agreements (relationship_id) WHERE state = 'agreed';

-- Schema version 4 -------------------------------------------------------------------------

-- Her intents. expires_at is a time (ms), so it may be plaintext: it lets expiry be found in SQL.
CREATE TABLE IF NOT EXISTS intents (
  id TEXT PRIMARY KEY,
  state TEXT NOT NULL CHECK (state IN ('open', 'accepted', 'closed', 'expired')),
  expires_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  data BLOB NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS intents_created ON intents (created_at);
CREATE INDEX IF NOT EXISTS intents_expiry ON intents (state, expires_at);

-- One row per company an intent was cast to, each over its own relationship. recipient_intent_idx:
-- blind index of relationship id + the intent id that company knows (it is the company's handle on
-- her intent, so like a DID it is never stored in plaintext).
CREATE TABLE IF NOT EXISTS intent_recipients (
  id TEXT PRIMARY KEY,
  intent_id TEXT NOT NULL REFERENCES intents (id),
  relationship_id TEXT NOT NULL REFERENCES relationships (id),
  recipient_intent_idx TEXT NOT NULL UNIQUE,
  state TEXT NOT NULL CHECK (state IN ('sent', 'queued', 'failed', 'acknowledged', 'closed')),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  data BLOB NOT NULL,
  UNIQUE (intent_id, relationship_id)
) STRICT;
CREATE INDEX IF NOT EXISTS intent_recipients_relationship ON intent_recipients (relationship_id, created_at);

-- The offers companies answered with. id is the offer's own identifier (a UUID the company chose).
CREATE TABLE IF NOT EXISTS intent_offers (
  id TEXT PRIMARY KEY,
  intent_id TEXT NOT NULL REFERENCES intents (id),
  recipient_id TEXT NOT NULL REFERENCES intent_recipients (id),
  relationship_id TEXT NOT NULL REFERENCES relationships (id),
  state TEXT NOT NULL CHECK (state IN ('received', 'accepted', 'declined', 'withdrawn', 'closed')),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  data BLOB NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS intent_offers_intent ON intent_offers (intent_id, created_at);
CREATE INDEX IF NOT EXISTS intent_offers_recipient ON intent_offers (recipient_id, created_at);
CREATE INDEX IF NOT EXISTS intent_offers_relationship ON intent_offers (relationship_id, created_at);

-- Schema version 5 -------------------------------------------------------------------------

-- Caller verifications: a company asks her to confirm she is the caller on the phone.
-- challenge_idx: blind index of relationship id + the company's challenge id (its own string).
CREATE TABLE IF NOT EXISTS verifications (
  id TEXT PRIMARY KEY,
  relationship_id TEXT NOT NULL REFERENCES relationships (id),
  challenge_idx TEXT NOT NULL UNIQUE,
  state TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'refused')),
  expires_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  data BLOB NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS verifications_relationship ON verifications (relationship_id, created_at);

-- Schema version 6 -------------------------------------------------------------------------

-- Her things (schema.org IndividualProduct): every field, contract and reminder in the blob.
CREATE TABLE IF NOT EXISTS things (
  id TEXT PRIMARY KEY,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  data BLOB NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS things_created ON things (created_at);

-- Which company is what to a thing. Plaintext like receipts.kind: ids and a role, so the
-- relationship a recall or a receipt arrives on finds its things without opening every one.
CREATE TABLE IF NOT EXISTS thing_links (
  thing_id TEXT NOT NULL REFERENCES things (id) ON DELETE CASCADE,
  relationship_id TEXT NOT NULL REFERENCES relationships (id),
  role TEXT NOT NULL CHECK (role IN ('maker', 'seller', 'servicer', 'insurer')),
  created_at INTEGER NOT NULL,
  PRIMARY KEY (thing_id, relationship_id, role)
) STRICT;
CREATE INDEX IF NOT EXISTS thing_links_relationship ON thing_links (relationship_id);

-- Her documents (receipts, photos, manuals, warranties). data: the file's name, type and hash;
-- content: the file itself, sealed under 'thing_attachments.content:<id>'. size is a counter (the
-- content's length) so the total limit is checked without opening anything.
CREATE TABLE IF NOT EXISTS thing_attachments (
  id TEXT PRIMARY KEY,
  thing_id TEXT NOT NULL REFERENCES things (id) ON DELETE CASCADE,
  kind TEXT NOT NULL CHECK (kind IN ('receipt', 'photo', 'manual', 'warranty', 'other')),
  size INTEGER NOT NULL CHECK (size >= 0),
  created_at INTEGER NOT NULL,
  data BLOB NOT NULL,
  content BLOB NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS thing_attachments_thing ON thing_attachments (thing_id, created_at);

-- Schema version 7 -------------------------------------------------------------------------

-- Administrative identities: what each company knows her by (docs/protocol/account.md).
-- source: 'company' (from its signed account/identifiers list, kept in data as the proof) or 'her'.
-- sequence: the company's list number (a counter); NULL for hers.
-- value_idx: blind index of the normalised value, for "which company is policy 88-123?".
CREATE TABLE IF NOT EXISTS account_ids (
  id TEXT PRIMARY KEY,
  relationship_id TEXT NOT NULL REFERENCES relationships (id),
  source TEXT NOT NULL CHECK (source IN ('company', 'her')),
  sequence INTEGER CHECK ((source = 'company') = (sequence IS NOT NULL)),
  value_idx TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  data BLOB NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS account_ids_relationship ON account_ids (relationship_id, created_at);
CREATE INDEX IF NOT EXISTS account_ids_value ON account_ids (value_idx);

-- Schema version 8 -------------------------------------------------------------------------

-- The replay cache's message ids, sealed like every value (seen holds only their blind index), so
-- an export can carry the cache to a new vault, whose blind-index key differs. id_idx as in seen.
CREATE TABLE IF NOT EXISTS seen_ids (
  id_idx TEXT PRIMARY KEY,
  expires_at INTEGER NOT NULL,
  data BLOB NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS seen_ids_expiry ON seen_ids (expires_at);

-- Schema version 9 -------------------------------------------------------------------------

-- Her personas (sovereign identities), each with its own profile values (docs/decisions/0022-personas.md).
-- label_idx: blind index of the lower-cased label, so two personas cannot share a name.
-- Her profile fields stay in profile_fields: the first persona's under the keys they always had,
-- another persona's under keys that include its id (profileRepo.ts), so upgrading rewrites nothing.
CREATE TABLE IF NOT EXISTS personas (
  id TEXT PRIMARY KEY,
  label_idx TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  data BLOB NOT NULL
) STRICT;

-- Schema version 10 ------------------------------------------------------------------------

-- Signed receipts sellers sent her (docs/protocol/thing.md): pending until she accepts one into
-- her things (thing_id then names the thing made of it) or declines it. The signed document, as
-- received, is in data. receipt_idx: blind index of relationship id + the seller's receipt id, so
-- the same receipt sent twice is kept once.
CREATE TABLE IF NOT EXISTS thing_receipts (
  id TEXT PRIMARY KEY,
  relationship_id TEXT NOT NULL REFERENCES relationships (id),
  receipt_idx TEXT NOT NULL UNIQUE,
  state TEXT NOT NULL CHECK (state IN ('pending', 'accepted', 'declined')),
  thing_id TEXT REFERENCES things (id) ON DELETE SET NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  data BLOB NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS thing_receipts_relationship ON thing_receipts (relationship_id, created_at);

-- Schema version 11 ------------------------------------------------------------------------

-- Service cases about her things (docs/protocol/service.md). id: the case id her agent chose at
-- random and sent (every message of the case names it), so no blind index is needed to find a
-- case a company's message names. thing_id: NULL once she deleted the thing (the case and its
-- thread stay hers). The details she shared, her identifier and the thread are in the blob.
CREATE TABLE IF NOT EXISTS service_cases (
  id TEXT PRIMARY KEY,
  thing_id TEXT REFERENCES things (id) ON DELETE SET NULL,
  relationship_id TEXT NOT NULL REFERENCES relationships (id),
  state TEXT NOT NULL CHECK (state IN ('open', 'answered', 'resolved')),
  warranty_claim INTEGER NOT NULL CHECK (warranty_claim IN (0, 1)),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  data BLOB NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS service_cases_thing ON service_cases (thing_id, created_at);
CREATE INDEX IF NOT EXISTS service_cases_relationship ON service_cases (relationship_id, created_at);
`;

/**
 * Creates the tables of a new vault, or the missing ones of an older vault. Idempotent, and writes
 * nothing when they already exist.
 */
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
