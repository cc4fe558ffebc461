import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { GeneralEncrypt } from 'jose';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/clock.js';
import type { KithError } from '../../core/errors.js';
import { generateKeyPair } from '../../protocol/keys.js';
import { agreementUri, consentDocument, loadTestDocuments, type TestDocuments } from '../../../test/support/documents.js';
import { demand, newIntent, signedOffer } from '../../../test/support/intents.js';
import { sealBehindTheVault } from '../../../test/support/testVault.js';
import {
  EXPORT_CONTENT_TYPE,
  exportDocumentSchema,
  exportVault,
  importVault,
  openExport,
  salvageVault,
  sealExport,
  type ExportDocument,
  type ExportDocumentV1,
  type ExportDocumentV2,
  type ExportDocumentV3,
  type ExportDocumentV4,
  type ExportDocumentV5,
  type ExportDocumentV6,
  type ExportDocumentV7,
  type ExportDocumentV8,
} from './export.js';
import { SAMPLE_FILES } from '../../../test/support/sampleFiles.js';
import { Vault } from './vault.js';
import { FIRST_PERSONA_ID } from './personaRepo.js';
import { codeOf } from '../../../test/support/errorCodes.js';

const FAST = { kdf: { N: 2 ** 12 } };
const PASS = 'export passphrase';
let dir: string;
let vault: Vault;
let clock: ManualClock;
/** Real agreement documents: the vault parses what it stores with the protocol's schemas. */
let documents: TestDocuments;

beforeAll(async () => {
  documents = await loadTestDocuments();
});

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kith-export-'));
  clock = new ManualClock();
  vault = Vault.create(join(dir, 'source.db'), 'vault pass', { ...FAST, clock });
  populate(vault);
});
afterEach(() => {
  vault.close();
  rmSync(dir, { recursive: true, force: true });
});

const SERVICE_CASE_ID = '00000000-0000-4000-8000-0000000000c5';

function populate(v: Vault): void {
  const base = { theirDid: 'did:web:shop.example', theirEndpoint: 'https://shop.example/in', customerRef: 'C-1', invitationId: 'inv-1' };
  const a = v.relationships.insert({ ...base, myDid: 'did:peer:2.a', routeToken: 'ra', vendorName: 'Shop', notes: { pinned: true } });
  clock.advance(1000);
  const b = v.relationships.insert({ ...base, myDid: 'did:peer:2.b', routeToken: 'rb', vendorName: null });
  v.relationships.setState(a.id, 'active', clock.now());
  v.relationships.setState(b.id, 'cut_off', clock.now());
  v.keys.insert({ kid: 'did:peer:2.a#key-1', relationshipId: a.id, purpose: 'authentication', ...generateKeyPair('Ed25519') });
  v.keys.insert({ kid: 'did:peer:2.a#key-2', relationshipId: a.id, purpose: 'keyAgreement', ...generateKeyPair('X25519') });
  v.keys.insert({ kid: 'agent#key-1', relationshipId: null, purpose: 'authentication', ...generateKeyPair('Ed25519') });
  clock.advance(1000);
  v.messages.insert({ relationshipId: a.id, direction: 'in', messageId: 'm1', type: 't/1', body: { content: 'hello' }, thid: 'm1' });
  v.messages.insert({ relationshipId: a.id, direction: 'in', messageId: 'm2', type: 't/1', body: [1, 2], status: 'held' });
  v.messages.insert({ relationshipId: a.id, direction: 'out', messageId: 'm3', type: 't/1', body: null, status: 'sent' });
  v.receipts.insert({ relationshipId: b.id, kind: 'erasure', jws: '{"payload":"e30","signatures":[]}', body: { ok: true } });
  v.outbox.enqueue({ relationshipId: a.id, messageId: 'm4', plaintext: { id: 'm4' }, attempts: 3, nextAttemptAt: clock.now() + 5000 });
  v.settings.set('theme', 'dark');
  v.settings.set('profile', { name: 'Ada' });

  // Schema version 2 sections.
  clock.advance(1000);
  v.profile.applyChange({ name: 'Ada', email: 'ada@example.org', phone_number: '+44 1234' });
  clock.advance(1000);
  const version = v.profile.applyChange({ email: 'ada@new.example', phone_number: null, address: { locality: 'Hove' } });
  const delivery = v.deliveries.create({ version, relationshipId: a.id, fields: ['email'] });
  v.deliveries.reschedule([delivery.id], clock.now() + 9000, 'transport.unreachable');
  v.deliveries.create({ version: 1, relationshipId: b.id, fields: ['name'], state: 'skipped', lastError: 'relationship.cut_off' });
  const request = v.disclosureRequests.insert({
    relationshipId: a.id,
    requestId: 'req-1',
    messageId: 'm-req-1',
    nonce: 'bm9uY2Utbm9uY2Utbm9uY2U',
    fields: ['email', 'name'],
    purpose: 'Delivery',
    retention: 'P1Y',
    legalBasis: 'contract',
    termsRef: null,
    credentials: [{ vct: 'urn:example:age', claims: ['age_over_18'], issuers: ['did:web:issuer.example'] }],
  });
  v.disclosureRequests.insert({ ...requestInput(a.id, 'req-2'), credentials: [] });
  v.disclosureRequests.settle(request.id, 'approved', { answeredFields: ['email', 'age_over_18'], consentRecordId: CONSENT_ID });
  v.consents.insert({ id: CONSENT_ID, relationshipId: a.id, requestId: request.id, state: 'active', record: consentDocument(CONSENT_ID, { requestId: 'req-1' }) });
  v.consents.insert({ id: CONSENT_ID_2, relationshipId: b.id, requestId: null, state: 'withdrawn', record: consentDocument(CONSENT_ID_2, { requestId: null, state: 'withdrawn' }) });
  const disclosed = { consentRecordId: CONSENT_ID, purpose: 'Delivery', retention: 'P1Y', disclosedAt: clock.now() };
  v.disclosed.upsert({ ...disclosed, relationshipId: a.id, field: 'email', value: 'ada@example.org', version: 1, source: 'self', issuer: null });
  v.disclosed.upsert({ ...disclosed, relationshipId: a.id, field: 'age_over_18', value: true, version: 1, source: 'credential', issuer: 'did:web:issuer.example' });
  const holder = v.keys.insertHolderKey(generateKeyPair('Ed25519'));
  v.credentials.insert({ sdJwt: 'eyJ.eyJ.sig~WyJzIiwiYWdlX292ZXJfMTgiLHRydWVd~', issuer: 'did:web:issuer.example', vct: 'urn:example:age', claims: ['age_over_18'], holderKeyId: holder.id });

  // Schema version 3: terms agreements (one superseded, one in force, one open proffer).
  clock.advance(1000);
  const terms = { relationshipId: a.id, proposedBy: 'person' as const, reason: null };
  v.agreements.insert({ ...terms, id: AGREEMENT_IDS[0], agreementId: agreementUri('service-only'), state: 'agreed', threadId: 'thread-1', signed: signedDoc(0), obligations: documents.obligations('service-only') });
  clock.advance(1000);
  v.agreements.supersedeCurrent(a.id);
  v.agreements.update(AGREEMENT_IDS[0], { state: 'superseded', reason: 'changed terms' });
  v.agreements.insert({ ...terms, id: AGREEMENT_IDS[1], agreementId: agreementUri('intent-only-contact'), state: 'proffered', threadId: 'thread-2', signed: proffer(1), obligations: documents.obligations('intent-only-contact') });
  v.agreements.update(AGREEMENT_IDS[1], { state: 'agreed', signed: signedDoc(1) });
  v.agreements.insert({ ...terms, id: AGREEMENT_IDS[2], relationshipId: b.id, proposedBy: 'company', agreementId: agreementUri('data-for-research'), state: 'declined', threadId: 'thread-3', signed: counter(2), obligations: documents.obligations('data-for-research'), reason: 'no thanks' });

  // Schema version 4: intents. The first, cast to both companies, was accepted; the second is open.
  clock.advance(1000);
  const shoes = v.intents.insert(newIntent({ id: INTENT_IDS[0], disclose: ['email'] }));
  const toA = v.intentRecipients.insert({ id: RECIPIENT_IDS[0], intentId: shoes.id, relationshipId: a.id, recipientIntentId: RECIPIENT_INTENT_IDS[0] });
  v.intentRecipients.insert({ id: RECIPIENT_IDS[1], intentId: shoes.id, relationshipId: b.id, recipientIntentId: RECIPIENT_INTENT_IDS[1], state: 'failed' });
  clock.advance(1000);
  const bike = v.intents.insert(newIntent({ id: INTENT_IDS[1], demand: demand({ description: 'A used city bike', category: 'bicycles' }), outcome: null, currencyRequired: false }));
  v.intentRecipients.insert({ id: RECIPIENT_IDS[2], intentId: bike.id, relationshipId: a.id, recipientIntentId: RECIPIENT_INTENT_IDS[2] });
  v.intentRecipients.update(toA.id, { state: 'acknowledged', termsDecision: 'accepted' });
  clock.advance(1000);
  // Two offers from A arrive at the same time: listed by id.
  v.offers.insert({ intentId: shoes.id, recipientId: toA.id, relationshipId: a.id, signed: signedOffer(OFFER_IDS[1], RECIPIENT_INTENT_IDS[0]), verdict: { meets: true, reasons: [] } });
  v.offers.insert({ intentId: shoes.id, recipientId: toA.id, relationshipId: a.id, signed: signedOffer(OFFER_IDS[0], RECIPIENT_INTENT_IDS[0], { price: '189.00' }), verdict: { meets: false, reasons: ['price above 150 EUR'] } });
  v.offers.update(OFFER_IDS[0], { state: 'declined', decidedBy: 'outside-constraints' });
  clock.advance(1000);
  v.offers.update(OFFER_IDS[1], { state: 'accepted', from: ['received'] });
  v.intents.update(shoes.id, { state: 'accepted', acceptedOfferId: OFFER_IDS[1], from: ['open'] });
  v.intentRecipients.setStateForIntent(shoes.id, { state: 'closed' });

  // Schema version 5: caller verifications, one approved, one still waiting.
  clock.advance(1000);
  const call = { relationshipId: a.id, messageId: 'challenge-message-1', code: 'K7Q4MX', agent: 'Sam, support', expiresAt: clock.now() + 300_000 };
  const approved = v.verifications.insert({ ...call, id: VERIFICATION_IDS[0], challengeId: '22222222-2222-4222-8222-000000000001' });
  v.verifications.settle(approved.id, 'approved');
  clock.advance(1000);
  v.verifications.insert({ ...call, id: VERIFICATION_IDS[1], challengeId: '22222222-2222-4222-8222-000000000002', messageId: 'challenge-message-2', code: 'ACDEFG' });

  // Schema version 7: what the company knows her by, from its signed list, and one of hers.
  clock.advance(1000);
  v.accountIds.replaceCompanyList(a.id, 1, [{ kind: 'customer_number', value: 'C-12345678', issuedAt: '2026-01-01T09:00:00.000Z' }, { kind: 'policy_number', value: '88-123', label: 'Home insurance', issuedAt: '2026-01-02T09:00:00.000Z' }], { messageId: 'list-message-1', jws: 'eyJhbGciOiJFZERTQSJ9.e30.c2ln' });
  clock.advance(1000);
  v.accountIds.addHers(a.id, { kind: 'loyalty_number', value: 'LOY 7781' });
  // Schema version 6: her things, a link to the company, and their documents.
  clock.advance(1000);
  const fridge = v.things.insert({
    id: THING_IDS[0],
    name: 'Fridge',
    gtin: '4006381333931',
    price: { amount: '899.00', currency: 'EUR' },
    contracts: [{ id: '00000000-0000-4000-8000-0000000000c9', kind: 'warranty', start: '2026-01-01', duration: 'P2Y' }],
    reminded: ['00000000-0000-4000-8000-0000000000c9:60:2027-12-31'],
    links: [{ relationshipId: a.id, role: 'seller' }],
  });
  v.things.insert({ id: THING_IDS[1], name: 'Bike' });
  v.attachments.insert({ id: ATTACHMENT_IDS[0], thingId: fridge.id, kind: 'receipt', fileName: 'receipt.pdf', contentType: 'application/pdf', bytes: SAMPLE_FILES.pdf });
  clock.advance(1000);
  v.attachments.insert({ id: ATTACHMENT_IDS[1], thingId: fridge.id, kind: 'photo', fileName: 'front.png', contentType: 'image/png', bytes: SAMPLE_FILES.png });
  // Schema version 11: a service case about the fridge, answered by the company.
  clock.advance(1000);
  v.serviceCases.insert({
    id: SERVICE_CASE_ID,
    thingId: fridge.id,
    relationshipId: a.id,
    state: 'open',
    warrantyClaim: true,
    thingName: 'Fridge',
    shared: { gtin: '4006381333931' },
    identifier: { kind: 'policy_number', value: '88-123', label: 'Home insurance' },
    thread: [{ author: 'her', kind: 'open', text: 'The freezer is warm.', messageId: 'case-open-1', at: clock.now() }],
  });
  clock.advance(1000);
  v.serviceCases.append(SERVICE_CASE_ID, { author: 'company', kind: 'reply', text: 'Monday, 9 to 12.', messageId: 'case-reply-1', at: clock.now() }, 'answered');
}

