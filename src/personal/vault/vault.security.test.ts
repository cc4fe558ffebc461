import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../protocol/keys.js';
import type { RelationshipRecord } from './relationshipRepo.js';
import { Vault } from './vault.js';

// Personal strings that must never reach the disk in a readable form.
const NAME = 'Ada Lovelace-Byron';
const EMAIL = 'ada.lovelace@example.org';
const TEXT = 'Please forget my address at 12 Crescent Road';
const MY_DID = 'did:peer:2.Ez6LSbysY2xFMRpGMhb7tFTLMpeuPRaqaWM1yECx2AtzE3KCc';
const THEIR_DID = 'did:web:crescent-books.example';
const VENDOR = 'Crescent Books Ltd';
const ENDPOINT = 'https://crescent-books.example/didcomm/inbox';
const ROUTE = 'route-token-Zk3pQ9vV2mX8';
const CUSTOMER_REF = 'customer-ref-778812';
const MESSAGE_ID = 'urn:uuid:6f1c2c4e-message-id-visible';

let dir: string;
let path: string;
let vault: Vault;
let rel: RelationshipRecord;
let privateD: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kith-vault-sec-'));
  path = join(dir, 'vault.db');
  vault = Vault.create(path, 'a long passphrase', { kdf: { N: 2 ** 12 } });
  const pair = generateKeyPair('X25519');
  privateD = pair.privateJwk.d;
  rel = vault.relationships.insert({
    myDid: MY_DID,
    theirDid: THEIR_DID,
    vendorName: VENDOR,
    theirEndpoint: ENDPOINT,
    routeToken: ROUTE,
    customerRef: CUSTOMER_REF,
    invitationId: 'invitation-visible-1',
    notes: { name: NAME, email: EMAIL },
  });
  vault.keys.insert({ kid: `${MY_DID}#key-2`, relationshipId: rel.id, purpose: 'keyAgreement', ...pair });
  vault.messages.insert({
    relationshipId: rel.id,
    direction: 'in',
    messageId: MESSAGE_ID,
    type: 'https://didcomm.org/basicmessage/2.0/message',
    body: { content: TEXT, greeting: NAME },
    from: THEIR_DID,
    thid: MESSAGE_ID,
  });
  vault.messages.insert({
    relationshipId: rel.id,
    direction: 'out',
    messageId: `${MESSAGE_ID}-reply`,
    type: 'https://didcomm.org/basicmessage/2.0/message',
    body: { content: EMAIL },
  });
  vault.receipts.insert({ relationshipId: rel.id, kind: 'erasure', jws: `{"payload":"${TEXT}"}`, body: { email: EMAIL } });
  vault.outbox.enqueue({ relationshipId: rel.id, messageId: `${MESSAGE_ID}-out`, plaintext: { to: [THEIR_DID], body: TEXT } });
  vault.seen.record(MESSAGE_ID, Date.now() + 60_000);
  vault.settings.set('profile', { name: NAME, email: EMAIL });
  vault.settings.set(EMAIL, NAME);
});

afterEach(() => {
  vault.close();
  rmSync(dir, { recursive: true, force: true });
});

const files = (): string[] => [path, `${path}-wal`, `${path}-shm`];

/** Every (file, needle) pair where a needle is found in utf8, utf16le or (for `raw`) as bytes. */
function leaks(needles: string[], raw: Buffer[] = []): string[] {
  const found: string[] = [];
  for (const file of files().filter((f) => existsSync(f))) {
    const bytes = readFileSync(file);
    for (const needle of needles) {
      for (const encoding of ['utf8', 'utf16le'] as const) {
        if (bytes.indexOf(Buffer.from(needle, encoding)) !== -1) found.push(`${file}: ${needle} (${encoding})`);
      }
    }
    for (const r of raw) if (bytes.indexOf(r) !== -1) found.push(`${file}: raw bytes ${r.toString('hex')}`);
  }
  return found;
}

const personal = (): string[] => [NAME, EMAIL, TEXT, MY_DID, THEIR_DID, VENDOR, ENDPOINT, ROUTE, CUSTOMER_REF, MESSAGE_ID, privateD];
const rawKey = (): Buffer[] => [Buffer.from(privateD, 'base64url')];

describe('nothing personal on disk', () => {
  it('keeps every personal string out of the database, WAL and SHM files while the vault is open', () => {
    expect(existsSync(`${path}-wal`)).toBe(true);
    expect(leaks(personal(), rawKey())).toEqual([]);
  });

  it('keeps every personal string out of the files after close', () => {
    vault.close();
    expect(readFileSync(path).length).toBeGreaterThan(0);
    expect(leaks(personal(), rawKey())).toEqual([]);
  });

  it('keeps personal strings out of every plaintext column', () => {
    const snapshot = vault.snapshot();
    for (const rows of Object.values(snapshot)) {
      for (const row of rows as Record<string, unknown>[]) {
        const { data: _data, value: _value, ...plain } = row;
        const text = JSON.stringify(plain);
        for (const needle of personal()) expect(text).not.toContain(needle);
      }
    }
  });

  it('still decrypts everything it stored, so the checks above test real data', () => {
    expect(vault.relationships.findByMyDid(MY_DID)?.notes).toEqual({ name: NAME, email: EMAIL });
    expect(vault.keys.getByKid(`${MY_DID}#key-2`)?.privateJwk.d).toBe(privateD);
    expect(vault.messages.findByMessageId(MESSAGE_ID)?.body).toEqual({ content: TEXT, greeting: NAME });
    expect(vault.settings.get(EMAIL)).toBe(NAME);
  });
});

describe('destroying keys', () => {
  it('leaves neither the private key nor even its encrypted row in the files', () => {
    const keyBlob = Buffer.from(String((vault.snapshot()['keys']?.[0] as { data: string }).data), 'hex');
    expect(keyBlob.length).toBeGreaterThan(64);
    vault.close();
    vault = Vault.open(path, 'a long passphrase');
    // The ciphertext is findable before destruction, which shows the search below can succeed.
    expect(leaks([], [keyBlob])).not.toEqual([]);

    expect(vault.keys.destroyForRelationship(rel.id)).toBe(1);
    expect(leaks([privateD], [...rawKey(), keyBlob])).toEqual([]);
    vault.close();
    expect(leaks([privateD], [...rawKey(), keyBlob])).toEqual([]);
  });
});

describe('changing the passphrase', () => {
  it('does not leave the previously wrapped data key in the files', () => {
    const oldKeyring = String((vault.snapshot()['meta']?.find((r) => (r as { key: string }).key === 'keyring') as { value: string }).value);
    const oldWrapped = (JSON.parse(oldKeyring) as { wrap: { wrappedKey: string } }).wrap.wrappedKey;
    vault.close();
    vault = Vault.open(path, 'a long passphrase', { kdf: { N: 2 ** 12 } });
    expect(leaks([oldWrapped])).not.toEqual([]);
    vault.changePassphrase('a long passphrase', 'another long passphrase');
    expect(leaks([oldWrapped])).toEqual([]);
  });
});
