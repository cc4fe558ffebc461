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
  /** How often to look for profile updates that are due (ms); a change starts its fan-out at once. */
  profileIntervalMs?: number;
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
  let stopping = false;
  // The fan-out runs apart from pickup and outbox so a slow company cannot hold up either.
  let delivering: Promise<void> | undefined;
  let again = false;
  const deliverProfile = (): void => {
    if (stopping) return;
    if (delivering) {
      again = true;
      return;
    }
    delivering = (async () => {
      do {
        again = false;
        await agent.profile.deliver().catch((error: unknown) => logger.warn('profile_delivery_failed', { reason: error instanceof Error ? error.name : 'unknown' }));
      } while (again && !stopping);
    })().finally(() => {
      delivering = undefined;
    });
  };
  const app = createLocalApi({ agent, token, port: () => port, maxMessageBytes, logger, onProfileChanged: deliverProfile });
  const listening = await listen(app, options.port, '127.0.0.1');
  port = listening.port;
  const url = `http://127.0.0.1:${port}`;
  writeRunningAgent(options.home, { url, port, token, pid: process.pid });

  let inFlight: Promise<unknown> = Promise.resolve();
  const run = (what: string, work: () => Promise<unknown>) => {
    if (stopping) return;
    inFlight = inFlight.then(work).catch((error: unknown) => logger.warn(`${what}_failed`, { reason: error instanceof Error ? error.name : 'unknown' }));
  };
  // A pickup goes company by company; stopping must not wait for every remaining one.
  const stopped = new AbortController();
  const pickup = () => run('pickup', () => agent.pickup({ signal: stopped.signal }));
  const outbox = () =>
    run('outbox', async () => {
      await agent.deliverOutbox();
      vault.seen.prune(systemClock.now());
    });
  // Coming back online: fetch what waited, then send what she wrote while companies were down.
  pickup();
  outbox();
  deliverProfile();
  const timers = [
    setInterval(pickup, options.pickupIntervalMs ?? 30_000),
    setInterval(outbox, options.outboxIntervalMs ?? 2_000),
    setInterval(deliverProfile, options.profileIntervalMs ?? 1_000),
  ];
  for (const timer of timers) timer.unref();
  logger.info('personal_agent_started', { port });

  return {
    agent,
    url,
    port,
    token,
    async stop() {
      stopping = true;
      stopped.abort();
      for (const timer of timers) clearInterval(timer);
      await inFlight;
      await delivering;
      await listening.close();
      removeRunningAgent(options.home);
      vault.close();
      logger.info('personal_agent_stopped');
    },
  };
}
