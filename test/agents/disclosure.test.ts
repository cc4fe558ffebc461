/**
 * Selective disclosure and "change once everywhere" between real agents over real HTTP on
 * loopback: a company asks, she approves all, some or none of it, both sides file the same
 * consent record, credentials from an issuer travel without what they were derived from, and a
 * change to her profile reaches exactly the companies holding it, once, even through downtime.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/core/clock.js';
import { AGE_VCT, ageClaims, createDemoIssuer, issueCredential, type DemoIssuer } from '../../src/issuer/demoIssuer.js';
import type { AgentEvent } from '../../src/personal/events.js';
import { consentRecordSchema, type ConsentRecord } from '../../src/protocol/consentRecord.js';
import { ProfileUpdate } from '../../src/protocol/families/index.js';
import { generateKeyPair } from '../../src/protocol/keys.js';
import type { DisclosureAsk } from '../../src/company/config.js';
import type { DisclosureRequestResult } from '../../src/company/createCompanyAgent.js';
import { failure } from '../support/errorCodes.js';
import { connect, herIdentity, startPair, startPersonal, startCompany, type Link, type Pair, type PersonalHandle, type CompanyHandle, answerAsk } from '../support/agents.js';
import { decodeSdJwtParts, openReply, selfPresentation, sendAs } from '../support/disclosure.js';

const sleep = (ms: number) => new Promise((resolvePromise) => setTimeout(resolvePromise, ms));

const ADA = {
  name: 'Ada Lovelace',
  email: 'ada@example.org',
  address: { street_address: '12 St James Square', locality: 'London', postal_code: 'SW1Y 4JH', country: 'GB' },
};
const HOVE = { street_address: '1 Sea Road', locality: 'Hove', postal_code: 'BN3 2AA', country: 'GB' };
const BRIGHTON = { street_address: '7 Pier Parade', locality: 'Brighton', postal_code: 'BN1 1AA', country: 'GB' };

const byField = <T extends { field?: string | undefined }>(a: T, b: T) => (a.field ?? '').localeCompare(b.field ?? '');

/** The fields one company holds, as her `relationships()` view (`kith relationships --json`) shows them. */
function herHolds(personal: PersonalHandle, relationshipId: string) {
  const view = personal.agent.relationships().find((r) => r.id === relationshipId);
  if (!view) throw new Error(`she has no relationship ${relationshipId}`);
  return view.holds.filter((h) => h.category === 'field').sort(byField);
}

async function companyFields(company: CompanyHandle, relationshipId: string) {
  return (await company.agent.holdings(relationshipId)).fields;
}

async function connectorEvents(company: CompanyHandle, type: string, relationshipId?: string) {
  return (await company.store.listEvents(relationshipId === undefined ? {} : { relationshipId })).filter((e) => e.type === type);
}

async function updatePresentations(company: CompanyHandle, relationshipId: string) {
  return (await company.store.listPresentations(relationshipId)).filter((p) => p.kind === 'update');
}

function ask(company: CompanyHandle, link: Link, request: DisclosureAsk): Promise<DisclosureRequestResult> {
  return company.agent.requestDisclosure(link.companyRelationship.id, request);
}


