/**
 * Fields she discloses with an intent (none by default), over real HTTP on loopback: a self-issued
 * SD-JWT per recipient, bound to its cast, that each company keeps under a consent record of its
 * own with the same id as hers; a company that refuses the terms she cast under keeps nothing.
 * Bad inputs (a field she has no value for, a presentation lifted from another cast) change nothing.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toEpochSeconds } from '../../src/core/clock.js';
import { resolvePeer } from '../../src/protocol/agent/peer.js';
import { Intent } from '../../src/protocol/families/index.js';
import type { Demand } from '../../src/protocol/families/intent.js';
import { presentSelfIssued } from '../../src/protocol/sdjwt/index.js';
import { connect, herIdentity, startCompany, startPersonal, type CompanyHandle, type Link, type PersonalHandle } from '../support/agents.js';
import { resolver, sendAs } from '../support/disclosure.js';
import { codeOfRejection } from '../support/errorCodes.js';

const demand: Demand = { '@type': 'Demand', description: 'A rain jacket, size M', category: 'clothing' };
const inADay = () => Date.now() + 86_400_000;
const EMAIL = 'ada@example.org';

describe('fields disclosed with an intent, kept under consent on both sides', () => {
  let her: PersonalHandle;
  let acme: CompanyHandle;
  let strict: CompanyHandle;
  let acmeLink: Link;

  beforeAll(async () => {
    her = await startPersonal();
    her.agent.profile.set({ email: EMAIL, name: 'Ada Lovelace' });
    acme = await startCompany({ name: 'Acme Outfitters', policy: { terms: { accept: ['intent-only-contact'] }, intents: { categories: ['clothing'] } } });
    // Accepts no agreement and counters with none: it refuses the terms any intent is cast under.
    strict = await startCompany({ name: 'Strict Tailors', policy: { terms: { accept: ['service-plus-billing'] }, intents: { categories: ['clothing'] } } });
    acmeLink = await connect(her, acme);
    await her.agent.directory.add(strict.url);
  });
  afterAll(async () => {
    await Promise.all([her, acme, strict].map((p) => p?.cleanup()));
  });

  it('sends nothing about her by default', async () => {
    const intent = await her.agent.intents.cast({ demand, expiresAt: inADay(), to: [acmeLink.view.id] });
    expect(intent.disclosed).toEqual([]);
    expect(await acme.store.listHeldFields(acmeLink.companyRelationship.id)).toEqual([]);
    expect(await acme.store.listConsentRecords(acmeLink.companyRelationship.id)).toEqual([]);
  });

  it('discloses the fields she picks to a company she knows; both keep them under the same consent record', async () => {
    // Ends within a day (rounded up to the hour): she lets the company keep it a day at most.
    const intent = await her.agent.intents.cast({ demand, expiresAt: Date.now() + 20 * 3_600_000, to: [acmeLink.view.id], disclose: ['email'] });
    expect(intent.disclosed).toEqual(['email']);
    const held = await acme.store.listHeldFields(acmeLink.companyRelationship.id);
    expect(held.map((h) => [h.field, h.value, h.source])).toEqual([['email', EMAIL, 'self']]);
    const [companyConsent] = await acme.store.listConsentRecords(acmeLink.companyRelationship.id);
    expect(companyConsent!.id).toBe(held[0]!.consentRecordId);
    expect(companyConsent!.record).toMatchObject({ state: 'active', processing: [{ purposes: ['To be answered about this intent'], legal_basis: 'consent', pii_categories: ['email'], retention: 'P1D' }] });
    // Her side: the same record, active, and the field among what Acme holds.
    const [mine] = her.agent.disclosure.consents(acmeLink.view.id);
    expect([mine!.id, mine!.state]).toEqual([companyConsent!.id, 'active']);
    const holds = her.agent.relationship(acmeLink.view.id).holds.filter((h) => h.category === 'field');
    expect(holds.map((h) => [h.field, h.value, h.consentRecordId, h.why])).toEqual([['email', EMAIL, companyConsent!.id, 'To be answered about this intent']]);
  });

  it('a company that refuses the terms of an anonymous cast keeps nothing, and she records nothing given', async () => {
    const intent = await her.agent.intents.cast({ demand, expiresAt: inADay(), anonymous: true, disclose: ['email', 'name'] });
    const [recipient] = intent.recipients;
    expect([recipient!.company, recipient!.anonymous, recipient!.termsDecision]).toEqual(['Strict Tailors', true, 'rejected']);
    const [strictRelationship] = await strict.store.listRelationships();
    expect(await strict.store.listHeldFields(strictRelationship!.id)).toEqual([]);
    expect(await strict.store.listConsentRecords(strictRelationship!.id)).toEqual([]);
    expect(her.agent.disclosure.consents(recipient!.relationshipId)).toEqual([]);
    expect(her.agent.relationship(recipient!.relationshipId).holds.filter((h) => h.category === 'field')).toEqual([]);
  });

  it('refuses a field she has no value for, before anything is sent or stored', async () => {
    const before = await her.snapshot();
    const acmeBefore = await acme.snapshot();
    expect(await codeOfRejection(her.agent.intents.cast({ demand, expiresAt: inADay(), to: [acmeLink.view.id], disclose: ['phone_number'] }))).toBe('disclosure.field_unavailable');
    expect(await her.snapshot()).toEqual(before);
    expect(await acme.snapshot()).toEqual(acmeBefore);
  });

  it('refuses a cast whose presentation was made for another message, and stores nothing', async () => {
    const identity = herIdentity(her, acmeLink.view.id);
    const acmePeer = await resolvePeer(resolver, acme.did);
    const lifted = await presentSelfIssued(identity, { email: EMAIL }, { audience: acme.did, nonce: randomUUID(), issuedAt: toEpochSeconds(Date.now()) });
    const body = {
      intent_id: randomUUID(),
      demand: { ...demand, validThrough: new Date(inADay()).toISOString().replace(/\.\d{3}Z$/, 'Z') },
      currency_required: false,
      disclosure: { consent_record_id: randomUUID(), purpose: 'To be answered about this intent', retention: 'P1D', profile_version: 1, fields: ['email'], presentation: { format: 'dc+sd-jwt', sd_jwt: lifted } },
    };
    const before = await acme.snapshot();
    const { response } = await sendAs(identity, { did: acme.did, didcommUrl: acmePeer.endpoint! }, Intent.cast.type, body);
    expect(response.json.error?.code).toBe('disclosure.nonce_mismatch');
    expect(await acme.snapshot()).toEqual(before);
  });
});
