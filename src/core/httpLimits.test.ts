import { Agent, request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { respondWithError } from './httpErrors.js';
import { httpLimitsSchema, PeerBudgets, type HttpLimitsInput } from './httpLimits.js';
import { listen, type Listening } from './listen.js';
import { silentLogger } from './log.js';
import { readRequestBody } from './readBody.js';

/**
 * The limits over real sockets: a small app that reads a body with the route limit both agents use
 * (readRequestBody) and "stores" it; each slow or greedy client must get its code or be closed by
 * its deadline, and nothing it sent may be stored.
 */
interface Harness {
  listening: Listening;
  stored: string[];
}

const running: Listening[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((l) => l.close()));
});

async function start(limits: HttpLimitsInput, options: { handlerDelayMs?: number; delayBeforeReadMs?: number } = {}): Promise<Harness> {
  const stored: string[] = [];
  const app = new Hono();
  app.onError((error, c) => respondWithError(c, error, silentLogger));
  app.post('/store', async (c) => {
    if (options.delayBeforeReadMs) await new Promise((r) => setTimeout(r, options.delayBeforeReadMs));
    const body = await readRequestBody(c.req.raw, c.env, 256 * 1024);
    if (options.handlerDelayMs) await new Promise((r) => setTimeout(r, options.handlerDelayMs));
    stored.push(body.toString('utf8'));
    return c.body(null, 202);
  });
  app.get('/ping', (c) => c.json({ ok: true }));
  const listening = await listen(app, 0, '127.0.0.1', httpLimitsSchema.parse(limits));
  running.push(listening);
  return { listening, stored };
}

/** A raw connection; resolves with all the server wrote once it closed the connection (or after `waitMs`). */
function rawClient(port: number, localAddress = '127.0.0.1'): { socket: Socket; answer: (waitMs: number) => Promise<{ text: string; closed: boolean; ms: number }> } {
  const socket = connect({ port, host: '127.0.0.1', localAddress });
  socket.on('error', () => undefined); // a reset after the answer is the server closing on us
  let text = '';
  let closed = false;
  const opened = Date.now();
  socket.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  const ended = new Promise<number>((resolve) => socket.on('close', () => resolve(Date.now() - opened)));
  return {
    socket,
    answer: async (waitMs) => {
      const ms = await Promise.race([ended.then((t) => ((closed = true), t)), new Promise<number>((r) => setTimeout(() => r(-1), waitMs))]);
      return { text, closed, ms };
    },
  };
}

const statusOf = (text: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
const codeOf = (text: string) => (/"code":"([^"]+)"/.exec(text) ?? [])[1];

