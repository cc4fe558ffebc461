/**
 * Overload and slow clients (issue 17 item 2) on both agents' real servers, `kith-vendor serve`'s
 * startCompanyServer and `kith serve`'s startPersonalServer, with short limits set as a deployment
 * would (the company's config.json `limits`, her server's `limits` option): each slow or greedy
 * client gets its code or is closed by its deadline, and nothing it sent changes the store or vault.
 * The limits' own matrix is in src/core/httpLimits.test.ts.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { companyConfigSchema } from '../../src/company/config.js';
import { initCompanyHome, openCompanyHome } from '../../src/company/home.js';
import { startCompanyServer, type RunningCompany } from '../../src/company/server.js';
import { snapshotOf } from '../../src/company/store/testing.js';
import { httpLimitsSchema, type HttpLimitsInput } from '../../src/core/httpLimits.js';
import { silentLogger } from '../../src/core/log.js';
import { vaultPath } from '../../src/personal/home.js';
import { startPersonalServer, type RunningPersonalAgent } from '../../src/personal/server.js';
import { Vault } from '../../src/personal/vault/vault.js';
import { freePort } from '../support/processes.js';
import { packAs, sendAs } from '../support/disclosure.js';
import { createPeerIdentity } from '../../src/protocol/agent/identity.js';
import { systemClock } from '../../src/core/clock.js';
import { buildMessage } from '../../src/protocol/buildMessage.js';
import { BasicMessage, Connect } from '../../src/protocol/families/index.js';

const SHORT: HttpLimitsInput = {
  headersTimeoutMs: 400,
  bodyTimeoutMs: 800,
  bodyGraceMs: 300,
  minBodyBytesPerSecond: 2_000,
  perPeer: { requestsPerSecond: 1, requestBurst: 30 },
};

let root: string;
let company: RunningCompany;
let companyHome: Awaited<ReturnType<typeof initCompanyHome>>;
let her: RunningPersonalAgent;
let vault: Vault;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'kith-overload-'));
  const port = await freePort();
  companyHome = await initCompanyHome(join(root, 'company'), { name: 'Overload Ltd', port });
  // As a deployment sets them in config.json: parsed by the config's own schema.
  const config = companyConfigSchema.parse({ ...companyHome.config, limits: SHORT });
  company = await startCompanyServer({ ...companyHome, config }, { logger: silentLogger, role: 'http' });

  const home = join(root, 'her');
  mkdirSync(home, { recursive: true });
  vault = Vault.create(vaultPath(home), 'correct horse battery staple', { kdf: { N: 2 ** 12 } });
  const uiDir = join(root, 'ui');
  mkdirSync(uiDir, { recursive: true });
  writeFileSync(join(uiDir, 'index.html'), '<!doctype html><title>kith</title>');
  her = await startPersonalServer({ home, vault, port: 0, logger: silentLogger, idleLockMs: 0, uiDir, pickupIntervalMs: 60_000, limits: SHORT });
});

afterAll(async () => {
  await her?.stop();
  vault?.close();
  await company?.stop();
  rmSync(root, { recursive: true, force: true });
});

function rawClient(port: number, localAddress: string): { socket: Socket; answer: (waitMs: number) => Promise<{ text: string; closed: boolean }> } {
  const socket = connect({ port, host: '127.0.0.1', localAddress });
  socket.on('error', () => undefined);
  let text = '';
  socket.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  const ended = new Promise<true>((resolve) => socket.on('close', () => resolve(true)));
  return {
    socket,
    answer: async (waitMs) => {
      const closed = await Promise.race([ended, new Promise<false>((r) => setTimeout(() => r(false), waitMs))]);
      return { text, closed };
    },
  };
}
const statusOf = (text: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
const codeOf = (text: string) => (/"code":"([^"]+)"/.exec(text) ?? [])[1];

/** A body trickled a byte every 50 ms: cut by the rate rule, 408 api.body_timeout, closed. */
async function trickledBody(port: number, path: string, localAddress: string, headers = ''): Promise<{ status: number; code: string | undefined; closed: boolean }> {
  const client = rawClient(port, localAddress);
  client.socket.write(`POST ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n${headers}Content-Length: 2000\r\n\r\n`);
  const trickle = setInterval(() => client.socket.writable && client.socket.write('{'), 50);
  const { text, closed } = await client.answer(4_000);
  clearInterval(trickle);
  return { status: statusOf(text), code: codeOf(text), closed };
}

/** A declared 10 MB body: the answer must come before any of it is sent. */
async function tenMegabytes(port: number, path: string, localAddress: string, headers = ''): Promise<{ status: number; code: string | undefined; closed: boolean; sent: number }> {
  const client = rawClient(port, localAddress);
  client.socket.write(`POST ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n${headers}Content-Length: ${10 * 1024 * 1024}\r\n\r\n`);
  const { text, closed } = await client.answer(3_000);
  return { status: statusOf(text), code: codeOf(text), closed, sent: client.socket.bytesWritten };
}

