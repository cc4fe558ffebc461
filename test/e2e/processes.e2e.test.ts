import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createPeerIdentity, type LocalIdentity } from '../../src/protocol/agent/identity.js';
import { BasicMessage, Connect, Intent } from '../../src/protocol/families/index.js';
import { postEnvelopeRaw, startPersonal } from '../support/agents.js';
import { packAs } from '../support/disclosure.js';
import { buildMessage } from '../../src/protocol/buildMessage.js';
import { systemClock } from '../../src/core/clock.js';
import { ensureBuilt, freePort, killAllStarted, runCliOk, startServer, waitFor, type ServerHandle } from '../support/processes.js';

/**
 * Three company processes over one PostgreSQL database, one of them killed with SIGKILL mid-run and
 * started again: A (`--role all`) and B (`--role http`) receive, A and C (`--role worker`) work the
 * queues. Many customers (raw DIDComm senders, not agents, so that the test can send thousands)
 * send 10,000 messages (basic messages and intent casts, the casts raising connector events) to A
 * and B, while the company's clerks queue 1,000 messages for them through B's admin API. A
 * customer's endpoint refuses a copy it already has, as her agent does (message.replayed).
 * Afterwards: every inbound message is stored once, every queued message reached its customer
 * exactly once, and every connector event was dispatched at least once under a stable id. Then 20
 * customers' own agents (in this process) change their email 50 times each while A is killed
 * again: no version is applied twice and each ends at her last.
 * KITH_TEST_PROCESS_MESSAGES sets the number of inbound messages (default 10,000).
 */
const postgresUrl = inject('postgresUrl');
const INBOUND = Number(process.env['KITH_TEST_PROCESS_MESSAGES'] ?? 10_000);
const OUTBOUND = Math.max(10, Math.round(INBOUND / 10));
const CASTS = Math.max(10, Math.round(INBOUND / 20));
const CUSTOMERS = 100;
const CONCURRENCY = 16;
const PEOPLE = 20;
const UPDATES_EACH = 50;

if (!postgresUrl) console.warn('PostgreSQL not available: SKIPPING the three-process company suite (install PostgreSQL 15 or set KITH_TEST_POSTGRES_URL)');

/** A customer's endpoint: accepts each envelope once, and refuses a copy as her agent would. */
function customerEndpoints(): Promise<{ url: string; server: Server; accepted: Map<string, number>; copies: () => number }> {
  const accepted = new Map<string, number>();
  let copies = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const key = createHash('sha256').update(Buffer.concat(chunks)).digest('hex');
      if (accepted.has(key)) {
        copies += 1;
        res.writeHead(409, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 'message.replayed', message: 'Message already received' } }));
        return;
      }
      accepted.set(key, Date.now());
      res.writeHead(202);
      res.end();
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, accepted, copies: () => copies })));
}

