/**
 * Admin tokens with scopes, over real HTTP: every operation of the admin API's OpenAPI document is
 * called with real ids and bodies by tokens that lack its scope (403 api.insufficient_scope,
 * nothing changed), by a read token (every GET answers), and by a write token (every POST does
 * what it says, so the refused calls were ones that would have changed something).
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectorError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/log.js';
import { adminTokensPath, createAdminToken, revokeAdminToken, type AdminScope } from '../../src/company/adminTokens.js';
import type { Connector } from '../../src/company/connectors/index.js';
import { ADMIN_ROUTE_SCOPES, routeKey } from '../../src/company/http/adminScopes.js';
import { createCompanyApp } from '../../src/company/http/app.js';
import { companyOpenApi } from '../../src/company/http/openapi.js';
import { createCompanyMetrics } from '../../src/company/metrics.js';
import { startPair, type Pair, answerAsk } from '../support/agents.js';
import { ACCEPT_ALL_TERMS, TRAIL_SHOE_DEMAND, inADay } from '../support/intents.js';

type Operation = { method: 'GET' | 'POST'; path: string; scope: AdminScope };

/** Every operation of the document, with the scope it declares. */
function documentedOperations(): Operation[] {
  return Object.entries(companyOpenApi.paths as Record<string, Record<string, { 'x-kith-scope'?: AdminScope }>>).flatMap(([path, operations]) =>
    Object.entries(operations).map(([method, operation]) => {
      const scope = operation['x-kith-scope'];
      if (scope === undefined) throw new Error(`${method} ${path} declares no scope`);
      return { method: method.toUpperCase() as 'GET' | 'POST', path, scope };
    }),
  );
}