function get(port: number, path: string, localAddress: string, headers: Record<string, string> = {}): Promise<{ status: number; retryAfter: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ port, host: '127.0.0.1', localAddress, path, agent: false, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the company server (kith-vendor serve) under slow and greedy clients', () => {
  it('cuts a trickled body on /didcomm and on an admin route: 408 api.body_timeout, closed, store unchanged', async () => {
    const before = await snapshotOf(companyHome.store);
    expect(await trickledBody(company.port, '/didcomm', '127.0.0.11')).toEqual({ status: 408, code: 'api.body_timeout', closed: true });
    const auth = `Authorization: Bearer ${companyHome.adminToken}\r\nContent-Type: application/json\r\n`;
    expect(await trickledBody(company.port, '/admin/relationships/x/messages', '127.0.0.12', auth)).toEqual({ status: 408, code: 'api.body_timeout', closed: true });
    expect(await snapshotOf(companyHome.store)).toEqual(before);
  });

  it('answers a declared 10 MB body 413 before reading it, on /didcomm and the admin API', async () => {
    const before = await snapshotOf(companyHome.store);
    for (const path of ['/didcomm', '/admin/relationships/x/messages']) {
      const answer = await tenMegabytes(company.port, path, '127.0.0.13', `Authorization: Bearer ${companyHome.adminToken}\r\n`);
      expect(answer).toMatchObject({ status: 413, code: 'envelope.too_large', closed: true });
      expect(answer.sent).toBeLessThan(300);
    }
    expect(await snapshotOf(companyHome.store)).toEqual(before);
  });

  it('answers a burst from one address 429 with Retry-After while another address gets through', async () => {
    const answers = [];
    for (let i = 0; i < 40; i++) answers.push(await get(company.port, '/invite', '127.0.0.14'));
    const refused = answers.filter((a) => a.status === 429);
    expect(answers.filter((a) => a.status === 200).length).toBe(30);
    expect(refused.length).toBe(10);
    for (const r of refused) expect(Number(r.retryAfter)).toBeGreaterThanOrEqual(1);
    expect((await get(company.port, '/invite', '127.0.0.15')).status).toBe(200);
    expect((await get(company.port, '/.well-known/kith-terms', '127.0.0.15')).status).toBe(200);
  });

  it('counts what its limits refused in /metrics, by reason', async () => {
    const text = await new Promise<string>((resolve, reject) => {
      const req = httpRequest({ port: company.port, host: '127.0.0.1', localAddress: '127.0.0.16', path: '/metrics', agent: false, headers: { authorization: `Bearer ${companyHome.adminToken}` } }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString('utf8')));
        res.on('end', () => resolve(body));
      });
      req.on('error', reject);
      req.end();
    });
    // The tests above: two trickled bodies, two declared 10 MB bodies, ten requests over the burst.
    expect(text).toMatch(/^kith_company_http_refused_total\{reason="body_timeout",role="http"\} 2$/m);
    expect(text).toMatch(/^kith_company_http_refused_total\{reason="too_large",role="http"\} 2$/m);
    expect(text).toMatch(/^kith_company_http_refused_total\{reason="rate_limited",role="http"\} 10$/m);
    expect(text).toMatch(/^kith_company_http_refused_total\{reason="overloaded",role="http"\} 0$/m);
  });

  it('refuses limits that make no sense in config.json (config.invalid at start, not a silent default)', async () => {
    const dir = join(root, 'bad-limits');
    const made = await initCompanyHome(dir, { name: 'Bad Limits Ltd', port: 7999 });
    await made.store.close();
    const configFile = join(dir, 'config.json');
    const good = JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, unknown>;
    writeFileSync(configFile, JSON.stringify({ ...good, limits: { maxInFlight: 0 } }));
    await expect(openCompanyHome(dir)).rejects.toMatchObject({ code: 'config.invalid', message: expect.stringContaining('limits.maxInFlight') });
    writeFileSync(configFile, JSON.stringify({ ...good, limits: { bodyTimeoutMs: 1234 } }));
    const opened = await openCompanyHome(dir);
    expect(opened.config.limits).toEqual(httpLimitsSchema.parse({ bodyTimeoutMs: 1234 }));
    await opened.store.close();
    expect(companyConfigSchema.safeParse({ ...companyHome.config, limits: { maxInFlight: 0 } }).success).toBe(false);
    expect(companyConfigSchema.safeParse({ ...companyHome.config, limits: { perPeer: { burst: 5 } } }).success).toBe(false);
    expect(companyConfigSchema.parse({ ...companyHome.config, limits: undefined }).limits).toEqual(httpLimitsSchema.parse({}));
  });
});

