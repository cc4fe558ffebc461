/**
 * IEEE 7012-style terms between real agents over real HTTP on loopback: her default terms travel
 * with every connect; a company accepts them, counters once (her rule accepts a counter that
 * protects her at least as well, else it waits for her) or rejects them; both sides keep the same
 * record, signed by both. Either side can change the terms later (push or pickup), and once terms
 * are agreed both agents refuse a disclosure request outside them.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../../src/core/clock.js';
import type { AgentEvent } from '../../src/personal/events.js';
import { exportVault } from '../../src/personal/vault/export.js';
import { buildMessage } from '../../src/protocol/buildMessage.js';
import { Connect, Disclose, ReportProblem } from '../../src/protocol/families/index.js';
import { sameRecord, signedAgreementSchema, verifySignedAgreement, type SignedAgreement } from '../../src/protocol/terms/agreementRecord.js';
import { jcs } from '../../src/protocol/terms/detachedJws.js';
import { KITH_DEMO_ROSTER_PUBLISHER } from '../../src/protocol/terms/roster.js';
import type { DisclosureAsk } from '../../src/company/config.js';
import { OUTSIDE_TERMS_PROBLEM } from '../../src/protocol/families/terms.js';
import type { DisclosureRequest, TermsAgreementRow } from '../../src/company/store/types.js';
import { failure } from '../support/errorCodes.js';
import { connect, postEnvelopeRaw, startPersonal, startCompany, type Link, type PersonalHandle, type CompanyHandle } from '../support/agents.js';
import { openReply, packAs, resolver, sendAs } from '../support/disclosure.js';
import { codeOfRejection } from '../support/errorCodes.js';

const ROSTER_ID = 'https://kith.invalid/terms/kith-roster';
const ID = (name: string): string => `https://kith.invalid/terms/agreements/${name}`;
const shortName = (id: string): string => id.slice(id.lastIndexOf('/') + 1);

/** What the loyalty company asks of everyone it connects with: marketing, for a year. */
const LOYALTY_ASK: DisclosureAsk = { fields: ['email'], purpose: 'Loyalty newsletter', purposeCode: 'marketing', retention: 'P1Y' };

type Row = [by: 'person' | 'company', state: string, agreement: string];

/** Her terms records with one company, oldest first, as her agent lists them. */
function herRows(personal: PersonalHandle, relationshipId: string): Row[] {
  return personal.agent.terms.history(relationshipId).map((t) => [t.proposedBy, t.state, shortName(t.agreementId)]);
}

/**
 * The company's terms records, oldest first. A proffer and the counter answering it are written at
 * the same instant; there her proffer is listed first, as her agent lists it.
 */
async function companyRows(company: CompanyHandle, relationshipId: string): Promise<Row[]> {
  const rows = await company.agent.termsHistory(relationshipId);
  const rank = (r: TermsAgreementRow) => (r.proposedBy === 'person' ? 0 : 1);
  return [...rows].sort((a, b) => a.createdAt - b.createdAt || rank(a) - rank(b)).map((r) => [r.proposedBy, r.state, shortName(r.agreementId)]);
}

/**
 * Both sides hold the same agreed record (equal JCS bytes of record and signatures), signed by her
 * and by the company, each signature valid, between her pairwise DID and the company's DID.
 */
async function expectSameAgreedRecord(personal: PersonalHandle, company: CompanyHandle, link: Link): Promise<SignedAgreement> {
  const hers = personal.vault.agreements.current(link.view.id);
  const theirs = await company.store.currentTermsAgreement(link.companyRelationship.id);
  expect(hers, 'her agreed record').toBeDefined();
  expect(theirs, "the company's agreed record").toBeDefined();
  expect(hers!.id).toBe(theirs!.id);
  expect(hers!.agreementId).toBe(theirs!.agreementId);
  const herSigned = signedAgreementSchema.parse(hers!.signed);
  const companySigned = signedAgreementSchema.parse(theirs!.signed);
  expect(jcs(herSigned)).toBe(jcs(companySigned));
  expect(() => sameRecord(herSigned.record, companySigned.record)).not.toThrow();
  expect(herSigned.signatures.map((s) => s.by)).toEqual(['person', 'company']);
  const record = await verifySignedAgreement(herSigned, { resolver });
  await verifySignedAgreement(companySigned, { resolver });
  expect(record.id).toBe(hers!.id);
  expect(record.agreementId).toBe(hers!.agreementId);
  expect(record.parties).toEqual({ person: link.view.myDid, company: company.did });
  expect(record.rosterId).toBe(ROSTER_ID);
  return herSigned;
}

function viewOf(personal: PersonalHandle, relationshipId: string) {
  const view = personal.agent.relationships().find((r) => r.id === relationshipId);
  if (!view) throw new Error(`she has no relationship ${relationshipId}`);
  return view;
}

/** Collects her agent's events from now on. */
function recordEvents(personal: PersonalHandle): { events: AgentEvent[]; stop(): void } {
  const events: AgentEvent[] = [];
  const stop = personal.agent.events.on((event) => events.push(event));
  return { events, stop };
}

