import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newToken } from '../../core/ids.js';
import { silentLogger } from '../../core/log.js';
import { createPersonalAgent } from '../createPersonalAgent.js';
import { Vault } from '../vault/vault.js';
import { prepare, routeKey, routes, type CallArgs, type Route, type RouteResponse } from './apiContract.js';
import { createLocalApi } from './localApi.js';

describe('the local API contract', () => {
  it('is plain data, so the web app can bundle it', () => {
    expect(JSON.parse(JSON.stringify(routes))).toEqual(routes);
  });

  it('declares each method and path once', () => {
    const keys = Object.values(routes).map(routeKey);
    // GET /api/profile/vcard answers a vCard or, with format=jcard, a jCard: one route on the server.
    expect(keys.filter((key, index) => keys.indexOf(key) !== index)).toEqual(['GET /api/profile/vcard']);
  });

  it('fills in path parameters escaped, and the query without the values left out', () => {
    expect(prepare(routes.relationship, { ref: 'Acme Outfitters/1' })).toEqual({ route: routes.relationship, method: 'GET', url: '/api/relationships/Acme%20Outfitters%2F1', headers: {} });
    expect(prepare(routes.requests, { all: '1', relationship: undefined }).url).toBe('/api/requests?all=1');
    expect(prepare(routes.requests).url).toBe('/api/requests');
    expect(prepare(routes.receipts, { relationship: 'a&b' }).url).toBe('/api/receipts?relationship=a%26b');
    expect(prepare(routes.profileChange, { version: 3 }).url).toBe('/api/profile/changes/3');
    expect(prepare(routes.messages, { ref: 'r' }, { includeHeld: '1' }).url).toBe('/api/relationships/r/messages?includeHeld=1');
  });

  it('sends a JSON body as JSON, a text body as is, and no body where the route takes none', () => {
    expect(prepare(routes.approve, { id: 'x' }, { fields: ['email'] })).toMatchObject({ method: 'POST', url: '/api/requests/x/approve', body: '{"fields":["email"]}', headers: { 'content-type': 'application/json' } });
    expect(prepare(routes.importVcard, 'BEGIN:VCARD')).toMatchObject({ body: 'BEGIN:VCARD', headers: { 'content-type': 'text/vcard' } });
    const lock = prepare(routes.lock);
    expect(lock.body).toBeUndefined();
    expect(lock.headers).toEqual({});
  });

  it('refuses a call that lacks a path parameter (a caller that went around the types)', () => {
    const untyped = prepare as (route: Route, ...args: unknown[]) => unknown;
    expect(() => untyped(routes.approve, {}, {})).toThrow(TypeError);
  });
});

/** Never run: `npm run typecheck` checks that the contract types calls end to end. */
export async function typedCalls(call: <R extends Route>(route: R, ...args: CallArgs<R>) => Promise<RouteResponse<R>>): Promise<void> {
  const { relationships } = await call(routes.relationships);
  relationships.map((r) => r.terms.awaitingHer);
  const outcome = await call(routes.approve, { id: 'x' }, { fields: ['email'] });
  outcome.consentRecordId.toUpperCase();
  const vcard: string = await call(routes.exportVcard);
  void vcard;
  await call(routes.exportJcard, { format: 'jcard' });
  // @ts-expect-error the route has a path parameter
  await call(routes.approve, { fields: [] });
  // @ts-expect-error the route takes no body
  await call(routes.lock, {});
  // @ts-expect-error the parameter is :ref
  await call(routes.relationship, { id: 'x' });
  // @ts-expect-error the body is { content }
  await call(routes.sendMessage, { ref: 'x' }, { text: 'hi' });
  // @ts-expect-error the jCard needs format=jcard
  await call(routes.exportJcard);
}

describe('the local API serves every route of the contract', () => {
  let dir: string;
  let vault: Vault;
  let app: ReturnType<typeof createLocalApi>;
  const token = newToken();
  const port = 7400;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'kith-contract-'));
    vault = Vault.create(join(dir, 'vault.db'), 'pw', { kdf: { N: 2 ** 12 } });
    const agent = createPersonalAgent({ vault, inboundBaseUrl: () => `http://127.0.0.1:${port}` });
    app = createLocalApi({ agent, token, port: () => port, maxMessageBytes: 256 * 1024, logger: silentLogger });
  });
  afterAll(() => {
    vault.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function codeOf(method: string, url: string, body?: string): Promise<string | undefined> {
    const headers = { host: `127.0.0.1:${port}`, authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) };
    const response = await app.request(url, { method, headers, ...(body === undefined ? {} : { body }) });
    const type = response.headers.get('content-type') ?? '';
    if (type.startsWith('text/event-stream')) {
      await response.body?.cancel();
      return undefined;
    }
    const json = type.includes('json') ? ((await response.json()) as { error?: { code?: string } } | null) : null;
    return json?.error?.code;
  }

  it.each(Object.entries(routes))('%s', async (_name, route) => {
    const url = route.path.replace(/:\w+/g, '1');
    expect(await codeOf(route.method, url, route.body === undefined ? undefined : '{}')).not.toBe('api.not_found');
  });

  it('and nothing answers a route outside it', async () => {
    expect(await codeOf('DELETE', '/api/relationships/1')).toBe('api.not_found');
  });
});