describe('her server (kith serve) under slow and greedy clients', () => {
  it('cuts a trickled body on a DIDComm route and on the local API: 408, closed, vault unchanged', async () => {
    const before = vault.snapshot();
    expect(await trickledBody(her.port, '/didcomm/not-a-route', '127.0.0.21')).toEqual({ status: 408, code: 'api.body_timeout', closed: true });
    const auth = `Authorization: Bearer ${her.token}\r\nContent-Type: text/vcard\r\n`;
    expect(await trickledBody(her.port, '/api/profile/vcard', '127.0.0.22', auth)).toEqual({ status: 408, code: 'api.body_timeout', closed: true });
    expect(vault.snapshot()).toEqual(before);
  });

  it('answers a declared 10 MB body 413 before reading it', async () => {
    const before = vault.snapshot();
    const answer = await tenMegabytes(her.port, '/didcomm/not-a-route', '127.0.0.23');
    expect(answer).toMatchObject({ status: 413, code: 'envelope.too_large', closed: true });
    expect(answer.sent).toBeLessThan(300);
    expect(vault.snapshot()).toEqual(before);
  });

  it('answers a burst from one address 429 with Retry-After while another address gets through', async () => {
    const auth = { authorization: `Bearer ${her.token}` };
    const answers = [];
    for (let i = 0; i < 40; i++) answers.push(await get(her.port, '/api/relationships', '127.0.0.24', auth));
    expect(answers.filter((a) => a.status === 200).length).toBe(30);
    for (const r of answers.filter((a) => a.status !== 200)) expect(r).toMatchObject({ status: 429 });
    expect((await get(her.port, '/api/relationships', '127.0.0.25', auth)).status).toBe(200);
  });
});

describe('many concurrent senders against a saturated company', () => {
  it('stores every message it answered 2xx, refuses the rest 429/503 unstored, and retries land all exactly once', async () => {
    const port = await freePort();
    const home = await initCompanyHome(join(root, 'busy'), { name: 'Busy Ltd', port });
    const config = companyConfigSchema.parse({ ...home.config, limits: { maxInFlight: 3, perPeer: { requestsPerSecond: 5, requestBurst: 10 } } });
    const busy = await startCompanyServer({ ...home, config }, { logger: silentLogger, role: 'http' });
    try {
      const target = { did: busy.agent.did, didcommUrl: `${busy.url}/didcomm` };
      // Three customers, each from its own loopback address, 20 messages each, all at once: twice the
      // burst, so some are refused however fast or slow the machine is.
      const customers = await Promise.all(
        [1, 2, 3].map(async (n) => {
          const identity = createPeerIdentity('http://127.0.0.1:9/didcomm/none').identity;
          expect((await sendAs(identity, target, Connect.request.type, {})).response.status).toBe(200);
          const relationship = await home.store.findRelationshipByDid(identity.did);
          const messages = await Promise.all(
            Array.from({ length: 20 }, async (_, i) => {
              const message = buildMessage({ type: BasicMessage.message.type, from: identity.did, to: busy.agent.did, body: { content: `#${i} from ${n}` } }, systemClock);
              return { id: message.id, packed: await packAs(identity, message) };
            }),
          );
          return { address: `127.0.0.${30 + n}`, relationshipId: relationship!.id, messages };
        }),
      );
      const storedIds = async (relationshipId: string) => (await busy.agent.messages(relationshipId, { limit: 1000 })).map((m) => m.messageId);
      const refusals = new Map<number, number>();
      const send = async (address: string, relationshipId: string, id: string, packed: string): Promise<void> => {
        for (;;) {
          const answer = await postFrom(busy.port, address, packed);
          if (answer.status === 202 || answer.status === 200) {
            expect(await storedIds(relationshipId)).toContain(id); // acknowledged means stored
            return;
          }
          expect([429, 503]).toContain(answer.status);
          expect(Number(answer.retryAfter)).toBeGreaterThanOrEqual(1);
          expect(await storedIds(relationshipId)).not.toContain(id); // refused means not stored
          refusals.set(answer.status, (refusals.get(answer.status) ?? 0) + 1);
          await new Promise((r) => setTimeout(r, 50)); // the test's short wait instead of the whole Retry-After
        }
      };
      await Promise.all(customers.flatMap((c) => c.messages.map((m) => send(c.address, c.relationshipId, m.id, m.packed))));
      expect([...refusals.values()].reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
      for (const customer of customers) {
        const ids = await storedIds(customer.relationshipId);
        expect(ids.slice().sort()).toEqual(customer.messages.map((m) => m.id).sort());
      }
    } finally {
      await busy.stop();
    }
  });
});

function postFrom(port: number, localAddress: string, body: string): Promise<{ status: number; retryAfter: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { port, host: '127.0.0.1', localAddress, method: 'POST', path: '/didcomm', agent: false, headers: { 'content-type': 'application/didcomm-encrypted+json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
