import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/clock.js';
import type { NewRelationship } from './relationshipRepo.js';
import { FIRST_PERSONA_ID, personaOf } from './personaRepo.js';
import { Vault, type VaultOptions } from './vault.js';
import { codeOf } from '../../../test/support/errorCodes.js';
import { agreementUri, consentDocument, loadTestDocuments, type TestDocuments } from '../../../test/support/documents.js';
import { newIntent, signedOffer } from '../../../test/support/intents.js';

const FAST: VaultOptions = { kdf: { N: 2 ** 12 } };
let dir: string;
let path: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kith-vault-'));
  path = join(dir, 'vault.db');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function rel(n: number): NewRelationship {
  return {
    myDid: `did:peer:2.me${n}`,
    theirDid: 'did:web:shop.example',
    vendorName: 'Shop',
    theirEndpoint: 'https://shop.example/didcomm',
    routeToken: `route-${n}`,
    customerRef: null,
    invitationId: null,
  };
}

/** Name and sha256 of every file in the vault directory (so new -wal/-shm files count as changes). */
function fileHashes(): Record<string, string> {
  return Object.fromEntries(
    readdirSync(dir)
      .sort()
      .map((f) => [f, createHash('sha256').update(readFileSync(join(dir, f))).digest('hex')]),
  );
}

function keyring(): { kdf: { N: number; r: number; p: number; salt: string }; wrap: { wrappedKey: string } } {
  const db = new Database(path, { readonly: true });
  try {
    const row = db.prepare("SELECT value FROM meta WHERE key = 'keyring'").get() as { value: string };
    return JSON.parse(row.value) as ReturnType<typeof keyring>;
  } finally {
    db.close();
  }
}

function dataBlobs(vault: Vault): string[] {
  return Object.values(vault.snapshot())
    .flat()
    .map((row) => (row as { data?: string }).data)
    .filter((d): d is string => d !== undefined);
}