describe.skipIf(!postgresUrl)('three company processes over one PostgreSQL, one killed with SIGKILL mid-run', () => {
  let root: string;
  let db: string;
  let schema: string;
  let a: ServerHandle;
  let b: ServerHandle;
  let c: ServerHandle;
  let endpoints: Awaited<ReturnType<typeof customerEndpoints>>;
  let companyDid: string;
  let adminToken: string;
  const home = () => join(root, 'company');
  const env = () => ({ KITH_VENDOR_DB: db, KITH_OUTBOX_INTERVAL_MS: '200' });
  // B answers on its own port while the DID publishes A's: a second replica, on purpose.
  const start = (name: string, port: number, role: string) =>
    startServer('kith-vendor', { home: home(), port, logDir: root, name, env: env(), serveArgs: ['--role', role, ...(role === 'http' ? ['--no-endpoint-check'] : [])] });

  beforeAll(async () => {
    ensureBuilt();
    root = mkdtempSync(join(tmpdir(), 'kith-procs-e2e-'));
    schema = `kith_procs_${process.pid}_${Date.now()}`;
    const admin = new pg.Client({ connectionString: postgresUrl });
    await admin.connect();
    await admin.query(`create schema ${schema}`);
    await admin.end();
    db = `${postgresUrl}${postgresUrl!.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
    const policyFile = join(root, 'policy.json');
    writeFileSync(policyFile, JSON.stringify({ version: 1, terms: { accept: ['intent-only-contact'] }, intents: { categories: ['goods'] } }));
    const [pa, pb, pc] = [await freePort(), await freePort(), await freePort()];
    await runCliOk('kith-vendor', ['init', '--name', 'Many Hands Ltd', '--port', String(pa), '--policy', policyFile], { home: home(), env: env() });
    adminToken = readFileSync(join(home(), 'admin-token'), 'utf8').trim();
    // Its 100 customers all come from 127.0.0.1 here, where a deployment sees 100 addresses: the
    // per-address budget (429 past 100 requests a second) is raised as a deployment behind one
    // proxy address would (docs/deploy.md, "Limits"). The limits' own tests are test/agents/overload.test.ts.
    const configFile = join(home(), 'config.json');
    const config = JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, unknown>;
    writeFileSync(configFile, JSON.stringify({ ...config, limits: { perPeer: { requestsPerSecond: 1_000_000, requestBurst: 1_000_000 } } }, null, 2), { mode: 0o600 });
    [a, b, c] = await Promise.all([start('a', pa, 'all'), start('b', pb, 'http'), start('c', pc, 'worker')]);
    companyDid = (await runCliOk('kith-vendor', ['invite', '--json', '--no-qr'], { home: home(), env: env() })).json<{ invitation: { from: string } }>().invitation.from;
    endpoints = await customerEndpoints();
  }, 60_000);

  afterAll(async () => {
    endpoints?.server.close();
    await killAllStarted();
    const admin = new pg.Client({ connectionString: postgresUrl });
    await admin.connect();
    await admin.query(`drop schema if exists ${schema} cascade`).catch(() => undefined);
    await admin.end();
    if (root) rmSync(root, { recursive: true, force: true });
  }, 60_000);

  it('stores every message once, delivers every queued message exactly once and dispatches every event, across a kill -9', async () => {
    const customers: LocalIdentity[] = Array.from({ length: CUSTOMERS }, (_, i) => createPeerIdentity(`${endpoints.url}/didcomm/c${i}`).identity);
    let aUp = true;
    /** Posts one message (the same id and envelope on every try) to A or B; a copy refused as already received counts as stored. */
    async function send(customer: LocalIdentity, type: string, body: Record<string, unknown>, prefer: 'a' | 'b'): Promise<void> {
      const message = buildMessage({ type, from: customer.did, to: companyDid, body, returnRoute: 'all', id: randomUUID() }, systemClock);
      const packed = await packAs(customer, message);
      for (let attempt = 0; attempt < 50; attempt += 1) {
        const target = prefer === 'a' && aUp && attempt % 2 === 0 ? a : b;
        try {
          const response = await postEnvelopeRaw(`${target.url}/didcomm`, packed);
          if (response.status < 300 || response.json.error?.code === 'message.replayed') return;
          throw new Error(`${type}: ${response.status} ${response.text.slice(0, 200)}`);
        } catch (error) {
          // The process was killed under this request: the same envelope again, elsewhere.
          if (error instanceof Error && error.message.startsWith(type)) throw error;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
      throw new Error(`${type}: not accepted after 50 tries`);
    }

    // Every customer connects (a new pairwise DID each), through B.
    for (const customer of customers) await send(customer, Connect.request.type, {}, 'b');
    const relationships = (await (await fetch(`${b.url}/admin/relationships?limit=1000`, { headers: { authorization: `Bearer ${adminToken}` } })).json()) as { relationships: { id: string; theirDid: string }[] };
    expect(relationships.relationships).toHaveLength(CUSTOMERS);

    // The run: inbound from the customers, clerks queueing messages for them, and A killed and restarted midway.
    const until = new Date(Date.now() + 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    let sent = 0;
    let killed: Promise<void> | undefined;
    const inbound = async (n: number) => {
      const customer = customers[n % CUSTOMERS]!;
      if (n % (INBOUND / CASTS) === 0) {
        await send(customer, Intent.cast.type, { intent_id: randomUUID(), demand: { '@type': 'Demand', description: `Thing number ${n}`, category: 'goods', validThrough: until }, currency_required: false }, n % 2 ? 'a' : 'b');
      } else {
        await send(customer, BasicMessage.message.type, { content: `Message ${n}` }, n % 2 ? 'a' : 'b');
      }
      sent += 1;
      if (sent === Math.round(INBOUND * 0.4) && !killed) {
        killed = (async () => {
          aUp = false;
          await a.kill9();
          a = await start('a-again', a.port, 'all');
          aUp = true;
        })();
      }
    };
    const outbound = async (n: number) => {
      const relationship = relationships.relationships[n % CUSTOMERS]!;
      const response = await fetch(`${b.url}/admin/relationships/${relationship.id}/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ content: `From the company, ${n}` }),
      });
      expect(response.status).toBeLessThan(300);
    };
    // Interleaved: a clerk's message among every ten inbound ones.
    const queue: (() => Promise<void>)[] = [];
    for (let n = 0, out = 0; n < INBOUND; n += 1) {
      queue.push(() => inbound(n));
      if (n % Math.ceil(INBOUND / OUTBOUND) === 0 && out < OUTBOUND) {
        const o = out++;
        queue.push(() => outbound(o));
      }
    }
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        for (let job = queue[next++]; job !== undefined; job = queue[next++]) await job();
      }),
    );
    // A was killed while messages were in flight to it, and started again.
    expect(killed).toBeDefined();
    await killed;

    // Let the workers (A again, and C) drain the queues.
    const client = new pg.Client({ connectionString: db });
    await client.connect();
    try {
      const count = async (sql: string) => Number((await client.query<{ n: string }>(sql)).rows[0]!.n);
      await waitFor('the outbox and the connector events to drain', async () => ((await count('select count(*) as n from outbox')) + (await count('select count(*) as n from connector_events where dispatched_at is null')) === 0 ? true : undefined), {
        timeoutMs: 60_000,
        intervalMs: 250,
      });

      // Every inbound message stored once.
      expect(await count(`select count(*) as n from messages where direction = 'in'`)).toBe(INBOUND - CASTS);
      expect(await count(`select count(distinct message_id) as n from messages where direction = 'in'`)).toBe(INBOUND - CASTS);
      expect(await count('select count(*) as n from intents')).toBe(CASTS);
      // Every queued message reached its customer exactly once (a copy after the kill was refused by the customer and counted as delivered).
      expect(await count(`select count(*) as n from messages where direction = 'out'`)).toBe(OUTBOUND);
      expect(endpoints.accepted.size).toBe(OUTBOUND);
      // Every connector event dispatched, at least once, under the id it was stored with.
      const events = (await client.query<{ id: string }>('select id from connector_events')).rows.map((r) => r.id);
      expect(events).toHaveLength(CASTS);
      const logged = new Set<string>();
      for (const name of ['a', 'a-again', 'c']) {
        for (const line of readFileSync(join(root, `${name}.stderr.log`), 'utf8').split('\n')) {
          const match = /"event":"connector_event".*"eventId":"([^"]+)"/.exec(line);
          if (match) logged.add(match[1]!);
        }
      }
      expect(events.filter((id) => !logged.has(id))).toEqual([]);
      console.info(`three processes: ${INBOUND} inbound, ${OUTBOUND} queued, ${CASTS} events; copies refused by customers after the kill: ${endpoints.copies()}`);
    } finally {
      await client.end();
    }
  }, 300_000);

  it('applies 1,000 profile changes from 20 customers’ own agents: no version twice, the last one always, across another kill -9', async () => {
    const admin = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };
    const people = await Promise.all(Array.from({ length: PEOPLE }, () => startPersonal()));
    try {
      const invitation = (await (await fetch(`${b.url}/admin/invitation`, { headers: admin })).json()) as { url: string };
      // Each connects, is asked for her email through B's admin API, and shares it.
      const theirs = await Promise.all(
        people.map(async (person, i) => {
          person.agent.profile.set({ email: `person${i}.v0@example.org` });
          const view = await person.agent.connect(invitation.url);
          const listed = (await (await fetch(`${b.url}/admin/relationships?limit=1000`, { headers: admin })).json()) as { relationships: { id: string; theirDid: string }[] };
          const relationship = listed.relationships.find((r) => r.theirDid === view.myDid)!;
          const asked = await fetch(`${b.url}/admin/relationships/${relationship.id}/disclosure-requests`, { method: 'POST', headers: admin, body: JSON.stringify({ fields: ['email'], purpose: 'Send you receipts' }) });
          expect(asked.status).toBeLessThan(300);
          const [request] = await waitFor(`person ${i}'s request`, async () => {
            await person.agent.pickup();
            const requests = person.agent.disclosure.requests();
            return requests.length > 0 ? requests : undefined;
          });
          await person.agent.disclosure.approve(request!.id);
          return relationship.id;
        }),
      );

      // Each changes her email 50 times, sending each change at once; A is killed midway and started again.
      let changes = 0;
      let killed: Promise<void> | undefined;
      await Promise.all(
        people.map(async (person, i) => {
          for (let v = 1; v <= UPDATES_EACH; v += 1) {
            person.agent.profile.set({ email: `person${i}.v${v}@example.org` });
            // A change that cannot reach the company now waits in her outbox; the next deliver sends it.
            await person.agent.profile.deliver().catch(() => undefined);
            changes += 1;
            if (changes === Math.round((PEOPLE * UPDATES_EACH) / 2) && !killed) {
              killed = (async () => {
                await a.kill9();
                a = await start('a-third', a.port, 'all');
              })();
            }
          }
        }),
      );
      expect(killed).toBeDefined();
      await killed;
      // A pool: the 20 waits below query at once.
      const client = new pg.Pool({ connectionString: db, max: 4 });
      const companyVersion = async (relationshipId: string) => Number((await client.query<{ version: string }>('select version from profile_versions where relationship_id = $1', [relationshipId])).rows[0]?.version ?? -1);
      // Whatever waited in her outbox while A was down goes now (her retries back off, so she is asked again until it did).
      await Promise.all(
        people.map((person, i) =>
          waitFor(
            `person ${i}'s changes at the company`,
            async () => {
              await person.agent.profile.deliver().catch(() => undefined);
              return (await companyVersion(theirs[i]!)) === person.agent.profile.profile().version ? true : undefined;
            },
            { timeoutMs: 90_000, intervalMs: 250 },
          ),
        ),
      );
      let applied = 0;
      try {
        for (const [i, person] of people.entries()) {
          const relationshipId = theirs[i]!;
          const { version } = person.agent.profile.profile();
          const held = await client.query<{ value: unknown; version: number }>('select value, version from held_fields where relationship_id = $1 and field = $2', [relationshipId, 'email']);
          expect([held.rows[0]!.value, Number(held.rows[0]!.version)]).toEqual([`person${i}.v${UPDATES_EACH}@example.org`, version]);
          const profileVersion = await client.query<{ version: number }>('select version from profile_versions where relationship_id = $1', [relationshipId]);
          expect(Number(profileVersion.rows[0]!.version)).toBe(version);
          // Each version applied once: her agent may fold changes that waited (while A was down) into one
          // notice, but no version reaches the company's systems twice, and the last one is hers.
          const updated = await client.query<{ version: number }>(`select (payload->>'version')::int as version from connector_events where relationship_id = $1 and type = 'profile.updated' order by created_at, id`, [relationshipId]);
          const versions = updated.rows.map((r) => Number(r.version));
          expect(new Set(versions).size).toBe(versions.length);
          expect([...versions].sort((x, y) => x - y)).toEqual(versions);
          expect(versions.at(-1)).toBe(version);
          applied += versions.length;
        }
        console.info(`three processes: ${PEOPLE * UPDATES_EACH} profile changes, ${applied} notices applied (changes that waited are sent together)`);
        expect(applied).toBeGreaterThanOrEqual(PEOPLE);
      } finally {
        await client.end();
      }
    } finally {
      await Promise.all(people.map((person) => person.cleanup()));
    }
    for (const server of [a, b, c]) await server.stop();
  }, 300_000);
});
