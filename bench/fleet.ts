/**
 * A company fleet: N company agents in ONE process, each with its own home (SQLite store, did:peer,
 * admin token) and its own loopback listener. Test and bench tooling, not a product feature.
 *
 *   node dist/bench/fleet.js --dir DIR --count N --base-name NAME
 *        [--reply-delay-ms MS] [--apply-delay-ms MS] [--port-base P] [--policy FILE] [--quiet]
 *
 * The first run creates `DIR/vendor-000` .. (initCompanyHome; existing fleets
 * keep these names); later runs reopen them on the ports they were created with (a did:peer
 * carries its endpoint, so the port is part of the identity).
 * When every company listens it prints ONE JSON line on stdout:
 *   {"companies":[{"name","url","invitation","adminToken","home"}, ...]}
 * SIGTERM or SIGINT stops every company cleanly (exit 0).
 *
 * `--reply-delay-ms` holds each DIDComm HTTP response AFTER the agent processed the message (the
 * update is applied, the ack is not yet back: the window to kill her agent in).
 * `--apply-delay-ms` holds each DIDComm message BEFORE the agent sees it (the message is on the
 * wire, not yet applied); if the sender hung up meanwhile, the message is dropped unprocessed, as
 * if it had been lost on the way.
 */
import { existsSync, mkdirSync } from 'node:fs';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { createAdaptorServer } from '@hono/node-server';
import { systemClock } from '../src/core/clock.js';
import { createLogger, silentLogger, type Logger } from '../src/core/log.js';
import { createDidResolver } from '../src/protocol/did/resolver.js';
import { createCompanyAgent, type CompanyAgent } from '../src/company/createCompanyAgent.js';
import { initCompanyHome, openCompanyHome, type CompanyHome } from '../src/company/home.js';
import { createCompanyApp } from '../src/company/http/app.js';

export interface FleetOptions {
  dir: string;
  count: number;
  baseName: string;
  /** Delay each DIDComm response after the message was processed (ms). */
  replyDelayMs?: number;
  /** Delay each DIDComm message before it is processed (ms). */
  applyDelayMs?: number;
  /** Company i listens on portBase + i when first created (default: any free port). */
  portBase?: number;
  logger?: Logger;
  /** Outbox / connector-event loop interval (ms), as `kith-vendor serve`'s. */
  tickMs?: number;
  /** A policy file for new homes (as `kith-vendor init --policy`). */
  policyFile?: string;
}

export interface FleetCompany {
  name: string;
  url: string;
  invitation: string;
  adminToken: string;
  home: string;
}

export interface Fleet {
  companies: FleetCompany[];
  agents: CompanyAgent[];
  stop(): Promise<void>;
}

type FetchHandler = (request: Request, env: unknown) => Response | Promise<Response>;

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** Listens first (port 0 picks one), so a new home can be created with the port it will keep. */
function listenOn(port: number, handler: () => FetchHandler): Promise<{ server: Server; port: number }> {
  const server = createAdaptorServer({ fetch: (request: Request, env: unknown) => handler()(request, env) }) as Server;
  return new Promise((done, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      done({ server, port: (server.address() as AddressInfo).port });
    });
  });
}

function delayed(fetch: FetchHandler, options: FleetOptions): FetchHandler {
  const before = options.applyDelayMs ?? 0;
  const after = options.replyDelayMs ?? 0;
  if (before <= 0 && after <= 0) return fetch;
  return async (request, env) => {
    const didcomm = request.method === 'POST' && new URL(request.url).pathname === '/didcomm';
    if (didcomm && before > 0) {
      await sleep(before);
      // The sender hung up while the message was held: it is lost on the wire, never processed.
      if ((env as { incoming?: IncomingMessage }).incoming?.socket.destroyed) return new Response(null, { status: 499 });
    }
    const response = await fetch(request, env);
    if (didcomm && after > 0) await sleep(after);
    return response;
  };
}