const handles: { cleanup(): Promise<void> }[] = [];
async function companyWith(name: string, policy: unknown): Promise<CompanyHandle> {
  const company = await startCompany({ name, policy });
  handles.push(company);
  return company;
}
async function personal(): Promise<PersonalHandle> {
  const her = await startPersonal({ retry: { baseDelayMs: 1, maxDelayMs: 5 } });
  // These tests are about terms: she answers every request by hand, so her default rules (which
  // decline marketing by themselves, test/agents/disclosureRules.test.ts) leave them to the test.
  her.agent.rules.setManual(true);
  handles.push(her);
  return her;
}
afterAll(async () => {
  for (const handle of handles.reverse()) await handle.cleanup();
});

describe('terms proffered at connect', () => {
  let her: PersonalHandle;
  let acme: CompanyHandle;
  let bluebird: CompanyHandle;
  let loyal: CompanyHandle;
  let corner: CompanyHandle;

  beforeAll(async () => {
    her = await personal();
    [acme, bluebird, loyal, corner] = await Promise.all([
      companyWith('Acme Accepts', { terms: { accept: ['intent-only-contact', 'service-only'] } }),
      companyWith('Bluebird Counters', { terms: { accept: ['service-plus-billing'], preferred: 'service-only' } }),
      companyWith('Loyal Counters', { terms: { preferred: 'loyalty-program' }, requestOnConnect: LOYALTY_ASK }),
      companyWith('Corner Rejects', { terms: { accept: ['service-plus-billing'] } }),
    ]);
    expect(await her.agent.terms.setDefault('intent-only-contact')).toBe(ID('intent-only-contact'));
  });

  it('accepted: both sides keep the same record, signed by both, and her view names the terms', async () => {
    const link = await connect(her, acme);
    const signed = await expectSameAgreedRecord(her, acme, link);
    expect(signed.record).toMatchObject({
      agreementId: ID('intent-only-contact'),
      proffered: ID('intent-only-contact'),
      outcome: 'accepted',
      profferedBy: 'person',
      supersedes: null,
      rosterVersion: 1,
    });
    expect(herRows(her, link.view.id)).toEqual([['person', 'agreed', 'intent-only-contact']]);
    expect(await companyRows(acme, link.companyRelationship.id)).toEqual([['person', 'agreed', 'intent-only-contact']]);
    for (const view of [link.view, viewOf(her, link.view.id)]) {
      expect(view.terms).toMatchObject({ agreementId: ID('intent-only-contact'), name: 'intent-only-contact', outcome: 'accepted', recordId: signed.record.id, lastState: null, awaitingHer: false });
    }
    // The company's own systems hear of it.
    const agreed = (await acme.store.listEvents({ relationshipId: link.companyRelationship.id })).filter((e) => e.type === 'terms.agreed');
    expect(agreed.map((e) => e.payload)).toEqual([expect.objectContaining({ agreementId: ID('intent-only-contact'), recordId: signed.record.id })]);
  });

  it('countered with a more protective agreement: her rule accepts it at once (countered-accepted on both sides)', async () => {
    const link = await connect(her, bluebird);
    const signed = await expectSameAgreedRecord(her, bluebird, link);
    expect(signed.record).toMatchObject({ agreementId: ID('service-only'), proffered: ID('intent-only-contact'), outcome: 'countered-accepted', profferedBy: 'person', supersedes: null });
    expect(herRows(her, link.view.id)).toEqual([
      ['person', 'countered', 'intent-only-contact'],
      ['company', 'agreed', 'service-only'],
    ]);
    expect(await companyRows(bluebird, link.companyRelationship.id)).toEqual([
      ['person', 'countered', 'intent-only-contact'],
      ['company', 'agreed', 'service-only'],
    ]);
    const [proffer, counter] = her.agent.terms.history(link.view.id);
    expect(proffer!.recordId).not.toBe(counter!.recordId);
    expect(counter).toMatchObject({ recordId: signed.record.id, outcome: 'countered-accepted', awaitingHer: false, weaker: [] });
    expect(viewOf(her, link.view.id).terms).toMatchObject({ name: 'service-only', outcome: 'countered-accepted', awaitingHer: false });
  });

  it('countered with a less protective agreement: it waits for her, and so does the first request; she accepts', async () => {
    const seen = recordEvents(her);
    const link = await connect(her, loyal);
    seen.stop();
    expect(link.view.terms).toMatchObject({ agreementId: null, name: null, awaitingHer: true });
    const waiting = her.agent.terms.history(link.view.id).filter((t) => t.awaitingHer);
    expect(waiting).toHaveLength(1);
    expect(waiting[0]).toMatchObject({
      proposedBy: 'company',
      state: 'proffered',
      agreementId: ID('loyalty-program'),
      outcome: 'countered-accepted',
      weaker: ['allowedPurposes', 'maxRetention', 'contactOnlyOnIntent'],
    });
    expect(seen.events).toContainEqual(expect.objectContaining({ type: 'terms.updated', relationshipId: link.view.id, recordId: waiting[0]!.recordId, decide: true }));
    expect(herRows(her, link.view.id)).toEqual([
      ['person', 'countered', 'intent-only-contact'],
      ['company', 'proffered', 'loyalty-program'],
    ]);
    expect(await companyRows(loyal, link.companyRelationship.id)).toEqual([
      ['person', 'countered', 'intent-only-contact'],
      ['company', 'proffered', 'loyalty-program'],
    ]);
    expect(her.vault.agreements.current(link.view.id)).toBeUndefined();
    expect(await loyal.store.currentTermsAgreement(link.companyRelationship.id)).toBeUndefined();
    // requestOnConnect is deferred while the counter waits: nothing asked, nothing queued.
    await loyal.agent.deliverDue();
    expect(await loyal.store.listDisclosureRequests(link.companyRelationship.id)).toEqual([]);
    expect(her.agent.disclosure.requests({ relationship: link.view.id })).toEqual([]);

    const after = await her.agent.terms.accept(link.view.id);
    expect(after.map((t) => [t.proposedBy, t.state])).toEqual([
      ['person', 'countered'],
      ['company', 'agreed'],
    ]);
    const signed = await expectSameAgreedRecord(her, loyal, link);
    expect(signed.record).toMatchObject({ agreementId: ID('loyalty-program'), proffered: ID('intent-only-contact'), outcome: 'countered-accepted' });
    expect(await companyRows(loyal, link.companyRelationship.id)).toEqual([
      ['person', 'countered', 'intent-only-contact'],
      ['company', 'agreed', 'loyalty-program'],
    ]);
    expect(viewOf(her, link.view.id).terms).toMatchObject({ name: 'loyalty-program', outcome: 'countered-accepted', awaitingHer: false });

    // The deferred request goes now, within the terms just agreed, and reaches her.
    const requests = await loyal.store.listDisclosureRequests(link.companyRelationship.id);
    expect(requests.map((r) => ({ purpose: r.purpose, retention: r.retention, termsRef: r.termsRef }))).toEqual([{ purpose: 'Loyalty newsletter', retention: 'P1Y', termsRef: ID('loyalty-program') }]);
    await vi.waitFor(() => expect(her.agent.disclosure.requests({ relationship: link.view.id }).map((r) => r.termsRef)).toEqual([ID('loyalty-program')]));
  });

  it('countered with a less protective agreement: she rejects it, declined on both sides; the deferred request then goes unconstrained', async () => {
    const link = await connect(her, loyal);
    expect(link.view.terms.awaitingHer).toBe(true);
    expect(await loyal.store.listDisclosureRequests(link.companyRelationship.id)).toEqual([]);

    await her.agent.terms.reject(link.view.id, 'Not for marketing');
    expect(herRows(her, link.view.id)).toEqual([
      ['person', 'countered', 'intent-only-contact'],
      ['company', 'declined', 'loyalty-program'],
    ]);
    expect(await companyRows(loyal, link.companyRelationship.id)).toEqual([
      ['person', 'countered', 'intent-only-contact'],
      ['company', 'declined', 'loyalty-program'],
    ]);
    const counter = (await loyal.agent.termsHistory(link.companyRelationship.id)).find((r) => r.proposedBy === 'company');
    expect(counter?.reason).toBe('Not for marketing');
    expect(her.vault.agreements.current(link.view.id)).toBeUndefined();
    expect(await loyal.store.currentTermsAgreement(link.companyRelationship.id)).toBeUndefined();
    expect(viewOf(her, link.view.id).terms).toMatchObject({ agreementId: null, name: null, lastState: 'declined', awaitingHer: false });

    const requests = await loyal.store.listDisclosureRequests(link.companyRelationship.id);
    expect(requests.map((r) => ({ purpose: r.purpose, termsRef: r.termsRef }))).toEqual([{ purpose: 'Loyalty newsletter', termsRef: null }]);
    await vi.waitFor(() => expect(her.agent.disclosure.requests({ relationship: link.view.id })).toHaveLength(1));
  });

  it('rejected (the company has no counter): nothing agreed, both keep her proffer as rejected', async () => {
    const link = await connect(her, corner);
    expect(herRows(her, link.view.id)).toEqual([['person', 'rejected', 'intent-only-contact']]);
    expect(await companyRows(corner, link.companyRelationship.id)).toEqual([['person', 'rejected', 'intent-only-contact']]);
    expect(her.vault.agreements.current(link.view.id)).toBeUndefined();
    expect(await corner.store.currentTermsAgreement(link.companyRelationship.id)).toBeUndefined();
    expect(viewOf(her, link.view.id).terms).toEqual({ agreementId: null, name: null, outcome: null, recordId: null, since: null, lastState: 'rejected', awaitingHer: false });
    // Her proffer, as she signed it, is what the company keeps.
    const [hers] = her.vault.agreements.list(link.view.id);
    const [theirs] = await corner.agent.termsHistory(link.companyRelationship.id);
    expect(hers!.id).toBe(theirs!.id);
    expect(jcs(hers!.signed)).toBe(jcs(theirs!.signed));
    expect(signedAgreementSchema.parse(theirs!.signed).signatures.map((s) => s.by)).toEqual(['person']);
  });

  it('no default terms: the connect request proffers nothing and neither side has a terms record', async () => {
    await her.agent.terms.setDefault(null);
    try {
      expect(her.agent.terms.defaultTerms()).toBeNull();
      const link = await connect(her, acme);
      const request = await openReply(acme.inbound.at(-1)!, acme.identity);
      expect(request.message.type).toBe(Connect.request.type);
      expect(request.message.body).toEqual({});
      expect(her.agent.terms.history(link.view.id)).toEqual([]);
      expect(await acme.agent.termsHistory(link.companyRelationship.id)).toEqual([]);
      expect(viewOf(her, link.view.id).terms).toEqual({ agreementId: null, name: null, outcome: null, recordId: null, since: null, lastState: null, awaitingHer: false });
    } finally {
      await her.agent.terms.setDefault('intent-only-contact');
    }
  });
});

