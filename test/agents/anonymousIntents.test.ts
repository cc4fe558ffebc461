/**
 * Anonymous intents over real HTTP on loopback: companies publish signed descriptions at
 * /.well-known/kith-company, she adds them (one by URL, the rest through a directory list) and casts
 * from a fresh pairwise DID per company; each cast opens a relationship under her terms, offers come
 * back, she accepts one and may link it to a relationship she already had with that company. Bad
 * directory entries are refused with their code and change nothing.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { createPeerIdentity, signingKeyOf } from '../../src/protocol/agent/identity.js';
import { signCompanyDescription, verifyCompanyDescription, type SignedCompanyDescription } from '../../src/protocol/intent/companyDescription.js';
import { connect, startCompany, startPersonal, type CompanyHandle, type Link, type PersonalHandle } from '../support/agents.js';
import { resolver } from '../support/disclosure.js';
import { codeOfRejection } from '../support/errorCodes.js';
import { ACCEPT_ALL_TERMS, TRAIL_SHOE, TRAIL_SHOE_DEMAND, US_TRAIL_SHOE, catalogFile as catalogFileIn, inADay } from '../support/intents.js';

const dir = mkdtempSync(join(tmpdir(), 'kith-anon-intents-'));
const catalogFile = (name: string, items: unknown[]) => catalogFileIn(dir, name, items);
const shoe = TRAIL_SHOE;
const usShoe = US_TRAIL_SHOE;
const acceptAll = ACCEPT_ALL_TERMS;
const demand = TRAIL_SHOE_DEMAND;

/** A loopback server answering each path with a JSON document (404 otherwise). */
async function jsonServer(documents: Map<string, unknown>): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    if (req.url === '/endless.json') {
      // No content-length, and more than a description may be: her agent must stop reading.
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"@type":"KithDirectory","companies":["');
      for (let i = 0; i < 40; i += 1) res.write('x'.repeat(8192));
      res.end('"]}');
      return;
    }
    const document = documents.get(req.url ?? '');
    res.writeHead(document === undefined ? 404 : 200, { 'content-type': 'application/json' });
    res.end(document === undefined ? '{}' : JSON.stringify(document));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe('anonymous intents: companies found in her directory, each sent the intent from a fresh pairwise DID', () => {
  let her: PersonalHandle;
  let acme: CompanyHandle;
  let globex: CompanyHandle;
  let books: CompanyHandle;
  let closed: CompanyHandle;
  let acmeLink: Link;
  let directory: { url: string; server: Server };
  const documents = new Map<string, unknown>();

  beforeAll(async () => {
    her = await startPersonal();
    acme = await startCompany({ name: 'Acme Outfitters', policy: { terms: acceptAll, intents: { categories: ['clothing'], catalogFile: catalogFile('acme', [shoe]) } } });
    globex = await startCompany({ name: 'Globex Shoes', policy: { terms: acceptAll, intents: { categories: ['goods'], catalogFile: catalogFile('globex', [usShoe]) } } });
    books = await startCompany({ name: 'Bluebird Books', policy: { terms: acceptAll, intents: { categories: ['books'] } } });
    // Answers no intents: it publishes no description.
    closed = await startCompany({ name: 'Initech' });
    directory = await jsonServer(documents);
    // A description signed by someone else than the DID it names, and a directory listing it with the real ones.
    const real = (await acme.agent.description())!;
    const impostor = createPeerIdentity().identity;
    documents.set('/forged/.well-known/kith-company', signCompanyDescription({ ...real.description, name: 'Acme (cheaper)' }, signingKeyOf(impostor)));
    documents.set('/list.json', { '@type': 'KithDirectory', name: 'Shoe shops', companies: [globex.url, books.url, `${directory.url}/forged/`, closed.url] });
    // She already knows Acme under another DID.
    acmeLink = await connect(her, acme);
  });
  afterAll(async () => {
    directory?.server.close();
    await Promise.all([her, acme, globex, books, closed].map((p) => p?.cleanup()));
  });

  it('publishes a description signed by the company’s DID that anyone can verify, and none when it answers no intents', async () => {
    const response = await fetch(`${acme.url}/.well-known/kith-company`);
    expect(response.status).toBe(200);
    const described = (await response.json()) as SignedCompanyDescription;
    const description = await verifyCompanyDescription(described, resolver);
    expect(description).toMatchObject({ '@type': 'Organization', name: 'Acme Outfitters', identifier: acme.did, url: acme.url, categories: ['clothing'] });
    expect(description.accepts).toContain('https://kith.invalid/terms/agreements/intent-only-contact');
    expect((await fetch(`${closed.url}/.well-known/kith-company`)).status).toBe(404);
  });

  it('adds a company by URL and a directory list; descriptions that do not verify are left out and said so', async () => {
    const company = await her.agent.directory.add(acme.url);
    expect(company).toMatchObject({ kind: 'company', error: null, companies: [{ name: 'Acme Outfitters', did: acme.did, categories: ['clothing'] }] });
    const list = await her.agent.directory.add(`${directory.url}/list.json`);
    expect(list.kind).toBe('directory');
    expect(list.companies.map((c) => c.name)).toEqual(['Bluebird Books', 'Globex Shoes']);
    expect(list.error).toMatch(/^2 of 4 companies did not verify/);
    expect(list.error).toContain('directory.invalid');
    expect(list.error).toContain('directory.unreachable');
  });

  it('refuses a URL already added, a forged description, a company without one and a non-http URL, and keeps the directory as it was', async () => {
    const before = her.agent.directory.list();
    const settingsBefore = await her.snapshot();
    expect(await codeOfRejection(her.agent.directory.add(acme.url))).toBe('directory.exists');
    expect(await codeOfRejection(her.agent.directory.add(`${directory.url}/forged/`))).toBe('directory.invalid');
    expect(await codeOfRejection(her.agent.directory.add(closed.url))).toBe('directory.unreachable');
    expect(await codeOfRejection(her.agent.directory.add('file:///etc/passwd'))).toBe('directory.invalid');
    await expect(her.agent.directory.add(`${directory.url}/endless.json`)).rejects.toThrow(/is larger than 262144 bytes/);
    expect(await codeOfRejection(Promise.resolve().then(() => her.agent.directory.remove('00000000-0000-4000-8000-000000000000')))).toBe('directory.unknown');
    expect(her.agent.directory.list()).toEqual(before);
    expect(await her.snapshot()).toEqual(settingsBefore);
  });

  let intentId: string;

  it('casts to each company serving the category from its own fresh DID; each cast opens a relationship under her terms', async () => {
    const intent = await her.agent.intents.cast({ demand, expiresAt: inADay(), anonymous: true });
    intentId = intent.id;
    expect(intent.unreached).toBe(0);
    // Books serves another category: not sent. Acme is sent it anonymously although she knows it.
    expect(intent.recipients.map((r) => [r.company, r.anonymous, r.termsDecision]).sort()).toEqual([
      ['Acme Outfitters', true, 'accepted'],
      ['Globex Shoes', true, 'accepted'],
    ]);
    expect(await books.store.listReceivedIntents()).toEqual([]);
    const opened = intent.recipients.map((r) => her.record(r.relationshipId));
    expect(opened.every((r) => r.state === 'active')).toBe(true);
    expect(new Set([acmeLink.record.myDid, ...opened.map((r) => r.myDid)]).size).toBe(3);
    // Acme holds two relationships it cannot tie together: the one she connected and the cast's.
    const acmeRelationships = await acme.store.listRelationships();
    expect(acmeRelationships.map((r) => r.theirDid).sort()).toEqual([acmeLink.record.myDid, opened.find((r) => r.theirDid === acme.did)!.myDid].sort());
    // Her terms were agreed on the new relationship, as in connect.
    const acmeOpened = opened.find((r) => r.theirDid === acme.did)!;
    expect(her.agent.terms.history(acmeOpened.id).map((t) => [t.agreementId, t.state])).toEqual([['https://kith.invalid/terms/agreements/intent-only-contact', 'agreed']]);
  });

  it('compares the offers and declines the one in another currency by her rule', () => {
    const offers = her.agent.intents.offers(intentId);
    expect(offers.map((o) => [o.company, o.anonymous, o.offer.priceCurrency, o.state, o.decidedBy])).toEqual([
      ['Globex Shoes', true, 'USD', 'declined', 'outside-constraints'],
      ['Acme Outfitters', true, 'EUR', 'received', null],
    ]);
  });

  it('accepts Acme’s offer and links the relationship to the one she had; linking to another company is refused', async () => {
    const offer = her.agent.intents.offers(intentId).find((o) => o.company === 'Acme Outfitters')!;
    const globexRelationship = her.agent.intents.intent(intentId).recipients.find((r) => r.company === 'Globex Shoes')!.relationshipId;
    const before = await her.snapshot();
    expect(await codeOfRejection(her.agent.intents.accept(offer.id, { linkTo: globexRelationship }))).toBe('intent.not_recipient');
    expect(await her.snapshot()).toEqual(before);
    const accepted = await her.agent.intents.accept(offer.id, { linkTo: acmeLink.view.id });
    expect(accepted.state).toBe('accepted');
    expect(her.agent.relationship(offer.relationshipId).linkedTo).toBe(acmeLink.view.id);
    // Two live relationships with Acme now: a name or a prefix alone no longer says which, and is refused naming both.
    for (const reference of ['Acme Outfitters', 'acme']) {
      const refused = await codeOfRejection(Promise.resolve().then(() => her.agent.relationship(reference)));
      expect(refused).toBe('relationship.unknown');
    }
    expect(() => her.agent.relationship('acme')).toThrow(/"acme" matches 2 relationships: Acme Outfitters \(.{8}, active\), Acme Outfitters \(.{8}, active\); give more of the name, or the id/);
        // The link is hers alone: Acme's relationships stay two, unlinked.
    expect(await acme.store.listRelationships()).toHaveLength(2);
    const [globexIntent] = await globex.store.listReceivedIntents();
    expect(globexIntent!.state).toBe('closed');
  });

  it('refuses an anonymous cast no company of her directory serves, and stores nothing', async () => {
    const before = await her.snapshot();
    expect(await codeOfRejection(her.agent.intents.cast({ demand: { ...demand, category: 'insurance' }, expiresAt: inADay(), anonymous: true }))).toBe('intent.no_recipients');
    expect(await her.snapshot()).toEqual(before);
  });
});

describe('intents past their end are swept on both sides, without a message', () => {
  const clock = new ManualClock(Date.now());
  let her: PersonalHandle;
  let acme: CompanyHandle;

  beforeAll(async () => {
    her = await startPersonal({ clock });
    acme = await startCompany({ name: 'Acme Outfitters', clock, policy: { terms: acceptAll, intents: { categories: ['clothing'], catalogFile: catalogFile('acme-sweep', [shoe]) } } });
    await connect(her, acme);
  });
  afterAll(async () => {
    await Promise.all([her, acme].map((p) => p?.cleanup()));
  });

  it('marks the intent expired and its unanswered offers closed once its end has passed, and refuses an accept after it', async () => {
    const intent = await her.agent.intents.cast({ demand, expiresAt: clock.now() + 3_600_000 });
    const [offer] = her.agent.intents.offers(intent.id);
    expect(offer?.state).toBe('received');
    // Before its end the sweeps change nothing.
    expect(her.agent.intents.expireDue()).toBe(0);
    expect(await acme.agent.intents.expireDue()).toBe(0);
    const inbound = acme.inbound.length;
    clock.advance(2 * 3_600_000);
    expect(her.agent.intents.expireDue()).toBe(1);
    expect(await acme.agent.intents.expireDue()).toBe(1);
    expect(her.agent.intents.intent(intent.id).state).toBe('expired');
    expect(her.agent.intents.offers(intent.id).map((o) => o.state)).toEqual(['closed']);
    const [received] = await acme.store.listReceivedIntents();
    expect(received!.state).toBe('expired');
    expect((await acme.store.listOffers(received!.id)).map((o) => o.state)).toEqual(['closed']);
    expect(acme.inbound.length).toBe(inbound);
    // Swept once: a second sweep finds nothing.
    expect(her.agent.intents.expireDue()).toBe(0);
    expect(await acme.agent.intents.expireDue()).toBe(0);
    expect(await codeOfRejection(her.agent.intents.accept(offer!.id))).toBe('intent.expired');
  });
});
