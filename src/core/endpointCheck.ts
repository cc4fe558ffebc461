import { randomBytes } from 'node:crypto';
import type { Hono } from 'hono';
import { z } from 'zod';
import { ConfigError } from './errors.js';

/*
 * An agent's published endpoint (the service endpoint in its DIDs) must reach this very process:
 * otherwise every message to it goes elsewhere, silently. After listening, each agent fetches
 * `<published base>/.well-known/kith-instance` and compares the id it gets with its own, a random
 * one made for this process. A 200 from whatever else listens there is not enough: another
 * program, or another agent left running on the old port, would pass that.
 */

export const INSTANCE_PATH = '/.well-known/kith-instance';

const instanceSchema = z.object({ instance: z.string().max(100) });

/** A fresh random id for this process: 128 bits, base64url. Public, and worth nothing to anyone else. */
export function newInstanceId(): string {
  return randomBytes(16).toString('base64url');
}

/** Serves this process's instance id (GET, no authentication: it only says "this is me"). */
export function registerInstanceRoute(app: Hono, instance: string): void {
  app.get(INSTANCE_PATH, (c) => c.json({ instance }, 200, { 'cache-control': 'no-store' }));
}

/** `<base>/.well-known/kith-instance`, keeping any path of the base (a proxy may map a prefix). */
export function instanceUrl(base: string): string {
  return `${base.replace(/\/+$/, '')}${INSTANCE_PATH}`;
}

export interface EndpointCheck {
  /** The published base URL (the endpoint's origin and prefix, without /didcomm). */
  published: string;
  /** This process's instance id. */
  instance: string;
  /** What to tell her or the operator to do about a failure (the flag or config key). */
  fix: string;
  timeoutMs?: number;
  fetchImpl?: typeof fetch;
}

/**
 * Fetches the published endpoint's instance id and requires it to be this process's.
 * @throws ConfigError `config.endpoint_unreachable` (nothing answers, or not with an instance id),
 *   `config.endpoint_not_ours` (another process answers there)
 */
export async function checkOwnEndpoint(check: EndpointCheck): Promise<void> {
  const url = instanceUrl(check.published);
  const fetchImpl = check.fetchImpl ?? fetch;
  let body: unknown;
  let status: number;
  try {
    const response = await fetchImpl(url, { signal: AbortSignal.timeout(check.timeoutMs ?? 5_000), redirect: 'error', headers: { accept: 'application/json' } });
    status = response.status;
    body = response.ok ? await response.json().catch(() => undefined) : undefined;
  } catch (cause) {
    throw new ConfigError('config.endpoint_unreachable', `The published endpoint ${check.published} does not answer (${cause instanceof Error ? cause.message : 'no answer'}). ${check.fix}`, {
      details: { published: check.published },
      cause,
    });
  }
  const parsed = instanceSchema.safeParse(body);
  if (!parsed.success) {
    throw new ConfigError('config.endpoint_not_ours', `Something else answers at the published endpoint ${check.published} (HTTP ${status}, not this agent). ${check.fix}`, {
      details: { published: check.published, status },
    });
  }
  if (parsed.data.instance !== check.instance) {
    throw new ConfigError('config.endpoint_not_ours', `Another Kith agent process answers at the published endpoint ${check.published}, not this one. ${check.fix}`, {
      details: { published: check.published, status },
    });
  }
}
