import { systemClock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import { checkOwnEndpoint, newInstanceId, registerInstanceRoute } from '../core/endpointCheck.js';
import { listen } from '../core/listen.js';
import { createRejectionLog } from '../core/rejectionLog.js';
import { createDidResolver } from '../protocol/did/resolver.js';
import { tokensFileCredentials } from './adminTokens.js';
import { createCompanyAgent, type CompanyAgent } from './createCompanyAgent.js';
import { checkServePort, publishedEndpoint } from './endpoint.js';
import type { CompanyHome } from './home.js';
import { createCompanyApp, createOpsApp } from './http/app.js';
import type { CompanyRole } from './http/ops.js';
import { createCompanyMetrics } from './metrics.js';

export { COMPANY_ROLES, type CompanyRole } from './http/ops.js';

export interface RunningCompany {
  agent: CompanyAgent;
  url: string;
  port: number;
  role: CompanyRole;
  stop(): Promise<void>;
}

export interface CompanyServerOptions {
  logger: Logger;
  /**
   * `http` receives (DIDComm, invitation, admin API), `worker` works the queues (outbox, connector
   * events, sweeps, replay pruning), `all` does both. Any number of each may run over one
   * PostgreSQL store: every claim is leased (docs/deploy.md).
   */
  role?: CompanyRole;
  /** How often queued messages are retried; tests shorten it. */
  outboxIntervalMs?: number;
  /** How often open intents past their end are marked expired (default one minute). */
  intentExpiryIntervalMs?: number;
  /** The port `serve --port` asked for; default config.port. Checked against the published endpoint (endpoint.ts). */
  port?: number;
  /**
   * After listening, fetch the published endpoint and require it to answer as this process; and
   * refuse a port that contradicts it. Default true; false when a proxy or another replica serves
   * the published URL on purpose (`--no-endpoint-check`). A worker publishes nothing and skips both.
   */
  endpointCheck?: boolean;
}

/**
 * Runs a company home as one process: the HTTP endpoint and/or the background work, by role, with
 * /health, /ready and /metrics whatever the role. Stopping finishes the work in flight first.
 */
export async function startCompanyServer(home: CompanyHome, options: CompanyServerOptions): Promise<RunningCompany> {
  const { config } = home;
  const { logger } = options;
  const role = options.role ?? 'all';
  const checkEndpoint = role !== 'worker' && options.endpointCheck !== false;
  if (checkEndpoint) {
    try {
      checkServePort(home, { configuredPort: config.port, askedPort: options.port });
    } catch (error) {
      await home.store.close();
      throw error;
    }
  }
  const instance = newInstanceId();
  const resolver = createDidResolver({ allowInsecureLoopback: config.allowInsecureDidWebLoopback });
  const metrics = createCompanyMetrics(home.store, { role });
  const agent = createCompanyAgent({
    name: config.name,
    publicUrl: config.publicUrl,
    store: home.store,
    identity: home.identity,
    policy: home.policy,
    resolver,
    logger,
    metrics,
    maxMessageBytes: config.maxMessageBytes,
    clockSkewMs: config.clockSkewSeconds * 1000,
  });
  // A policy naming an agreement no roster has must stop the start, not the first connection.
  await agent.publishedTerms();

  let stopping = false;
  const readiness = async () => {
    if (stopping) return { ready: false as const, reason: 'stopping' };
    try {
      await home.store.getIdentity();
      return { ready: true as const };
    } catch {
      return { ready: false as const, reason: 'the store does not answer' };
    }
  };
  const ops = { role, readiness, metrics };
  // The scoped tokens of tokens.json (`kith-vendor token create`), read again when the file changes.
  const scopedTokens = tokensFileCredentials(home.dir, (code) => logger.warn('admin_tokens_unreadable', { code }));
  const rejectionLog = createRejectionLog({ logger });
  const app =
    role === 'worker'
      ? createOpsApp({ ...ops, name: config.name, adminToken: home.adminToken, scopedTokens, logger })
      : createCompanyApp({ agent, adminToken: home.adminToken, scopedTokens, maxMessageBytes: config.maxMessageBytes, logger, ops, rejectionLog, ...(home.didDocument ? { didDocument: home.didDocument } : {}) });
  registerInstanceRoute(app, instance);
  // No route takes more than maxBodyBytes; a company that raised maxMessageBytes above it meant that size.
  const limits = { ...config.limits, maxBodyBytes: Math.max(config.limits.maxBodyBytes, config.maxMessageBytes) };
  const listening = await listen(app, options.port ?? config.port, config.host, limits);
  metrics.watchHttpLimits(listening.limitCounts);
  if (checkEndpoint) {
    const published = publishedEndpoint(home).replace(/\/didcomm$/, '');
    try {
      await checkOwnEndpoint({ published, instance, fix: `Serve where publicUrl in config.json points (port ${config.port}), stop whatever else listens there, or pass --no-endpoint-check if a proxy serves it on purpose.` });
    } catch (error) {
      await listening.close();
      await home.store.close();
      throw error;
    }
  } else if (role !== 'worker') logger.warn('endpoint_check_skipped', { port: listening.port });

  // The background work, one round at a time; stopping waits for the round in flight.
  let running: Promise<unknown> = Promise.resolve();
  const timers: NodeJS.Timeout[] = [];
  const every = (ms: number, work: () => Promise<unknown>, what: string) => {
    // A round still in flight when the next is due (a slow company system) is not joined by another:
    // two rounds would deliver the same claimed items side by side.
    let inFlight = false;
    const round = () => {
      if (stopping || inFlight) return;
      inFlight = true;
      const done = work()
        .catch((error: unknown) => logger.warn(`${what}_failed`, { reason: error instanceof Error ? error.message.slice(0, 200) : 'unknown' }))
        .finally(() => {
          inFlight = false;
        });
      running = Promise.all([running, done]);
    };
    round();
    const timer = setInterval(round, ms);
    timer.unref();
    timers.push(timer);
  };
  if (role !== 'http') {
    every(options.outboxIntervalMs ?? 1000, () => Promise.all([agent.deliverDue(), agent.dispatchEvents(), home.store.pruneSeenMessages(systemClock.now())]), 'outbox_tick');
    // Intents past their end and consents past their retention are swept once a minute: nothing waits on it to the second.
    every(options.intentExpiryIntervalMs ?? 60_000, () => Promise.all([agent.intents.expireDue(), agent.expireRetention()]), 'expiry_sweep');
  }
  logger.info('company_started', { port: listening.port, role });

  return {
    agent,
    url: `http://${config.host}:${listening.port}`,
    port: listening.port,
    role,
    async stop() {
      stopping = true;
      for (const timer of timers) clearInterval(timer);
      await running;
      await listening.close();
      rejectionLog.flush(); // the refusals left out of the log are counted before it ends
      await home.store.close();
      logger.info('company_stopped', { role });
    },
  };
}