const THING_IDS = ['00000000-0000-4000-8000-0000000000e1', '00000000-0000-4000-8000-0000000000e2'] as const;
const ATTACHMENT_IDS = ['00000000-0000-4000-8000-0000000000a7', '00000000-0000-4000-8000-0000000000a8'] as const;

const VERIFICATION_IDS = ['00000000-0000-4000-8000-0000000000f1', '00000000-0000-4000-8000-0000000000f2'] as const;

const INTENT_IDS = ['00000000-0000-4000-8000-0000000000b1', '00000000-0000-4000-8000-0000000000b2'] as const;
const RECIPIENT_IDS = ['00000000-0000-4000-8000-0000000000d1', '00000000-0000-4000-8000-0000000000d2', '00000000-0000-4000-8000-0000000000d3'] as const;
/** The intent id each recipient was sent. */
const RECIPIENT_INTENT_IDS = ['11111111-1111-4111-8111-0000000000d1', '11111111-1111-4111-8111-0000000000d2', '11111111-1111-4111-8111-0000000000d3'] as const;
const OFFER_IDS = ['00000000-0000-4000-8000-0000000000e1', '00000000-0000-4000-8000-0000000000e2'] as const;

const AGREEMENT_IDS = ['00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-0000000000a2', '00000000-0000-4000-8000-0000000000a3'] as const;
/** Record i: 0 agreed, 1 her change (proffered, then agreed), 2 a company counter she declined. */
const proffer = (i: 1) => documents.agreement(AGREEMENT_IDS[i], { agreement: 'intent-only-contact', supersedes: AGREEMENT_IDS[0] });
const signedDoc = (i: 0 | 1) =>
  i === 0 ? documents.agreement(AGREEMENT_IDS[0], { signedBy: 'both' }) : documents.agreement(AGREEMENT_IDS[1], { agreement: 'intent-only-contact', supersedes: AGREEMENT_IDS[0], signedBy: 'both' });
const counter = (i: 2) => documents.agreement(AGREEMENT_IDS[i], { agreement: 'data-for-research', proffered: 'service-only' });

const CONSENT_ID = '00000000-0000-4000-8000-0000000000c1';
const CONSENT_ID_2 = '00000000-0000-4000-8000-0000000000c2';