describe('admin tokens with scopes', () => {
  let pair: Pair;
  const tokens = {} as Record<'reader' | 'writer' | 'operator', string>;
  let ids: Record<string, string>;

  beforeAll(async () => {
    const refusing: Connector = {
      id: 'crm',
      type: 'test',
      async deliver() {
        throw new ConnectorError('connector.rejected', 'HTTP 400 invalidValue');
      },
    };
    pair = await startPair({ company: { ops: true, policy: { terms: ACCEPT_ALL_TERMS, intents: { categories: ['books'] } }, connectors: [{ connector: refusing, maxAttempts: 1 }] } });
    const { company, personal, link } = pair;
    const now = Date.now();
    tokens.reader = createAdminToken(company.dir, { name: 'reader', scopes: ['read'], now }).token;
    tokens.writer = createAdminToken(company.dir, { name: 'writer', scopes: ['write'], now }).token;
    tokens.operator = createAdminToken(company.dir, { name: 'operator', scopes: ['console'], now }).token;

    // Real things for every route to act on: an intent she cast with an offer, a dead letter.
    await personal.agent.intents.cast({ demand: { ...TRAIL_SHOE_DEMAND, category: 'books', description: 'A field guide to alpine flowers' }, expiresAt: inADay(), to: [link.record.id] });
    const [intent] = await company.store.listReceivedIntents();
    const offer = await company.agent.intents.offer(intent!.id, { name: 'Alpine Flowers', price: '24.00', currency: 'EUR' });
    await answerAsk(personal, company, link, { fields: ['email'], purpose: 'Receipts' }, 'decline');
    // A thing she registered with the company (docs/protocol/thing.md), so that a recall reaches someone.
    await company.agent.things.sendReceipt(link.companyRelationship.id, { name: 'Trail bike', gtin: '4006381333931' });
    const [receipt] = personal.agent.thingProtocol.receipts();
    const accepted = await personal.agent.thingProtocol.accept(receipt!.id);
    await personal.agent.thingProtocol.register(accepted.thing!.id, { with: link.record.id, fields: ['gtin'] });
    await company.agent.dispatchEvents();
    const [dead] = await company.store.listDeadLetters();
    // A service case she opened about a thing the company sold her (docs/protocol/service.md).
    const thing = personal.agent.things.add({ name: 'Field guide', links: [{ relationship: link.view.id, role: 'seller' }] });
    await personal.agent.serviceCases.open(thing.id, { text: 'Pages 40 to 56 are missing.' });
    const [serviceCase] = await company.store.listServiceCases();
    ids = { ref: link.companyRelationship.id, id: intent!.id, offer: offer.offer.id, connector: 'crm', eventId: dead!.event.id, case: serviceCase!.id };
  });
  afterAll(async () => {
    await pair?.cleanup();
  });

  /** The path with real ids, and a body that the route takes. */
  function request(operation: Operation): { url: string; body?: unknown } {
    const path = operation.path
      .replace('/offers/{id}', `/offers/${ids['offer']}`)
      .replace('/connectors/{id}', `/connectors/${ids['connector']}`)
      .replace('/cases/{id}', `/cases/${ids['case']}`)
      .replace(/\{(\w+)\}/g, (_, name: string) => ids[name]!);
    const bodies: Record<string, unknown> = {
      'POST /admin/relationships/{ref}/messages': { content: 'Your order has shipped' },
      'POST /admin/relationships/{ref}/terms': { agreement: 'service-plus-billing' },
      'POST /admin/relationships/{ref}/disclosure-requests': { fields: ['name'], purpose: 'Delivery' },
      'POST /admin/relationships/{ref}/identifiers': { kind: 'policy_number', value: '88-123' },
      'POST /admin/relationships/{ref}/things/receipts': { name: 'Trail bike', gtin: '4006381333931', warranty: 'P2Y' },
      'POST /admin/things/recalls': { gtin: '4006381333931', text: 'Stop riding.' },
      'POST /admin/intents/{id}/offers': { name: 'Alpine Flowers (2nd ed.)', price: '26.00', currency: 'EUR' },
      'POST /admin/offers/{id}/withdraw': { reason: 'Sold out' },
      'POST /admin/cases/{id}/replies': { text: 'A new copy is on its way.' },
      'POST /admin/cases/{id}/resolve': { text: 'Replaced.' },
    };
    const body = bodies[`${operation.method} ${operation.path}`];
    return { url: `${pair.company.url}${path}`, ...(body === undefined ? {} : { body }) };
  }

  async function call(operation: Operation, token: string | undefined): Promise<{ status: number; json: any }> {
    const { url, body } = request(operation);
    const headers: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(url, { method: operation.method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    const text = await response.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = text;
    }
    return { status: response.status, json };
  }

  it('the document names a scope for every operation, the same the server enforces, and documents every admin route the app has', () => {
    const operations = documentedOperations();
    expect(operations.map((o) => [routeKey(o.method, o.path.replace(/\{(\w+)\}/g, ':$1')), o.scope]).sort()).toEqual(Object.entries(ADMIN_ROUTE_SCOPES).sort());
    const app = createCompanyApp({
      agent: pair.company.agent,
      adminToken: 'unused',
      maxMessageBytes: 1000,
      logger: silentLogger,
      ops: { role: 'all', readiness: async () => ({ ready: true }), metrics: createCompanyMetrics(pair.company.store, { role: 'all' }) },
    });
    const registered = new Set(app.routes.filter((r) => r.method !== 'ALL' && (r.path.startsWith('/admin/') || r.path === '/metrics')).map((r) => routeKey(r.method, r.path)));
    expect([...registered].sort()).toEqual(Object.keys(ADMIN_ROUTE_SCOPES).sort());
  });

  it('a token without the scope gets 403 api.insufficient_scope on every operation, and nothing changes', async () => {
    const operations = documentedOperations();
    expect(operations.length).toBeGreaterThanOrEqual(20);
    for (const operation of operations) {
      for (const [name, token] of Object.entries(tokens)) {
        const scopes: Record<string, AdminScope> = { reader: 'read', writer: 'write', operator: 'console' };
        if (scopes[name] === operation.scope) continue;
        const before = await pair.company.snapshot();
        const answer = await call(operation, token);
        expect([answer.status, answer.json?.error?.code, answer.json?.error?.details?.required], `${name}: ${operation.method} ${operation.path}`).toEqual([403, 'api.insufficient_scope', operation.scope]);
        expect(await pair.company.snapshot(), `${name}: ${operation.method} ${operation.path}`).toEqual(before);
      }
      // No token, or one no one made: 401, as before scopes.
      expect((await call(operation, undefined)).json.error.code).toBe('api.unauthorized');
      expect((await call(operation, `${tokens.reader}x`)).json.error.code).toBe('api.unauthorized');
    }
  });

  it('a read token reads every GET; a write token does every POST (so the refused calls would have changed something)', async () => {
    for (const operation of documentedOperations().filter((o) => o.scope === 'read')) {
      const answer = await call(operation, tokens.reader);
      expect(answer.status, `${operation.method} ${operation.path}`).toBe(200);
    }
    expect((await call({ method: 'GET', path: '/metrics', scope: 'read' }, tokens.reader)).json).toMatch(/^kith_company_/m);
    for (const operation of documentedOperations().filter((o) => o.scope === 'write')) {
      const before = await pair.company.snapshot();
      const answer = await call(operation, tokens.writer);
      expect([200, 201], `${operation.method} ${operation.path}: ${JSON.stringify(answer.json)}`).toContain(answer.status);
      expect(await pair.company.snapshot(), `${operation.method} ${operation.path}`).not.toEqual(before);
    }
  });

  it('the home’s admin-token keeps every scope', async () => {
    const read = await call({ method: 'GET', path: '/admin/relationships', scope: 'read' }, pair.company.adminToken);
    expect(read.status).toBe(200);
    const write = await call({ method: 'POST', path: '/admin/relationships/{ref}/messages', scope: 'write' }, pair.company.adminToken);
    expect(write.status).toBe(201);
  });

  it('a token made while the agent runs works at once, and a revoked one is refused from the next request on', async () => {
    const operation: Operation = { method: 'GET', path: '/admin/relationships', scope: 'read' };
    const { token } = createAdminToken(pair.company.dir, { name: 'late', scopes: ['read'], now: Date.now() });
    expect((await call(operation, token)).status).toBe(200);
    revokeAdminToken(pair.company.dir, 'late');
    expect((await call(operation, token)).json.error.code).toBe('api.unauthorized');
    expect((await call(operation, tokens.reader)).status).toBe(200);
  });

  it('keeps the tokens and their file out of the logs', () => {
    const log = readFileSync(pair.company.logPath, 'utf8');
    const file = readFileSync(adminTokensPath(pair.company.dir), 'utf8');
    const hashes = [...file.matchAll(/"sha256": "([0-9a-f]{64})"/g)].map((m) => m[1]!);
    expect(hashes.length).toBeGreaterThanOrEqual(3);
    expect(log.length).toBeGreaterThan(0);
    for (const secret of [...Object.values(tokens), pair.company.adminToken, ...hashes]) expect(log).not.toContain(secret);
    for (const token of Object.values(tokens)) expect(file).not.toContain(token);
  });
});
