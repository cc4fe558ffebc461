import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../protocol/keys.js';
import { exportVault, sealExport } from './export.js';
import type { RelationshipRecord } from './relationshipRepo.js';
import { Vault } from './vault.js';
import { consentDocument } from '../../../test/support/documents.js';
import { demand, newIntent, signedOffer } from '../../../test/support/intents.js';

// Personal strings that must never reach the disk in a readable form.
const NAME = 'Ada Lovelace-Byron';
const EMAIL = 'ada.lovelace@example.org';
const TEXT = 'Please forget my address at 12 Crescent Road';
const MY_DID = 'did:peer:2.Ez6LSbysY2xFMRpGMhb7tFTLMpeuPRaqaWM1yECx2AtzE3KCc';
const THEIR_DID = 'did:web:crescent-books.example';
const COMPANY = 'Crescent Books Ltd';
const ENDPOINT = 'https://crescent-books.example/didcomm/inbox';
const ROUTE = 'route-token-Zk3pQ9vV2mX8';
const CUSTOMER_REF = 'customer-ref-778812';
const MESSAGE_ID = 'urn:uuid:6f1c2c4e-message-id-visible';
const PROFILE_PHONE = '+44 7700 900123';
const PROFILE_FIELD = 'secret_hobby_field';
const DISCLOSED_VALUE = 'Flat 3, 9 Lantern Street';
const SD_JWT = 'eyJhbGciOiJFZERTQSIsInR5cCI6ImRjK3NkLWp3dCJ9.eyJ2Y3QiOiJ1cm46ZXhhbXBsZTphZ2UifQ.c2lnbmF0dXJlLWJ5dGVz~WyJzYWx0LXNhbHQiLCJhZ2Vfb3Zlcl8xOCIsdHJ1ZV0~';
const REQUEST_ID = 'company-request-id-4471';
const PURPOSE = 'Marketing emails about lanterns';
const INTENT_DESCRIPTION = 'Brass storm lantern for a narrowboat, hand-made';
const OFFER_ITEM = 'Lantern Nr. 7 in aged brass';
const THING_SERIAL = 'SERIAL-LANTERN-0042-XQ';
const THING_PLACE = 'under the stairs, left shelf';
const DOCUMENT_TEXT = 'Paid with the card ending 4242 at Lantern House';
const DOCUMENT_NAME = 'lantern-receipt-private.txt';
/** The intent id the company was sent: its handle on her intent. */
const RECIPIENT_INTENT_ID = '3f0c9b7e-5d1a-4c2e-9b8f-7a6d5c4b3a21';

