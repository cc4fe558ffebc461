/**
 * Intents between her agent and three companies over real HTTP on loopback: a cast to every live
 * relationship, an automatic signed offer, her rule declining an offer outside her constraints,
 * acceptance with the others told the intent is closed, and the bad inputs of docs/protocol/intent.md,
 * each refused with its code and nothing changed.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signingKeyOf } from '../../src/protocol/agent/identity.js';
import { resolvePeer } from '../../src/protocol/agent/peer.js';
import { Intent } from '../../src/protocol/families/index.js';
import type { Offer } from '../../src/protocol/families/intent.js';
import { signOffer } from '../../src/protocol/intent/signedOffer.js';
import { connect, herIdentity, startCompany, startPersonal, type CompanyHandle, type Link, type PersonalHandle } from '../support/agents.js';
import { resolver, sendAs } from '../support/disclosure.js';
import { codeOfRejection } from '../support/errorCodes.js';
import { ACCEPT_ALL_TERMS, TRAIL_SHOE, TRAIL_SHOE_DEMAND, US_TRAIL_SHOE, catalogFile as catalogFileIn, inADay } from '../support/intents.js';

const dir = mkdtempSync(join(tmpdir(), 'kith-intents-'));
const catalogFile = (name: string, items: unknown[]) => catalogFileIn(dir, name, items);
const shoe = TRAIL_SHOE;
const usShoe = US_TRAIL_SHOE;
const acceptAll = ACCEPT_ALL_TERMS;
const demand = TRAIL_SHOE_DEMAND;

describe('intents: she casts what she wants, companies answer with signed offers', () => {
  let her: PersonalHandle;
  let acme: CompanyHandle;
  let globex: CompanyHandle;
  let books: CompanyHandle;
  const links = new Map<string, Link>();

  beforeAll(async () => {
    her = await startPersonal();
    acme = await startCompany({ name: 'Acme Outfitters', policy: { terms: acceptAll, intents: { categories: ['clothing'], catalogFile: catalogFile('acme', [shoe]) } } });
    globex = await startCompany({ name: 'Globex Shoes', policy: { terms: acceptAll, intents: { categories: ['goods'], catalogFile: catalogFile('globex', [usShoe]) } } });
    books = await startCompany({ name: 'Bluebird Books', policy: { terms: acceptAll, intents: { categories: ['books'] } } });
    for (const company of [acme, globex, books]) links.set(company.name, await connect(her, company));
  });
  afterAll(async () => {
    await Promise.all([her, acme, globex, books].map((p) => p?.cleanup()));
  });

  /** Sends a message as the company to her pairwise DID on its relationship. */
  async function asCompany(company: CompanyHandle, type: string, body: Record<string, unknown>) {
    const link = links.get(company.name)!;
    const peer = await resolvePeer(resolver, link.record.myDid);
    return sendAs(company.identity, { did: link.record.myDid, didcommUrl: peer.endpoint! }, type, body);
  }

  function offerFrom(company: CompanyHandle, intentId: string, overrides: Partial<Offer> = {}): ReturnType<typeof signOffer> {
    const link = links.get(company.name)!;
    return signOffer(
      {
        '@type': 'Offer',
        identifier: randomUUID(),
        intent_id: intentId,
        seller: company.did,
        customer: link.record.myDid,
        itemOffered: { name: 'Trail shoe 39', category: 'clothing' },
        price: '120.00',
        priceCurrency: 'EUR',
        eligibleQuantity: { value: 1 },
        availability: 'InStock',
        validThrough: new Date(Date.now() + 3_600_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        terms: null,
        ...overrides,
      },
      signingKeyOf(company.identity),
    );
  }

  let intentId: string;

  it('casts to every company with its own intent id; a matching catalog answers with a signed offer at once', async () => {
    const intent = await her.agent.intents.cast({ demand, outcome: 'Dry feet on winter hikes', expiresAt: inADay() });
    intentId = intent.id;
    expect(intent.recipients.map((r) => r.company).sort()).toEqual(['Acme Outfitters', 'Bluebird Books', 'Globex Shoes']);
    const recipients = her.vault.intentRecipients.listForIntent(intent.id);
    expect(new Set(recipients.map((r) => r.recipientIntentId)).size).toBe(3);
    // Each company holds the intent under the id it was given, and no other.
    for (const company of [acme, globex, books]) {
      const received = await company.store.listReceivedIntents();
      expect(received).toHaveLength(1);
      const mine = recipients.find((r) => r.relationshipId === links.get(company.name)!.record.id)!;
      expect(received[0]!.id).toBe(mine.recipientIntentId);
    }
  });

  it('compares the offers: one meets her demand, one in another currency was declined by her rule', async () => {
    const offers = her.agent.intents.offers(intentId);
    expect(offers.map((o) => [o.company, o.offer.price, o.offer.priceCurrency, o.meets, o.state, o.decidedBy])).toEqual([
      ['Globex Shoes', '99.00', 'USD', false, 'declined', 'outside-constraints'],
      ['Acme Outfitters', '129.90', 'EUR', true, 'received', null],
    ]);
    expect(offers[0]!.shortfalls).toEqual(['other-currency']);
    // The company heard her rule's answer.
    const [globexOffer] = await globex.store.listOffers((await globex.store.listReceivedIntents())[0]!.id);
    expect(globexOffer!.state).toBe('declined');
  });

  it('accepts one offer; the company records it and every other company is told the intent is closed', async () => {
    const acmeOffer = her.agent.intents.offers(intentId).find((o) => o.company === 'Acme Outfitters')!;
    const accepted = await her.agent.intents.accept(acmeOffer.id);
    expect(accepted.state).toBe('accepted');
    expect(her.agent.intents.intent(intentId)).toMatchObject({ state: 'accepted', acceptedOfferId: acmeOffer.id });
    const [acmeIntent] = await acme.store.listReceivedIntents();
    expect(acmeIntent!.state).toBe('accepted');
    expect((await acme.store.getOffer(acmeOffer.id))!.state).toBe('accepted');
    for (const company of [globex, books]) expect((await company.store.listReceivedIntents())[0]!.state).toBe('closed');
    expect((await acme.agent.events()).map((e) => e.type)).toEqual(expect.arrayContaining(['intent.received', 'offer.accepted']));
  });

  it('is reachable through her local API: intents, offers compared, and a clear code for a bad cast', async () => {
    const call = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(`${her.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${her.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: response.status, json: (await response.json()) as Record<string, any> };
    };
    const listed = await call('GET', '/api/intents');
    expect(listed.status).toBe(200);
    expect(listed.json['intents'].map((i: { id: string }) => i.id)).toContain(intentId);
    const offers = await call('GET', `/api/intents/${intentId.slice(0, 8)}/offers`);
    expect(offers.json['offers'].map((o: { company: string }) => o.company)).toEqual(['Globex Shoes', 'Acme Outfitters']);
    const before = await her.snapshot();
    expect((await call('POST', '/api/intents', { demand: { ...demand, category: 'spaceships' }, expiresAt: inADay() })).json['error'].code).toBe('api.bad_request');
    expect((await call('POST', '/api/intents', { demand, expiresAt: Date.now() - 1000 })).json['error'].code).toBe('intent.expired');
    expect((await call('POST', '/api/offers/nope/accept')).json['error'].code).toBe('intent.offer_unknown');
    expect(await her.snapshot()).toEqual(before);
  });

  it('lets a company answer by hand through its admin API, and withdraw; she sees both', async () => {
    const open = await her.agent.intents.cast({ demand: { ...demand, category: 'books', description: 'A field guide to alpine flowers' }, expiresAt: inADay(), to: [links.get(books.name)!.record.id] });
    const [received] = await books.store.listReceivedIntents({ state: 'open' });
    const admin = (method: string, path: string, body?: unknown) =>
      fetch(`${books.url}${path}`, { method, headers: { authorization: `Bearer ${books.adminToken}`, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) }).then(async (r) => ({ status: r.status, json: (await r.json()) as Record<string, any> }));
    const listed = await admin('GET', '/admin/intents?state=open');
    expect(listed.json['intents'].map((i: { id: string }) => i.id)).toContain(received!.id);
    const bad = await admin('POST', `/admin/intents/${received!.id}/offers`, { name: 'Guide', price: 'cheap', currency: 'EUR' });
    expect([bad.status, bad.json['error'].code]).toEqual([400, 'api.bad_request']);
    const made = await admin('POST', `/admin/intents/${received!.id}/offers`, { name: 'Alpine Flowers (2nd ed.)', price: '24.00', currency: 'EUR', deliveryDate: new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10) });
    expect(made.status).toBe(201);
    expect(made.json['delivered']).toBe(true);
    const offerId = made.json['offer'].id as string;
    expect(her.agent.intents.offers(open.id).map((o) => [o.id, o.company, o.offer.price, o.meets, o.state])).toEqual([[offerId, 'Bluebird Books', '24.00', true, 'received']]);
    const withdrawn = await admin('POST', `/admin/offers/${offerId}/withdraw`);
    expect([withdrawn.status, withdrawn.json['delivered']]).toEqual([200, true]);
    expect(her.agent.intents.offers(open.id)[0]!.state).toBe('withdrawn');
    expect((await admin('POST', `/admin/offers/${offerId}/withdraw`)).json['error'].code).toBe('intent.offer_unknown');
    await her.agent.intents.close(open.id);
    expect((await admin('POST', `/admin/intents/${received!.id}/offers`, { name: 'Guide', price: '20.00', currency: 'EUR' })).json['error'].code).toBe('intent.closed');
  });

  describe('bad input: refused with its code, nothing changed', () => {
    const herRows = () => her.snapshot();

    it('an offer for a closed intent is intent.closed', async () => {
      const recipient = her.vault.intentRecipients.listForIntent(intentId).find((r) => r.relationshipId === links.get(books.name)!.record.id)!;
      const before = await herRows();
      const sent = await asCompany(books, Intent.offer.type, { signed_offer: offerFrom(books, recipient.recipientIntentId) });
      expect(sent.response.json.error?.code).toBe('intent.closed');
      expect(await herRows()).toEqual(before);
    });

    it('an offer in another currency when she required hers, past its valid-until, for an unknown or another company’s intent', async () => {
      const open = await her.agent.intents.cast({ demand, expiresAt: inADay(), currencyRequired: true, to: [links.get(books.name)!.record.id] });
      const ofBooks = her.vault.intentRecipients.listForIntent(open.id)[0]!.recipientIntentId;
      const before = await herRows();
      const cases: [Partial<Offer>, string, string][] = [
        [{ priceCurrency: 'USD' }, ofBooks, 'intent.currency_mismatch'],
        [{ validThrough: new Date(Date.now() - 1000).toISOString().replace(/\.\d{3}Z$/, 'Z') }, ofBooks, 'intent.offer_expired'],
        [{}, randomUUID(), 'intent.unknown'],
      ];
      for (const [overrides, id, code] of cases) {
        const sent = await asCompany(books, Intent.offer.type, { signed_offer: offerFrom(books, id, overrides) });
        expect(sent.response.json.error?.code, code).toBe(code);
      }
      // Acme names the intent id she gave Bluebird Books: it was not sent to Acme.
      const sent = await asCompany(acme, Intent.offer.type, { signed_offer: offerFrom(acme, ofBooks) });
      expect(sent.response.json.error?.code).toBe('intent.not_recipient');
      // An offer signed by another company than the sender, or changed after signing.
      const forged = offerFrom(books, ofBooks);
      expect((await asCompany(books, Intent.offer.type, { signed_offer: { ...forged, offer: { ...forged.offer, price: '1.00' } } })).response.json.error?.code).toBe('intent.offer_invalid');
      expect(await herRows()).toEqual(before);
    });

    it('a replayed accept is intent.replayed at the company, a cast with a past expiry or an unknown category is refused before anything is stored', async () => {
      const acmeLink = links.get(acme.name)!;
      const [acmeIntent] = await acme.store.listReceivedIntents();
      const [acmeOffer] = await acme.store.listOffers(acmeIntent!.id);
      const companyBefore = await acme.snapshot();
      const sent = await sendAs(herIdentity(her, acmeLink.record.id), acme, Intent.accept.type, { intent_id: acmeIntent!.id, offer_id: acmeOffer!.id });
      expect(sent.response.json.error?.code).toBe('intent.replayed');
      expect(await acme.snapshot()).toEqual(companyBefore);

      const before = await herRows();
      expect(await codeOfRejection(her.agent.intents.cast({ demand, expiresAt: Date.now() - 1 }))).toBe('intent.expired');
      expect(await codeOfRejection(her.agent.intents.cast({ demand: { ...demand, category: 'spaceships' as never }, expiresAt: inADay() }))).toBe('intent.unknown_category');
      expect(await herRows()).toEqual(before);
      const expiredCast = await sendAs(herIdentity(her, acmeLink.record.id), acme, Intent.cast.type, { intent_id: randomUUID(), demand: { ...demand, validThrough: new Date(Date.now() - 1000).toISOString().replace(/\.\d{3}Z$/, 'Z') }, currency_required: false });
      expect(expiredCast.response.json.error?.code).toBe('intent.expired');
      expect(await acme.snapshot()).toEqual(companyBefore);
    });
  });
});