async function startOne(index: number, options: FleetOptions, logger: Logger) {
  const home = join(resolve(options.dir), `vendor-${String(index).padStart(3, '0')}`);
  let handler: FetchHandler = () => new Response('starting', { status: 503 });
  let companyHome: CompanyHome;
  let listening: { server: Server; port: number };
  if (existsSync(join(home, 'config.json'))) {
    companyHome = await openCompanyHome(home);
    listening = await listenOn(companyHome.config.port, () => handler);
  } else {
    listening = await listenOn(options.portBase === undefined ? 0 : options.portBase + index, () => handler);
    companyHome = await initCompanyHome(home, { name: `${options.baseName} ${index + 1}`, port: listening.port, ...(options.policyFile ? { policyFile: options.policyFile } : {}) });
  }
  const { config } = companyHome;
  const agent = createCompanyAgent({
    name: config.name,
    publicUrl: config.publicUrl,
    store: companyHome.store,
    identity: companyHome.identity,
    policy: companyHome.policy,
    resolver: createDidResolver(),
    logger,
    maxMessageBytes: config.maxMessageBytes,
    clockSkewMs: config.clockSkewSeconds * 1000,
  });
  const app = createCompanyApp({ agent, adminToken: companyHome.adminToken, maxMessageBytes: config.maxMessageBytes, logger });
  handler = delayed((request, env) => app.fetch(request, env), options);
  const company: FleetCompany = { name: config.name, url: `http://127.0.0.1:${listening.port}`, invitation: agent.invitationUrl(), adminToken: companyHome.adminToken, home };
  return { company, agent, companyHome, server: listening.server };
}

/** Creates or reopens the fleet's homes and serves them all in this process. */
export async function startFleet(options: FleetOptions): Promise<Fleet> {
  const logger = options.logger ?? silentLogger;
  mkdirSync(options.dir, { recursive: true, mode: 0o700 });
  const started: Awaited<ReturnType<typeof startOne>>[] = [];
  try {
    // One after another: a new home's port must be bound before the next one picks its own.
    for (let i = 0; i < options.count; i += 1) started.push(await startOne(i, options, logger));
  } catch (error) {
    for (const one of started) {
      one.server.closeAllConnections();
      one.server.close();
      await one.companyHome.store.close();
    }
    throw error;
  }

  let stopping = false;
  let running: Promise<unknown> = Promise.resolve();
  // What `kith-vendor serve` does in the background: retry the outbox, hand events to connectors, prune.
  const tick = () => {
    if (stopping) return;
    running = Promise.all(
      started.map(({ agent, companyHome }) => Promise.all([agent.deliverDue(), agent.dispatchEvents(), companyHome.store.pruneSeenMessages(systemClock.now())])),
    ).catch((error: unknown) => logger.warn('fleet_tick_failed', { reason: error instanceof Error ? error.message.slice(0, 200) : 'unknown' }));
  };
  const timer = setInterval(tick, options.tickMs ?? 1000);
  timer.unref();

  return {
    companies: started.map((s) => s.company),
    agents: started.map((s) => s.agent),
    async stop() {
      stopping = true;
      clearInterval(timer);
      await running;
      await Promise.all(
        started.map(
          ({ server }) =>
            new Promise<void>((done) => {
              server.close(() => done());
              server.closeAllConnections();
            }),
        ),
      );
      for (const { companyHome } of started) await companyHome.store.close();
    },
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      dir: { type: 'string' },
      count: { type: 'string' },
      'base-name': { type: 'string', default: 'Fleet Company' },
      'reply-delay-ms': { type: 'string', default: '0' },
      'apply-delay-ms': { type: 'string', default: '0' },
      'port-base': { type: 'string' },
      policy: { type: 'string' },
      quiet: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const number = (name: string, text: string | undefined, min: number): number => {
    const value = Number(text);
    if (text === undefined || !Number.isInteger(value) || value < min) throw new Error(`--${name} takes an integer >= ${min}`);
    return value;
  };
  if (!values.dir) throw new Error('--dir is required');
  const tickText = process.env['KITH_OUTBOX_INTERVAL_MS'];
  const fleet = await startFleet({
    dir: values.dir,
    count: number('count', values.count, 1),
    baseName: values['base-name'],
    replyDelayMs: number('reply-delay-ms', values['reply-delay-ms'], 0),
    applyDelayMs: number('apply-delay-ms', values['apply-delay-ms'], 0),
    ...(values['port-base'] !== undefined ? { portBase: number('port-base', values['port-base'], 1) } : {}),
    ...(tickText ? { tickMs: number('KITH_OUTBOX_INTERVAL_MS', tickText, 10) } : {}),
    ...(values.policy ? { policyFile: values.policy } : {}),
    logger: values.quiet ? silentLogger : createLogger(process.stderr, 'fleet'),
  });
  process.stdout.write(`${JSON.stringify({ companies: fleet.companies })}\n`);
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    fleet.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`fleet: stop failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`fleet: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
