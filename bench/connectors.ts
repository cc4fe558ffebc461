/**
 * The connector bench (`KITH_BENCH_ONLY=connectors`): how fast a company hands its events to its own
 * systems through the Standard Webhooks connector, against the least any webhook sender must do.
 *
 * - **baseline**: per event, the spec's body (`{type, timestamp, data}`), its HMAC-SHA256
 *   signature on node:crypto, and one POST over a kept-alive node:http connection, 8 in flight
 *   (the dispatcher delivers 8 relationships' events at a time, over the connector's 8 sockets);
 *   the same one at a time is printed for information.
 * - **kith**: the company store's `connector_events` outbox filled with the events beforehand (not
 *   measured; in the real agent they are written in the transaction of the change they report),
 *   then the real `ConnectorDispatcher` and webhook connector drain it: claim under a lease, the
 *   delivery state per connector, the POST, the event marked dispatched. On SQLite, and on
 *   PostgreSQL when one is available (its server's CPU is not in the figure).
 *
 * Both post to the same bare receiver in another process (bench/bareListeners.ts). The bench's
 * own process does the sending, so its CPU per event is the sender's cost. See bench/README.md.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { systemClock } from '../src/core/clock.js';
import { silentLogger } from '../src/core/log.js';
import { DEFAULT_RETRY } from '../src/core/retry.js';
import { ConnectorDispatcher } from '../src/company/connectors/dispatcher.js';
import { webhookConnector } from '../src/company/connectors/webhook.js';
import { openPostgresCompanyStore } from '../src/company/store/postgres.js';
import { openSqliteCompanyStore } from '../src/company/store/sqlite.js';
import type { CompanyStore, ConnectorEvent } from '../src/company/store/types.js';
import { startThrowawayPostgres } from '../test/support/postgres.js';
import type { BareEvent, BareStart } from './bareListeners.js';
import { printTable } from './measure.js';

export interface ConnectorBenchOptions {
  events: number;
}

interface Row {
  name: string;
  events: number;
  ms: number;
  cpuMs: number;
}

/** What a `profile.updated` event carries: two fields and a version, like a change of address book entry. */
function payloadOf(i: number) {
  return { relationshipId: randomUUID(), customerRef: `C-${String(10_000_000 + i)}`, fields: { email: `person${i}@example.test`, name: `Person ${i}` }, version: 2 };
}

async function timedCpu(work: () => Promise<void>): Promise<{ ms: number; cpuMs: number }> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  await work();
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return { ms, cpuMs: (used.user + used.system) / 1000 };
}

function post(agent: http.Agent, port: number, headers: Record<string, string>, body: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: '127.0.0.1', port, path: '/', method: 'POST', agent, headers: { ...headers, 'content-length': String(body.length) } }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    });
    request.on('error', reject);
    request.end(body);
  });
}

/** The raw sender: body, HMAC-SHA256 signature and POST per event, `inFlight` at a time. */
async function rawSend(port: number, events: number, inFlight: number): Promise<void> {
  const key = randomBytes(32);
  const agent = new http.Agent({ keepAlive: true, maxSockets: inFlight });
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < events; i = next++) {
      const id = randomUUID();
      const timestamp = Math.floor(Date.now() / 1000);
      const body = JSON.stringify({ type: 'profile.updated', timestamp: new Date().toISOString(), data: payloadOf(i) });
      const signature = `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`, 'utf8').digest('base64')}`;
      const status = await post(agent, port, { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': signature }, Buffer.from(body, 'utf8'));
      if (status !== 200) throw new Error(`baseline receiver answered ${status}`);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  agent.destroy();
}

async function fill(store: CompanyStore, events: number): Promise<void> {
  const now = Date.now();
  for (let start = 0; start < events; start += 500) {
    await store.transaction(async (tx) => {
      for (let i = start; i < Math.min(events, start + 500); i += 1) {
        const event: ConnectorEvent = { id: randomUUID(), relationshipId: null, type: 'profile.updated', payload: payloadOf(i), createdAt: now, nextAttemptAt: now, attempts: 0, dispatchedAt: null };
        await tx.enqueueEvent(event);
      }
    });
  }
}

/** Fills the store, then lets the real dispatcher and webhook connector drain it; only the draining is timed. */
async function kithDispatch(store: CompanyStore, port: number, events: number): Promise<{ ms: number; cpuMs: number }> {
  await fill(store, events);
  const connector = webhookConnector.create(
    { type: 'webhook', id: 'webhook', url: `http://127.0.0.1:${port}/`, secrets: [`whsec_${randomBytes(32).toString('base64')}`], timeoutMs: 10_000, maxAttempts: 10 },
    { logger: silentLogger, clock: systemClock },
  );
  const dispatcher = new ConnectorDispatcher(store, [connector], systemClock, silentLogger, DEFAULT_RETRY);
  const timed = await timedCpu(async () => {
    let settled = 0;
    while (settled < events) {
      const round = await dispatcher.dispatchRound();
      if (round.settled === 0 && Object.keys(round.failed).length > 0) throw new Error(`the connector failed: ${JSON.stringify(round.failed)}`);
      settled += round.settled;
    }
  });
  if ((await store.countUndispatchedEvents()) !== 0) throw new Error('events left undispatched');
  return timed;
}