function requestInput(relationshipId: string, requestId: string) {
  return {
    relationshipId,
    requestId,
    messageId: `m-${requestId}`,
    nonce: 'bm9uY2Utbm9uY2Utbm9uY2U',
    fields: ['name'],
    purpose: 'Loyalty card',
    retention: null,
    legalBasis: 'consent',
    termsRef: 'https://shop.example/terms',
    credentials: [],
  };
}

/** Seals an older document as Kith did then (sealExport only writes the current version). */
async function sealOld(old: ExportDocumentV1 | ExportDocumentV2 | ExportDocumentV3 | ExportDocumentV4 | ExportDocumentV5 | ExportDocumentV6 | ExportDocumentV7 | ExportDocumentV8): Promise<string> {
  const jwe = await new GeneralEncrypt(new TextEncoder().encode(JSON.stringify(old)))
    .setProtectedHeader({ alg: 'PBES2-HS512+A256KW', enc: 'A256GCM', cty: EXPORT_CONTENT_TYPE })
    .addRecipient(new TextEncoder().encode(PASS))
    .setKeyManagementParameters({ p2c: 1000 })
    .encrypt();
  return JSON.stringify(jwe);
}

/** The same vault as a version 1 export (as Kith wrote before schema version 2). */
function asVersion1(doc: ExportDocument): ExportDocumentV1 {
  const { profile: _p, deliveries: _d, disclosureRequests: _r, consentRecords: _c, disclosedFields: _f, credentials: _k, ...rest } = asVersion2(doc);
  return { ...rest, version: 1 };
}

/** The same vault as a version 2 export (as Kith wrote before schema version 3). */
function asVersion2(doc: ExportDocument): ExportDocumentV2 {
  const { agreements: _a, ...rest } = asVersion3(doc);
  return { ...rest, version: 2 };
}

/** The same vault as a version 3 export (as Kith wrote before schema version 4). */
function asVersion3(doc: ExportDocument): ExportDocumentV3 {
  const { intents: _i, intentRecipients: _r, offers: _o, ...rest } = asVersion4(doc);
  return { ...rest, version: 3 };
}

/** The same vault as a version 4 export (as Kith wrote before schema version 5). */
function asVersion4(doc: ExportDocument): ExportDocumentV4 {
  const { verifications: _v, ...rest } = asVersion5(doc);
  return { ...rest, version: 4 };
}

/** The same vault as a version 5 export (as Kith wrote before schema versions 6, 7 and 8). */
function asVersion5(doc: ExportDocument): ExportDocumentV5 {
  const { accountIds: _ids, things: _t, attachments: _a, seen: _s, ...rest } = asVersion6(doc);
  return { ...rest, version: 5 };
}

/** The same vault as a version 8 export (as Kith wrote before schema version 11 and service cases). */
function asVersion8(doc: ExportDocument): ExportDocumentV8 {
  const { serviceCases: _c, ...rest } = doc;
  return { ...rest, version: 8 };
}

/** The same vault as a version 7 export (as Kith wrote before schema version 10 and the thing family's receipts). */
function asVersion7(doc: ExportDocument): ExportDocumentV7 {
  const { thingReceipts: _r, ...rest } = asVersion8(doc);
  return { ...rest, version: 7 };
}

/** The same vault as a version 6 export (as Kith wrote before personas): no persona anywhere. */
function asVersion6(doc: ExportDocument): ExportDocumentV6 {
  const { personas: _p, ...rest } = asVersion7(doc);
  return {
    ...rest,
    version: 6,
    profile: {
      fields: doc.profile.fields.map(({ persona: _persona, ...f }) => f) as ExportDocumentV6['profile']['fields'],
      changes: doc.profile.changes.map(({ persona: _persona, ...c }) => c) as ExportDocumentV6['profile']['changes'],
    },
  };
}

async function codeOfAsync(fn: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await fn();
  } catch (err) {
    return (err as KithError).code;
  }
  return undefined;
}

/** The path a restore would use; the tests check that nothing appears there on failure. */
const target = (): string => join(dir, 'restored.db');
const restore = async (text: string, passphrase: string): Promise<Vault> =>
  importVault(target(), 'new vault pass', await openExport(text, passphrase), FAST);

function withoutTime(doc: ExportDocument): Omit<ExportDocument, 'exportedAt'> {
  const { exportedAt: _exportedAt, ...rest } = doc;
  return rest;
}

/**
 * A vault restored from an export older than personas, exported again as that export reads once
 * upgraded: everything in it belongs to the first persona, which the new vault starts with.
 */
function asUpgraded(restored: Vault): Omit<ExportDocument, 'exportedAt'> {
  const again = withoutTime(exportVault(restored));
  expect(again.personas.map((p) => p.id)).toEqual([FIRST_PERSONA_ID]);
  return { ...again, personas: [] };
}

