import { systemClock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import { listen } from '../core/listen.js';
import { createDidResolver } from '../protocol/did/resolver.js';
import { createCompanyAgent, type CompanyAgent } from './createCompanyAgent.js';
import type { CompanyHome } from './home.js';
import { createCompanyApp } from './http/app.js';

export interface RunningCompany {
  agent: CompanyAgent;
  url: string;
  port: number;
  stop(): Promise<void>;
}

export interface CompanyServerOptions {
  logger: Logger;
  /** How often queued messages are retried; tests shorten it. */
  outboxIntervalMs?: number;
  /** How often open intents past their end are marked expired (default one minute). */
  intentExpiryIntervalMs?: number;
}

/** Runs a company home as a server: HTTP endpoint, outbox delivery loop, replay-memory pruning. */
export async function startCompanyServer(home: CompanyHome, options: CompanyServerOptions): Promise<RunningCompany> {
  const { config, logger } = { config: home.config, logger: options.logger };
  const resolver = createDidResolver({ allowInsecureLoopback: config.allowInsecureDidWebLoopback });
  const agent = createCompanyAgent({
    name: config.name,
    publicUrl: config.publicUrl,
    store: home.store,
    identity: home.identity,
    policy: home.policy,
    resolver,
    logger,
    maxMessageBytes: config.maxMessageBytes,
    clockSkewMs: config.clockSkewSeconds * 1000,
  });
  // A policy naming an agreement no roster has must stop the start, not the first connection.
  await agent.publishedTerms();
  const app = createCompanyApp({
    agent,
    adminToken: home.adminToken,
    maxMessageBytes: config.maxMessageBytes,
    logger,
    ...(home.didDocument ? { didDocument: home.didDocument } : {}),
  });
  const listening = await listen(app, config.port, config.host);

  let stopping = false;
  let running: Promise<unknown> = Promise.resolve();
  const tick = () => {
    if (stopping) return;
    running = Promise.all([agent.deliverDue(), agent.dispatchEvents(), home.store.pruneSeenMessages(systemClock.now())]).catch((error: unknown) =>
      logger.warn('outbox_tick_failed', { reason: error instanceof Error ? error.message.slice(0, 200) : 'unknown' }),
    );
  };
  const timer = setInterval(tick, options.outboxIntervalMs ?? 1000);
  timer.unref();
  // Intents past their end are swept once a minute: nothing waits on it to the second.
  const expire = () => {
    if (!stopping) agent.intents.expireDue().catch((error: unknown) => logger.warn('intent_expiry_failed', { reason: error instanceof Error ? error.message.slice(0, 200) : 'unknown' }));
  };
  expire();
  const expiryTimer = setInterval(expire, options.intentExpiryIntervalMs ?? 60_000);
  expiryTimer.unref();
  logger.info('company_started', { port: listening.port });

  return {
    agent,
    url: `http://${config.host}:${listening.port}`,
    port: listening.port,
    async stop() {
      stopping = true;
      clearInterval(timer);
      clearInterval(expiryTimer);
      await running;
      await listening.close();
      await home.store.close();
      logger.info('company_stopped');
    },
  };
}