export async function runConnectorBench(options: ConnectorBenchOptions): Promise<void> {
  const { events } = options;
  console.log(`\nConnector bench: ${events} profile.updated events through the Standard Webhooks connector, against signed POSTs on node:crypto + node:http`);
  const receiver: ChildProcess = fork(fileURLToPath(new URL('bareListeners.js', import.meta.url)), [], { execArgv: [], stdio: 'inherit' });
  const listening = new Promise<number>((done) => receiver.once('message', (event: BareEvent) => done(event.ports[0]!)));
  receiver.send({ count: 1, replyBytes: 0 } satisfies BareStart);
  const port = await listening;
  const dir = mkdtempSync(join(tmpdir(), 'kith-bench-connectors-'));
  const rows: Row[] = [];
  const postgres = await startThrowawayPostgres();
  try {
    await rawSend(port, Math.min(500, events), 1); // warm-up: connections, JIT
    rows.push({ name: 'baseline: sign + POST, 8 in flight', events, ...(await timedCpu(() => rawSend(port, events, 8))) });
    rows.push({ name: 'baseline: sign + POST, one at a time (info)', events, ...(await timedCpu(() => rawSend(port, events, 1))) });

    const sqlite = await openSqliteCompanyStore(join(dir, 'company.db'));
    try {
      await kithDispatch(sqlite, port, Math.min(500, events)); // warm-up
      rows.push({ name: 'kith dispatcher + webhook, SQLite', events, ...(await kithDispatch(sqlite, port, events)) });
    } finally {
      await sqlite.close();
    }

    if ('skipped' in postgres) console.log(`PostgreSQL row SKIPPED: ${postgres.skipped}`);
    else {
      const pg = await openPostgresCompanyStore(postgres.url, { schema: `kith_bench_connectors_${process.pid}` });
      try {
        await kithDispatch(pg, port, Math.min(500, events));
        rows.push({ name: 'kith dispatcher + webhook, PostgreSQL', events, ...(await kithDispatch(pg, port, events)) });
      } finally {
        await pg.close();
      }
    }
  } finally {
    receiver.kill();
    rmSync(dir, { recursive: true, force: true });
    if ('stop' in postgres) await postgres.stop();
  }

  printTable(
    ['scenario', 'events', 'seconds', 'events/s', 'sender CPU µs/event'],
    rows.map((r) => [r.name, String(r.events), (r.ms / 1000).toFixed(2), (r.events / (r.ms / 1000)).toFixed(0), ((r.cpuMs * 1000) / r.events).toFixed(0)]),
  );
  const baseline = rows[0]!;
  const rate = (r: Row) => r.events / (r.ms / 1000);
  for (const row of rows.filter((r) => r.name.startsWith('kith'))) {
    console.log(`${row.name}: ratio (kith / baseline, 8 in flight) = ${(rate(row) / rate(baseline)).toFixed(2)}, CPU x${(row.cpuMs / baseline.cpuMs).toFixed(2)} the baseline's per event`);
  }
}