describe('exporting', () => {
  it('produces a document with every record, valid against the schema', () => {
    const doc = exportVault(vault);
    expect(doc).toMatchObject({ format: 'kith-export', version: 10, exportedAt: new Date(clock.now()).toISOString() });
    expect(doc.relationships.map((r) => r.state)).toEqual(['active', 'cut_off']);
    expect([doc.keys.length, doc.messages.length, doc.receipts.length, doc.outbox.length]).toEqual([4, 3, 1, 1]);
    expect(doc.settings).toEqual({ theme: 'dark', profile: { name: 'Ada' } });
  });

  it('exports her profile, its changes oldest first, and every new section', () => {
    const doc = exportVault(vault);
    expect(doc.profile.fields.map((f) => [f.field, f.version])).toEqual([
      ['address', 2],
      ['email', 2],
      ['name', 1],
    ]);
    expect(doc.profile.changes.map((c) => c.version)).toEqual([1, 2]);
    expect(doc.profile.changes[1]?.fields).toEqual({ email: 'ada@new.example', phone_number: null, address: { locality: 'Hove' } });
    expect(doc.deliveries.map((d) => [d.state, d.attempts, d.lastError])).toEqual([
      ['pending', 1, 'transport.unreachable'],
      ['skipped', 0, 'relationship.cut_off'],
    ]);
    expect(doc.disclosureRequests.map((r) => [r.requestId, r.state, r.consentRecordId])).toEqual([
      ['req-1', 'approved', CONSENT_ID],
      ['req-2', 'pending', undefined],
    ]);
    expect(doc.consentRecords.map((c) => c.state)).toEqual(['active', 'withdrawn']);
    expect(doc.disclosedFields.map((f) => [f.field, f.source])).toEqual([
      ['age_over_18', 'credential'],
      ['email', 'self'],
    ]);
    expect(doc.credentials).toHaveLength(1);
    expect(doc.keys.find((k) => k.id === doc.credentials[0]?.holderKeyId)).toMatchObject({ relationshipId: null });
  });

  it('exports every terms agreement, oldest first, with its state, thread, documents, reason and times', () => {
    const doc = exportVault(vault);
    const [a, b] = doc.relationships;
    expect(doc.agreements.map((x) => [x.id, x.relationshipId, x.proposedBy, x.state, x.threadId, x.reason])).toEqual([
      [AGREEMENT_IDS[0], a?.id, 'person', 'superseded', 'thread-1', 'changed terms'],
      [AGREEMENT_IDS[1], a?.id, 'person', 'agreed', 'thread-2', null],
      [AGREEMENT_IDS[2], b?.id, 'company', 'declined', 'thread-3', 'no thanks'],
    ]);
    expect(doc.agreements[0]).toMatchObject({ signed: signedDoc(0), obligations: documents.obligations('service-only') });
    expect(doc.agreements[1]).toMatchObject({ signed: signedDoc(1), obligations: documents.obligations('intent-only-contact') });
    expect(doc.agreements[2]).toMatchObject({ signed: counter(2), obligations: documents.obligations('data-for-research') });
  });

  it('exports her intents, the companies each went to and their offers, with states, documents and times', () => {
    const doc = exportVault(vault);
    const [a, b] = doc.relationships;
    expect(doc.intents.map((i) => [i.id, i.state, i.acceptedOfferId, i.outcome, i.currencyRequired, i.disclose])).toEqual([
      [INTENT_IDS[0], 'accepted', OFFER_IDS[1], 'Dry feet on winter hikes', true, ['email']],
      [INTENT_IDS[1], 'open', null, null, false, []],
    ]);
    expect(doc.intents[1]?.demand).toEqual(demand({ description: 'A used city bike', category: 'bicycles' }));
    expect(doc.intents[0]!.updatedAt).toBeGreaterThan(doc.intents[0]!.createdAt);
    expect(doc.intentRecipients.map((r) => [r.id, r.intentId, r.relationshipId, r.recipientIntentId, r.state, r.termsDecision])).toEqual([
      [RECIPIENT_IDS[0], INTENT_IDS[0], a?.id, RECIPIENT_INTENT_IDS[0], 'closed', 'accepted'],
      [RECIPIENT_IDS[1], INTENT_IDS[0], b?.id, RECIPIENT_INTENT_IDS[1], 'closed', null],
      [RECIPIENT_IDS[2], INTENT_IDS[1], a?.id, RECIPIENT_INTENT_IDS[2], 'sent', null],
    ]);
    // Same arrival time: by id.
    expect(doc.offers.map((o) => [o.id, o.intentId, o.recipientId, o.state, o.verdict.meets, o.decidedBy])).toEqual([
      [OFFER_IDS[0], INTENT_IDS[0], RECIPIENT_IDS[0], 'declined', false, 'outside-constraints'],
      [OFFER_IDS[1], INTENT_IDS[0], RECIPIENT_IDS[0], 'accepted', true, null],
    ]);
  });

  it('exports each stored document exactly as it was written, byte for byte', () => {
    const doc = exportVault(vault);
    const json = (value: unknown): string => JSON.stringify(value);
    expect(doc.agreements.map((x) => json(x.signed))).toEqual([signedDoc(0), signedDoc(1), counter(2)].map(json));
    expect(doc.agreements.map((x) => json(x.obligations))).toEqual(['service-only', 'intent-only-contact', 'data-for-research'].map((a) => json(documents.obligations(a))));
    expect(doc.consentRecords.map((c) => json(c.record))).toEqual(
      [consentDocument(CONSENT_ID, { requestId: 'req-1' }), consentDocument(CONSENT_ID_2, { requestId: null, state: 'withdrawn' })].map(json),
    );
    expect(doc.agreements[0]!.updatedAt).toBeGreaterThan(doc.agreements[0]!.createdAt);
    expect(doc.offers.map((o) => json(o.signed))).toEqual(
      [signedOffer(OFFER_IDS[0], RECIPIENT_INTENT_IDS[0], { price: '189.00' }), signedOffer(OFFER_IDS[1], RECIPIENT_INTENT_IDS[0])].map(json),
    );
  });

  it('encrypts by default as a General JSON JWE with PBES2 and our content type', async () => {
    const text = await sealExport(exportVault(vault), PASS);
    const jwe = JSON.parse(text) as { protected: string; recipients: unknown[] };
    expect(jwe.recipients).toHaveLength(1);
    const header = JSON.parse(Buffer.from(jwe.protected, 'base64url').toString('utf8')) as Record<string, unknown>;
    expect(header).toMatchObject({ alg: 'PBES2-HS512+A256KW', enc: 'A256GCM', cty: EXPORT_CONTENT_TYPE, p2c: 600000 });
    expect(Buffer.from(String(header['p2s']), 'base64url').length).toBeGreaterThanOrEqual(16);
    expect(text).not.toContain('did:peer:2.a');
    expect(text).not.toContain('hello');
  });

  it('writes plain JSON only when asked', async () => {
    const doc = exportVault(vault);
    const text = await sealExport(doc, '', { plain: true });
    expect(JSON.parse(text)).toEqual(doc);
    expect(await openExport(text, 'ignored')).toEqual(doc);
  });
});