describe('a disclosure request and her answer, over real HTTP', () => {
  let pair: Pair;
  beforeEach(async () => {
    pair = await startPair({ personal: { retry: { baseDelayMs: 1, maxDelayMs: 5 } } });
    pair.personal.agent.profile.set(ADA);
  });
  afterEach(async () => {
    await pair?.cleanup();
  });

  const PURPOSE = 'Order confirmations and deliveries';

  it('shows her the request, and approving it all leaves both sides holding the same values under one consent record', async () => {
    const { company, personal, link } = pair;
    const sent = await ask(company, link, { fields: ['name', 'email', 'address'], purpose: PURPOSE, retention: 'P1Y', termsRef: 'https://shop.example/terms/v3' });
    // She was up: the request was pushed to her at once.
    expect(sent.delivered).toBe(true);
    expect(sent.request.state).toBe('pending');

    const [view, ...others] = personal.agent.disclosure.requests();
    expect(others).toEqual([]);
    expect(view).toMatchObject({
      relationshipId: link.view.id,
      company: company.name,
      state: 'pending',
      purpose: PURPOSE,
      retention: 'P1Y',
      legalBasis: 'consent',
      termsRef: 'https://shop.example/terms/v3',
      fields: [
        { name: 'name', available: true },
        { name: 'email', available: true },
        { name: 'address', available: true },
      ],
      credentials: [],
      answeredFields: null,
      consentRecordId: null,
    });

    const outcome = await personal.agent.disclosure.approve(view!.id);
    expect([...outcome.fields].sort()).toEqual(['address', 'email', 'name']);
    expect(outcome.request.state).toBe('approved');
    expect(outcome.request.consentRecordId).toBe(outcome.consentRecordId);
    expect(personal.agent.disclosure.requests()).toEqual([]);
    const recordId = outcome.consentRecordId;

    // The company: the values, at her profile version, under her record id, from her.
    const holdings = await company.agent.holdings(link.companyRelationship.id);
    expect(holdings.fields.map((f) => ({ field: f.field, value: f.value, version: f.version, consentRecordId: f.consentRecordId, source: f.source, issuer: f.issuer }))).toEqual([
      { field: 'address', value: ADA.address, version: 1, consentRecordId: recordId, source: 'self', issuer: null },
      { field: 'email', value: ADA.email, version: 1, consentRecordId: recordId, source: 'self', issuer: null },
      { field: 'name', value: ADA.name, version: 1, consentRecordId: recordId, source: 'self', issuer: null },
    ]);
    expect(holdings.requests.map((r) => [r.id, r.state])).toEqual([[sent.request.id, 'fulfilled']]);

    // Her: the same fields, with why and for how long, under the same record.
    expect(herHolds(personal, link.view.id).map((h) => ({ field: h.field, value: h.value, why: h.why, retention: h.retention, consentRecordId: h.consentRecordId, version: h.version, source: h.source }))).toEqual([
      { field: 'address', value: ADA.address, why: PURPOSE, retention: 'P1Y', consentRecordId: recordId, version: 1, source: 'self' },
      { field: 'email', value: ADA.email, why: PURPOSE, retention: 'P1Y', consentRecordId: recordId, version: 1, source: 'self' },
      { field: 'name', value: ADA.name, why: PURPOSE, retention: 'P1Y', consentRecordId: recordId, version: 1, source: 'self' },
    ]);

    // One consent record on each side, one id, both active, both in the ISO/IEC TS 27560 shape.
    const hers = personal.agent.disclosure.consents();
    expect(hers.map((c) => [c.id, c.state, c.relationshipId])).toEqual([[recordId, 'active', link.view.id]]);
    expect(holdings.consentRecords.map((c) => [c.id, c.state, c.requestId])).toEqual([[recordId, 'active', sent.request.id]]);
    const records: ConsentRecord[] = [consentRecordSchema.parse(hers[0]!.record), consentRecordSchema.parse(holdings.consentRecords[0]!.record)];
    for (const record of records) {
      expect(record).toMatchObject({
        schema_version: 'kith-27560/1.0',
        record_id: recordId,
        pii_principal_id: link.record.myDid,
        pii_controllers: [{ name: company.name, id: company.did }],
        notice: { request_id: sent.request.id, terms_ref: 'https://shop.example/terms/v3' },
        state: 'active',
      });
      expect(record.processing).toHaveLength(1);
      expect(record.processing[0]).toMatchObject({ purposes: [PURPOSE], legal_basis: 'consent', retention: 'P1Y' });
      expect([...record.processing[0]!.pii_categories].sort()).toEqual(['address', 'email', 'name']);
      expect(record.pii_sources.map((s) => [s.category, s.source, s.issuer]).sort()).toEqual([
        ['address', 'pii_principal', null],
        ['email', 'pii_principal', null],
        ['name', 'pii_principal', null],
      ]);
      expect(record.events.map((e) => [e.type, e.by])).toEqual([
        ['requested', 'pii_controller'],
        ['given', 'pii_principal'],
      ]);
    }

    // The company's systems hear of it once, through the connector outbox.
    const [disclosed, ...moreEvents] = await company.store.listEvents({ relationshipId: link.companyRelationship.id });
    expect(moreEvents).toEqual([]);
    expect(disclosed).toMatchObject({
      type: 'profile.disclosed',
      dispatchedAt: null,
      payload: { relationshipId: link.companyRelationship.id, customerRef: link.companyRelationship.customerRef, fields: { name: ADA.name, email: ADA.email, address: ADA.address }, consentRecordId: recordId, purpose: PURPOSE },
    });
    expect(await company.agent.dispatchEvents()).toBe(1);
    const [dispatched] = await company.store.listEvents({ relationshipId: link.companyRelationship.id });
    expect(dispatched?.id).toBe(disclosed!.id);
    expect(dispatched?.dispatchedAt).toEqual(expect.any(Number));
    expect(await company.store.listEvents({ undispatchedOnly: true })).toEqual([]);
    expect(await company.agent.dispatchEvents()).toBe(0);

    // The logging connector names the fields, never their values.
    const log = readFileSync(company.logPath, 'utf8');
    const connectorLines = log
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line['event'] === 'connector_event');
    expect(connectorLines).toHaveLength(1);
    expect(connectorLines[0]).toMatchObject({ connector: 'logging', event: 'connector_event', relationship: link.companyRelationship.id });
    expect(String(connectorLines[0]!['fields']).split(',').sort()).toEqual(['address', 'email', 'name']);
    for (const value of [ADA.name, ADA.email, ADA.address.street_address, ADA.address.postal_code]) expect(log).not.toContain(value);
  });

  it('sends only the fields she approved: the others appear in no part of anything the company stored', async () => {
    const { company, personal, link } = pair;
    const sent = await ask(company, link, { fields: ['name', 'email', 'address'], purpose: PURPOSE });
    const [view] = personal.agent.disclosure.requests();
    // Both sides name the request alike: her view carries the company's id, and it finds the request.
    expect(view!.requestId).toBe(sent.request.id);

    const outcome = await personal.agent.disclosure.approve(sent.request.id.slice(0, 8), ['email']);
    expect(outcome.fields).toEqual(['email']);
    expect(outcome.request.answeredFields).toEqual(['email']);

    expect((await companyFields(company, link.companyRelationship.id)).map((f) => [f.field, f.value])).toEqual([['email', ADA.email]]);
    expect(herHolds(personal, link.view.id).map((h) => [h.field, h.value])).toEqual([['email', ADA.email]]);
    const [companyRecord] = (await company.agent.holdings(link.companyRelationship.id)).consentRecords;
    expect(consentRecordSchema.parse(companyRecord!.record).processing[0]!.pii_categories).toEqual(['email']);

    // The evidence it keeps: one self-issued SD-JWT, every part of which is decoded here.
    const presentations = await company.store.listPresentations(link.companyRelationship.id);
    expect(presentations.map((p) => p.kind)).toEqual(['disclosure']);
    const parts = decodeSdJwtParts(presentations[0]!.sdJwt);
    const decoded = JSON.stringify(parts);
    expect(decoded).toContain(ADA.email);
    // Issuer header, payload, exactly one disclosure, KB header and payload.
    expect(parts).toHaveLength(5);
    expect(parts[2]).toEqual([expect.any(String), 'email', ADA.email]);
    expect(parts[4]).toMatchObject({ aud: company.did, nonce: sent.request.nonce });
    const everything = JSON.stringify(await company.snapshot());
    for (const withheld of [ADA.name, 'Lovelace', ADA.address.street_address, ADA.address.postal_code, 'London']) {
      expect(decoded).not.toContain(withheld);
      expect(everything).not.toContain(withheld);
    }
  });

  it('records a decline as refused on both sides, and the company hears of the refusal', async () => {
    const { company, personal, link } = pair;
    const sent = await ask(company, link, { fields: ['email'], purpose: 'Newsletter' });
    const [view] = personal.agent.disclosure.requests();

    const outcome = await personal.agent.disclosure.decline(view!.id, 'No newsletters, thank you');
    expect(outcome.fields).toEqual([]);
    expect(outcome.request.state).toBe('declined');
    expect(personal.agent.disclosure.requests()).toEqual([]);
    expect(personal.agent.disclosure.requests({ all: true }).map((r) => [r.id, r.state])).toEqual([[view!.id, 'declined']]);

    const hers = personal.agent.disclosure.consents();
    expect(hers.map((c) => [c.id, c.state])).toEqual([[outcome.consentRecordId, 'refused']]);
    const holdings = await company.agent.holdings(link.companyRelationship.id);
    expect(holdings.consentRecords.map((c) => [c.id, c.state])).toEqual([[outcome.consentRecordId, 'refused']]);
    for (const record of [hers[0]!.record, holdings.consentRecords[0]!.record]) {
      const parsed = consentRecordSchema.parse(record);
      expect(parsed.state).toBe('refused');
      expect(parsed.events.map((e) => e.type)).toEqual(['requested', 'refused']);
    }
    expect(holdings.requests.map((r) => [r.id, r.state])).toEqual([[sent.request.id, 'declined']]);
    expect(holdings.fields).toEqual([]);
    expect(herHolds(personal, link.view.id)).toEqual([]);

    const events = await company.store.listEvents({ relationshipId: link.companyRelationship.id });
    expect(events.map((e) => e.type)).toEqual(['disclosure.declined']);
    expect(events[0]!.payload).toMatchObject({ consentRecordId: outcome.consentRecordId, purpose: 'Newsletter' });
    expect(JSON.stringify(events[0]!.payload)).not.toContain(ADA.email);
  });

  it('refuses to approve a field she has no value for, and nothing changes on either side', async () => {
    const { company, personal, link } = pair;
    await ask(company, link, { fields: ['name', 'phone_number'], purpose: 'Delivery calls' });
    const [view] = personal.agent.disclosure.requests();
    expect(view!.fields).toEqual([
      { name: 'name', available: true },
      { name: 'phone_number', available: false },
    ]);
    const hersBefore = personal.snapshot();
    const companyBefore = await company.snapshot();

    expect(await failure(() => personal.agent.disclosure.approve(view!.id))).toEqual({ code: 'disclosure.field_unavailable', details: { fields: ['phone_number'] } });
    expect(await failure(() => personal.agent.disclosure.approve(view!.id, ['phone_number']))).toMatchObject({ code: 'disclosure.field_unavailable' });

    expect(personal.snapshot()).toEqual(hersBefore);
    expect(await company.snapshot()).toEqual(companyBefore);
    expect(personal.agent.disclosure.requests().map((r) => r.state)).toEqual(['pending']);

    // Leaving the field out is how she answers what she can.
    expect((await personal.agent.disclosure.approve(view!.id, ['name'])).fields).toEqual(['name']);
  });

  it('puts the request back when the company cannot be reached, and approving again once it is back goes through', async () => {
    const { company, personal, link } = pair;
    await ask(company, link, { fields: ['name', 'email'], purpose: PURPOSE });
    const [view] = personal.agent.disclosure.requests();
    const companyBefore = await company.snapshot();

    await company.stop();
    expect(await failure(() => personal.agent.disclosure.approve(view!.id))).toMatchObject({ code: 'transport.unreachable' });

    const [after] = personal.agent.disclosure.requests();
    expect(after).toMatchObject({ id: view!.id, state: 'pending', answeredFields: null, consentRecordId: null });
    expect(personal.agent.disclosure.consents()).toEqual([]);
    expect(personal.vault.consents.list()).toEqual([]);
    expect(herHolds(personal, link.view.id)).toEqual([]);
    expect(await company.snapshot()).toEqual(companyBefore);

    await company.start();
    const outcome = await personal.agent.disclosure.approve(view!.id);
    expect([...outcome.fields].sort()).toEqual(['email', 'name']);
    expect(personal.agent.disclosure.consents().map((c) => [c.id, c.state])).toEqual([[outcome.consentRecordId, 'active']]);
    expect((await companyFields(company, link.companyRelationship.id)).map((f) => [f.field, f.consentRecordId])).toEqual([
      ['email', outcome.consentRecordId],
      ['name', outcome.consentRecordId],
    ]);
  });
});

