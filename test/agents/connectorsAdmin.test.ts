/**
 * The company's connectors through its admin API (and the metrics): where each connector's
 * deliveries stand, the dead letters of a company system that refused an event, and replaying one
 * once the cause is fixed. The connectors' own suites (logging, webhook, SCIM) test them against
 * real systems; here one company system is a function that refuses until it is "fixed".
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConnectorError } from '../../src/core/errors.js';
import type { Connector, ConnectorDelivery } from '../../src/company/connectors/index.js';
import { createCompanyMetrics } from '../../src/company/metrics.js';
import { startPair, type Pair, answerAsk } from '../support/agents.js';

describe('connectors and dead letters through the admin API', () => {
  let pair: Pair;
  let fixed = false;
  const crm: ConnectorDelivery[] = [];

  beforeEach(async () => {
    fixed = false;
    crm.length = 0;
    const picky: Connector = {
      id: 'crm',
      type: 'test',
      async deliver(event) {
        if (!fixed) throw new ConnectorError('connector.rejected', 'HTTP 400 invalidValue');
        crm.push(event);
      },
    };
    const audit: Connector = { id: 'audit', type: 'test', deliver: async () => {} };
    pair = await startPair({ company: { connectors: [{ connector: audit, maxAttempts: 3 }, { connector: picky, maxAttempts: 3 }] } });
  });
  afterEach(async () => {
    await pair?.cleanup();
  });

  const admin = async (method: 'GET' | 'POST', path: string, token = pair.company.adminToken) => {
    const response = await fetch(`${pair.company.url}${path}`, { method, headers: { authorization: `Bearer ${token}` } });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  async function oneEvent(): Promise<string> {
    // She declines a request: one disclosure.declined event for the company's systems.
    const { company, personal, link } = pair;
    await answerAsk(personal, company, link, { fields: ['email'], purpose: 'Receipts' }, 'decline');
    const [event] = await company.store.listEvents({ undispatchedOnly: true });
    return event!.id;
  }

  it('lists each connector with its counts, the refused event as a dead letter of that connector only, and replays it once fixed', async () => {
    const eventId = await oneEvent();
    expect(await pair.company.agent.dispatchEvents()).toBe(1);

    const listed = await admin('GET', '/admin/connectors');
    expect(listed).toEqual({
      status: 200,
      body: {
        connectors: [
          { id: 'audit', type: 'test', maxAttempts: 3, delivered: 1, retrying: 0, dead: 0 },
          { id: 'crm', type: 'test', maxAttempts: 3, delivered: 0, retrying: 0, dead: 1 },
        ],
      },
    });
    const dead = await admin('GET', '/admin/connectors/crm/dead-letters');
    expect(dead.status).toBe(200);
    expect(dead.body['deadLetters']).toEqual([
      {
        event: expect.objectContaining({ id: eventId, type: 'disclosure.declined' }),
        attempt: { eventId, connectorId: 'crm', state: 'dead', attempts: 1, nextAttemptAt: null, lastError: 'connector.rejected: HTTP 400 invalidValue', updatedAt: expect.any(Number) },
      },
    ]);
    expect((await admin('GET', '/admin/connectors/audit/dead-letters')).body).toEqual({ deadLetters: [], next: null });
    expect(((await admin('GET', '/admin/dead-letters')).body['deadLetters'] as unknown[]).length).toBe(1);
    // The metrics say the same, by connector and state (the store is shared by every process).
    const metrics = (await createCompanyMetrics(pair.company.store, { role: 'all' }).text()).body;
    expect(metrics).toMatch(/^kith_company_connector_deliveries\{connector="crm",state="dead",role="all"\} 1$/m);
    expect(metrics).toMatch(/^kith_company_connector_deliveries\{connector="audit",state="delivered",role="all"\} 1$/m);

    fixed = true;
    expect(await admin('POST', `/admin/connectors/crm/dead-letters/${eventId}/replay`)).toEqual({ status: 200, body: { replayed: true } });
    expect(await pair.company.agent.dispatchEvents()).toBe(1);
    expect(crm.map((e) => e.id)).toEqual([eventId]);
    expect((await admin('GET', '/admin/connectors')).body['connectors']).toEqual([
      { id: 'audit', type: 'test', maxAttempts: 3, delivered: 1, retrying: 0, dead: 0 },
      { id: 'crm', type: 'test', maxAttempts: 3, delivered: 1, retrying: 0, dead: 0 },
    ]);
  });

  it('refuses an unknown connector, a replay of what is not a dead letter, a bad limit and a missing token, changing nothing', async () => {
    const eventId = await oneEvent();
    await pair.company.agent.dispatchEvents();
    const before = await pair.company.snapshot();
    const code = (r: { body: Record<string, unknown> }) => (r.body['error'] as { code: string }).code;

    const unknown = await admin('GET', '/admin/connectors/nope/dead-letters');
    expect([unknown.status, code(unknown)]).toEqual([404, 'connector.unknown']);
    const replayUnknown = await admin('POST', `/admin/connectors/nope/dead-letters/${eventId}/replay`);
    expect([replayUnknown.status, code(replayUnknown)]).toEqual([404, 'connector.unknown']);
    const notDead = await admin('POST', `/admin/connectors/audit/dead-letters/${eventId}/replay`);
    expect([notDead.status, code(notDead)]).toEqual([404, 'connector.no_dead_letter']);
    const noEvent = await admin('POST', '/admin/connectors/crm/dead-letters/00000000-0000-4000-8000-000000000000/replay');
    expect([noEvent.status, code(noEvent)]).toEqual([404, 'connector.no_dead_letter']);
    for (const limit of ['0', '1001', 'x', '1.5']) {
      const bad = await admin('GET', `/admin/dead-letters?limit=${limit}`);
      expect([bad.status, code(bad)]).toEqual([400, 'api.bad_request']);
    }
    expect((await admin('GET', '/admin/connectors', 'not-the-token')).status).toBe(401);
    expect((await admin('POST', `/admin/connectors/crm/dead-letters/${eventId}/replay`, 'not-the-token')).status).toBe(401);
    expect(await pair.company.snapshot()).toEqual(before);
  });
});
