/**
 * Kith thing 1.0 (docs/protocol/thing.md) between real agents over real HTTP on loopback: a seller's
 * signed receipt becomes a thing she owns, she registers it with the company as its maker sharing
 * the fields she picks, and a recall of its GTIN reaches her and no other customer. Bad input (a
 * receipt signed by another key, a malformed thing record, a recall from a company she never
 * registered with, a registration over a muted or cut-off relationship, a receipt accepted twice) is
 * refused with its code and changes nothing on either side.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../../src/core/clock.js';
import type { AgentEvent } from '../../src/personal/events.js';
import type { ThingReceiptView } from '../../src/personal/thingProtocol.js';
import type { ThingView } from '../../src/personal/things.js';
import { signingKeyOf } from '../../src/protocol/agent/identity.js';
import { buildMessage } from '../../src/protocol/buildMessage.js';
import { createPeerIdentity } from '../../src/protocol/agent/identity.js';
import { Thing } from '../../src/protocol/families/index.js';
import type { ReceiptDocument } from '../../src/protocol/families/thing.js';
import { signReceipt, verifySignedReceipt } from '../../src/protocol/things/receipt.js';
import { createDidResolver } from '../../src/protocol/did/resolver.js';
import { connect, herIdentity, jsonApi, postEnvelopeRaw, startCompany, startPersonal, startPair, type CompanyHandle, type Pair } from '../support/agents.js';
import { packAs, sendAs } from '../support/disclosure.js';
import { presentSelfIssued } from '../../src/protocol/sdjwt/index.js';
import { THING_REGISTRATION_VCT } from '../../src/protocol/families/thing.js';

const GTIN = '4006381333931';
const SALE = { name: 'Trail bike TR-1', brand: 'Acme', model: 'TR-1', gtin: GTIN, serialNumber: 'AO-TR1-000317', purchaseDate: '2026-03-15', price: { amount: '899.00', currency: 'EUR' }, warranty: 'P2Y', warrantyScope: 'Frame, gears and brakes' };

describe('the thing family between the agents', () => {
  let pair: Pair;
  let events: AgentEvent[];
  let extra: { cleanup(): Promise<void> }[];

  beforeEach(async () => {
    pair = await startPair({ company: { name: 'Acme Outfitters' } });
    events = [];
    extra = [];
    pair.personal.agent.events.on((event) => events.push(event));
  });
  afterEach(async () => {
    for (const handle of extra) await handle.cleanup();
    await pair?.cleanup();
  });

  const admin = jsonApi(() => pair.company.url, () => pair.company.adminToken);
  const herApi = jsonApi(() => pair.personal.url, () => pair.personal.token);
  const customerRef = () => pair.link.companyRelationship.customerRef;
  const pendingReceipts = async (): Promise<ThingReceiptView[]> => (await herApi('GET', '/api/things/receipts')).json['receipts'] as ThingReceiptView[];

  /** The company sends a receipt for the sale; her agent takes it at once. */
  async function sendReceipt(sale: Record<string, unknown> = SALE): Promise<ThingReceiptView> {
    const sent = await admin('POST', `/admin/relationships/${customerRef()}/things/receipts`, sale);
    expect(sent.status).toBe(201);
    expect(sent.json['delivered']).toBe(true);
    const receipts = await pendingReceipts();
    const found = receipts.find((r) => r.receipt.receipt_id === sent.json['receipt'].id);
    if (!found) throw new Error('the receipt did not reach her');
    return found;
  }

  /** A message as the company, signed with its own keys, pushed to her route of `relationshipId` (default: the pair's). */
  const pushAs = async (company: CompanyHandle, type: string, body: Record<string, unknown>, relationshipId = pair.link.view.id) => {
    const message = buildMessage({ type, from: company.did, to: pair.personal.record(relationshipId).myDid, body }, systemClock);
    return postEnvelopeRaw(pair.personal.didcommUrl(relationshipId), await packAs(company.identity, message));
  };

  const receiptDocument = (overrides: Partial<ReceiptDocument> = {}): ReceiptDocument => ({
    receipt_id: randomUUID(),
    seller: pair.company.did,
    seller_name: 'Acme Outfitters',
    buyer: pair.link.record.myDid,
    issued_at: new Date().toISOString(),
    purchase_date: '2026-03-15',
    product: { name: 'Trail bike TR-1', gtin: GTIN },
    ...overrides,
  });

  async function acceptAndRegister(): Promise<ThingView> {
    const receipt = await sendReceipt();
    const accepted = await herApi('POST', `/api/things/receipts/${receipt.id}/accept`);
    expect(accepted.status).toBe(200);
    const thing = accepted.json['thing'] as ThingView;
    const registered = await herApi('POST', `/api/things/${thing.id}/register`, { with: pair.link.view.id, fields: ['serial', 'gtin', 'purchaseDate'] });
    expect(registered.status).toBe(200);
    return registered.json['thing'] as ThingView;
  }

  it('receipt -> accept -> register -> recall: the recall reaches the relationship that registered the GTIN and no other', async () => {
    // The receipt: signed by the company, pending in her vault, told to her web app.
    const receipt = await sendReceipt();
    expect(receipt).toMatchObject({ state: 'pending', companyName: 'Acme Outfitters', receipt: { seller: pair.company.did, buyer: pair.link.record.myDid, product: { name: 'Trail bike TR-1', gtin: GTIN, serialNumber: 'AO-TR1-000317' }, warranty: { duration: 'P2Y', start: '2026-03-15' } } });
    expect(events).toContainEqual({ type: 'thing.receipt', receiptId: receipt.id, relationshipId: pair.link.view.id });

    // She accepts: a thing linked to the seller, its warranty from the terms, the signed receipt kept as proof.
    const accepted = await herApi('POST', `/api/things/receipts/${receipt.id}/accept`);
    expect(accepted.status).toBe(200);
    expect(accepted.json['answer']).toBe('sent');
    const thing = accepted.json['thing'] as ThingView;
    expect(thing).toMatchObject({
      name: 'Trail bike TR-1',
      gtin: GTIN,
      serialNumber: 'AO-TR1-000317',
      purchaseDate: '2026-03-15',
      price: { amount: '899.00', currency: 'EUR' },
      seller: 'Acme Outfitters',
      links: [{ relationshipId: pair.link.view.id, role: 'seller', companyName: 'Acme Outfitters' }],
      contracts: [{ kind: 'warranty', start: '2026-03-15', duration: 'P2Y', end: '2028-03-14', scope: 'Frame, gears and brakes', provider: 'Acme Outfitters' }],
      proofOfPurchase: { relationshipId: pair.link.view.id },
      registrations: [],
    });
    // The proof is the signed receipt as received: its signature still checks against the company's DID.
    const proof = pair.personal.vault.things.get(thing.id)!.proofOfPurchase!;
    expect((await verifySignedReceipt(JSON.parse(proof.signed), pair.company.did, createDidResolver())).receipt.receipt_id).toBe(receipt.receipt.receipt_id);
    expect(await pendingReceipts()).toEqual([]);
    await vi.waitFor(async () => expect((await admin('GET', `/admin/things/receipts?relationship=${customerRef()}`)).json['receipts']).toMatchObject([{ state: 'accepted' }]), { timeout: 5_000 });

    // She registers it with the company as its maker, sharing the serial number, the GTIN and the purchase date.
    const registered = await herApi('POST', `/api/things/${thing.id}/register`, { with: pair.link.view.id, fields: ['serial', 'gtin', 'purchaseDate'] });
    expect(registered.status).toBe(200);
    const registeredThing = registered.json['thing'] as ThingView;
    expect(registeredThing.links).toEqual(expect.arrayContaining([expect.objectContaining({ relationshipId: pair.link.view.id, role: 'maker' })]));
    expect(registeredThing.registrations).toEqual([expect.objectContaining({ relationshipId: pair.link.view.id, fields: ['serial_number', 'gtin', 'purchase_date'] })]);
    const consentRecordId = pair.personal.vault.things.get(thing.id)!.registrations[0]!.consentRecordId;
    expect(pair.personal.vault.consents.get(consentRecordId)?.state).toBe('active');
    // The company keeps the verified claims, the product it is about, the same consent record, and tells its systems.
    const registrations = (await admin('GET', `/admin/things/registrations?gtin=${GTIN}`)).json['registrations'];
    expect(registrations).toEqual([expect.objectContaining({ relationshipId: pair.link.companyRelationship.id, gtin: GTIN, model: null, consentRecordId, claims: { serial_number: 'AO-TR1-000317', gtin: GTIN, purchase_date: '2026-03-15' } })]);
    expect((await pair.company.store.getConsentRecord(consentRecordId))?.state).toBe('active');
    const connectorEvents = await pair.company.agent.events(pair.link.companyRelationship.id);
    expect(connectorEvents.filter((e) => e.type === 'thing.registered').map((e) => e.payload)).toEqual([expect.objectContaining({ registrationId: registrations[0].id, fields: { serial_number: 'AO-TR1-000317', gtin: GTIN, purchase_date: '2026-03-15' } })]);

    // Her access request (data-rights) shows the registration the company keeps and the receipt it sent.
    const access = await pair.personal.agent.requestAccess(pair.link.view.id);
    expect((access.body as { data: Record<string, unknown> }).data).toMatchObject({
      thing_registrations: [{ registration_id: registrations[0].id, consent_record_id: consentRecordId, claims: { serial_number: 'AO-TR1-000317', gtin: GTIN, purchase_date: '2026-03-15' } }],
      thing_receipts: 1,
    });

    // Another customer of the same company, who bought one too but never registered it.
    const other = await startPersonal();
    extra.push(other);
    const otherLink = await connect(other, pair.company);

    // The recall of that GTIN: sent to her relationship only.
    const recalled = await admin('POST', '/admin/things/recalls', { gtin: GTIN, text: 'Stop riding: the front brake lever may crack.' });
    expect(recalled.status).toBe(201);
    expect(recalled.json['relationships']).toEqual([{ relationshipId: pair.link.companyRelationship.id, delivered: true }]);
    const shown = (await herApi('GET', `/api/things/${thing.id}`)).json['thing'] as ThingView;
    expect(shown.recalls).toEqual([expect.objectContaining({ relationshipId: pair.link.view.id, recallId: recalled.json['recallId'], gtin: GTIN, text: 'Stop riding: the front brake lever may crack.' })]);
    expect(events).toContainEqual({ type: 'thing.recall', relationshipId: pair.link.view.id, thingIds: [thing.id] });
    // Nothing reached the other customer: no message from the company since connecting but the welcome ones.
    expect((await pair.company.agent.messages(otherLink.companyRelationship.id)).filter((m) => m.type === Thing.recall.type)).toEqual([]);
    expect(other.vault.things.list()).toEqual([]);
    // A recall of a model nobody registered reaches nobody.
    expect((await admin('POST', '/admin/things/recalls', { model: 'TR-9', text: 'Check the saddle clamp.' })).json['relationships']).toEqual([]);
  });

  it('she declines a receipt: no thing, and the company learns it', async () => {
    const receipt = await sendReceipt();
    const declined = await herApi('POST', `/api/things/receipts/${receipt.id}/decline`);
    expect(declined.json).toMatchObject({ receipt: { state: 'declined', thingId: null }, answer: 'sent' });
    expect(pair.personal.vault.things.list()).toEqual([]);
    await vi.waitFor(async () => expect((await admin('GET', '/admin/things/receipts')).json['receipts']).toMatchObject([{ state: 'declined' }]), { timeout: 5_000 });
  });

  it('refuses a receipt signed by another key than the relationship’s company (thing.receipt_invalid), changing nothing', async () => {
    const stranger = createPeerIdentity('http://127.0.0.1:1/didcomm').identity;
    const before = pair.personal.snapshot();
    // Naming the company as the seller, signed by a stranger's key.
    const forged = await pushAs(pair.company, Thing.receipt.type, { signed: signReceipt(receiptDocument(), signingKeyOf(stranger)) });
    expect(forged.status).toBe(422);
    expect(forged.json.error?.code).toBe('thing.receipt_invalid');
    // Honestly signed by the stranger, as seller, but carried by the company on its relationship.
    const foreign = await pushAs(pair.company, Thing.receipt.type, { signed: signReceipt(receiptDocument({ seller: stranger.did }), signingKeyOf(stranger)) });
    expect(foreign.json.error?.code).toBe('thing.receipt_invalid');
    // Signed by the company, but naming another buyer.
    const otherBuyer = await pushAs(pair.company, Thing.receipt.type, { signed: signReceipt(receiptDocument({ buyer: stranger.did }), signingKeyOf(pair.company.identity)) });
    expect(otherBuyer.json.error?.code).toBe('thing.receipt_invalid');
    // Signed by the company, then altered.
    const signed = signReceipt(receiptDocument(), signingKeyOf(pair.company.identity));
    const altered = await pushAs(pair.company, Thing.receipt.type, { signed: { ...signed, receipt: { ...signed.receipt, price: { amount: '1.00', currency: 'EUR' } } } });
    expect(altered.json.error?.code).toBe('thing.receipt_invalid');
    expect(pair.personal.snapshot()).toEqual(before);
    expect(events.filter((e) => e.type === 'thing.receipt')).toEqual([]);
    // The same receipt, signed by the company and unaltered, is taken.
    expect((await pushAs(pair.company, Thing.receipt.type, { signed })).status).toBeLessThan(300);
    expect(await pendingReceipts()).toHaveLength(1);
  });

  it('refuses a malformed thing record (message.body_invalid), changing nothing', async () => {
    const before = pair.personal.snapshot();
    const key = signingKeyOf(pair.company.identity);
    const cases = [
      // A GTIN whose check digit is wrong.
      signReceipt({ ...receiptDocument(), product: { name: 'Trail bike', gtin: '4006381333932' } }, key),
      // A warranty that ends at an hour.
      signReceipt({ ...receiptDocument(), warranty: { start: '2026-03-15', duration: 'PT12H' } }, key),
      // A member the record does not have.
      { ...signReceipt(receiptDocument(), key), receipt: { ...receiptDocument(), colour: 'red' } },
      // No product name.
      signReceipt({ ...receiptDocument(), product: { name: '' } } as ReceiptDocument, key),
    ];
    for (const signed of cases) {
      const refused = await pushAs(pair.company, Thing.receipt.type, { signed });
      expect(refused.status).toBe(422);
      expect(refused.json.error?.code).toBe('message.body_invalid');
    }
    expect(pair.personal.snapshot()).toEqual(before);
    // The company's admin API refuses a malformed sale before it signs anything.
    const companyBefore = await pair.company.snapshot();
    const bad = await admin('POST', `/admin/relationships/${customerRef()}/things/receipts`, { name: 'Bike', gtin: '123', warranty: 'forever' });
    expect(bad.status).toBe(400);
    expect(bad.json.error?.code).toBe('api.bad_request');
    expect(await pair.company.snapshot()).toEqual(companyBefore);
  });

  it('refuses a recall from a company she never registered that product with (thing.recall_unregistered), changing nothing', async () => {
    const thing = await acceptAndRegister();
    const babbage = await startCompany({ name: 'Babbage Cycles' });
    extra.push(babbage);
    const babbageLink = await connect(pair.personal, babbage);
    // Babbage sold her nothing and she registered nothing with it: its recall of the same GTIN is refused.
    const before = pair.personal.snapshot();
    const recall = { recall_id: randomUUID(), gtin: GTIN, text: 'Stop riding.', issued_at: new Date().toISOString() };
    const refused = await pushAs(babbage, Thing.recall.type, recall, babbageLink.view.id);
    expect(refused.status).toBe(422);
    expect(refused.json.error?.code).toBe('thing.recall_unregistered');
    // Acme, with whom she registered the GTIN, recalling a model she did not register there.
    const otherModel = await pushAs(pair.company, Thing.recall.type, { ...recall, recall_id: randomUUID(), gtin: undefined, model: 'TR-9' });
    expect(otherModel.json.error?.code).toBe('thing.recall_unregistered');
    expect(pair.personal.snapshot()).toEqual(before);
    expect(events.filter((e) => e.type === 'thing.recall')).toEqual([]);
    expect(pair.personal.vault.things.get(thing.id)!.recalls ?? []).toEqual([]);
    // The company's own admin API sends Babbage's recall to nobody: no one registered the GTIN there.
    expect((await jsonApi(() => babbage.url, () => babbage.adminToken)('POST', '/admin/things/recalls', { gtin: GTIN, text: 'Stop riding.' })).json['relationships']).toEqual([]);
  });

  it('refuses a registration over a muted (relationship.not_active) or cut-off (relationship.cut_off) relationship, changing nothing on either side', async () => {
    const receipt = await sendReceipt();
    const thing = (await herApi('POST', `/api/things/receipts/${receipt.id}/accept`)).json['thing'] as ThingView;
    await pair.personal.agent.mute(pair.link.view.id);
    const herBefore = pair.personal.snapshot();
    const companyBefore = await pair.company.snapshot();
    const muted = await herApi('POST', `/api/things/${thing.id}/register`, { with: pair.link.view.id, fields: ['gtin', 'serial'] });
    expect(muted.status).toBe(409);
    expect(muted.json.error?.code).toBe('relationship.not_active');
    expect(pair.personal.snapshot()).toEqual(herBefore);
    expect(await pair.company.snapshot()).toEqual(companyBefore);

    await pair.personal.agent.unmute(pair.link.view.id);
    await pair.personal.agent.cutOff(pair.link.view.id);
    const herCut = pair.personal.snapshot();
    const companyCut = await pair.company.snapshot();
    const cut = await herApi('POST', `/api/things/${thing.id}/register`, { with: pair.link.view.id, fields: ['gtin', 'serial'] });
    expect(cut.status).toBe(410);
    expect(cut.json.error?.code).toBe('relationship.cut_off');
    expect(pair.personal.snapshot()).toEqual(herCut);
    expect(await pair.company.snapshot()).toEqual(companyCut);
  });

  it('shares the thing’s GTIN and model when she names neither, and refuses a thing without either or a field it lacks (thing.invalid), sending nothing', async () => {
    // A thing with a GTIN and a model: she names the serial number only, the product's identity goes with it.
    const identified = await sendReceipt();
    const bike = (await herApi('POST', `/api/things/receipts/${identified.id}/accept`)).json['thing'] as ThingView;
    const registered = (await herApi('POST', `/api/things/${bike.id}/register`, { with: pair.link.view.id, fields: ['serial'] })).json['thing'] as ThingView;
    expect(registered.registrations).toEqual([expect.objectContaining({ fields: ['serial_number', 'gtin', 'model'] })]);

    // A thing with neither: nothing to register it by.
    const anonymous = await sendReceipt({ name: 'Bell', serialNumber: 'B-1' });
    const bell = (await herApi('POST', `/api/things/receipts/${anonymous.id}/accept`)).json['thing'] as ThingView;
    const herBefore = pair.personal.snapshot();
    const companyBefore = await pair.company.snapshot();
    for (const fields of [['serial'], ['gtin'], ['serial', 'colour'], ['purchaseDate', 'price']]) {
      const refused = await herApi('POST', `/api/things/${bell.id}/register`, { with: pair.link.view.id, fields });
      expect(refused.status).toBe(400);
      expect(refused.json.error?.code).toBe('thing.invalid');
    }
    expect(pair.personal.snapshot()).toEqual(herBefore);
    expect(await pair.company.snapshot()).toEqual(companyBefore);
  });

  it('the company refuses answers to receipts it did not send or already settled, and registrations whose presentation does not match, changing nothing', async () => {
    const receipt = await sendReceipt();
    await herApi('POST', `/api/things/receipts/${receipt.id}/accept`);
    await vi.waitFor(async () => expect((await admin('GET', '/admin/things/receipts')).json['receipts']).toMatchObject([{ state: 'accepted' }]), { timeout: 5_000 });
    const her = herIdentity(pair.personal, pair.link.view.id);
    const company = { did: pair.company.did, didcommUrl: pair.company.didcommUrl };
    const before = await pair.company.snapshot();

    const unknown = await sendAs(her, company, Thing.receiptAnswer.type, { receipt_id: randomUUID(), state: 'accepted' });
    expect([unknown.response.status, unknown.response.json.error?.code]).toEqual([404, 'thing.receipt_unknown']);
    const changed = await sendAs(her, company, Thing.receiptAnswer.type, { receipt_id: receipt.receipt.receipt_id, state: 'declined' });
    expect([changed.response.status, changed.response.json.error?.code]).toEqual([409, 'thing.receipt_answered']);

    /** A registration whose presentation discloses `claims` (under `vct`) while the body names `fields`. */
    const register = async (fields: string[], claims: Record<string, unknown>, vct = THING_REGISTRATION_VCT) => {
      const id = randomUUID();
      const sdJwt = await presentSelfIssued(her, claims, { audience: pair.company.did, nonce: id, issuedAt: Math.floor(Date.now() / 1000), vct });
      const body = { registration_id: randomUUID(), consent_record_id: randomUUID(), fields, purpose: 'Recalls', presentation: { format: 'dc+sd-jwt', sd_jwt: sdJwt } };
      return (await sendAs(her, company, Thing.register.type, body, { id })).response;
    };
    // Discloses less than it names.
    expect((await register(['gtin', 'serial_number'], { gtin: GTIN })).json.error?.code).toBe('thing.registration_invalid');
    // A GTIN whose check digit is wrong.
    expect((await register(['gtin'], { gtin: '4006381333932' })).json.error?.code).toBe('thing.registration_invalid');
    // More than it names, or a profile disclosure passed off as a registration: the presentation checks refuse them.
    expect((await register(['gtin'], { gtin: GTIN, serial_number: 'X' })).status).toBeGreaterThanOrEqual(400);
    expect((await register(['gtin'], { gtin: GTIN }, 'https://kith.invalid/credentials/profile/1.0')).status).toBeGreaterThanOrEqual(400);
    expect(await pair.company.snapshot()).toEqual(before);
    // The same registration, well formed, is taken.
    expect((await register(['gtin'], { gtin: GTIN })).status).toBe(200);
    expect((await admin('GET', '/admin/things/registrations')).json['registrations']).toHaveLength(1);
  });

  it('refuses a receipt accepted twice (thing.receipt_answered), changing nothing', async () => {
    const receipt = await sendReceipt();
    expect((await herApi('POST', `/api/things/receipts/${receipt.id}/accept`)).status).toBe(200);
    await vi.waitFor(async () => expect((await admin('GET', '/admin/things/receipts')).json['receipts']).toMatchObject([{ state: 'accepted' }]), { timeout: 5_000 });
    const herBefore = pair.personal.snapshot();
    const companyBefore = await pair.company.snapshot();
    const again = await herApi('POST', `/api/things/receipts/${receipt.id}/accept`);
    expect(again.status).toBe(409);
    expect(again.json.error?.code).toBe('thing.receipt_answered');
    const decline = await herApi('POST', `/api/things/receipts/${receipt.id}/decline`);
    expect(decline.json.error?.code).toBe('thing.receipt_answered');
    expect(pair.personal.snapshot()).toEqual(herBefore);
    expect(await pair.company.snapshot()).toEqual(companyBefore);
    expect(pair.personal.vault.things.list()).toHaveLength(1);
    expect((await herApi('POST', '/api/things/receipts/00000000-0000-4000-8000-000000000000/accept')).json.error?.code).toBe('thing.receipt_unknown');
  });
});