describe('a credential from an issuer, presented without what it was derived from', () => {
  const BIRTHDATE = '1990-04-01';
  let issuer: DemoIssuer;
  let personal: PersonalHandle;
  let trusting: CompanyHandle;
  let wary: CompanyHandle;

  beforeAll(async () => {
    issuer = createDemoIssuer('Civil Registry of Example');
    personal = await startPersonal();
    personal.agent.profile.set({ ...ADA, birthdate: BIRTHDATE });
    trusting = await startCompany({ name: 'Cellar Wines Ltd', policy: { trustedIssuers: [issuer.identity.did] } });
    wary = await startCompany({ name: 'Corner Shop Ltd' });
    const holder = personal.agent.credentials.newHolderKey();
    // The registry also puts the birth date in, as a disclosable claim: it must stay with her.
    const sdJwt = await issueCredential(issuer.identity, { holderPublicJwk: holder.publicJwk, vct: AGE_VCT, claims: { ...ageClaims(BIRTHDATE, new Date()), birthdate: BIRTHDATE } }, systemClock);
    const credential = await personal.agent.credentials.add(sdJwt);
    expect(credential).toMatchObject({ issuer: issuer.identity.did, vct: AGE_VCT });
    expect([...credential.claims].sort()).toEqual(['age_over_16', 'age_over_18', 'age_over_21', 'age_over_65', 'birthdate']);
  });
  afterAll(async () => {
    await personal?.cleanup();
    await trusting?.cleanup();
    await wary?.cleanup();
  });

  const AGE_ASK: DisclosureAsk = { fields: ['address'], credentials: [{ vct: AGE_VCT, claims: ['age_over_18'] }], purpose: 'Deliver wine to adults only', retention: 'P30D' };

  it('gives a company that trusts the issuer age_over_18 from the credential, and the birth date appears nowhere it stored', async () => {
    const link = await connect(personal, trusting);
    const sent = await ask(trusting, link, AGE_ASK);
    const view = personal.agent.disclosure.requests({ relationship: link.view.id })[0]!;
    expect(view.fields).toEqual([{ name: 'address', available: true }]);
    expect(view.credentials).toEqual([{ vct: AGE_VCT, claims: ['age_over_18'], available: true }]);

    const outcome = await personal.agent.disclosure.approve(view.id);
    expect([...outcome.fields].sort()).toEqual(['address', 'age_over_18']);

    const holdings = await trusting.agent.holdings(link.companyRelationship.id);
    expect(holdings.fields.map((f) => ({ field: f.field, value: f.value, source: f.source, issuer: f.issuer, consentRecordId: f.consentRecordId }))).toEqual([
      { field: 'address', value: ADA.address, source: 'self', issuer: null, consentRecordId: outcome.consentRecordId },
      { field: 'age_over_18', value: true, source: 'credential', issuer: issuer.identity.did, consentRecordId: outcome.consentRecordId },
    ]);
    expect(holdings.requests.map((r) => [r.id, r.state])).toEqual([[sent.request.id, 'fulfilled']]);
    const record = consentRecordSchema.parse(holdings.consentRecords[0]!.record);
    expect(record.pii_sources.map((s) => [s.category, s.source, s.issuer]).sort()).toEqual([
      ['address', 'pii_principal', null],
      ['age_over_18', 'issuer', issuer.identity.did],
    ]);
    const herRecord = consentRecordSchema.parse(personal.agent.disclosure.consents(link.view.id)[0]!.record);
    expect(herRecord.pii_sources).toEqual(expect.arrayContaining([{ category: 'age_over_18', source: 'issuer', issuer: issuer.identity.did }]));
    expect(herHolds(personal, link.view.id).map((h) => [h.field, h.value, h.source, h.issuer])).toEqual([
      ['address', ADA.address, 'self', null],
      ['age_over_18', true, 'credential', issuer.identity.did],
    ]);

    // Two presentations kept as evidence: hers (address) and the registry's (age_over_18 only).
    const presentations = await trusting.store.listPresentations(link.companyRelationship.id);
    expect(presentations).toHaveLength(2);
    const decoded = presentations.map((p) => decodeSdJwtParts(p.sdJwt));
    const fromRegistry = decoded.find((parts) => (parts[1] as { iss?: string }).iss === issuer.identity.did)!;
    expect(fromRegistry.filter(Array.isArray)).toEqual([[expect.any(String), 'age_over_18', true]]);
    const everything = JSON.stringify(await trusting.snapshot()) + JSON.stringify(decoded);
    expect(everything).not.toContain(BIRTHDATE);
    expect(everything).not.toContain('age_over_21');
  });

  it('is refused by a company that does not trust the issuer: she hears disclosure.untrusted_issuer, the company keeps nothing, her request is hers again', async () => {
    const link = await connect(personal, wary);
    await ask(wary, link, AGE_ASK);
    const view = personal.agent.disclosure.requests({ relationship: link.view.id })[0]!;
    const companyBefore = await wary.snapshot();

    const refused = await failure(() => personal.agent.disclosure.approve(view.id));
    expect(refused).toMatchObject({ code: 'transport.rejected', details: { status: 422, code: 'disclosure.untrusted_issuer' } });

    expect(await wary.snapshot()).toEqual(companyBefore);
    expect(personal.agent.disclosure.requests({ relationship: link.view.id }).map((r) => [r.id, r.state, r.consentRecordId])).toEqual([[view.id, 'pending', null]]);
    expect(personal.agent.disclosure.consents(link.view.id)).toEqual([]);
    expect(herHolds(personal, link.view.id)).toEqual([]);
  });

  it('refuses to keep a credential bound to a key she does not hold as disclosure.key_binding_invalid', async () => {
    const stranger = generateKeyPair('Ed25519');
    const sdJwt = await issueCredential(issuer.identity, { holderPublicJwk: stranger.publicJwk, vct: AGE_VCT, claims: ageClaims(BIRTHDATE, new Date()) }, systemClock);
    const before = personal.snapshot();
    expect(await failure(() => personal.agent.credentials.add(sdJwt))).toMatchObject({ code: 'disclosure.key_binding_invalid' });
    expect(personal.snapshot()).toEqual(before);
    expect(await personal.agent.credentials.list()).toHaveLength(1);
  });
});