describe('a change of terms', () => {
  let her: PersonalHandle;
  let acme: CompanyHandle;
  let bluebird: CompanyHandle;
  let shop: CompanyHandle;

  beforeAll(async () => {
    her = await personal();
    [acme, bluebird, shop] = await Promise.all([
      companyWith('Acme Accepts', { terms: { accept: ['intent-only-contact', 'service-only'] } }),
      companyWith('Bluebird Counters', { terms: { accept: ['service-plus-billing'], preferred: 'service-only' } }),
      companyWith('Shop Proposes', { terms: { accept: ['intent-only-contact'] } }),
    ]);
    await her.agent.terms.setDefault('intent-only-contact');
  });

  it('by her: a new pair of records, the old one superseded on both sides, the history kept in order', async () => {
    const link = await connect(her, acme);
    const first = await expectSameAgreedRecord(her, acme, link);

    const views = await her.agent.terms.proffer(link.view.id, 'service-only');
    expect(views.map((t) => [t.proposedBy, t.state, shortName(t.agreementId)])).toEqual([
      ['person', 'superseded', 'intent-only-contact'],
      ['person', 'agreed', 'service-only'],
    ]);
    const second = await expectSameAgreedRecord(her, acme, link);
    expect(second.record).toMatchObject({ agreementId: ID('service-only'), outcome: 'accepted', profferedBy: 'person', supersedes: first.record.id });
    expect(second.record.id).not.toBe(first.record.id);
    expect(await companyRows(acme, link.companyRelationship.id)).toEqual([
      ['person', 'superseded', 'intent-only-contact'],
      ['person', 'agreed', 'service-only'],
    ]);
    // The superseded record is kept as it was signed, on both sides.
    const herOld = her.vault.agreements.get(first.record.id)!;
    const companyOld = (await acme.store.getTermsAgreement(first.record.id))!;
    expect(jcs(herOld.signed)).toBe(jcs(first));
    expect(jcs(companyOld.signed)).toBe(jcs(first));
    expect(viewOf(her, link.view.id).terms).toMatchObject({ name: 'service-only', outcome: 'accepted', recordId: second.record.id });
  });

  it('by her, countered: the counter replaces the agreement in force too', async () => {
    const link = await connect(her, bluebird);
    const first = await expectSameAgreedRecord(her, bluebird, link);
    expect(first.record.outcome).toBe('countered-accepted');

    await her.agent.terms.proffer(link.view.id, 'intent-only-contact');
    const second = await expectSameAgreedRecord(her, bluebird, link);
    expect(second.record).toMatchObject({ agreementId: ID('service-only'), proffered: ID('intent-only-contact'), outcome: 'countered-accepted', supersedes: first.record.id });
    const expected: Row[] = [
      ['person', 'countered', 'intent-only-contact'],
      ['company', 'superseded', 'service-only'],
      ['person', 'countered', 'intent-only-contact'],
      ['company', 'agreed', 'service-only'],
    ];
    expect(herRows(her, link.view.id)).toEqual(expected);
    expect(await companyRows(bluebird, link.companyRelationship.id)).toEqual(expected);
  });

  it('by her, countered with less protective terms she accepts: the deferred first request is judged by the terms just agreed', async () => {
    // Loyal accepts intent-only-contact, but its first request (marketing, P1Y) is outside it: skipped at connect.
    const loyal = await companyWith('Loyal Counters', { terms: { accept: ['intent-only-contact'], preferred: 'loyalty-program' }, requestOnConnect: LOYALTY_ASK });
    const link = await connect(her, loyal);
    const first = await expectSameAgreedRecord(her, loyal, link);
    expect(await loyal.store.listDisclosureRequests(link.companyRelationship.id)).toEqual([]);

    // She proffers service-only; Loyal counters with loyalty-program, which waits for her.
    await her.agent.terms.proffer(link.view.id, 'service-only');
    expect(viewOf(her, link.view.id).terms).toMatchObject({ name: 'intent-only-contact', awaitingHer: true });
    expect(await loyal.store.listDisclosureRequests(link.companyRelationship.id)).toEqual([]);

    const seen = recordEvents(her);
    await her.agent.terms.accept(link.view.id);
    const agreed = await expectSameAgreedRecord(her, loyal, link);
    expect(agreed.record).toMatchObject({ agreementId: ID('loyalty-program'), proffered: ID('service-only'), supersedes: first.record.id });

    // Its first request is within loyalty-program, now agreed: she gets it, and it stays pending.
    const requests = await loyal.store.listDisclosureRequests(link.companyRelationship.id);
    expect(requests.map((r) => ({ termsRef: r.termsRef, state: r.state }))).toEqual([{ termsRef: ID('loyalty-program'), state: 'pending' }]);
    await vi.waitFor(() => expect(her.agent.disclosure.requests({ relationship: link.view.id }).map((r) => r.termsRef)).toEqual([ID('loyalty-program')]));
    seen.stop();
    expect(seen.events.filter((e) => e.type === 'disclosure.refused')).toEqual([]);
    expect((await loyal.store.listDisclosureRequests(link.companyRelationship.id)).map((r) => r.state)).toEqual(['pending']);
  });

  it('by her, the deferred first request pushed while her acceptance waits for its ack: not judged until the terms are settled (no timing window)', async () => {
    // Her HTTP client runs `whileWaiting` after the company answered her and before her agent reads
    // the answer: the company pushes the request it just queued into exactly that moment.
    let whileWaiting: (() => Promise<void>) | undefined;
    const hooked: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      const hook = whileWaiting;
      whileWaiting = undefined;
      if (hook) await hook();
      return response;
    };
    const slow = await startPersonal({ retry: { baseDelayMs: 1, maxDelayMs: 5 }, fetch: hooked });
    slow.agent.rules.setManual(true);
    handles.push(slow);
    await slow.agent.terms.setDefault('intent-only-contact');
    const loyal = await companyWith('Loyal Pushes', { terms: { accept: ['intent-only-contact'], preferred: 'loyalty-program' }, requestOnConnect: LOYALTY_ASK });
    const link = await connect(slow, loyal);
    await slow.agent.terms.proffer(link.view.id, 'service-only');
    expect(viewOf(slow, link.view.id).terms).toMatchObject({ name: 'intent-only-contact', awaitingHer: true });

    const seen = recordEvents(slow);
    let pushedWhileSettling: unknown;
    whileWaiting = async () => {
      // The request is queued (her acceptance committed at the company) and pushed now, while the
      // ack is still on its way to her: intent-only-contact is what her vault has in force.
      expect(await loyal.store.listDisclosureRequests(link.companyRelationship.id)).toHaveLength(1);
      pushedWhileSettling = await loyal.agent.deliverDue();
    };
    await slow.agent.terms.accept(link.view.id);
    expect(whileWaiting).toBeUndefined();
    expect(pushedWhileSettling).toBe(0); // her agent answered terms.settling: nothing delivered yet

    // Her pickup right after the ack brought it, judged by loyalty-program: pending, not refused.
    await vi.waitFor(() => expect(slow.agent.disclosure.requests({ relationship: link.view.id }).map((r) => r.termsRef)).toEqual([ID('loyalty-program')]));
    seen.stop();
    expect(seen.events.filter((e) => e.type === 'disclosure.refused')).toEqual([]);
    expect((await loyal.store.listDisclosureRequests(link.companyRelationship.id)).map((r) => r.state)).toEqual(['pending']);
  });

  it('by the company, pushed: accepted by her rule when at least as protective; otherwise it waits and she rejects it', async () => {
    const link = await connect(her, shop);
    const first = await expectSameAgreedRecord(her, shop, link);

    const proposed = await shop.agent.proposeTerms(link.companyRelationship.id, 'service-only');
    expect(proposed.delivered).toBe(true);
    await vi.waitFor(async () => {
      expect(her.vault.agreements.current(link.view.id)?.agreementId).toBe(ID('service-only'));
      expect((await shop.store.currentTermsAgreement(link.companyRelationship.id))?.agreementId).toBe(ID('service-only'));
    });
    const second = await expectSameAgreedRecord(her, shop, link);
    expect(second.record).toMatchObject({ id: proposed.recordId, agreementId: ID('service-only'), outcome: 'accepted', profferedBy: 'company', supersedes: first.record.id });
    const agreedRows: Row[] = [
      ['person', 'superseded', 'intent-only-contact'],
      ['company', 'agreed', 'service-only'],
    ];
    expect(herRows(her, link.view.id)).toEqual(agreedRows);
    expect(await companyRows(shop, link.companyRelationship.id)).toEqual(agreedRows);

    // Loyalty protects her less than service-only, which is in force: it waits for her.
    const seen = recordEvents(her);
    const weaker = await shop.agent.proposeTerms(link.companyRelationship.id, 'loyalty-program');
    expect(weaker.delivered).toBe(true);
    await vi.waitFor(() =>
      expect(seen.events.filter((e) => e.type === 'terms.updated' && e.recordId === weaker.recordId && e.decide)).toHaveLength(2), // received, then judged by her rule
    );
    seen.stop();
    const waiting = her.agent.terms.history(link.view.id).find((t) => t.awaitingHer);
    expect(waiting).toMatchObject({
      recordId: weaker.recordId,
      proposedBy: 'company',
      state: 'proffered',
      outcome: 'accepted',
      weaker: ['allowedPurposes', 'maxRetention', 'thirdPartySharing', 'contactOnlyOnIntent'],
    });
    expect(viewOf(her, link.view.id).terms).toMatchObject({ name: 'service-only', awaitingHer: true });
    expect((await shop.store.getTermsAgreement(weaker.recordId))?.state).toBe('proffered');

    await her.agent.terms.reject(link.view.id, 'No marketing, thanks');
    expect(herRows(her, link.view.id)).toEqual([...agreedRows, ['company', 'rejected', 'loyalty-program']]);
    // What was agreed stays in force on both sides.
    expect((await expectSameAgreedRecord(her, shop, link)).record.id).toBe(proposed.recordId);
    expect((await shop.store.getTermsAgreement(weaker.recordId))?.reason).toBe('No marketing, thanks');
    // Both sides keep the same history: her rejection of the company's proffer is "rejected" on both.
    expect(await companyRows(shop, link.companyRelationship.id)).toEqual([...agreedRows, ['company', 'rejected', 'loyalty-program']]);
  });

  it('by the company, picked up: her agent was down for the push and fetches the proffer with pickup', async () => {
    const link = await connect(her, shop);
    await expectSameAgreedRecord(her, shop, link);
    await her.stop();
    let proposed: Awaited<ReturnType<CompanyHandle['agent']['proposeTerms']>>;
    try {
      proposed = await shop.agent.proposeTerms(link.companyRelationship.id, 'service-only');
      expect(proposed.delivered).toBe(false);
      expect(await shop.store.countPendingOutbox(link.companyRelationship.id)).toBe(1);
      expect(her.vault.agreements.get(proposed.recordId)).toBeUndefined();
    } finally {
      await her.start();
    }
    const picked = await her.agent.pickup();
    expect(picked.received).toBeGreaterThanOrEqual(1);
    expect(picked.failed).toBe(0);
    await vi.waitFor(async () => {
      expect(her.vault.agreements.current(link.view.id)?.id).toBe(proposed!.recordId);
      expect((await shop.store.currentTermsAgreement(link.companyRelationship.id))?.id).toBe(proposed!.recordId);
    });
    const signed = await expectSameAgreedRecord(her, shop, link);
    expect(signed.record).toMatchObject({ agreementId: ID('service-only'), profferedBy: 'company' });
    expect(await shop.store.countPendingOutbox(link.companyRelationship.id)).toBe(0);
    expect(herRows(her, link.view.id)).toEqual([
      ['person', 'superseded', 'intent-only-contact'],
      ['company', 'agreed', 'service-only'],
    ]);
  });

  it('her export document carries every terms record', async () => {
    const document = exportVault(her.vault);
    const ids = her.agent.relationships().flatMap((r) => her.agent.terms.history(r.id).map((t) => t.recordId));
    expect(ids.length).toBeGreaterThan(5);
    expect(document.agreements.map((a) => a.id).sort()).toEqual([...ids].sort());
  });
});