function post(port: number, body: string, localAddress = '127.0.0.1'): Promise<{ status: number; retryAfter: string | undefined; code: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ port, host: '127.0.0.1', localAddress, method: 'POST', path: '/store', agent: false, headers: { 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'], code: codeOf(text) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('HTTP limits over real sockets', () => {
  it('closes a connection whose headers trickle in past headersTimeoutMs, and stores nothing', async () => {
    const { listening, stored } = await start({ headersTimeoutMs: 300, requestTimeoutMs: 1_000 });
    const client = rawClient(listening.port);
    client.socket.write('POST /store HTTP/1.1\r\nHost: x\r\n');
    const trickle = setInterval(() => client.socket.writable && client.socket.write('X-Slow: a\r\n'), 100);
    const { text, closed, ms } = await client.answer(3_000);
    clearInterval(trickle);
    expect(closed).toBe(true);
    expect(ms).toBeLessThan(2_500);
    // node answers 408 when it still can
    if (text !== '') expect(statusOf(text)).toBe(408);
    expect(stored).toEqual([]);
  });

  it('cuts a Content-Length body trickled slower than the minimum rate: 408 api.body_timeout, closed, nothing stored', async () => {
    const { listening, stored } = await start({ bodyGraceMs: 300, minBodyBytesPerSecond: 1_000, bodyTimeoutMs: 5_000 });
    const client = rawClient(listening.port);
    client.socket.write('POST /store HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n');
    const trickle = setInterval(() => client.socket.writable && client.socket.write('a'), 50);
    const { text, closed, ms } = await client.answer(4_000);
    clearInterval(trickle);
    expect(closed).toBe(true);
    expect(ms).toBeLessThan(2_000);
    expect(statusOf(text)).toBe(408);
    expect(codeOf(text)).toBe('api.body_timeout');
    expect(stored).toEqual([]);
    expect(listening.limitCounts.bodyTimeouts).toBe(1);
  });

  it('does not cut a client whose whole body arrived while the app was too busy to read it', async () => {
    const { listening, stored } = await start({ bodyGraceMs: 100, minBodyBytesPerSecond: 100_000, bodyTimeoutMs: 300 }, { delayBeforeReadMs: 800 });
    // 200 KiB: more than node buffers before it stops reading the socket for the app.
    const answer = await post(listening.port, 'y'.repeat(200 * 1024));
    expect(answer.status).toBe(202);
    expect(stored).toHaveLength(1);
    expect(listening.limitCounts.bodyTimeouts).toBe(0);
  });

  it('cuts a chunked body that never ends at bodyTimeoutMs even when it keeps the rate', async () => {
    const { listening, stored } = await start({ bodyGraceMs: 0, minBodyBytesPerSecond: 0, bodyTimeoutMs: 600 });
    const client = rawClient(listening.port);
    client.socket.write('POST /store HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n');
    const trickle = setInterval(() => client.socket.writable && client.socket.write('10\r\n0123456789abcdef\r\n'), 20);
    const { text, closed, ms } = await client.answer(4_000);
    clearInterval(trickle);
    expect(closed).toBe(true);
    expect(ms).toBeGreaterThanOrEqual(550);
    expect(ms).toBeLessThan(2_500);
    expect(statusOf(text)).toBe(408);
    expect(codeOf(text)).toBe('api.body_timeout');
    expect(stored).toEqual([]);
  });

  it('answers a declared 10 MB body 413 before the client sends any of it, and closes', async () => {
    const { listening, stored } = await start({ maxBodyBytes: 1024 * 1024 });
    const client = rawClient(listening.port);
    client.socket.write(`POST /store HTTP/1.1\r\nHost: x\r\nContent-Length: ${10 * 1024 * 1024}\r\n\r\n`);
    const { text, closed } = await client.answer(3_000);
    expect(statusOf(text)).toBe(413);
    expect(codeOf(text)).toBe('envelope.too_large');
    expect(closed).toBe(true);
    expect(client.socket.bytesWritten).toBeLessThan(200); // the answer came with none of the body sent
    expect(stored).toEqual([]);
    expect(listening.limitCounts.tooLarge).toBe(1);
  });

  it('cuts a chunked body as soon as it passes the route limit, without reading it all', async () => {
    const { listening, stored } = await start({ maxBodyBytes: 4 * 1024 * 1024 });
    const client = rawClient(listening.port);
    client.socket.write('POST /store HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n');
    const chunk = 'a'.repeat(64 * 1024);
    let sent = 0;
    // 8 MB offered in 64 KiB chunks while the socket takes them; the route limit is 256 KiB.
    const pump = setInterval(() => {
      for (let i = 0; i < 4 && client.socket.writable && sent < 8 * 1024 * 1024; i++) {
        client.socket.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
        sent += chunk.length;
      }
    }, 5);
    const { text, closed } = await client.answer(4_000);
    clearInterval(pump);
    expect(statusOf(text)).toBe(413);
    expect(closed).toBe(true);
    expect(sent).toBeLessThan(8 * 1024 * 1024);
    expect(stored).toEqual([]);
  });

  it('answers a burst from one peer 429 with Retry-After while another peer still gets through', async () => {
    const { listening, stored } = await start({ perPeer: { requestsPerSecond: 1, requestBurst: 5 } });
    const answers = [];
    for (let i = 0; i < 8; i++) answers.push(await post(listening.port, `a${i}`));
    expect(answers.slice(0, 5).map((a) => a.status)).toEqual([202, 202, 202, 202, 202]);
    for (const refused of answers.slice(5)) {
      expect(refused).toMatchObject({ status: 429, code: 'api.rate_limited' });
      expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);
    }
    expect(await post(listening.port, 'b0', '127.0.0.2')).toMatchObject({ status: 202 });
    expect(stored.sort()).toEqual(['a0', 'a1', 'a2', 'a3', 'a4', 'b0']);
  });

  it('counts bytes per peer too: a peer over its byte budget waits', async () => {
    const { listening } = await start({ perPeer: { bytesPerSecond: 1024, byteBurst: 4096 } });
    expect((await post(listening.port, 'x'.repeat(3000))).status).toBe(202);
    const refused = await post(listening.port, 'x'.repeat(3000));
    expect(refused).toMatchObject({ status: 429, code: 'api.rate_limited' });
    expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);
  });

  it('answers 503 with Retry-After when too many requests are in flight, and stores only what it answered 2xx', async () => {
    const { listening, stored } = await start({ maxInFlight: 2 }, { handlerDelayMs: 300 });
    const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => post(listening.port, `m${i}`)));
    const accepted = answers.flatMap((a, i) => (a.status === 202 ? [`m${i}`] : []));
    const refused = answers.filter((a) => a.status !== 202);
    expect(accepted).toHaveLength(2);
    for (const r of refused) expect(r).toMatchObject({ status: 503, code: 'api.overloaded', retryAfter: '1' });
    expect(stored.sort()).toEqual(accepted.sort());
  });

  it('under many concurrent senders, every 2xx is stored, every refusal is 429/503, and retrying lands all exactly once', async () => {
    const { listening, stored } = await start({ maxInFlight: 4, perPeer: { requestsPerSecond: 200, requestBurst: 20 } }, { handlerDelayMs: 5 });
    const ids = Array.from({ length: 120 }, (_, i) => `msg-${i}`);
    const refusedStatuses = new Set<number>();
    let refusals = 0;
    const send = async (id: string, from: string): Promise<void> => {
      for (;;) {
        const answer = await post(listening.port, id, from);
        if (answer.status === 202) return;
        expect([429, 503]).toContain(answer.status);
        expect(Number(answer.retryAfter)).toBeGreaterThanOrEqual(1);
        expect(stored).not.toContain(id); // refused means not stored
        refusedStatuses.add(answer.status);
        refusals += 1;
        await tick(50); // a test's short wait instead of the whole Retry-After
      }
    };
    await Promise.all(ids.map((id, i) => send(id, `127.0.0.${1 + (i % 3)}`)));
    expect(refusals).toBeGreaterThan(0);
    expect(stored.slice().sort()).toEqual(ids.slice().sort());
    expect(new Set(stored).size).toBe(stored.length);
  });

  it('closes a kept-alive connection after maxRequestsPerConnection', async () => {
    const { listening } = await start({ maxRequestsPerConnection: 2 });
    const client = rawClient(listening.port);
    client.socket.write('GET /ping HTTP/1.1\r\nHost: x\r\n\r\nGET /ping HTTP/1.1\r\nHost: x\r\n\r\n');
    const { text, closed } = await client.answer(3_000);
    expect(closed).toBe(true);
    expect(text.match(/HTTP\/1\.1 200/g)).toHaveLength(2);
  });

  it('says Connection: close on an answer given before the body was read, so a keep-alive client opens a new connection', async () => {
    const { listening, stored } = await start({});
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const answer = (body: string) =>
      new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
        const req = httpRequest({ port: listening.port, host: '127.0.0.1', method: 'POST', path: '/store', agent, headers: { 'content-length': Buffer.byteLength(body) } }, (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }));
        });
        req.on('error', reject);
        req.end(body);
      });
    // Over the route's 256 KiB limit (under maxBodyBytes): refused by the route while the body still arrives.
    expect(await answer('x'.repeat(600 * 1024))).toEqual({ status: 413, connection: 'close' });
    expect((await answer('after')).status).toBe(202);
    expect(stored).toEqual(['after']);
    agent.destroy();
  });

  it('closes an idle kept-alive connection after keepAliveTimeoutMs', async () => {
    const { listening } = await start({ keepAliveTimeoutMs: 300 });
    const client = rawClient(listening.port);
    client.socket.write('GET /ping HTTP/1.1\r\nHost: x\r\n\r\n');
    const { closed, ms } = await client.answer(3_000);
    expect(closed).toBe(true);
    expect(ms).toBeLessThan(2_000);
  });
});

describe('PeerBudgets', () => {
  it('refills at the rate up to the burst and says how long to wait', () => {
    let now = 0;
    const budgets = new PeerBudgets(httpLimitsSchema.parse({ perPeer: { requestsPerSecond: 2, requestBurst: 2 } }).perPeer, () => now);
    expect(budgets.take('p', 0).ok).toBe(true);
    expect(budgets.take('p', 0).ok).toBe(true);
    expect(budgets.take('p', 0)).toEqual({ ok: false, retryAfterSeconds: 1 });
    now += 500;
    expect(budgets.take('p', 0).ok).toBe(true);
    now += 60_000;
    expect(budgets.take('p', 0).ok).toBe(true);
    expect(budgets.take('p', 0).ok).toBe(true);
    expect(budgets.take('p', 0).ok).toBe(false);
  });

  it('tracks at most maxPeers addresses', () => {
    const budgets = new PeerBudgets(httpLimitsSchema.parse({ perPeer: { maxPeers: 3 } }).perPeer, () => 0);
    for (let i = 0; i < 50; i++) budgets.take(`peer-${i}`, 0);
    expect(budgets.size).toBeLessThanOrEqual(3);
  });
});