describe('change once everywhere: a profile change fans out to the companies holding it', () => {
  interface Connected {
    company: CompanyHandle;
    link: Link;
  }
  let personal: PersonalHandle;
  let companies: Connected[];
  /** A, B and C hold name and address; D holds only email. */
  let a: Connected, b: Connected, c: Connected, d: Connected;
  let events: AgentEvent[];

  beforeEach(async () => {
    // Her retries are due within milliseconds, so a test can retry without waiting a second.
    personal = await startPersonal({ retry: { baseDelayMs: 1, maxDelayMs: 5 } });
    personal.agent.profile.set(ADA);
    companies = [];
    for (const [name, fields] of [
      ['A Co', ['name', 'address']],
      ['B Co', ['name', 'address']],
      ['C Co', ['name', 'address']],
      ['D Co', ['email']],
    ] as const) {
      const company = await startCompany({ name });
      const link = await connect(personal, company);
      await answerAsk(personal, company, link, { fields: [...fields], purpose: 'Deliveries' });
      companies.push({ company, link });
    }
    [a, b, c, d] = companies as [Connected, Connected, Connected, Connected];
    events = [];
    personal.agent.events.on((event) => events.push(event));
  });
  afterEach(async () => {
    await personal?.cleanup();
    for (const one of companies ?? []) await one.company.cleanup();
  });

  const rel = (one: Connected) => one.link.companyRelationship.id;
  const herId = (one: Connected) => one.link.view.id;

  /**
   * The company holds `address` at her profile version `version`, and has applied that version. (A
   * disclosure records the fields' version but applies no version: only notices do.)
   */
  async function expectHolds(one: Connected, address: unknown, version: number, applied = version): Promise<void> {
    const holdings = await one.company.agent.holdings(rel(one));
    expect(holdings.fields.find((f) => f.field === 'address')).toMatchObject({ value: address, version });
    expect(holdings.profileVersion).toBe(applied);
  }

  it('reaches exactly the three companies holding the address, each acknowledging once', async () => {
    const inboundBefore = companies.map((one) => one.company.inbound.length);
    const change = personal.agent.profile.set({ address: HOVE })!;
    expect(change.version).toBe(2);
    expect(change.fields).toEqual(['address']);
    expect(change.deliveries.map((x) => x.relationshipId).sort()).toEqual([herId(a), herId(b), herId(c)].sort());
    expect(change.deliveries.every((x) => x.state === 'pending' && x.attempts === 0 && x.fields.join() === 'address')).toBe(true);
    expect(events).toEqual([{ type: 'profile.changed', version: 2, fields: ['address'], deliveries: 3 }]);

    expect(await personal.agent.profile.deliver()).toEqual({ acked: 3, retrying: 0, failed: 0, skipped: 0 });

    const settled = personal.agent.profile.change(change.version);
    expect(settled.done).toBe(true);
    expect(settled.summary).toEqual({ total: 3, acked: 3, pending: 0, failed: 0, skipped: 0 });
    const acked = events.filter((e) => e.type === 'profile.delivery');
    expect(acked.map((e) => e.type === 'profile.delivery' && [e.relationshipId, e.state, e.version]).sort()).toEqual(
      [a, b, c].map((x) => [herId(x), 'acked', 2]).sort(),
    );

    for (const one of [a, b, c]) {
      await expectHolds(one, HOVE, 2);
      expect((await companyFields(one.company, rel(one))).find((f) => f.field === 'name')).toMatchObject({ value: ADA.name, version: 1 });
      const updated = await connectorEvents(one.company, 'profile.updated', rel(one));
      expect(updated).toHaveLength(1);
      expect(updated[0]!.payload).toMatchObject({ fields: { address: HOVE }, version: 2 });
      expect(await updatePresentations(one.company, rel(one))).toHaveLength(1);
      expect(herHolds(personal, herId(one)).find((h) => h.field === 'address')).toMatchObject({ value: HOVE, version: 2 });
    }
    // D holds no address: not a byte reached it, and its email stays as given.
    expect(d.company.inbound.length).toBe(inboundBefore[3]);
    expect(await connectorEvents(d.company, 'profile.updated')).toEqual([]);
    expect((await d.company.agent.holdings(rel(d))).profileVersion).toBe(0);
    companies.slice(0, 3).forEach((one, i) => expect(one.company.inbound.length).toBe(inboundBefore[i]! + 1));

    // Nothing is left to send.
    expect(await personal.agent.profile.deliver()).toEqual({ acked: 0, retrying: 0, failed: 0, skipped: 0 });
  });

  it('makes no deliveries for a change to a field nobody holds', async () => {
    const inboundBefore = companies.map((one) => one.company.inbound.length);
    const change = personal.agent.profile.set({ nickname: 'Ada' })!;
    expect(change.deliveries).toEqual([]);
    expect(change.done).toBe(true);
    expect(await personal.agent.profile.deliver()).toEqual({ acked: 0, retrying: 0, failed: 0, skipped: 0 });
    expect(companies.map((one) => one.company.inbound.length)).toEqual(inboundBefore);
    // Setting the same value again makes no change at all.
    expect(personal.agent.profile.set({ nickname: 'Ada' })).toBeUndefined();
  });

  it('sends nothing to a company she cut off, whether the change came before or after the cut-off', async () => {
    await personal.agent.cutOff(herId(c));
    const cInbound = c.company.inbound.length;
    const change = personal.agent.profile.set({ address: HOVE })!;
    expect(change.deliveries.map((x) => x.relationshipId).sort()).toEqual([herId(a), herId(b)].sort());
    expect(await personal.agent.profile.deliver()).toEqual({ acked: 2, retrying: 0, failed: 0, skipped: 0 });
    expect(c.company.inbound.length).toBe(cInbound);
    expect(await connectorEvents(c.company, 'profile.updated')).toEqual([]);
    expect(await c.company.store.listHeldFields(rel(c))).toEqual([]);
    expect(personal.agent.profile.profile().fields.find((f) => f.field === 'address')?.heldBy.map((h) => h.relationshipId).sort()).toEqual([herId(a), herId(b)].sort());
    // Her consent record for C is withdrawn, in the same 27560 shape.
    const [withdrawn] = personal.agent.disclosure.consents(herId(c));
    expect(withdrawn?.state).toBe('withdrawn');
    const record = consentRecordSchema.parse(withdrawn!.record);
    expect([record.state, record.events.map((e) => e.type)]).toEqual(['withdrawn', ['requested', 'given', 'withdrawn']]);

    // A change still owed to a company when she cuts it off is skipped, not sent.
    const owed = personal.agent.profile.set({ address: BRIGHTON })!;
    expect(owed.deliveries.map((x) => x.relationshipId).sort()).toEqual([herId(a), herId(b)].sort());
    await personal.agent.cutOff(herId(b));
    const bInbound = b.company.inbound.length;
    expect(personal.agent.profile.change(owed.version).deliveries.find((x) => x.relationshipId === herId(b))).toMatchObject({ state: 'skipped', lastError: 'relationship.cut_off' });
    expect(await personal.agent.profile.deliver()).toEqual({ acked: 1, retrying: 0, failed: 0, skipped: 0 });
    expect(b.company.inbound.length).toBe(bInbound);
    expect(personal.agent.profile.change(owed.version).done).toBe(true);
    await expectHolds(a, BRIGHTON, 3);
  });

  it('delivers to a company that was down once it is back', async () => {
    await b.company.stop();
    const change = personal.agent.profile.set({ address: HOVE })!;
    expect(await personal.agent.profile.deliver()).toEqual({ acked: 2, retrying: 1, failed: 0, skipped: 0 });
    const waiting = personal.agent.profile.change(change.version).deliveries.find((x) => x.relationshipId === herId(b));
    expect(waiting).toMatchObject({ state: 'pending', attempts: 1, lastError: 'transport.unreachable', nextAttemptAt: expect.any(Number) });
    expect(events.filter((e) => e.type === 'profile.delivery' && e.relationshipId === herId(b))).toEqual([
      { type: 'profile.delivery', version: 2, relationshipId: herId(b), state: 'retrying', attempts: 1, code: 'transport.unreachable' },
    ]);
    expect(personal.agent.profile.change(change.version).done).toBe(false);
    await expectHolds(b, ADA.address, 1, 0);

    await b.company.start();
    await sleep(20); // past the (1–5 ms) backoff
    expect(await personal.agent.profile.deliver()).toEqual({ acked: 1, retrying: 0, failed: 0, skipped: 0 });
    await expectHolds(b, HOVE, 2);
    expect(personal.agent.profile.change(change.version).done).toBe(true);
    expect(await connectorEvents(b.company, 'profile.updated', rel(b))).toHaveLength(1);
    expect(await updatePresentations(b.company, rel(b))).toHaveLength(1);
  });

  it('coalesces two changes made while a company is down into one notice carrying the latest version', async () => {
    await b.company.stop();
    const first = personal.agent.profile.set({ address: HOVE })!;
    const second = personal.agent.profile.set({ address: BRIGHTON })!;
    expect([first.version, second.version]).toEqual([2, 3]);

    // A and C are up: they too get one notice for both changes.
    expect(await personal.agent.profile.deliver()).toEqual({ acked: 2, retrying: 1, failed: 0, skipped: 0 });
    await b.company.start();
    await sleep(20);
    const bInbound = b.company.inbound.length;
    expect(await personal.agent.profile.deliver()).toEqual({ acked: 1, retrying: 0, failed: 0, skipped: 0 });
    expect(b.company.inbound.length).toBe(bInbound + 1);

    for (const one of [a, b, c]) {
      await expectHolds(one, BRIGHTON, 3);
      const updates = await updatePresentations(one.company, rel(one));
      expect(updates).toHaveLength(1);
      const updated = await connectorEvents(one.company, 'profile.updated', rel(one));
      expect(updated.map((e) => (e.payload as { version: number }).version)).toEqual([3]);
    }
    for (const version of [first.version, second.version]) {
      expect(personal.agent.profile.change(version).deliveries.map((x) => x.state)).toEqual(['acked', 'acked', 'acked']);
    }
  });

  it('acknowledges a resent notice of a version the company already applied with applied: false, and applies it once', async () => {
    const change = personal.agent.profile.set({ address: HOVE })!;
    expect((await personal.agent.profile.deliver()).acked).toBe(3);
    const before = await a.company.snapshot();

    // Her ack was "lost": the same version comes again, in a new message with a new nonce.
    const her = herIdentity(personal, herId(a));
    const id = randomUUID();
    const presentation = await selfPresentation(her, { address: HOVE }, ['address'], { audience: a.company.did, nonce: id });
    const { response } = await sendAs(her, a.company, ProfileUpdate.notice.type, { version: change.version, fields: ['address'], presentation: { format: 'dc+sd-jwt', sd_jwt: presentation } }, { id });
    expect(response.status).toBe(200);
    const ack = await openReply(response.text, her);
    expect(ack.message.type).toBe(ProfileUpdate.ack.type);
    expect(ack.message.thid).toBe(id);
    expect(ack.message.body).toEqual({ version: change.version, applied: false, fields: ['address'] });

    // Only its replay memory took note of the new message id.
    const after = await a.company.snapshot();
    expect({ ...after, seen_messages: [] }).toEqual({ ...before, seen_messages: [] });
    expect(await connectorEvents(a.company, 'profile.updated', rel(a))).toHaveLength(1);
    expect(await updatePresentations(a.company, rel(a))).toHaveLength(1);
  });
});

