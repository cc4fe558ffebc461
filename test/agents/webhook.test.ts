/**
 * The webhook connector inside a real company agent, between real agents over real HTTP on
 * loopback: what she discloses reaches the company's receiver as a Standard Webhook the
 * `standardwebhooks` library verifies; a receiver that is down or failing gets the event later
 * under the same `webhook-id`; one that refuses it leaves a dead letter; and every event type the
 * flows write arrives in the shape docs/connectors/events.schema.json documents.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { connectorEventTypeSchema, type ConnectorEventType } from '../../src/company/connectors/types.js';
import { webhookBodySchema } from '../../src/company/connectors/webhookEvents.js';
import { connect, startCompany, startPersonal, type CompanyHandle, type Link, type PersonalHandle, answerAsk } from '../support/agents.js';
import { ACCEPT_ALL_TERMS, TRAIL_SHOE, TRAIL_SHOE_DEMAND, catalogFile, inADay } from '../support/intents.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhookReceiver.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const newSecret = () => `whsec_${randomBytes(32).toString('base64')}`;

const ADA = { name: 'Ada Lovelace', email: 'ada@example.org', address: { street_address: '12 St James Square', locality: 'London', postal_code: 'SW1Y 4JH', country: 'GB' } };
const PURPOSE = 'Order confirmations';
/** Within the `service-only` terms the last test agrees to. */
const WITHIN_TERMS = { purposeCode: 'service-delivery', retention: 'P30D' } as const;

