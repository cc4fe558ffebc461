import { systemClock } from '../core/clock.js';
import { newToken } from '../core/ids.js';
import { listen } from '../core/listen.js';
import type { Logger } from '../core/log.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../protocol/envelope/receive.js';
import { createPersonalAgent, type PersonalAgent } from './createPersonalAgent.js';
import { removeRunningAgent, writeRunningAgent } from './home.js';
import { createLocalApi } from './http/localApi.js';
import type { Vault } from './vault/vault.js';

export interface PersonalServerOptions {
  home: string;
  vault: Vault;
  port: number;
  logger: Logger;
  maxMessageBytes?: number;
  /** How often to fetch what companies queued (ms). */
  pickupIntervalMs?: number;
  /** How often to retry her queued messages (ms). */
  outboxIntervalMs?: number;
}

export interface RunningPersonalAgent {
  agent: PersonalAgent;
  url: string;
  port: number;
  token: string;
  stop(): Promise<void>;
}

/**
 * `kith serve`: the local API and DIDComm endpoint on 127.0.0.1, a fresh token each start (left in
 * `<home>/agent.json`, mode 0600, for the CLI), and background pickup and outbox retries.
 */
export async function startPersonalServer(options: PersonalServerOptions): Promise<RunningPersonalAgent> {
  const { vault, logger } = options;
  const token = newToken();
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  let port = options.port;
  const agent = createPersonalAgent({ vault, inboundBaseUrl: () => `http://127.0.0.1:${port}`, logger, maxMessageBytes });
  const app = createLocalApi({ agent, token, port: () => port, maxMessageBytes, logger });
  const listening = await listen(app, options.port, '127.0.0.1');
  port = listening.port;
  const url = `http://127.0.0.1:${port}`;
  writeRunningAgent(options.home, { url, port, token, pid: process.pid });

  let stopping = false;
  let inFlight: Promise<unknown> = Promise.resolve();
  const run = (what: string, work: () => Promise<unknown>) => {
    if (stopping) return;
    inFlight = inFlight.then(work).catch((error: unknown) => logger.warn(`${what}_failed`, { reason: error instanceof Error ? error.name : 'unknown' }));
  };
  const pickup = () => run('pickup', () => agent.pickup());
  const outbox = () =>
    run('outbox', async () => {
      await agent.deliverOutbox();
      vault.seen.prune(systemClock.now());
    });
  // Coming back online: fetch what waited, then send what she wrote while companies were down.
  pickup();
  outbox();
  const timers = [setInterval(pickup, options.pickupIntervalMs ?? 30_000), setInterval(outbox, options.outboxIntervalMs ?? 2_000)];
  for (const timer of timers) timer.unref();
  logger.info('personal_agent_started', { port });

  return {
    agent,
    url,
    port,
    token,
    async stop() {
      stopping = true;
      for (const timer of timers) clearInterval(timer);
      await inFlight;
      await listening.close();
      removeRunningAgent(options.home);
      vault.close();
      logger.info('personal_agent_stopped');
    },
  };
}