describe('importing', () => {
  it('restores every relationship, key, message, receipt, outbox item and setting from an encrypted export', async () => {
    const doc = exportVault(vault);
    const restored = await restore(await sealExport(doc, PASS), PASS);
    expect(withoutTime(exportVault(restored))).toEqual(withoutTime(doc));
    const [a] = doc.relationships;
    expect(restored.relationships.findByMyDid('did:peer:2.a')).toEqual(a);
    expect(restored.keys.getByKid('did:peer:2.a#key-2')).toEqual(doc.keys[1]);
    expect(restored.messages.findByMessageId('m2')).toEqual(doc.messages[1]);
    expect(restored.messages.list(a?.id ?? '')).toHaveLength(2);
    expect(restored.outbox.due(clock.now() + 5000, 10)).toEqual(doc.outbox);
    expect(restored.receipts.list()).toEqual(doc.receipts);
    expect(restored.settings.get('profile')).toEqual({ name: 'Ada' });
    expect(restored.profile.get('email')).toEqual(doc.profile.fields[1]);
    expect(restored.profile.currentVersion()).toBe(2);
    expect(restored.deliveries.dueByRelationship(clock.now() + 9000, 10)).toEqual([{ relationshipId: a?.id, deliveries: [doc.deliveries[0]] }]);
    expect(restored.disclosureRequests.findByRequestId(a?.id ?? '', 'req-1')).toEqual(doc.disclosureRequests[0]);
    expect(restored.consents.get(CONSENT_ID)).toEqual(doc.consentRecords[0]);
    expect(restored.disclosed.holdersOf(['email', 'age_over_18'])).toEqual(new Map([[a?.id, ['email']]]));
    const [credential] = doc.credentials;
    expect(restored.credentials.get(credential?.id ?? '')).toEqual(credential);
    expect(restored.keys.listHolderKeys().map((k) => k.id)).toEqual([credential?.holderKeyId]);
    expect(restored.agreements.all()).toEqual(doc.agreements);
    expect(restored.agreements.current(a?.id ?? '')).toEqual(doc.agreements[1]);
    expect(restored.agreements.byThread(a?.id ?? '', 'thread-1')).toEqual([doc.agreements[0]]);
    expect(restored.intents.list()).toEqual(doc.intents);
    // The recipient intent ids are found again through the new vault's own blind index.
    expect(restored.intentRecipients.findByRecipientIntentId(a?.id ?? '', RECIPIENT_INTENT_IDS[2])).toEqual(doc.intentRecipients[2]);
    expect(restored.offers.listForIntent(INTENT_IDS[0])).toEqual(doc.offers);
    // Versions continue after the restored ones.
    expect(restored.profile.applyChange({ name: 'Ada L.' })).toBe(3);
    restored.close();
    Vault.open(target(), 'new vault pass').close();
  });

  it('still reads and restores a version 1 export (plain or encrypted), with empty new sections', async () => {
    const doc = exportVault(vault);
    const v1 = asVersion1(doc);
    const opened = await openExport(JSON.stringify(v1), '');
    expect(opened).toEqual({
      ...v1,
      version: 10,
      thingReceipts: [],
      serviceCases: [],
      profile: { fields: [], changes: [] },
      deliveries: [],
      disclosureRequests: [],
      consentRecords: [],
      disclosedFields: [],
      credentials: [],
      agreements: [],
      intents: [],
      intentRecipients: [],
      offers: [],
      verifications: [],
      accountIds: [],
      things: [],
      attachments: [],
      seen: [],
      personas: [],
    });
    const restored = importVault(target(), 'new vault pass', opened, FAST);
    expect(asUpgraded(restored)).toEqual(withoutTime(opened));
    restored.close();
    expect(await openExport(await sealOld(v1), PASS)).toEqual(opened);
    // importVault takes the old document directly too.
    rmSync(target());
    const direct = importVault(target(), 'new vault pass', v1, FAST);
    expect(direct.relationships.list()).toEqual(doc.relationships);
    expect(direct.profile.currentVersion()).toBe(0);
    direct.close();
  });

  it('still reads and restores a version 2 export (plain or encrypted), without agreements', async () => {
    const doc = exportVault(vault);
    const v2 = asVersion2(doc);
    const opened = await openExport(JSON.stringify(v2), '');
    expect(opened).toEqual({ ...v2, profile: doc.profile, version: 10, agreements: [], intents: [], intentRecipients: [], offers: [], verifications: [], accountIds: [], things: [], attachments: [], seen: [], personas: [], thingReceipts: [], serviceCases: [] });
    expect(await openExport(await sealOld(v2), PASS)).toEqual(opened);
    const restored = importVault(target(), 'new vault pass', opened, FAST);
    expect(asUpgraded(restored)).toEqual(withoutTime(opened));
    restored.close();
    // importVault takes the old document directly too.
    rmSync(target());
    const direct = importVault(target(), 'new vault pass', v2, FAST);
    expect(direct.consents.list()).toEqual(doc.consentRecords);
    expect(direct.profile.currentVersion()).toBe(2);
    expect(direct.agreements.all()).toEqual([]);
    direct.close();
  });

  it('still reads and restores a version 3 export (plain or encrypted), without intents', async () => {
    const doc = exportVault(vault);
    const v3 = asVersion3(doc);
    const opened = await openExport(JSON.stringify(v3), '');
    expect(opened).toEqual({ ...v3, profile: doc.profile, version: 10, intents: [], intentRecipients: [], offers: [], verifications: [], accountIds: [], things: [], attachments: [], seen: [], personas: [], thingReceipts: [], serviceCases: [] });
    expect(await openExport(await sealOld(v3), PASS)).toEqual(opened);
    const restored = importVault(target(), 'new vault pass', opened, FAST);
    expect(asUpgraded(restored)).toEqual(withoutTime(opened));
    restored.close();
    // importVault takes the old document directly too.
    rmSync(target());
    const direct = importVault(target(), 'new vault pass', v3, FAST);
    expect(direct.agreements.all()).toEqual(doc.agreements);
    expect(direct.intents.list()).toEqual([]);
    expect(direct.offers.all()).toEqual([]);
    direct.close();
  });

  it('still reads and restores a version 4 export (plain or encrypted), without caller verifications', async () => {
    const doc = exportVault(vault);
    expect(doc.verifications.map((x) => x.state)).toEqual(['approved', 'pending']);
    const v4 = asVersion4(doc);
    const opened = await openExport(JSON.stringify(v4), '');
    expect(opened).toEqual({ ...v4, profile: doc.profile, version: 10, verifications: [], accountIds: [], things: [], attachments: [], seen: [], personas: [], thingReceipts: [], serviceCases: [] });
    expect(await openExport(await sealOld(v4), PASS)).toEqual(opened);
    const restored = importVault(target(), 'new vault pass', opened, FAST);
    expect(asUpgraded(restored)).toEqual(withoutTime(opened));
    restored.close();
  });

  it('exports the signed receipts sellers sent her (format 8) with her answers and the recalls on her things, and restores them', async () => {
    const [a] = vault.relationships.list();
    const signed = {
      receipt: {
        receipt_id: '00000000-0000-4000-8000-00000000c0de',
        seller: 'did:web:shop.example',
        seller_name: 'Shop',
        buyer: a!.myDid,
        issued_at: '2026-03-15T10:00:00.000Z',
        purchase_date: '2026-03-15',
        product: { name: 'Trail bike', gtin: '4006381333931' },
        warranty: { start: '2026-03-15', duration: 'P2Y' },
      },
      signature: 'eyJhbGciOiJFZERTQSJ9..c2ln',
    };
    const thing = vault.things.list()[0]!;
    const { createdAt: _c, updatedAt: _u, ...rest } = thing;
    vault.things.update({ ...rest, recalls: [{ relationshipId: a!.id, recallId: 'r-1', gtin: '4006381333931', text: 'Stop riding.', issuedAt: '2026-04-01T00:00:00.000Z', receivedAt: clock.now() }] });
    const receipt = vault.thingReceipts.insert({ relationshipId: a!.id, signed, messageId: 'msg-receipt' });
    vault.thingReceipts.settle(receipt.id, 'accepted', thing.id);
    const doc = exportVault(vault);
    expect(doc.thingReceipts).toEqual([expect.objectContaining({ id: receipt.id, state: 'accepted', thingId: thing.id, signed })]);
    expect(doc.things.find((t) => t.id === thing.id)?.recalls).toEqual([expect.objectContaining({ recallId: 'r-1', text: 'Stop riding.' })]);
    const restored = importVault(target(), 'new vault pass', await openExport(JSON.stringify(doc), ''), FAST);
    expect(restored.thingReceipts.list()).toEqual(vault.thingReceipts.list());
    // The blind index is rebuilt under the new vault's key: the same receipt is still found by its seller's id.
    expect(restored.thingReceipts.findByReceiptId(a!.id, signed.receipt.receipt_id)?.id).toBe(receipt.id);
    restored.close();
    // A version 7 export (before the thing family) still reads, without receipts.
    const v7 = asVersion7(doc);
    expect(await openExport(JSON.stringify(v7), '')).toEqual({ ...v7, version: 10, thingReceipts: [], serviceCases: [] });
    expect(await openExport(await sealOld(v7), PASS)).toEqual({ ...v7, version: 10, thingReceipts: [], serviceCases: [] });
  });

  it('still reads and restores a version 5 export (plain or encrypted), without administrative identities or things', async () => {
    const doc = exportVault(vault);
    expect(doc.accountIds.map((x) => [x.source, x.kind])).toEqual([
      ['company', 'customer_number'],
      ['company', 'policy_number'],
      ['her', 'loyalty_number'],
    ]);
    const v5 = asVersion5(doc);
    const opened = await openExport(JSON.stringify(v5), '');
    expect(opened).toEqual({ ...v5, profile: doc.profile, version: 10, accountIds: [], things: [], attachments: [], seen: [], personas: [], thingReceipts: [], serviceCases: [] });
    expect(await openExport(await sealOld(v5), PASS)).toEqual(opened);
    const restored = importVault(target(), 'new vault pass', opened, FAST);
    expect(asUpgraded(restored)).toEqual(withoutTime(opened));
    restored.close();
  });

  it('still reads and restores a version 6 export (plain or encrypted): every value is the first persona\'s', async () => {
    const doc = exportVault(vault);
    const v6 = asVersion6(doc);
    expect(JSON.stringify(v6.profile)).not.toContain('persona');
    const opened = await openExport(JSON.stringify(v6), '');
    expect(opened.version).toBe(10);
    expect(opened.personas).toEqual([]);
    expect(opened.profile).toEqual(doc.profile);
    expect(await openExport(await sealOld(v6), PASS)).toEqual(opened);
    const restored = importVault(target(), 'new vault pass', opened, FAST);
    expect(asUpgraded(restored)).toEqual(withoutTime(opened));
    restored.close();
  });

  it('carries her personas, each persona\'s values and the persona each relationship uses', async () => {
    const work = vault.personas.insert({ label: 'work', nameless: false });
    vault.profile.applyChange({ email: 'ada@work.example' }, clock.now(), work.id);
    const [first] = vault.relationships.list();
    vault.relationships.update(first!.id, { persona: work.id });
    const doc = exportVault(vault);
    expect(doc.personas.map((p) => p.label)).toEqual(['me', 'work']);
    const restored = importVault(target(), 'new vault pass', await openExport(await sealExport(doc, PASS), PASS), FAST);
    expect(restored.personas.list()).toEqual(doc.personas);
    expect(restored.profile.get('email', work.id)?.value).toBe('ada@work.example');
    expect(restored.profile.get('email')?.value).toBe(vault.profile.get('email')?.value);
    expect(restored.relationships.get(first!.id)?.persona).toBe(work.id);
    restored.close();
    // A value of a persona the export does not have is refused, and nothing is left behind.
    rmSync(target(), { force: true });
    const orphan = { ...doc, personas: doc.personas.filter((p) => p.id !== work.id) };
    expect(codeOf(() => importVault(target(), 'new vault pass', orphan, FAST))).toBe('export.corrupted');
    expect(existsSync(target())).toBe(false);
  });

  it('still reads and restores a version 8 export (plain or encrypted), without service cases', async () => {
    const doc = exportVault(vault);
    const v8 = asVersion8(doc);
    const opened = await openExport(JSON.stringify(v8), '');
    expect(opened).toEqual({ ...v8, version: 10, serviceCases: [] });
    expect(await openExport(await sealOld(v8), PASS)).toEqual(opened);
    const restored = importVault(target(), 'new vault pass', opened, FAST);
    expect(withoutTime(exportVault(restored))).toEqual(withoutTime(opened));
    restored.close();
  });

  it('restores service cases with their thread, state, flag and thing (export format 9)', async () => {
    const doc = exportVault(vault);
    expect(doc.serviceCases.map((c) => [c.id, c.state, c.warrantyClaim, c.thread.length])).toEqual([[SERVICE_CASE_ID, 'answered', true, 2]]);
    const restored = importVault(target(), 'new vault pass', await openExport(await sealExport(doc, PASS), PASS), FAST);
    expect(restored.serviceCases.list()).toEqual(doc.serviceCases);
    expect(restored.serviceCases.list({ thingId: THING_IDS[0] }).map((c) => c.id)).toEqual([SERVICE_CASE_ID]);
    restored.close();
  });

  it('refuses a service case of a thing the export does not contain, leaving nothing behind', () => {
    const doc = exportVault(vault);
    const path = target();
    const bad = { ...doc, serviceCases: doc.serviceCases.map((c) => ({ ...c, thingId: '00000000-0000-4000-8000-00000000ffff' })) };
    expect(codeOf(() => importVault(path, 'new vault pass', bad, FAST))).toBe('export.corrupted');
    expect(existsSync(path)).toBe(false);
  });

  it('restores administrative identities with their proof and source, found again through the blind index', async () => {
    const doc = exportVault(vault);
    const restored = importVault(target(), 'new vault pass', doc, FAST);
    expect(restored.accountIds.list()).toEqual(doc.accountIds);
    // The new vault has a new key: the index is rebuilt, so a value is still found by its normalised form.
    expect(restored.accountIds.find('88 123').map((x) => [x.kind, x.proof?.messageId])).toEqual([['policy_number', 'list-message-1']]);
    expect(restored.accountIds.companySequence(doc.accountIds[0]!.relationshipId)).toBe(1);
    restored.close();
  });

  it('exports her things with their links and documents inline, and restores them byte for byte', async () => {
    const doc = exportVault(vault);
    expect(doc.things.map((t) => [t.name, t.links.length, t.reminded.length])).toEqual([
      ['Fridge', 1, 1],
      ['Bike', 0, 0],
    ]);
    expect(doc.attachments.map((a) => [a.fileName, a.content])).toEqual([
      ['receipt.pdf', SAMPLE_FILES.pdf.toString('base64')],
      ['front.png', SAMPLE_FILES.png.toString('base64')],
    ]);
    const restored = await restore(await sealExport(doc, PASS), PASS);
    expect(restored.things.list()).toEqual(doc.things);
    expect(restored.attachments.content(ATTACHMENT_IDS[1])).toEqual(SAMPLE_FILES.png);
    expect(withoutTime(exportVault(restored))).toEqual(withoutTime(doc));
    restored.close();
  });

  it('refuses an export whose document is altered, not what it claims, or left beside it, leaving nothing behind', async () => {
    const doc = exportVault(vault);
    const altered = (change: (a: ExportDocument['attachments'][number]) => object) => ({ ...doc, attachments: doc.attachments.map((a, i) => (i === 0 ? { ...a, ...change(a) } : a)) });
    const cases: [string, unknown][] = [
      ['content changed', altered(() => ({ content: Buffer.from('%PDF-1.7 forged').toString('base64') }))],
      ['not the type it claims', altered(() => ({ content: SAMPLE_FILES.html.toString('base64') }))],
      ['a file beside it, imported without it', altered(() => ({ content: undefined, file: `export.json.files/${ATTACHMENT_IDS[0]}` }))],
      ['a document of a thing not in it', { ...doc, things: doc.things.slice(1) }],
    ];
    for (const [name, bad] of cases) {
      expect({ name, code: codeOf(() => importVault(target(), 'new vault pass', bad as ExportDocument, FAST)) }).toEqual({ name, code: 'export.corrupted' });
      expect(existsSync(target())).toBe(false);
    }
    // A file reference that leaves the export's directory does not parse at all.
    expect(await codeOfAsync(() => openExport(JSON.stringify(altered(() => ({ content: undefined, file: '../../etc/passwd' }))), ''))).toBe('export.corrupted');
    expect(await codeOfAsync(() => openExport(JSON.stringify(altered((a) => ({ file: `x.files/${a.id}` }))), ''))).toBe('export.corrupted');
  });

  it('restores caller verifications with their state, found again by the company\'s challenge id', async () => {
    const doc = exportVault(vault);
    const restored = importVault(target(), 'new vault pass', doc, FAST);
    expect(restored.verifications.list()).toEqual(doc.verifications);
    const [first] = doc.verifications;
    expect(restored.verifications.findByChallengeId(first!.relationshipId, first!.challengeId)).toEqual(first);
    restored.close();
  });

  it('restores from a plain export too', async () => {
    const doc = exportVault(vault);
    const restored = await restore(await sealExport(doc, '', { plain: true }), '');
    expect(withoutTime(exportVault(restored))).toEqual(withoutTime(doc));
    restored.close();
  });

  it('refuses to import over an existing vault and leaves it alone', async () => {
    const doc = exportVault(vault);
    const existing = Vault.create(target(), 'pw', FAST);
    existing.close();
    expect(await codeOfAsync(async () => importVault(target(), 'pw', doc, FAST))).toBe('vault.exists');
    const reopened = Vault.open(target(), 'pw');
    expect(reopened.relationships.list()).toEqual([]);
    reopened.close();
  });

  it('is all or nothing: an inconsistent export leaves no file behind', async () => {
    const doc = exportVault(vault);
    const broken: ExportDocument = {
      ...doc,
      messages: [...doc.messages, { ...doc.messages[0]!, id: '00000000-0000-4000-8000-000000000001', messageId: 'orphan', relationshipId: '00000000-0000-4000-8000-000000000009' }],
    };
    expect(await codeOfAsync(async () => importVault(target(), 'pw', broken, FAST))).toBe('export.corrupted');
    expect(readdirSync(dir).filter((f) => f.startsWith('restored'))).toEqual([]);
  });

  describe('refuses references to records the export does not contain, creating no vault', () => {
    const MISSING = '00000000-0000-4000-8000-000000000009';
    const cases: [string, (doc: ExportDocument) => ExportDocument][] = [
      ['a delivery for a missing relationship', (d) => ({ ...d, deliveries: d.deliveries.map((x, i) => (i === 0 ? { ...x, relationshipId: MISSING } : x)) })],
      ['a delivery of a missing profile version', (d) => ({ ...d, deliveries: d.deliveries.map((x, i) => (i === 0 ? { ...x, version: 7 } : x)) })],
      ['a second delivery of one version to one company', (d) => ({ ...d, deliveries: [...d.deliveries, { ...d.deliveries[0]!, id: MISSING }] })],
      ['a consent answering a missing request', (d) => ({ ...d, consentRecords: d.consentRecords.map((x, i) => (i === 0 ? { ...x, requestId: MISSING } : x)) })],
      ['a consent of a missing relationship', (d) => ({ ...d, consentRecords: d.consentRecords.map((x, i) => (i === 1 ? { ...x, relationshipId: MISSING } : x)) })],
      ['a request of a missing relationship', (d) => ({ ...d, disclosureRequests: d.disclosureRequests.map((x, i) => (i === 1 ? { ...x, relationshipId: MISSING } : x)) })],
      ['the same company request twice', (d) => ({ ...d, disclosureRequests: [...d.disclosureRequests, { ...d.disclosureRequests[1]!, id: MISSING }] })],
      ['a credential whose holder key is missing', (d) => ({ ...d, credentials: d.credentials.map((x) => ({ ...x, holderKeyId: MISSING })) })],
      ['a credential whose holder key is not in the keys section', (d) => ({ ...d, keys: d.keys.filter((k) => k.id !== d.credentials[0]?.holderKeyId) })],
      ['a field held by a missing relationship', (d) => ({ ...d, disclosedFields: d.disclosedFields.map((x) => ({ ...x, relationshipId: MISSING })) })],
      ['one field held twice by one company', (d) => ({ ...d, disclosedFields: [...d.disclosedFields, { ...d.disclosedFields[0]!, value: 'other' }] })],
      ['a profile field newer than every change', (d) => ({ ...d, profile: { ...d.profile, changes: d.profile.changes.slice(0, 1) } })],
      ['a profile field twice', (d) => ({ ...d, profile: { ...d.profile, fields: [...d.profile.fields, d.profile.fields[0]!] } })],
      ['a profile change twice', (d) => ({ ...d, profile: { ...d.profile, changes: [...d.profile.changes, d.profile.changes[0]!] } })],
      ['a removed (null) profile field', (d) => ({ ...d, profile: { ...d.profile, fields: [{ ...d.profile.fields[0]!, value: null }] } })],
      ['an unknown delivery state', (d) => ({ ...d, deliveries: d.deliveries.map((x) => ({ ...x, state: 'lost' as 'failed' })) })],
      ['an agreement of a missing relationship', (d) => ({ ...d, agreements: d.agreements.map((x, i) => (i === 2 ? { ...x, relationshipId: MISSING } : x)) })],
      ['two agreements in force with one company', (d) => ({ ...d, agreements: d.agreements.map((x, i) => (i === 0 ? { ...x, state: 'agreed' as const } : x)) })],
      ['the same agreement twice', (d) => ({ ...d, agreements: [...d.agreements, { ...d.agreements[2]!, state: 'rejected' as const }] })],
      ['an unknown agreement state', (d) => ({ ...d, agreements: d.agreements.map((x) => ({ ...x, state: 'maybe' as 'agreed' })) })],
      ['the same intent twice', (d) => ({ ...d, intents: [...d.intents, { ...d.intents[1]! }] })],
      ['an accepted intent without its offer', (d) => ({ ...d, intents: d.intents.map((x) => ({ ...x, acceptedOfferId: null })) })],
      ['an intent whose accepted offer is missing', (d) => ({ ...d, intents: d.intents.map((x, i) => (i === 0 ? { ...x, acceptedOfferId: MISSING } : x)) })],
      ['an intent whose accepted offer answers another intent', (d) => ({ ...d, intents: d.intents.map((x, i) => (i === 1 ? { ...x, state: 'closed' as const, acceptedOfferId: OFFER_IDS[0] } : x)) })],
      ['a recipient of a missing intent', (d) => ({ ...d, intentRecipients: d.intentRecipients.map((x, i) => (i === 2 ? { ...x, intentId: MISSING } : x)) })],
      ['a recipient of a missing relationship', (d) => ({ ...d, intentRecipients: d.intentRecipients.map((x, i) => (i === 2 ? { ...x, relationshipId: MISSING } : x)) })],
      ['one intent cast twice over one relationship', (d) => ({ ...d, intentRecipients: [...d.intentRecipients, { ...d.intentRecipients[0]!, id: MISSING, recipientIntentId: MISSING }] })],
      ['one recipient intent id twice on one relationship', (d) => ({ ...d, intentRecipients: d.intentRecipients.map((x, i) => (i === 2 ? { ...x, recipientIntentId: RECIPIENT_INTENT_IDS[0] } : x)) })],
      ['an offer whose recipient is missing', (d) => ({ ...d, offers: d.offers.map((x, i) => (i === 0 ? { ...x, recipientId: MISSING } : x)) })],
      ['an offer of another intent than its recipient', (d) => ({ ...d, offers: d.offers.map((x, i) => (i === 0 ? { ...x, intentId: INTENT_IDS[1] } : x)) })],
      ['an offer stored under another id than its identifier', (d) => ({ ...d, offers: d.offers.map((x, i) => (i === 0 ? { ...x, id: MISSING } : x)) })],
      ['the same offer twice', (d) => ({ ...d, offers: [...d.offers, { ...d.offers[0]!, state: 'closed' as const }] })],
      ['an unknown offer state', (d) => ({ ...d, offers: d.offers.map((x) => ({ ...x, state: 'maybe' as 'received' })) })],
    ];
    it.each(cases)('%s', async (_name, breakIt) => {
      const broken = breakIt(exportVault(vault));
      expect(await codeOfAsync(async () => importVault(target(), 'pw', broken, FAST))).toBe('export.corrupted');
      expect(readdirSync(dir).filter((f) => f.startsWith('restored'))).toEqual([]);
    });
  });
});

