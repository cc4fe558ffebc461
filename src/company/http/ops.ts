import type { Hono } from 'hono';
import { adminCredentials, type AdminCredentials } from '../adminTokens.js';
import type { CompanyMetrics } from '../metrics.js';
import { adminAccess } from './adminScopes.js';

/** Which work a company process does (`kith-vendor serve --role`). */
export const COMPANY_ROLES = ['all', 'http', 'worker'] as const;
export type CompanyRole = (typeof COMPANY_ROLES)[number];

export interface OpsOptions {
  name: string;
  role: CompanyRole;
  adminToken: string;
  /** The home's scoped tokens (tokens.json), beside the admin token. */
  scopedTokens?: AdminCredentials;
  /** Ready to take work: the store answers and the process is not stopping. */
  readiness(): Promise<{ ready: true } | { ready: false; reason: string }>;
  metrics: CompanyMetrics;
}

/**
 * What a load balancer and Prometheus ask every company process, whatever its role: /health (the
 * process is up; no store access), /ready (it can take work: 503 while stopping or when the store
 * does not answer, so that traffic drains before a shutdown), /metrics (Prometheus text format,
 * behind an admin token with the `read` scope, like the admin API's GETs).
 */
export function registerOpsRoutes(app: Hono, options: OpsOptions): void {
  app.get('/health', (c) => c.json({ ok: true, name: options.name, role: options.role }));
  app.get('/ready', async (c) => {
    const state = await options.readiness();
    return c.json(state, state.ready ? 200 : 503);
  });
  app.get('/metrics', adminAccess(adminCredentials(options.adminToken, options.scopedTokens)), async (c) => {
    const { body, contentType } = await options.metrics.text();
    return c.body(body, 200, { 'content-type': contentType });
  });
}