describe('creating and opening', () => {
  it('creates a vault that reopens with the same passphrase and keeps its data', () => {
    const vault = Vault.create(path, 'correct horse', FAST);
    const created = vault.relationships.insert(rel(1));
    vault.close();
    expect(Vault.exists(path)).toBe(true);
    const reopened = Vault.open(path, 'correct horse');
    expect(reopened.relationships.get(created.id)).toEqual(created);
    reopened.close();
  });

  it('creates the file readable by its owner only', () => {
    Vault.create(path, 'pw', FAST).close();
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('refuses to create a vault where one already exists and leaves it untouched', () => {
    Vault.create(path, 'pw', FAST).close();
    const before = fileHashes();
    expect(codeOf(() => Vault.create(path, 'other', FAST))).toBe('vault.exists');
    expect(fileHashes()).toEqual(before);
  });

  it('refuses to create a vault next to a leftover WAL file, which SQLite would replay into it', () => {
    writeFileSync(`${path}-wal`, 'stale');
    expect(codeOf(() => Vault.create(path, 'pw', FAST))).toBe('vault.exists');
    expect(existsSync(path)).toBe(false);
  });

  it('refuses an empty passphrase', () => {
    expect(codeOf(() => Vault.create(path, '', FAST))).toBe('vault.passphrase_required');
    expect(existsSync(path)).toBe(false);
  });

  it('reports a missing vault as not initialized', () => {
    expect(Vault.exists(path)).toBe(false);
    expect(codeOf(() => Vault.open(path, 'pw'))).toBe('vault.not_initialized');
  });

  it('stores the default scrypt parameters (N=2^17, r=8, p=1) and a 16-byte salt', () => {
    Vault.create(path, 'pw').close();
    const { kdf } = keyring();
    expect(kdf).toMatchObject({ N: 131072, r: 8, p: 1 });
    expect(Buffer.from(kdf.salt, 'base64')).toHaveLength(16);
  });

  it('opens with the stored KDF parameters whatever the options say', () => {
    Vault.create(path, 'pw', FAST).close();
    expect(keyring().kdf.N).toBe(4096);
    const vault = Vault.open(path, 'pw', { kdf: { N: 2 ** 14 } });
    expect(vault.isOpen).toBe(true);
    vault.close();
  });

  it('rejects a wrong passphrase without changing a single byte of the files', () => {
    const vault = Vault.create(path, 'right', FAST);
    vault.relationships.insert(rel(1));
    vault.close();
    const before = fileHashes();
    expect(codeOf(() => Vault.open(path, 'wrong'))).toBe('vault.wrong_passphrase');
    expect(fileHashes()).toEqual(before);
  });

  it('rejects a wrong passphrase without touching the WAL of a vault open elsewhere', () => {
    const vault = Vault.create(path, 'right', FAST);
    vault.relationships.insert(rel(1));
    const db = readFileSync(path);
    const wal = readFileSync(`${path}-wal`);
    expect(codeOf(() => Vault.open(path, 'wrong'))).toBe('vault.wrong_passphrase');
    expect(readFileSync(path).equals(db)).toBe(true);
    expect(readFileSync(`${path}-wal`).equals(wal)).toBe(true);
    vault.close();
  });

  it('reports a file that is not a vault as corrupt', () => {
    writeFileSync(path, 'this is not a database, just some text that is long enough'.repeat(20));
    expect(codeOf(() => Vault.open(path, 'pw'))).toBe('vault.corrupt');
    rmSync(path);
    const db = new Database(path);
    db.exec('CREATE TABLE other (x)');
    db.close();
    expect(codeOf(() => Vault.open(path, 'pw'))).toBe('vault.corrupt');
  });

  it('reports unreadable key metadata as corrupt', () => {
    Vault.create(path, 'pw', FAST).close();
    const db = new Database(path);
    db.prepare("UPDATE meta SET value = '{\"version\":1}' WHERE key = 'keyring'").run();
    db.close();
    expect(codeOf(() => Vault.open(path, 'pw'))).toBe('vault.corrupt');
  });
});

const V1_TABLES = ['keys', 'messages', 'meta', 'outbox', 'receipts', 'relationships', 'seen', 'settings'];
/** Added by schema version 2, children before parents (the order to drop them in). */
const V2_TABLES = ['profile_deliveries', 'consent_records', 'disclosed_fields', 'disclosure_requests', 'profile_changes', 'profile_fields', 'credentials'];
/** Added by schema version 3. */
const V3_TABLES = ['agreements'];
/** Added by schema version 4, children before parents. */
const V4_TABLES = ['intent_offers', 'intent_recipients', 'intents'];
/** Added by schema version 5. */
const V5_TABLES = ['verifications'];
/** Added by schema version 6. */
const V6_TABLES = ['thing_attachments', 'thing_links', 'things'];
const V7_TABLES = ['account_ids'];
/** Added by schema version 8. */
const V8_TABLES = ['seen_ids'];
/** Added by schema version 9. */
const V9_TABLES = ['personas'];
/** Added by schema version 10 (the thing family's pending receipts). */
const V10_TABLES = ['thing_receipts'];
/** Added by schema version 11 (her service cases). */
const V11_TABLES = ['service_cases'];
const ALL_TABLES = [...V1_TABLES, ...V2_TABLES, ...V3_TABLES, ...V4_TABLES, ...V5_TABLES, ...V6_TABLES, ...V7_TABLES, ...V8_TABLES, ...V9_TABLES, ...V10_TABLES, ...V11_TABLES].sort();

const AGREEMENT_ID = '00000000-0000-4000-8000-0000000000a1';
const INTENT_ID = '00000000-0000-4000-8000-0000000000b1';
const RECIPIENT_INTENT_ID = '00000000-0000-4000-8000-0000000000b2';
const OFFER_ID = '00000000-0000-4000-8000-0000000000b3';
let documents: TestDocuments;
beforeAll(async () => {
  documents = await loadTestDocuments();
});
function agreement(relationshipId: string) {
  return {
    id: AGREEMENT_ID,
    relationshipId,
    proposedBy: 'person' as const,
    state: 'agreed' as const,
    threadId: 'thread-1',
    agreementId: agreementUri('service-only'),
    signed: documents.agreement(AGREEMENT_ID, { signedBy: 'both' }),
    obligations: documents.obligations('service-only'),
    reason: null,
  };
}

function tableNames(): string[] {
  const db = new Database(path, { readonly: true });
  try {
    return (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all() as string[]).sort();
  } finally {
    db.close();
  }
}

function schemaVersion(): string {
  const db = new Database(path, { readonly: true });
  try {
    return (db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string }).value;
  } finally {
    db.close();
  }
}

/** Turns the vault at `path` into what an older schema version wrote: no newer tables, its schema_version. */
function downgradeTo(version: 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10): void {
  const newer = [
    ...V11_TABLES,
    ...(version < 10 ? V10_TABLES : []),
    ...(version < 9 ? V9_TABLES : []),
    ...(version < 8 ? V8_TABLES : []),
    ...{ 1: [...V7_TABLES, ...V6_TABLES, ...V5_TABLES, ...V4_TABLES, ...V3_TABLES, ...V2_TABLES], 2: [...V7_TABLES, ...V6_TABLES, ...V5_TABLES, ...V4_TABLES, ...V3_TABLES], 3: [...V7_TABLES, ...V6_TABLES, ...V5_TABLES, ...V4_TABLES], 4: [...V7_TABLES, ...V6_TABLES, ...V5_TABLES], 5: [...V7_TABLES, ...V6_TABLES], 6: V7_TABLES, 7: [], 8: [], 9: [], 10: [] }[version]!,
  ];
  const db = new Database(path);
  try {
    db.transaction(() => {
      for (const table of newer) db.exec(`DROP TABLE ${table}`);
      db.prepare("UPDATE meta SET value = ? WHERE key = 'schema_version'").run(String(version));
    })();
  } finally {
    db.close();
  }
}
const downgradeToV1 = (): void => downgradeTo(1);

describe('schema versions', () => {
  it('creates new vaults at schema version 11 with every table', () => {
    Vault.create(path, 'pw', FAST).close();
    expect(schemaVersion()).toBe('11');
    expect(tableNames()).toEqual(ALL_TABLES);
  });

  it('migrates a version 1 vault when it is unlocked, keeping its data', () => {
    const vault = Vault.create(path, 'pw', FAST);
    const r = vault.relationships.insert(rel(1));
    vault.settings.set('theme', 'dark');
    vault.close();
    downgradeToV1();
    expect(tableNames()).toEqual([...V1_TABLES].sort());

    const migrated = Vault.open(path, 'pw');
    expect(migrated.relationships.get(r.id)).toEqual(r);
    expect(migrated.settings.get('theme')).toBe('dark');
    expect(migrated.profile.applyChange({ email: 'ada@example.org' })).toBe(1);
    migrated.deliveries.create({ version: 1, relationshipId: r.id, fields: ['email'] });
    migrated.agreements.insert(agreement(r.id));
    migrated.intents.insert(newIntent({ id: INTENT_ID }));
    migrated.close();
    expect(schemaVersion()).toBe('11');
    expect(tableNames()).toEqual(ALL_TABLES);

    // Opening again is a plain open (nothing left to migrate).
    const again = Vault.open(path, 'pw');
    expect(again.profile.get('email')?.value).toBe('ada@example.org');
    expect(again.deliveries.countPending()).toBe(1);
    expect(again.agreements.current(r.id)?.id).toBe(AGREEMENT_ID);
    expect(again.intents.get(INTENT_ID)?.demand).toEqual(newIntent().demand);
    again.close();
  });

  it('migrates a version 2 vault to version 11 when it is unlocked, keeping its data', () => {
    const vault = Vault.create(path, 'pw', FAST);
    const r = vault.relationships.insert(rel(1));
    vault.profile.applyChange({ email: 'ada@example.org' });
    const consent = consentDocument('00000000-0000-4000-8000-0000000000c1');
    vault.consents.insert({ id: '00000000-0000-4000-8000-0000000000c1', relationshipId: r.id, requestId: null, state: 'active', record: consent });
    vault.close();
    downgradeTo(2);
    expect(schemaVersion()).toBe('2');
    expect(tableNames()).toEqual([...V1_TABLES, ...V2_TABLES].sort());

    const migrated = Vault.open(path, 'pw');
    expect(migrated.relationships.get(r.id)).toEqual(r);
    expect(migrated.profile.get('email')?.value).toBe('ada@example.org');
    expect(migrated.consents.list(r.id).map((c) => c.record)).toEqual([consent]);
    expect(migrated.agreements.list(r.id)).toEqual([]);
    migrated.agreements.insert(agreement(r.id));
    // The migration created the indexes too: one agreed entry per relationship.
    expect(codeOf(() => migrated.agreements.insert({ ...agreement(r.id), id: '00000000-0000-4000-8000-0000000000a2' }))).toBe('vault.conflict');
    migrated.close();
    expect(schemaVersion()).toBe('11');
    expect(tableNames()).toEqual(ALL_TABLES);

    const again = Vault.open(path, 'pw');
    expect(again.agreements.current(r.id)).toMatchObject({ id: AGREEMENT_ID, signed: { record: { id: AGREEMENT_ID } } });
    again.close();
  });

  it('migrates a version 3 vault to version 11 when it is unlocked, keeping its data', () => {
    const vault = Vault.create(path, 'pw', FAST);
    const r = vault.relationships.insert(rel(1));
    vault.agreements.insert(agreement(r.id));
    vault.close();
    downgradeTo(3);
    expect(schemaVersion()).toBe('3');
    expect(tableNames()).toEqual([...V1_TABLES, ...V2_TABLES, ...V3_TABLES].sort());

    const migrated = Vault.open(path, 'pw');
    expect(migrated.relationships.get(r.id)).toEqual(r);
    expect(migrated.agreements.current(r.id)?.id).toBe(AGREEMENT_ID);
    expect(migrated.intents.list()).toEqual([]);
    const intent = migrated.intents.insert(newIntent({ id: INTENT_ID }));
    const recipient = migrated.intentRecipients.insert({ intentId: intent.id, relationshipId: r.id, recipientIntentId: RECIPIENT_INTENT_ID });
    migrated.offers.insert({ intentId: intent.id, recipientId: recipient.id, relationshipId: r.id, signed: signedOffer(OFFER_ID, RECIPIENT_INTENT_ID), verdict: { meets: true, reasons: [] } });
    // The migration created the indexes too: one cast of an intent per relationship.
    expect(codeOf(() => migrated.intentRecipients.insert({ intentId: intent.id, relationshipId: r.id, recipientIntentId: OFFER_ID }))).toBe('vault.conflict');
    migrated.close();
    expect(schemaVersion()).toBe('11');
    expect(tableNames()).toEqual(ALL_TABLES);

    const again = Vault.open(path, 'pw');
    expect(again.intentRecipients.findByRecipientIntentId(r.id, RECIPIENT_INTENT_ID)?.id).toBe(recipient.id);
    expect(again.offers.listForIntent(INTENT_ID).map((o) => o.id)).toEqual([OFFER_ID]);
    again.close();
  });

  it('migrates a version 4 vault to version 11 when it is unlocked, keeping its data', () => {
    const vault = Vault.create(path, 'pw', FAST);
    const r = vault.relationships.insert(rel(1));
    vault.intents.insert(newIntent({ id: INTENT_ID }));
    vault.close();
    downgradeTo(4);
    expect(schemaVersion()).toBe('4');
    expect(tableNames()).toEqual([...V1_TABLES, ...V2_TABLES, ...V3_TABLES, ...V4_TABLES].sort());

    const migrated = Vault.open(path, 'pw');
    expect(migrated.intents.get(INTENT_ID)?.id).toBe(INTENT_ID);
    expect(migrated.verifications.list()).toEqual([]);
    const challenge = { relationshipId: r.id, challengeId: 'challenge-1', messageId: 'message-1', code: 'K7Q4MX', agent: 'Sam', expiresAt: 1_000 };
    migrated.verifications.insert(challenge);
    // The migration created the unique blind index too: one record per challenge.
    expect(codeOf(() => migrated.verifications.insert(challenge))).toBe('vault.conflict');
    migrated.close();
    expect(schemaVersion()).toBe('11');
    expect(tableNames()).toEqual(ALL_TABLES);
  });

  it('migrates a version 5 vault to version 11 when it is unlocked, keeping its data', () => {
    const vault = Vault.create(path, 'pw', FAST);
    const r = vault.relationships.insert(rel(1));
    const challenge = { relationshipId: r.id, challengeId: 'challenge-1', messageId: 'message-1', code: 'K7Q4MX', agent: 'Sam', expiresAt: 1_000 };
    vault.verifications.insert(challenge);
    vault.close();
    downgradeTo(5);
    expect(schemaVersion()).toBe('5');
    expect(tableNames()).toEqual(ALL_TABLES.filter((t) => !V11_TABLES.includes(t) && !V10_TABLES.includes(t) && !V9_TABLES.includes(t) && !V8_TABLES.includes(t) && !V7_TABLES.includes(t) && !V6_TABLES.includes(t)));

    const migrated = Vault.open(path, 'pw');
    expect(migrated.verifications.list().map((v) => v.challengeId)).toEqual(['challenge-1']);
    expect(migrated.accountIds.list()).toEqual([]);
    const added = migrated.accountIds.addHers(r.id, { kind: 'policy_number', value: '88-123' });
    // The migration created the blind index too: the value is found again by its normalised form.
    expect(migrated.accountIds.find('88 123').map((a) => a.id)).toEqual([added.id]);
    migrated.close();
    expect(schemaVersion()).toBe('11');
    expect(tableNames()).toEqual(ALL_TABLES);
  });

  it('migrates a version 8 vault to version 10: its profile, relationships and changes become the first persona\'s', () => {
    const vault = Vault.create(path, 'pw', FAST);
    const r = vault.relationships.insert(rel(1));
    vault.profile.applyChange({ email: 'ada@example.org' });
    vault.close();
    downgradeTo(8);
    expect(tableNames()).toEqual(ALL_TABLES.filter((t) => !V11_TABLES.includes(t) && !V10_TABLES.includes(t) && !V9_TABLES.includes(t)));

    const migrated = Vault.open(path, 'pw');
    expect(migrated.personas.list().map((p) => ({ id: p.id, label: p.label }))).toEqual([{ id: FIRST_PERSONA_ID, label: 'me' }]);
    expect(migrated.profile.get('email', FIRST_PERSONA_ID)?.value).toBe('ada@example.org');
    expect(personaOf(migrated.relationships.get(r.id) ?? {})).toBe(FIRST_PERSONA_ID);
    expect(migrated.profile.change(1)?.persona).toBe(FIRST_PERSONA_ID);
    migrated.close();
    expect(schemaVersion()).toBe('11');
    expect(tableNames()).toEqual(ALL_TABLES);
  });

  it('migrates a version 5 vault to version 11 with the tables of her things, keeping its data', () => {
    const vault = Vault.create(path, 'pw', FAST);
    const r = vault.relationships.insert(rel(1));
    vault.verifications.insert({ relationshipId: r.id, challengeId: 'challenge-1', messageId: 'message-1', code: 'K7Q4MX', agent: 'Sam', expiresAt: 1_000 });
    vault.close();
    downgradeTo(5);
    expect(schemaVersion()).toBe('5');
    expect(tableNames()).toEqual([...V1_TABLES, ...V2_TABLES, ...V3_TABLES, ...V4_TABLES, ...V5_TABLES].sort());

    const migrated = Vault.open(path, 'pw');
    expect(migrated.verifications.list()).toHaveLength(1);
    expect(migrated.things.list()).toEqual([]);
    const thing = migrated.things.insert({ name: 'Bike', links: [{ relationshipId: r.id, role: 'seller' }] });
    // The migration created the constraints too: a link to a relationship that does not exist is refused.
    expect(codeOf(() => migrated.things.insert({ name: 'Car', links: [{ relationshipId: '00000000-0000-4000-8000-00000000dead', role: 'maker' }] }))).toBe('relationship.unknown');
    migrated.close();
    expect(schemaVersion()).toBe('11');
    expect(tableNames()).toEqual(ALL_TABLES);
    const again = Vault.open(path, 'pw');
    expect(again.things.get(thing.id)).toEqual(thing);
    again.close();
  });

  it('migrates a version 8 vault to version 11 with the table of pending receipts', () => {
    const vault = Vault.create(path, 'pw', FAST);
    const r = vault.relationships.insert(rel(1));
    vault.close();
    downgradeTo(8);
    expect(tableNames()).not.toContain('thing_receipts');
    const migrated = Vault.open(path, 'pw');
    expect(migrated.relationships.get(r.id)).toEqual(r);
    expect(migrated.thingReceipts.list()).toEqual([]);
    migrated.close();
    expect(schemaVersion()).toBe('11');
    expect(tableNames()).toEqual(ALL_TABLES);
  });

  it('migrates a version 10 vault to version 11 when it is unlocked: service cases can be kept', () => {
    const vault = Vault.create(path, 'pw', FAST);
    const r = vault.relationships.insert(rel(1));
    const thing = vault.things.insert({ name: 'Fridge' });
    vault.close();
    downgradeTo(10);
    expect(schemaVersion()).toBe('10');
    expect(tableNames()).toEqual(ALL_TABLES.filter((t) => !V11_TABLES.includes(t)));
    const migrated = Vault.open(path, 'pw');
    expect(schemaVersion()).toBe('11');
    expect(tableNames()).toEqual(ALL_TABLES);
    expect(migrated.things.get(thing.id)?.name).toBe('Fridge');
    const id = '00000000-0000-4000-8000-0000000000d1';
    migrated.serviceCases.insert({ id, thingId: thing.id, relationshipId: r.id, state: 'open', warrantyClaim: false, thingName: 'Fridge', shared: {}, identifier: null, thread: [{ author: 'her', kind: 'open', text: 'Warm.', messageId: 'm-1', at: 1 }] });
    expect(migrated.serviceCases.get(id)?.state).toBe('open');
    migrated.close();
  });

  it('leaves a version 3 vault byte for byte unchanged on a wrong passphrase', () => {
    Vault.create(path, 'right', FAST).close();
    downgradeTo(3);
    const before = fileHashes();
    expect(codeOf(() => Vault.open(path, 'wrong'))).toBe('vault.wrong_passphrase');
    expect(fileHashes()).toEqual(before);
    expect(schemaVersion()).toBe('3');
    Vault.open(path, 'right').close();
    expect(schemaVersion()).toBe('11');
  });

  it('leaves a version 2 vault byte for byte unchanged on a wrong passphrase', () => {
    Vault.create(path, 'right', FAST).close();
    downgradeTo(2);
    const before = fileHashes();
    expect(codeOf(() => Vault.open(path, 'wrong'))).toBe('vault.wrong_passphrase');
    expect(fileHashes()).toEqual(before);
    expect(schemaVersion()).toBe('2');
    Vault.open(path, 'right').close();
    expect(schemaVersion()).toBe('11');
  });

  it('leaves a version 1 vault byte for byte unchanged on a wrong passphrase', () => {
    const vault = Vault.create(path, 'right', FAST);
    vault.relationships.insert(rel(1));
    vault.close();
    downgradeToV1();
    const before = fileHashes();
    expect(codeOf(() => Vault.open(path, 'wrong'))).toBe('vault.wrong_passphrase');
    expect(fileHashes()).toEqual(before);
    expect(schemaVersion()).toBe('1');
    Vault.open(path, 'right').close();
    expect(schemaVersion()).toBe('11');
  });

  it('reports an unknown schema version as corrupt and writes nothing', () => {
    for (const version of ['0', '12', 'two']) {
      rmSync(path, { force: true });
      Vault.create(path, 'pw', FAST).close();
      const db = new Database(path);
      db.prepare("UPDATE meta SET value = ? WHERE key = 'schema_version'").run(version);
      db.close();
      const before = fileHashes();
      expect(codeOf(() => Vault.open(path, 'pw'))).toBe('vault.corrupt');
      expect(fileHashes()).toEqual(before);
    }
  });
});

describe('changing the passphrase', () => {
  it('rewraps only the data key: the old passphrase fails, the new one works, row blobs are identical', () => {
    const vault = Vault.create(path, 'old', FAST);
    const r = vault.relationships.insert(rel(1));
    vault.settings.set('theme', 'dark');
    const blobs = dataBlobs(vault);
    const saltBefore = keyring().kdf.salt;
    vault.changePassphrase('old', 'new');
    expect(dataBlobs(vault)).toEqual(blobs);
    expect(keyring().kdf.salt).not.toBe(saltBefore);
    vault.close();
    expect(codeOf(() => Vault.open(path, 'old', FAST))).toBe('vault.wrong_passphrase');
    const reopened = Vault.open(path, 'new', FAST);
    expect(dataBlobs(reopened)).toEqual(blobs);
    expect(reopened.relationships.get(r.id)).toEqual(r);
    reopened.close();
  });

  it('refuses a wrong old passphrase and changes nothing', () => {
    const vault = Vault.create(path, 'old', FAST);
    const before = vault.snapshot();
    expect(codeOf(() => vault.changePassphrase('nope', 'new'))).toBe('vault.wrong_passphrase');
    expect(vault.snapshot()).toEqual(before);
    vault.close();
    Vault.open(path, 'old').close();
  });

  it('refuses an empty new passphrase', () => {
    const vault = Vault.create(path, 'old', FAST);
    expect(codeOf(() => vault.changePassphrase('old', ''))).toBe('vault.passphrase_required');
    vault.close();
  });
});

describe('integrity of rows', () => {
  it('fails with vault.corrupt when a blob is moved to another row', () => {
    const vault = Vault.create(path, 'pw', FAST);
    const a = vault.relationships.insert(rel(1));
    const b = vault.relationships.insert(rel(2));
    vault.close();
    const db = new Database(path);
    db.prepare('UPDATE relationships SET data = (SELECT data FROM relationships WHERE id = ?) WHERE id = ?').run(a.id, b.id);
    db.close();
    const reopened = Vault.open(path, 'pw');
    expect(reopened.relationships.get(a.id)).toEqual(a);
    expect(codeOf(() => reopened.relationships.get(b.id))).toBe('vault.corrupt');
    reopened.close();
  });
});

describe('lifecycle', () => {
  it('locks every repository after close, and close may be called twice', () => {
    const vault = Vault.create(path, 'pw', FAST);
    vault.close();
    vault.close();
    expect(vault.isOpen).toBe(false);
    expect(codeOf(() => vault.relationships.list())).toBe('vault.locked');
    expect(codeOf(() => vault.settings.get('x'))).toBe('vault.locked');
    expect(codeOf(() => vault.snapshot())).toBe('vault.locked');
  });

  it('rolls a transaction back when its function throws', () => {
    const vault = Vault.create(path, 'pw', { ...FAST, clock: new ManualClock() });
    expect(() =>
      vault.transaction(() => {
        vault.relationships.insert(rel(1));
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(vault.relationships.list()).toEqual([]);
    vault.close();
  });

  it('snapshots every table with blobs as hex', () => {
    const vault = Vault.create(path, 'pw', FAST);
    vault.relationships.insert(rel(1));
    const snapshot = vault.snapshot();
    expect(Object.keys(snapshot).sort()).toEqual(ALL_TABLES);
    expect((snapshot['relationships']?.[0] as { data: string }).data).toMatch(/^01[0-9a-f]+$/);
    vault.close();
  });
});