describe('the published terms at /.well-known/kith-terms', () => {
  it('names the accepted and preferred agreements by their full ids', async () => {
    const accepting = await companyWith('Acme Accepts', { terms: { accept: ['intent-only-contact', ID('service-only')] } });
    const countering = await companyWith('Bluebird Counters', { terms: { accept: ['service-plus-billing'], preferred: 'service-only' } });
    const roster = { id: ROSTER_ID, version: 1, publisher: KITH_DEMO_ROSTER_PUBLISHER };

    const first = await fetch(`${accepting.url}/.well-known/kith-terms`);
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({
      rosters: [roster],
      accept: [ID('intent-only-contact'), ID('service-only')],
      preferred: null,
      rule: 'accept the listed agreements; reject any other',
      asksOnConnect: null,
    });

    const second = await fetch(`${countering.url}/.well-known/kith-terms`);
    expect(await second.json()).toEqual({
      rosters: [roster],
      accept: [ID('service-plus-billing')],
      preferred: ID('service-only'),
      rule: 'accept the listed agreements; otherwise counter once with the preferred one',
      asksOnConnect: null,
    });
    expect(await countering.agent.publishedTerms()).toEqual(await (await fetch(`${countering.url}/.well-known/kith-terms`)).json());
  });

  it('says what the company asks on connect, as its policy says', async () => {
    const asking = await companyWith('Acme Asks', {
      terms: { accept: ['intent-only-contact'] },
      requestOnConnect: { fields: ['name', 'address'], purpose: 'Shipping', purposeCode: 'order-fulfilment', retention: 'P30D' },
    });
    const published = (await (await fetch(`${asking.url}/.well-known/kith-terms`)).json()) as { asksOnConnect: unknown };
    expect(published.asksOnConnect).toEqual({ fields: ['name', 'address'], claims: [], purpose: 'Shipping', purposeCode: 'order-fulfilment', retention: 'P30D' });
  });

  it('a policy naming an agreement no roster has fails with terms.unknown_agreement', async () => {
    const broken = await companyWith('Broken Policy', { terms: { accept: ['service-only'], preferred: 'no-such-agreement' } });
    expect(await codeOfRejection(broken.agent.publishedTerms())).toBe('terms.unknown_agreement');
    const response = await fetch(`${broken.url}/.well-known/kith-terms`);
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('terms.unknown_agreement');
  });
});

