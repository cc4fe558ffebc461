import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { respondWithError } from '../../core/httpErrors.js';
import { silentLogger } from '../../core/log.js';
import { adminCredentials, type AdminCredentials, type AdminScope } from '../adminTokens.js';
import { adminAccess, checkAdminRouteScopes, requireScope } from './adminScopes.js';

/** Credentials that know three fixed tokens (the file-backed ones are tested in adminTokens.test.ts). */
function fixed(scopes: Record<string, AdminScope[]>): AdminCredentials {
  return { authenticate: (presented) => (presented !== undefined && scopes[presented] ? { name: presented, scopes: new Set(scopes[presented]) } : undefined) };
}

function app(): Hono {
  const app = new Hono();
  app.onError((error, c) => respondWithError(c, error, silentLogger));
  app.use('/admin/*', adminAccess(adminCredentials('the-admin-token', fixed({ reader: ['read'], operator: ['console'], agent: ['read', 'console'] }))));
  app.get('/admin/relationships', (c) => c.json({ ok: true }));
  // In the table as `read`; the route asks for `console` as well, in place.
  app.get('/admin/relationships/:ref', requireScope('console'), (c) => c.json({ ok: true }));
  // Not in ADMIN_ROUTE_SCOPES: a route someone forgot to list.
  app.get('/admin/console/queue', requireScope('console'), (c) => c.json({ ok: true }));
  app.notFound((c) => c.json({ error: { code: 'api.not_found', message: 'No such route' } }, 404));
  return app;
}

const get = async (path: string, token?: string) => {
  const response = await app().request(path, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
  const json = (await response.json()) as { error?: { code: string } };
  return [response.status, json.error?.code ?? 'ok'];
};

describe('adminAccess: the scope table, enforced by the route Hono matched', () => {
  it('lets a token with the route’s scope through and refuses one without it with 403 api.insufficient_scope', async () => {
    expect(await get('/admin/relationships', 'reader')).toEqual([200, 'ok']);
    expect(await get('/admin/relationships', 'operator')).toEqual([403, 'api.insufficient_scope']);
    expect(await get('/admin/relationships', 'nobody')).toEqual([401, 'api.unauthorized']);
    expect(await get('/admin/relationships')).toEqual([401, 'api.unauthorized']);
  });

  it('requireScope adds a route’s own check to the table’s', async () => {
    expect(await get('/admin/relationships/r1', 'reader')).toEqual([403, 'api.insufficient_scope']);
    expect(await get('/admin/relationships/r1', 'operator')).toEqual([403, 'api.insufficient_scope']);
    expect(await get('/admin/relationships/r1', 'agent')).toEqual([200, 'ok']);
  });

  it('a route missing from the table needs every scope (fail closed), and the start-up check names it', async () => {
    expect(await get('/admin/console/queue', 'operator')).toEqual([403, 'api.insufficient_scope']);
    expect(await get('/admin/console/queue', 'the-admin-token')).toEqual([200, 'ok']);
    expect(() => checkAdminRouteScopes(app().routes, (path) => path.startsWith('/admin/'))).toThrow(/ADMIN_ROUTE_SCOPES.*GET \/admin\/console\/queue/);
  });

  it('HEAD goes by its GET route’s scope', async () => {
    const head = async (token: string) => (await app().request('/admin/relationships', { method: 'HEAD', headers: { authorization: `Bearer ${token}` } })).status;
    expect(await head('operator')).toBe(403);
    expect(await head('reader')).toBe(200);
  });

  it('a path no route serves is a 404 once the token is known', async () => {
    expect(await get('/admin/nothing-here', 'reader')).toEqual([404, 'api.not_found']);
    expect(await get('/admin/nothing-here')).toEqual([401, 'api.unauthorized']);
  });
});