let dir: string;
let path: string;
let vault: Vault;
let rel: RelationshipRecord;
let privateD: string;
let holderD: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kith-vault-sec-'));
  path = join(dir, 'vault.db');
  vault = Vault.create(path, 'a long passphrase', { kdf: { N: 2 ** 12 } });
  const pair = generateKeyPair('X25519');
  privateD = pair.privateJwk.d;
  rel = vault.relationships.insert({
    myDid: MY_DID,
    theirDid: THEIR_DID,
    vendorName: COMPANY,
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

  // Schema version 2: profile, fan-out, disclosure, consent, what companies hold, credentials.
  const version = vault.profile.applyChange({ email: EMAIL, phone_number: PROFILE_PHONE, [PROFILE_FIELD]: NAME });
  vault.deliveries.create({ version, relationshipId: rel.id, fields: ['email', PROFILE_FIELD] });
  const request = vault.disclosureRequests.insert({
    relationshipId: rel.id,
    requestId: REQUEST_ID,
    messageId: MESSAGE_ID,
    nonce: 'nonce-nonce-nonce-nonce',
    fields: ['email', PROFILE_FIELD],
    purpose: PURPOSE,
    retention: 'P1Y',
    legalBasis: 'consent',
    termsRef: ENDPOINT,
    credentials: [],
  });
  const consentId = '00000000-0000-4000-8000-0000000000c1';
  const record = consentDocument(consentId, { principalDid: MY_DID, controller: { name: COMPANY, did: THEIR_DID }, requestId: REQUEST_ID, termsRef: ENDPOINT, purpose: PURPOSE });
  vault.consents.insert({ id: consentId, relationshipId: rel.id, requestId: request.id, state: 'active', record });
  vault.disclosed.upsert({
    relationshipId: rel.id,
    field: PROFILE_FIELD,
    value: DISCLOSED_VALUE,
    version,
    source: 'self',
    issuer: null,
    consentRecordId: consentId,
    purpose: PURPOSE,
    retention: null,
    disclosedAt: Date.now(),
  });
  const holder = vault.keys.insertHolderKey(generateKeyPair('Ed25519'));
  holderD = holder.privateJwk.d;
  vault.credentials.insert({ sdJwt: SD_JWT, issuer: THEIR_DID, vct: 'urn:example:age', claims: ['age_over_18'], holderKeyId: holder.id });

  // Schema version 4: an intent, the company it was cast to, and its offer.
  const intent = vault.intents.insert(newIntent({ demand: demand({ description: INTENT_DESCRIPTION, category: 'home-appliances' }), disclose: [PROFILE_FIELD] }));
  const recipient = vault.intentRecipients.insert({ intentId: intent.id, relationshipId: rel.id, recipientIntentId: RECIPIENT_INTENT_ID });
  vault.offers.insert({
    intentId: intent.id,
    recipientId: recipient.id,
    relationshipId: rel.id,
    signed: signedOffer('9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a', RECIPIENT_INTENT_ID, { itemOffered: { name: OFFER_ITEM, category: 'home-appliances' } }),
    verdict: { meets: false, reasons: [`${OFFER_ITEM} is above her price`] },
  });

  // Schema version 6: a thing, its link to the company, and a document kept with it.
  const thing = vault.things.insert({ name: OFFER_ITEM, serialNumber: THING_SERIAL, location: THING_PLACE, links: [{ relationshipId: rel.id, role: 'seller' }] });
  vault.attachments.insert({ thingId: thing.id, kind: 'receipt', fileName: DOCUMENT_NAME, contentType: 'text/plain', bytes: Buffer.from(DOCUMENT_TEXT) });
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

const personal = (): string[] => [
  NAME,
  EMAIL,
  TEXT,
  MY_DID,
  THEIR_DID,
  COMPANY,
  ENDPOINT,
  ROUTE,
  CUSTOMER_REF,
  MESSAGE_ID,
  privateD,
  PROFILE_PHONE,
  PROFILE_FIELD,
  DISCLOSED_VALUE,
  SD_JWT,
  // Parts of the SD-JWT too: the issuer JWT alone, and one disclosure.
  SD_JWT.split('~')[0] ?? SD_JWT,
  SD_JWT.split('~')[1] ?? SD_JWT,
  REQUEST_ID,
  PURPOSE,
  holderD,
  INTENT_DESCRIPTION,
  OFFER_ITEM,
  THING_SERIAL,
  THING_PLACE,
  DOCUMENT_TEXT,
  DOCUMENT_NAME,
  RECIPIENT_INTENT_ID,
];
const rawKey = (): Buffer[] => [Buffer.from(privateD, 'base64url'), Buffer.from(holderD, 'base64url')];

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
        const { data: _data, value: _value, content: _content, ...plain } = row;
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
    expect(vault.profile.get('phone_number')?.value).toBe(PROFILE_PHONE);
    expect(vault.profile.get(PROFILE_FIELD)?.value).toBe(NAME);
    expect(vault.disclosed.get(rel.id, PROFILE_FIELD)?.value).toBe(DISCLOSED_VALUE);
    expect(vault.disclosed.holdersOf([PROFILE_FIELD]).get(rel.id)).toEqual([PROFILE_FIELD]);
    expect(vault.disclosureRequests.findByRequestId(rel.id, REQUEST_ID)?.purpose).toBe(PURPOSE);
    expect(vault.credentials.list()[0]?.sdJwt).toBe(SD_JWT);
    expect(vault.keys.listHolderKeys()[0]?.privateJwk.d).toBe(holderD);
    const recipient = vault.intentRecipients.findByRecipientIntentId(rel.id, RECIPIENT_INTENT_ID);
    expect(vault.intents.get(recipient?.intentId ?? '')?.demand.description).toBe(INTENT_DESCRIPTION);
    expect(vault.offers.listForRecipient(recipient?.id ?? '')[0]?.signed.offer.itemOffered.name).toBe(OFFER_ITEM);
    const [thing] = vault.things.list();
    expect(thing?.serialNumber).toBe(THING_SERIAL);
    const [document] = vault.attachments.list(thing?.id);
    expect(document?.fileName).toBe(DOCUMENT_NAME);
    expect(vault.attachments.content(document?.id ?? '')?.toString()).toBe(DOCUMENT_TEXT);
  });
});

describe('nothing personal in an export', () => {
  it('keeps every personal string out of a sealed (encrypted) export', async () => {
    const doc = exportVault(vault);
    // The plain document does hold them, which shows the search below can succeed.
    const plain = JSON.stringify(doc);
    for (const needle of [INTENT_DESCRIPTION, OFFER_ITEM, RECIPIENT_INTENT_ID, EMAIL]) expect(plain).toContain(needle);
    const sealed = await sealExport(doc, 'an export passphrase');
    for (const needle of personal()) expect(sealed).not.toContain(needle);
  });
});

describe('destroying keys', () => {
  it('leaves neither the private key nor even its encrypted row in the files', () => {
    const keyRow = vault.snapshot()['keys']?.find((row) => (row as { relationship_id: string | null }).relationship_id === rel.id);
    const keyBlob = Buffer.from(String((keyRow as { data: string }).data), 'hex');
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
