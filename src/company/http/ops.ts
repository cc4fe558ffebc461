import type { Hono } from 'hono';
import { bearerToken, tokensEqual } from '../../core/bearer.js';
import { ApiError } from '../../core/errors.js';
import type { CompanyMetrics } from '../metrics.js';

/** Which work a company process does (`kith-vendor serve --role`). */
export const COMPANY_ROLES = ['all', 'http', 'worker'] as const;
export type CompanyRole = (typeof COMPANY_ROLES)[number];

export interface OpsOptions {
  name: string;
  role: CompanyRole;
  adminToken: string;
  /** Ready to take work: the store answers and the process is not stopping. */
  readiness(): Promise<{ ready: true } | { ready: false; reason: string }>;
  metrics: CompanyMetrics;
}

/**
 * What a load balancer and Prometheus ask every company process, whatever its role: /health (the
 * process is up; no store access), /ready (it can take work: 503 while stopping or when the store
 * does not answer, so that traffic drains before a shutdown), /metrics (Prometheus text format,
 * behind the admin token like the admin API).
 */
export function registerOpsRoutes(app: Hono, options: OpsOptions): void {
  app.get('/health', (c) => c.json({ ok: true, name: options.name, role: options.role }));
  app.get('/ready', async (c) => {
    const state = await options.readiness();
    return c.json(state, state.ready ? 200 : 503);
  });
  app.get('/metrics', async (c) => {
    if (!tokensEqual(bearerToken(c.req.header('authorization')), options.adminToken)) throw new ApiError('api.unauthorized', 'Metrics need the admin bearer token');
    const { body, contentType } = await options.metrics.text();
    return c.body(body, 200, { 'content-type': contentType });
  });
}
