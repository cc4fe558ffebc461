import type { Context, MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import { bearerToken } from '../../core/bearer.js';
import { ApiError } from '../../core/errors.js';
import { ADMIN_SCOPES, type AdminCredentials, type AdminPrincipal, type AdminScope } from '../adminTokens.js';

declare module 'hono' {
  interface ContextVariableMap {
    /** Who called the admin API (set by adminAccess). */
    adminPrincipal: AdminPrincipal;
  }
}

/**
 * The scope each admin route needs, as registered with Hono (`METHOD /path/:param`): the one
 * place that says it. createCompanyApp refuses to start with an admin route missing here
 * (checkAdminRouteScopes), and the tests walk the OpenAPI document against it. `read` is every
 * GET, `write` every POST that changes something; `console` routes (the call-center console)
 * name it here too.
 */
export const ADMIN_ROUTE_SCOPES: Readonly<Record<string, AdminScope>> = {
  'GET /metrics': 'read',
  'GET /admin/openapi.json': 'read',
  'GET /admin/invitation': 'read',
  'GET /admin/relationships': 'read',
  'GET /admin/relationships/:ref': 'read',
  'GET /admin/relationships/:ref/messages': 'read',
  'GET /admin/relationships/:ref/holdings': 'read',
  'GET /admin/relationships/:ref/terms': 'read',
  'GET /admin/events': 'read',
  'GET /admin/data-rights': 'read',
  'GET /admin/connectors': 'read',
  'GET /admin/dead-letters': 'read',
  'GET /admin/connectors/:id/dead-letters': 'read',
  'GET /admin/intents': 'read',
  'GET /admin/intents/:id': 'read',
  'POST /admin/relationships/:ref/messages': 'write',
  'POST /admin/relationships/:ref/terms': 'write',
  'POST /admin/relationships/:ref/disclosure-requests': 'write',
  // What the company knows her by (docs/protocol/account.md).
  'GET /admin/relationships/:ref/identifiers': 'read',
  'POST /admin/relationships/:ref/identifiers': 'write',
  // Her things (docs/protocol/thing.md): signed receipts, her registrations, recalls.
  'POST /admin/relationships/:ref/things/receipts': 'write',
  'GET /admin/things/receipts': 'read',
  'GET /admin/things/registrations': 'read',
  'POST /admin/things/recalls': 'write',
  'POST /admin/intents/:id/offers': 'write',
  'POST /admin/offers/:id/withdraw': 'write',
  'POST /admin/connectors/:id/dead-letters/:eventId/replay': 'write',
  // The call-center work: verifying a caller, and the audit log of who looked at whom.
  'POST /admin/relationships/:ref/verifications': 'console',
  'GET /admin/verifications/:id': 'console',
  'GET /admin/audit': 'read',
  // Service cases about her things (docs/protocol/service.md).
  'GET /admin/cases': 'read',
  'GET /admin/cases/:id': 'read',
  'POST /admin/cases/:id/replies': 'write',
  'POST /admin/cases/:id/resolve': 'write',
};

/** The table's key of a route. */
export function routeKey(method: string, path: string): string {
  return `${method.toUpperCase()} ${path}`;
}

/**
 * @throws ApiError `api.insufficient_scope` (403) when the principal lacks the scope; the route's
 *   handler has not run, so nothing changed
 */
export function assertScope(principal: AdminPrincipal, scope: AdminScope): void {
  if (principal.scopes.has(scope)) return;
  throw new ApiError('api.insufficient_scope', `This needs an admin token with the "${scope}" scope (kith-vendor token create --scopes ${scope})`, { details: { required: scope } });
}

/** The caller of an admin route (adminAccess ran before it). */
export function adminPrincipal(c: Context): AdminPrincipal {
  const principal = c.get('adminPrincipal');
  if (principal === undefined) throw new ApiError('api.unauthorized', 'Admin API needs a bearer token');
  return principal;
}

/**
 * A route's own check, for a route that wants to say it in place as well (a console route:
 * `app.get('/admin/console/...', requireScope('console'), handler)`); adminAccess has checked the
 * table's scope already.
 */
export function requireScope(scope: AdminScope): MiddlewareHandler {
  return async (c, next) => {
    assertScope(adminPrincipal(c), scope);
    await next();
  };
}

/**
 * Who may call the admin routes: a known bearer token (else 401 `api.unauthorized`) holding the
 * scope the table names for the route Hono matched (else 403 `api.insufficient_scope`). The
 * route is found by Hono's own matching, so no path the router would serve escapes the table;
 * a matched route the table lacks needs every scope (fail closed; the start-up check stops that
 * happening). A path no route serves gets its 404 once the token is known.
 */
export function adminAccess(credentials: AdminCredentials): MiddlewareHandler {
  return async (c, next) => {
    const principal = credentials.authenticate(bearerToken(c.req.header('authorization')));
    if (!principal) throw new ApiError('api.unauthorized', 'The admin API needs an admin bearer token');
    c.set('adminPrincipal', principal);
    const route = matchedRoutes(c).findLast((r) => r.method !== 'ALL');
    if (route) {
      const scope = ADMIN_ROUTE_SCOPES[routeKey(route.method, route.path)];
      for (const needed of scope === undefined ? ADMIN_SCOPES : [scope]) assertScope(principal, needed);
    }
    await next();
  };
}

/**
 * Every admin route an app registered must be in the table.
 * @throws Error naming the routes that are not, so a forgotten route stops the start
 */
export function checkAdminRouteScopes(routes: readonly { method: string; path: string }[], isAdmin: (path: string) => boolean): void {
  const missing = routes.filter((r) => r.method !== 'ALL' && isAdmin(r.path) && ADMIN_ROUTE_SCOPES[routeKey(r.method, r.path)] === undefined).map((r) => routeKey(r.method, r.path));
  if (missing.length > 0) throw new Error(`Admin routes without a scope in ADMIN_ROUTE_SCOPES (src/company/http/adminScopes.ts): ${[...new Set(missing)].join(', ')}`);
}