describe('reading damaged or foreign files', () => {
  it('reports a flipped ciphertext byte as corrupted and creates no vault', async () => {
    const jwe = JSON.parse(await sealExport(exportVault(vault), PASS)) as { ciphertext: string };
    const bytes = Buffer.from(jwe.ciphertext, 'base64url');
    bytes[10] = (bytes[10] ?? 0) ^ 0x01;
    const text = JSON.stringify({ ...jwe, ciphertext: bytes.toString('base64url') });
    expect(await codeOfAsync(() => restore(text, PASS))).toBe('export.corrupted');
    expect(existsSync(target())).toBe(false);
  });

  it('reports a truncated export as corrupted and creates no vault', async () => {
    const text = await sealExport(exportVault(vault), PASS);
    expect(await codeOfAsync(() => restore(text.slice(0, Math.floor(text.length / 2)), PASS))).toBe('export.corrupted');
    const jwe = JSON.parse(text) as { ciphertext: string };
    const shortened = JSON.stringify({ ...jwe, ciphertext: jwe.ciphertext.slice(0, 40) });
    expect(await codeOfAsync(() => restore(shortened, PASS))).toBe('export.corrupted');
    expect(existsSync(target())).toBe(false);
  });

  it('reports a wrong passphrase as vault.wrong_passphrase', async () => {
    const text = await sealExport(exportVault(vault), PASS);
    expect(await codeOfAsync(() => restore(text, 'not the passphrase'))).toBe('vault.wrong_passphrase');
    expect(existsSync(target())).toBe(false);
  });

  it('reports JSON that is not ours as foreign', async () => {
    expect(await codeOfAsync(() => openExport('{"hello":"world"}', PASS))).toBe('export.foreign');
    expect(await codeOfAsync(() => openExport('[1,2,3]', PASS))).toBe('export.foreign');
    const foreignHeader = Buffer.from(JSON.stringify({ alg: 'dir', enc: 'A256GCM', cty: 'text/plain', p2s: 'x', p2c: 1 })).toString('base64url');
    const foreignJwe = JSON.stringify({ protected: foreignHeader, iv: 'a', ciphertext: 'b', tag: 'c', recipients: [{}] });
    expect(await codeOfAsync(() => openExport(foreignJwe, PASS))).toBe('export.foreign');
  });

  it('reports another export version as unsupported and an invalid document as corrupted', async () => {
    const doc = exportVault(vault);
    expect(await codeOfAsync(() => openExport(JSON.stringify({ ...doc, version: 11 }), PASS))).toBe('export.unsupported_version');
    expect(await codeOfAsync(() => openExport(JSON.stringify({ ...doc, version: 0 }), PASS))).toBe('export.unsupported_version');
    expect(await codeOfAsync(() => openExport(JSON.stringify({ ...doc, keys: 'none' }), PASS))).toBe('export.corrupted');
    // A version 2 document without its new sections is damaged, not old.
    expect(await codeOfAsync(() => openExport(JSON.stringify({ ...asVersion1(doc), version: 2 }), PASS))).toBe('export.corrupted');
    expect(await codeOfAsync(() => openExport(JSON.stringify({ ...asVersion2(doc), version: 3 }), PASS))).toBe('export.corrupted');
    expect(await codeOfAsync(() => openExport(JSON.stringify({ ...asVersion3(doc), version: 4 }), PASS))).toBe('export.corrupted');
    expect(await codeOfAsync(() => openExport(JSON.stringify({ ...asVersion4(doc), version: 5 }), PASS))).toBe('export.corrupted');
    expect(await codeOfAsync(() => openExport(JSON.stringify({ ...asVersion5(doc), version: 6 }), PASS))).toBe('export.corrupted');
    expect(await codeOfAsync(() => openExport(JSON.stringify({ ...asVersion6(doc), version: 8 }), PASS))).toBe('export.corrupted');
    expect(await codeOfAsync(() => openExport(JSON.stringify({ ...asVersion8(doc), version: 9 }), PASS))).toBe('export.corrupted');
    expect(await codeOfAsync(() => openExport(JSON.stringify({ ...doc, serviceCases: doc.serviceCases.map((c) => ({ ...c, shared: { notes: 'private' } })) }), PASS))).toBe('export.corrupted');
    expect(await codeOfAsync(() => openExport(JSON.stringify({ ...doc, accountIds: doc.accountIds.map((x) => ({ ...x, kind: 'passport_number' })) }), PASS))).toBe('export.corrupted');
    // A company identifier without its proof (or one of hers with one) is damaged.
    expect(await codeOfAsync(() => openExport(JSON.stringify({ ...doc, accountIds: doc.accountIds.map((x) => ({ ...x, proof: null })) }), PASS))).toBe('export.corrupted');
    expect(await codeOfAsync(() => openExport(JSON.stringify({ ...doc, things: doc.things.map((t) => ({ ...t, gtin: '4006381333932' })) }), PASS))).toBe('export.corrupted');
    expect(await codeOfAsync(() => openExport(JSON.stringify({ ...doc, verifications: doc.verifications.map((x) => ({ ...x, code: 'K0Q4MX' })) }), PASS))).toBe('export.corrupted');
    expect(await codeOfAsync(() => openExport(JSON.stringify({ ...doc, offers: [{}] }), PASS))).toBe('export.corrupted');
    expect(await codeOfAsync(() => openExport(JSON.stringify({ ...doc, agreements: [{}] }), PASS))).toBe('export.corrupted');
    // The documents inside are checked with the protocol's schemas, as the vault checks what it stores.
    expect(await codeOfAsync(() => openExport(JSON.stringify({ ...doc, agreements: doc.agreements.map((x) => ({ ...x, signed: null })) }), PASS))).toBe('export.corrupted');
    expect(await codeOfAsync(() => openExport(JSON.stringify({ ...doc, agreements: doc.agreements.map((x) => ({ ...x, obligations: {} })) }), PASS))).toBe('export.corrupted');
    expect(await codeOfAsync(() => openExport(JSON.stringify({ ...doc, consentRecords: doc.consentRecords.map((x) => ({ ...x, record: {} })) }), PASS))).toBe('export.corrupted');
    expect(await codeOfAsync(() => openExport(JSON.stringify({ ...doc, credentials: [{}] }), PASS))).toBe('export.corrupted');
    expect(await codeOfAsync(() => openExport(JSON.stringify({ ...doc, intents: doc.intents.map((x) => ({ ...x, demand: { ...x.demand, category: 'spaceships' } })) }), PASS))).toBe('export.corrupted');
    expect(await codeOfAsync(() => openExport(JSON.stringify({ ...doc, offers: doc.offers.map((x) => ({ ...x, signed: { offer: x.signed.offer } })) }), PASS))).toBe('export.corrupted');
  });

  it('reports text that is not JSON at all as corrupted', async () => {
    expect(await codeOfAsync(() => openExport('not json', PASS))).toBe('export.corrupted');
  });
});