describe('her local API over HTTP, with her bearer token', () => {
  let pair: Pair;
  beforeEach(async () => {
    pair = await startPair();
    pair.personal.agent.profile.set(ADA);
  });
  afterEach(async () => {
    await pair?.cleanup();
  });

  function api(path: string, init: RequestInit = {}): Promise<Response> {
    return fetch(`${pair.personal.url}${path}`, { ...init, headers: { authorization: `Bearer ${pair.personal.token}`, ...(init.body !== undefined && typeof init.body === 'string' && !init.headers ? { 'content-type': 'application/json' } : {}), ...init.headers } });
  }

  it('lists and approves requests, changes her profile, reports the change and fans it out', async () => {
    await ask(pair.company, pair.link, { fields: ['name', 'address'], purpose: 'Deliveries' });
    const listed = await api('/api/requests');
    expect(listed.status).toBe(200);
    const { requests } = (await listed.json()) as { requests: { id: string; fields: { name: string; available: boolean }[] }[] };
    expect(requests).toHaveLength(1);
    expect(requests[0]!.fields).toEqual([
      { name: 'name', available: true },
      { name: 'address', available: true },
    ]);

    const approved = await api(`/api/requests/${requests[0]!.id}/approve`, { method: 'POST', body: '{}' });
    expect(approved.status).toBe(200);
    const outcome = (await approved.json()) as { consentRecordId: string; fields: string[] };
    expect([...outcome.fields].sort()).toEqual(['address', 'name']);
    expect((await api('/api/requests').then((r) => r.json())) as unknown).toEqual({ requests: [] });

    const put = await api('/api/profile', { method: 'PUT', body: JSON.stringify({ fields: { address: HOVE } }) });
    expect(put.status).toBe(201);
    const { change } = (await put.json()) as { change: { version: number; deliveries: { relationshipId: string; state: string }[] } };
    expect(change.version).toBe(2);
    expect(change.deliveries.map((x) => [x.relationshipId, x.state])).toEqual([[pair.link.view.id, 'pending']]);

    const pending = (await (await api(`/api/profile/changes/${change.version}`)).json()) as { change: { done: boolean; summary: { pending: number } } };
    expect(pending.change).toMatchObject({ done: false, summary: { pending: 1 } });
    expect(await (await api('/api/profile/deliver', { method: 'POST' })).json()).toEqual({ acked: 1, retrying: 0, failed: 0, skipped: 0 });
    const settled = (await (await api(`/api/profile/changes/${change.version}`)).json()) as { change: { done: boolean; deliveries: { state: string }[] } };
    expect(settled.change.done).toBe(true);
    expect(settled.change.deliveries.map((x) => x.state)).toEqual(['acked']);
    expect((await companyFields(pair.company, pair.link.companyRelationship.id)).find((f) => f.field === 'address')?.value).toEqual(HOVE);
  });

  it('lists her recent changes a page at a time and refuses a limit that is not a whole number from 1 to 10,000, changing nothing', async () => {
    pair.personal.agent.profile.set({ email: 'ada@lovelace.example' });
    const versions = async (query: string) => ((await (await api(`/api/profile/changes${query}`)).json()) as { changes: { version: number }[] }).changes.map((c) => c.version);
    expect(await versions('')).toEqual([2, 1]);
    expect(await versions('?limit=1')).toEqual([2]);
    const before = pair.personal.snapshot();
    // The fuzz bench's limit=1e+308 reached SQLite as a float and answered 500.
    for (const limit of ['1e+308', '0', '-1', '1.5', 'ten', '10001', '']) {
      const answer = await api(`/api/profile/changes?limit=${encodeURIComponent(limit)}`);
      expect([limit, answer.status, ((await answer.json()) as { error: { code: string } }).error.code]).toEqual([limit, 400, 'api.bad_request']);
    }
    expect(pair.personal.snapshot()).toEqual(before);
  });

  it('exports her profile as a vCard and imports one', async () => {
    const exported = await api('/api/profile/vcard');
    expect(exported.status).toBe(200);
    expect(exported.headers.get('content-type')).toMatch(/^text\/vcard/);
    const text = await exported.text();
    expect(text).toContain('BEGIN:VCARD');
    expect(text).toContain('FN:Ada Lovelace');
    expect(text).toContain('EMAIL:ada@example.org');

    const card = ['BEGIN:VCARD', 'VERSION:4.0', 'FN:Ada King', 'EMAIL:countess@example.org', 'TEL;VALUE=text:+44 20 7946 0000', 'X-SHOE-SIZE:38', 'END:VCARD', ''].join('\r\n');
    const imported = await api('/api/profile/vcard', { method: 'POST', body: card, headers: { 'content-type': 'text/vcard' } });
    expect(imported.status).toBe(201);
    const body = (await imported.json()) as { change: { version: number; fields: string[] }; ignored: string[] };
    expect([...body.change.fields].sort()).toEqual(['email', 'name', 'phone_number']);
    expect(body.ignored).toContain('X-SHOE-SIZE');
    const values = Object.fromEntries(pair.personal.agent.profile.profile().fields.map((f) => [f.field, f.value]));
    expect(values).toMatchObject({ name: 'Ada King', email: 'countess@example.org', phone_number: '+44 20 7946 0000', address: ADA.address });
  });

  it('streams agent events as server-sent events', async () => {
    const controller = new AbortController();
    const response = await api('/api/events', { signal: controller.signal });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let received = '';
    const readUntil = async (until: string | ((text: string) => boolean)) => {
      const reached = typeof until === 'string' ? (text: string) => text.includes(until) : until;
      while (!reached(received)) {
        const { value, done } = await reader.read();
        if (done) throw new Error('the event stream ended early');
        received += decoder.decode(value, { stream: true });
      }
    };
    try {
      await readUntil('event: ready');
      const put = await api('/api/profile', { method: 'PUT', body: JSON.stringify({ fields: { nickname: 'Ada' } }) });
      expect(put.status).toBe(201);
      /** The whole `profile.changed` event (up to its blank line), once it has arrived. */
      const changedEvent = (text: string): string | undefined => {
        const at = text.indexOf('event: profile.changed');
        const end = at < 0 ? -1 : text.indexOf('\n\n', at);
        return end < 0 ? undefined : text.slice(at, end);
      };
      await readUntil((text) => changedEvent(text) !== undefined);
      const block = changedEvent(received) ?? '';
      const data = /data: (.*)/.exec(block)?.[1];
      expect(JSON.parse(data ?? 'null')).toEqual({ type: 'profile.changed', version: 2, fields: ['nickname'], deliveries: 0 });
    } finally {
      controller.abort();
      await reader.cancel().catch(() => undefined);
    }
  });
});