describe('agreed terms bound what a company may ask', () => {
  let her: PersonalHandle;
  let strict: CompanyHandle;
  let lax: CompanyHandle;
  let bound: Link;
  let unbound: Link;

  beforeAll(async () => {
    her = await personal();
    her.agent.profile.set({ name: 'Ada Lovelace', email: 'ada@example.org' });
    [strict, lax] = await Promise.all([companyWith('Strict Terms Ltd', { terms: { accept: ['intent-only-contact'] } }), companyWith('No Terms Ltd', {})]);
    await her.agent.terms.setDefault('intent-only-contact');
    bound = await connect(her, strict);
    unbound = await connect(her, lax);
    expect(bound.view.terms.name).toBe('intent-only-contact');
    expect(unbound.view.terms).toMatchObject({ name: null, lastState: 'rejected' });
  });

  // intent-only-contact allows service-delivery, order-fulfilment and support, for at most P90D.
  const OUTSIDE: [string, Partial<DisclosureAsk>, string][] = [
    ['a purpose the terms do not allow', { purposeCode: 'marketing', retention: 'P30D' }, 'allowedPurposes'],
    ['no purpose code', { retention: 'P30D' }, 'allowedPurposes'],
    ['a retention longer than the terms allow', { purposeCode: 'order-fulfilment', retention: 'P1Y' }, 'maxRetention'],
    ['a retention that may be longer (P3M > P90D in some quarters)', { purposeCode: 'order-fulfilment', retention: 'P3M' }, 'maxRetention'],
    ['no retention', { purposeCode: 'order-fulfilment' }, 'maxRetention'],
  ];

  it.each(OUTSIDE)('the company refuses to ask with %s (terms.outside_terms) and stores nothing', async (_what, use, obligation) => {
    const companyBefore = await strict.snapshot();
    const hersBefore = her.snapshot();
    const failed = await failure(() => strict.agent.requestDisclosure(bound.companyRelationship.id, { fields: ['email'], purpose: 'Orders', ...use }));
    expect(failed).toEqual({ code: 'terms.outside_terms', details: { obligation } });
    expect(await strict.snapshot()).toEqual(companyBefore);
    expect(her.snapshot()).toEqual(hersBefore);
  });

  it('the admin API answers 422 terms.outside_terms naming the obligation', async () => {
    const companyBefore = await strict.snapshot();
    const response = await fetch(`${strict.url}/admin/relationships/${bound.companyRelationship.customerRef}/disclosure-requests`, {
      method: 'POST',
      headers: { authorization: `Bearer ${strict.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ fields: ['email'], purpose: 'Offers', purposeCode: 'marketing', retention: 'P30D' }),
    });
    expect(response.status).toBe(422);
    expect(((await response.json()) as { error: unknown }).error).toMatchObject({ code: 'terms.outside_terms', details: { obligation: 'allowedPurposes' } });
    expect(await strict.snapshot()).toEqual(companyBefore);
  });

  it('a request within the terms goes through, naming the agreement as terms_ref', async () => {
    const sent = await strict.agent.requestDisclosure(bound.companyRelationship.id, { fields: ['email'], purpose: 'Order confirmations', purposeCode: 'order-fulfilment', retention: 'P30D' });
    expect(sent.delivered).toBe(true);
    expect(sent.request.termsRef).toBe(ID('intent-only-contact'));
    const hers = her.agent.disclosure.requests({ relationship: bound.view.id });
    expect(hers.map((r) => ({ purpose: r.purpose, retention: r.retention, termsRef: r.termsRef }))).toEqual([{ purpose: 'Order confirmations', retention: 'P30D', termsRef: ID('intent-only-contact') }]);
  });

  it('without agreed terms a request is not constrained', async () => {
    const sent = await lax.agent.requestDisclosure(unbound.companyRelationship.id, { fields: ['email'], purpose: 'Offers', purposeCode: 'marketing' });
    expect(sent.delivered).toBe(true);
    expect(sent.request.termsRef).toBeNull();
    expect(her.agent.disclosure.requests({ relationship: unbound.view.id }).map((r) => r.purpose)).toEqual(['Offers']);
  });

  /** A disclose/request body as a company would send it. */
  function requestBody(requestId: string, purposeCode: string, retention: string | null) {
    return {
      request_id: requestId,
      nonce: randomBytes(32).toString('base64url'),
      fields: ['email'],
      credentials: [],
      purpose: 'Crafted request',
      purpose_code: purposeCode,
      retention,
      legal_basis: 'consent',
      terms_ref: null,
    };
  }

  /** The request as the company's store would hold it, had its agent sent it. */
  async function pendingOnCompany(requestId: string, messageId: string, body: ReturnType<typeof requestBody>): Promise<void> {
    const now = Date.now();
    const row: DisclosureRequest = {
      id: requestId,
      relationshipId: bound.companyRelationship.id,
      messageId,
      nonce: body.nonce,
      fields: body.fields,
      credentials: [],
      purpose: body.purpose,
      retention: body.retention,
      legalBasis: 'consent',
      termsRef: null,
      state: 'pending',
      createdAt: now,
      updatedAt: now,
    };
    await strict.store.createDisclosureRequest(row);
  }

  // The replay cache (its blind indexes in seen, the sealed ids in seen_ids) records every message, refused ones too.
  const withoutSeen = (snapshot: Record<string, unknown[]>) => ({ ...snapshot, seen: undefined, seen_ids: undefined });

  it('her agent refuses a request outside the terms: not stored, a problem report to the company, which declines its request', async () => {
    const requestId = randomUUID();
    const messageId = randomUUID();
    const body = requestBody(requestId, 'marketing', 'P30D');
    await pendingOnCompany(requestId, messageId, body);
    const inboundBefore = strict.inbound.length;
    const hersBefore = her.snapshot();
    const seen = recordEvents(her);

    // Pushed as the company would push it: no return_route, so her agent answers on its own.
    const message = buildMessage({ type: Disclose.request.type, from: strict.did, to: bound.view.myDid, body, id: messageId }, systemClock);
    const pushed = await postEnvelopeRaw(her.didcommUrl(bound.view.id), await packAs(strict.identity, message));
    expect(pushed.status).toBe(202);

    await vi.waitFor(async () => expect((await strict.store.listDisclosureRequests(bound.companyRelationship.id)).find((r) => r.id === requestId)?.state).toBe('declined'));
    seen.stop();
    expect(strict.inbound.length).toBe(inboundBefore + 1);
    const report = await openReply(strict.inbound.at(-1)!, strict.identity);
    expect(report.message).toMatchObject({ type: ReportProblem.problemReport.type, pthid: messageId });
    expect(report.message.body).toMatchObject({ code: OUTSIDE_TERMS_PROBLEM, args: ['allowedPurposes', ID('intent-only-contact')] });
    expect(seen.events).toContainEqual({ type: 'disclosure.refused', relationshipId: bound.view.id, obligation: 'allowedPurposes' });
    // Nothing of it in her vault: only its id, remembered against a replay.
    const hersAfter = her.snapshot();
    expect(withoutSeen(hersAfter)).toEqual(withoutSeen(hersBefore));
    expect(hersAfter['seen']!.length).toBe(hersBefore['seen']!.length + 1);
    expect(hersAfter['seen_ids']!.length).toBe(hersBefore['seen_ids']!.length + 1);
    expect(her.vault.disclosureRequests.findByRequestId(bound.view.id, requestId)).toBeUndefined();
  });

  it('her agent refuses a request keeping her data too long, answering on the same response when asked to', async () => {
    const requestId = randomUUID();
    const messageId = randomUUID();
    const body = requestBody(requestId, 'order-fulfilment', 'P1Y');
    await pendingOnCompany(requestId, messageId, body);
    const hersBefore = her.snapshot();
    const seen = recordEvents(her);

    const { response } = await sendAs(strict.identity, { did: bound.view.myDid, didcommUrl: her.didcommUrl(bound.view.id) }, Disclose.request.type, body, { id: messageId });
    seen.stop();
    expect(response.status).toBe(200);
    const report = await openReply(response.text, strict.identity);
    expect(report.message).toMatchObject({ type: ReportProblem.problemReport.type, pthid: messageId, from: bound.view.myDid });
    expect(report.message.body).toMatchObject({ code: OUTSIDE_TERMS_PROBLEM, args: ['maxRetention', ID('intent-only-contact')] });
    expect(seen.events).toContainEqual({ type: 'disclosure.refused', relationshipId: bound.view.id, obligation: 'maxRetention' });
    expect(withoutSeen(her.snapshot())).toEqual(withoutSeen(hersBefore));

    // The report reaches the company, which accepts it and declines its request.
    const delivered = await postEnvelopeRaw(strict.didcommUrl, response.text);
    expect(delivered.status).toBe(202);
    expect((await strict.store.listDisclosureRequests(bound.companyRelationship.id)).find((r) => r.id === requestId)?.state).toBe('declined');
  });

  it('her agent keeps a request within the terms', async () => {
    const requestId = randomUUID();
    const { response } = await sendAs(strict.identity, { did: bound.view.myDid, didcommUrl: her.didcommUrl(bound.view.id) }, Disclose.request.type, requestBody(requestId, 'support', 'P90D'));
    expect(response.status).toBe(202);
    expect(her.vault.disclosureRequests.findByRequestId(bound.view.id, requestId)).toBeDefined();
  });

});