describe('salvage export (issue 17)', () => {
  /** Garbage in one row's `data`, through a second connection: the blob no longer opens. */
  function corrupt(table: string, id: string): void {
    const db = new Database(vault.path);
    try {
      expect(db.prepare(`UPDATE "${table}" SET data = ? WHERE id = ?`).run(Buffer.from('not a sealed record'), id).changes).toBe(1);
    } finally {
      db.close();
    }
  }

  it('a normal export still fails closed on one unreadable record, and has no skipped member otherwise', () => {
    expect('skipped' in exportVault(vault)).toBe(false);
    const [first] = vault.relationships.list();
    corrupt('relationships', first!.id);
    expect(() => exportVault(vault)).toThrow(expect.objectContaining({ code: 'vault.corrupt', details: { table: 'relationships', id: first!.id } }));
  });

  it('exports every record that opens and names each one it skipped (table and row id), whether it does not decrypt or does not parse', () => {
    const before = exportVault(vault);
    const [first] = before.relationships;
    const message = before.messages[1]!;
    corrupt('relationships', first!.id);
    // Sealed under the right key, but no longer a message record: opens, does not parse.
    sealBehindTheVault(vault.path, 'vault pass', 'messages', message.id, { not: 'a message' });
    const doc = salvageVault(vault);
    expect(doc.skipped).toEqual([
      { table: 'relationships', id: first!.id },
      { table: 'messages', id: message.id },
    ]);
    expect(doc.relationships).toEqual(before.relationships.slice(1));
    expect(doc.messages).toEqual(before.messages.filter((m) => m.id !== message.id));
    // Everything else is there as in a normal export.
    expect({ ...doc, relationships: [], messages: [], skipped: undefined }).toEqual({ ...before, relationships: [], messages: [], skipped: undefined });
    // A salvage export is a valid document (readers ignore `skipped`).
    expect(exportDocumentSchema.parse(JSON.parse(JSON.stringify(doc)))).toMatchObject({ skipped: doc.skipped });
    // Salvaging is a read: the vault still fails closed afterwards.
    expect(() => exportVault(vault)).toThrow(expect.objectContaining({ code: 'vault.corrupt' }));
  });

  it('with nothing unreadable, a salvage export equals the normal one plus an empty skipped list', () => {
    expect(salvageVault(vault)).toEqual({ ...exportVault(vault), skipped: [] });
  });
});

describe('the replay cache across export and import (issue 17 item 6b)', () => {
  it('travels in the export: a message id accepted before the export is still a replay in the restored vault, an expired one is left out', async () => {
    const now = clock.now();
    expect(vault.seen.record('msg-accepted-before-export', now + 60_000)).toBe(true);
    expect(vault.seen.record('msg-long-expired', now - 1)).toBe(true);
    const doc = exportVault(vault);
    expect(doc.seen).toContainEqual({ messageId: 'msg-accepted-before-export', expiresAt: now + 60_000 });
    expect(doc.seen.map((e) => e.messageId)).not.toContain('msg-long-expired');

    // Restored on the same (test) clock, so the entry has not expired yet.
    const restored = importVault(target(), 'new vault pass', await openExport(await sealExport(doc, PASS), PASS), { ...FAST, clock });
    try {
      expect(restored.seen.has('msg-accepted-before-export', now)).toBe(true);
      expect(restored.seen.record('msg-accepted-before-export', now + 60_000)).toBe(false);
      expect(restored.seen.record('msg-never-seen', now + 60_000)).toBe(true);
    } finally {
      restored.close();
    }
  });
});