describe('the company admin API, with the admin bearer token', () => {
  let pair: Pair;
  beforeEach(async () => {
    pair = await startPair();
    pair.personal.agent.profile.set(ADA);
  });
  afterEach(async () => {
    await pair?.cleanup();
  });

  function admin(path: string, init: RequestInit = {}, token = pair.company.adminToken): Promise<Response> {
    return fetch(`${pair.company.url}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...init.headers } });
  }

  it('asks for fields over HTTP and shows what the company holds once she answered', async () => {
    const ref = pair.link.companyRelationship.customerRef;
    const askBody = JSON.stringify({ fields: ['email'], purpose: 'Receipts by email', retention: 'P6M' });
    expect((await admin(`/admin/relationships/${ref}/disclosure-requests`, { method: 'POST', body: askBody }, 'not-the-token')).status).toBe(401);

    const created = await admin(`/admin/relationships/${ref}/disclosure-requests`, { method: 'POST', body: askBody });
    expect(created.status).toBe(201);
    const result = (await created.json()) as DisclosureRequestResult;
    expect(result.delivered).toBe(true);
    expect(result.request).toMatchObject({ relationshipId: pair.link.companyRelationship.id, fields: ['email'], purpose: 'Receipts by email', retention: 'P6M', state: 'pending' });

    const empty = (await (await admin(`/admin/relationships/${ref}/holdings`)).json()) as { fields: unknown[]; requests: { state: string }[] };
    expect(empty.fields).toEqual([]);
    expect(empty.requests.map((r) => r.state)).toEqual(['pending']);

    const [view] = pair.personal.agent.disclosure.requests();
    const outcome = await pair.personal.agent.disclosure.approve(view!.id);

    const holdings = await admin(`/admin/relationships/${ref}/holdings`);
    expect(holdings.status).toBe(200);
    const held = (await holdings.json()) as { relationship: { id: string }; fields: { field: string; value: unknown; consentRecordId: string }[]; consentRecords: { id: string; state: string }[]; requests: { state: string }[] };
    expect(held.relationship.id).toBe(pair.link.companyRelationship.id);
    expect(held.fields.map((f) => [f.field, f.value, f.consentRecordId])).toEqual([['email', ADA.email, outcome.consentRecordId]]);
    expect(held.consentRecords.map((c) => [c.id, c.state])).toEqual([[outcome.consentRecordId, 'active']]);
    expect(held.requests.map((r) => r.state)).toEqual(['fulfilled']);
  });
});