describe('a company agent with a webhook connector', () => {
  let personal: PersonalHandle | undefined;
  let company: CompanyHandle | undefined;
  let receiver: WebhookReceiver | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await personal?.cleanup();
    await company?.cleanup();
    await receiver?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    personal = company = receiver = dir = undefined;
  });

  /** Her agent and a company whose policy names a webhook to `receiver`, with retries in milliseconds. */
  async function start(policy: Record<string, unknown> = {}, maxAttempts = 5): Promise<{ personal: PersonalHandle; company: CompanyHandle; receiver: WebhookReceiver; link: Link }> {
    const secret = newSecret();
    receiver = await startWebhookReceiver([secret]);
    personal = await startPersonal({ retry: { baseDelayMs: 1, maxDelayMs: 5 } });
    personal.agent.profile.set(ADA);
    company = await startCompany({ policy: { ...policy, connectors: [{ type: 'webhook', url: receiver.url, secrets: [secret], maxAttempts }] }, retry: { baseDelayMs: 1, maxDelayMs: 5 } });
    const link = await connect(personal, company);
    return { personal, company, receiver, link };
  }

  function disclose(p: PersonalHandle, c: CompanyHandle, link: Link, fields: string[]): Promise<string> {
    return answerAsk(p, c, link, { fields, purpose: PURPOSE, ...WITHIN_TERMS });
  }

  async function onlyEvent(c: CompanyHandle, type: ConnectorEventType) {
    const events = (await c.store.listEvents()).filter((e) => e.type === type);
    expect(events).toHaveLength(1);
    return events[0]!;
  }

  it('tells the receiver what she disclosed, verified by the Standard Webhooks library; one that was down or failing gets it later under the same webhook-id', async () => {
    const { personal: her, company: acme, receiver: crm, link } = await start();
    const consentRecordId = await disclose(her, acme, link, ['name', 'email']);
    expect(await acme.agent.dispatchEvents()).toBe(1);

    const disclosed = await onlyEvent(acme, 'profile.disclosed');
    expect(crm.verified.map((v) => v.id)).toEqual([disclosed.id]);
    const body = webhookBodySchema('profile.disclosed').parse(crm.verified[0]!.payload);
    expect(body).toEqual({
      type: 'profile.disclosed',
      timestamp: new Date(disclosed.createdAt).toISOString(),
      data: { relationshipId: link.companyRelationship.id, customerRef: link.companyRelationship.customerRef, fields: { name: ADA.name, email: ADA.email }, consentRecordId, purpose: PURPOSE },
    });

    // The receiver goes down; she changes her email; the company's systems must hear of it anyway.
    await crm.stop();
    her.agent.profile.set({ email: 'ada@lovelace.example' });
    expect(await her.agent.profile.deliver()).toMatchObject({ acked: 1 });
    const updated = await onlyEvent(acme, 'profile.updated');
    expect(await acme.agent.dispatchEvents()).toBe(0);
    expect(await acme.store.listConnectorAttempts([updated.id])).toEqual([expect.objectContaining({ connectorId: 'webhook', state: 'failed', attempts: 1, lastError: expect.stringMatching(/^connector\.unreachable: /) })]);

    // It comes back, failing once more (503), then takes it.
    await crm.start();
    crm.failNext(503);
    await sleep(20);
    expect(await acme.agent.dispatchEvents()).toBe(0);
    expect(await acme.store.listConnectorAttempts([updated.id])).toEqual([expect.objectContaining({ state: 'failed', attempts: 2, lastError: expect.stringMatching(/^connector\.failed: .*503/) })]);
    await sleep(20);
    expect(await acme.agent.dispatchEvents()).toBe(1);
    expect(await acme.store.listConnectorAttempts([updated.id])).toEqual([expect.objectContaining({ state: 'delivered', attempts: 3 })]);

    // Both attempts that reached it carried the event's id: the receiver can tell a repeat.
    const attempts = crm.requests.filter((q) => q.headers['webhook-id'] === updated.id);
    expect(attempts).toHaveLength(2);
    expect(attempts[1]!.body).toBe(attempts[0]!.body);
    expect(crm.verified.map((v) => v.id)).toEqual([disclosed.id, updated.id]);
    expect(webhookBodySchema('profile.updated').parse(crm.verified[1]!.payload).data).toEqual({
      relationshipId: link.companyRelationship.id,
      customerRef: link.companyRelationship.customerRef,
      fields: { email: 'ada@lovelace.example' },
      version: 2,
    });
    expect(await acme.store.listEvents({ undispatchedOnly: true })).toEqual([]);

    // Its log says what happened by ids, statuses and codes, never by her values.
    const log = readFileSync(acme.logPath, 'utf8');
    expect(log).toContain('"event":"webhook_delivered"');
    expect(log).toContain('"code":"connector.unreachable"');
    for (const value of [ADA.name, ADA.email, 'ada@lovelace.example', crm.url]) expect(log).not.toContain(value);
  });

  it('makes a dead letter of an event the receiver refuses (400), at once and without retrying', async () => {
    const { personal: her, company: acme, receiver: crm, link } = await start();
    crm.answerAlways(400);
    await disclose(her, acme, link, ['email']);
    expect(await acme.agent.dispatchEvents()).toBe(1);
    const disclosed = await onlyEvent(acme, 'profile.disclosed');
    const dead = await acme.store.listDeadLetters();
    expect(dead).toHaveLength(1);
    expect(dead[0]!.event.id).toBe(disclosed.id);
    expect(dead[0]!.attempt).toMatchObject({ connectorId: 'webhook', state: 'dead', attempts: 1, nextAttemptAt: null, lastError: expect.stringMatching(/^connector\.rejected: .*400/) });
    expect(crm.requests).toHaveLength(1);
    await sleep(20);
    expect(await acme.agent.dispatchEvents()).toBe(0);
    expect(crm.requests).toHaveLength(1);
  });

  it('sends every event type the flows write, each verified and exactly in the shape its JSON Schema documents', async () => {
    dir = mkdtempSync(join(tmpdir(), 'kith-webhook-'));
    const policy = { terms: ACCEPT_ALL_TERMS, intents: { categories: ['clothing'], catalogFile: catalogFile(dir, 'acme', [TRAIL_SHOE]) } };
    const secret = newSecret();
    receiver = await startWebhookReceiver([secret]);
    const crm = receiver;
    const her = (personal = await startPersonal({ retry: { baseDelayMs: 1, maxDelayMs: 5 } }));
    her.agent.profile.set(ADA);
    await her.agent.terms.setDefault('service-only');
    const acme = (company = await startCompany({ policy: { ...policy, connectors: [{ type: 'webhook', url: crm.url, secrets: [secret] }] }, retry: { baseDelayMs: 1, maxDelayMs: 5 } }));
    const dispatched = async () => {
      await acme.agent.dispatchEvents();
      expect(await acme.store.listEvents({ undispatchedOnly: true })).toEqual([]);
    };

    const link = await connect(her, acme); // terms.agreed
    await disclose(her, acme, link, ['name', 'email', 'address']); // profile.disclosed
    await answerAsk(her, acme, link, { fields: ['phone_number'], purpose: 'Calls', ...WITHIN_TERMS }, 'decline'); // disclosure.declined
    her.agent.profile.set({ email: 'ada@lovelace.example' });
    await her.agent.profile.deliver(); // profile.updated
    const first = await her.agent.intents.cast({ demand: TRAIL_SHOE_DEMAND, expiresAt: inADay() }); // intent.received
    await her.agent.intents.accept(her.agent.intents.offers(first.id)[0]!.id); // offer.accepted
    const second = await her.agent.intents.cast({ demand: TRAIL_SHOE_DEMAND, expiresAt: inADay() });
    await her.agent.intents.decline(her.agent.intents.offers(second.id)[0]!.id); // offer.declined
    her.agent.profile.remove(['address']);
    await her.agent.profile.deliver(); // consent.withdrawn
    await her.agent.requestAccess(link.view.id); // data_rights.request
    // A receipt she accepts, and the thing registered with the company as its maker (docs/protocol/thing.md).
    await acme.agent.things.sendReceipt(link.companyRelationship.id, { name: 'Trail shoes', gtin: '4006381333931', serialNumber: 'TS-39-0001' });
    const bought = await her.agent.thingProtocol.accept(her.agent.thingProtocol.receipts()[0]!.id);
    await her.agent.thingProtocol.register(bought.thing!.id, { with: link.view.id, fields: ['gtin', 'serial'] }); // thing.registered
    // A phone number kept for one second (her terms allow a shorter retention than P30D): then the sweep.
    her.agent.profile.set({ phone_number: '+44 20 7946 0000' });
    await answerAsk(her, acme, link, { fields: ['phone_number'], purpose: 'Call about the delivery', purposeCode: 'service-delivery', retention: 'PT1S' });
    await new Promise((resolvePromise) => setTimeout(resolvePromise, 1_100));
    expect(await acme.agent.expireRetention()).toBe(1); // consent.expired
    // A service case about a thing the company sold her (docs/protocol/service.md).
    const thing = her.agent.things.add({ name: 'Trail shoes', links: [{ relationship: link.view.id, role: 'seller' }] });
    await her.agent.serviceCases.open(thing.id, { text: 'The sole came off.', share: ['name'] }); // service_case.opened
    await dispatched();
    // Erasure removes the relationship's undelivered events with it: everything before went out above.
    await her.agent.cutOff(link.view.id); // relationship.erased
    await dispatched();

    expect(crm.refusals).toEqual([]);
    const types = crm.verified.map((v) => (v.payload as { type: ConnectorEventType }).type);
    expect([...types].sort()).toEqual([...connectorEventTypeSchema.options, 'intent.received', 'profile.disclosed'].sort());
    for (const delivery of crm.verified) {
      const type = (delivery.payload as { type: ConnectorEventType }).type;
      const parsed = webhookBodySchema(type).safeParse(delivery.payload);
      expect(parsed.error?.issues, `${type} does not match its schema`).toBeUndefined();
      expect((delivery.payload as { data: { relationshipId: string } }).data.relationshipId).toBe(link.companyRelationship.id);
    }
    const withdrawn = crm.verified.find((v) => (v.payload as { type: string }).type === 'consent.withdrawn')!.payload as { data: Record<string, unknown> };
    expect(withdrawn.data).toMatchObject({ withdrawnFields: ['address'], reason: 'removed_from_profile' });
    // The erasure event names the customer number, so the company's systems can erase her too.
    const erased = crm.verified.find((v) => (v.payload as { type: string }).type === 'relationship.erased')!.payload as { data: Record<string, unknown> };
    expect(erased.data).toEqual({ relationshipId: link.companyRelationship.id, customerRef: link.companyRelationship.customerRef });
  });
});
