/**
 * Overload and slow clients against a real `kith-vendor serve` process (issue 17 item 2), with the
 * limits it ships with (core/httpLimits.ts defaults; docs/deploy.md "Limits"):
 *
 * 1. REQUESTS rapid requests (KITH_BENCH_OVERLOAD_REQUESTS, default 2000), half valid DIDComm
 *    messages from one connected customer, half junk (not JSON, not a JWE, over the message limit,
 *    admin calls without a token, unknown paths), over 64 connections from one loopback address:
 *    the answers counted by status, the server's RSS before, at its peak (sampled every 20 ms from
 *    /proc) and after; then the refused valid messages are retried after their Retry-After until all
 *    are in, and the store is checked to hold each exactly once.
 * 2. SLOWLORIS connections (KITH_BENCH_SLOWLORIS, default 200) held open at once: a third trickle
 *    their headers, a third a Content-Length body, a third a chunked body that never ends, a byte
 *    every 500 ms; how long until the server cut each, and how fast /health answers meanwhile.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { systemClock } from '../src/core/clock.js';
import { initCompanyHome } from '../src/company/home.js';
import { createPeerIdentity, signingKeyOf } from '../src/protocol/agent/identity.js';
import { resolvePeer } from '../src/protocol/agent/peer.js';
import { buildMessage } from '../src/protocol/buildMessage.js';
import { createDidResolver } from '../src/protocol/did/resolver.js';
import { packMessage } from '../src/protocol/envelope/pack.js';
import { BasicMessage, Connect } from '../src/protocol/families/index.js';
import { median } from './measure.js';

const here = fileURLToPath(new URL('.', import.meta.url));
/** dist/bench/overload.js -> dist/src/cli/kith-vendor.js */
const VENDOR_CLI = resolve(here, '../src/cli/kith-vendor.js');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resident set size of a process in MiB, from /proc (Linux); undefined elsewhere. */
function rssMiB(pid: number): number | undefined {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
    return line ? Number(line.replace(/\D+/g, '')) / 1024 : undefined;
  } catch {
    return undefined;
  }
}
const mib = (value: number | undefined) => (value === undefined ? 'n/a' : `${value.toFixed(1)} MiB`);

interface Answer {
  status: number;
  retryAfter: number;
}

function send(agent: Agent, port: number, path: string, method: string, body: Buffer | undefined, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolvePromise) => {
    const req = request(
      { host: '127.0.0.1', port, path, method, agent, headers: { ...headers, ...(body ? { 'content-type': 'application/didcomm-encrypted+json', 'content-length': String(body.length) } : {}) } },
      (res) => {
        res.resume();
        res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, retryAfter: Number(res.headers['retry-after'] ?? 0) }));
        res.on('error', () => resolvePromise({ status: -1, retryAfter: 0 }));
      },
    );
    // A connection the server closed (a too-large body refused before it was read) is an answer too.
    req.on('error', () => resolvePromise({ status: -1, retryAfter: 0 }));
    req.end(body);
  });
}

async function startVendor(home: string, port: number): Promise<{ child: ChildProcess; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [VENDOR_CLI, 'serve', '--port', String(port)], {
    env: { ...process.env, KITH_VENDOR_HOME: home },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  child.stdout?.resume();
  for (let i = 0; i < 200; i++) {
    const up = await send(new Agent(), port, '/health', 'GET', undefined).then((a) => a.status === 200);
    if (up) break;
    await sleep(50);
  }
  return {
    child,
    stop: () =>
      new Promise<void>((done) => {
        child.once('exit', () => done());
        child.kill('SIGTERM');
      }),
  };
}

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((done) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

export async function runOverloadBench(options: { requests: number; slowloris: number }): Promise<void> {
  console.log(`\n# Overload and slow clients (a real kith-vendor serve process, default limits)\n`);
  const root = mkdtempSync(join(tmpdir(), 'kith-bench-overload-'));
  const port = await freePort();
  const home = await initCompanyHome(join(root, 'company'), { name: 'Overload Bench Ltd', port });
  const companyDid = home.identity.did;
  const adminToken = home.adminToken;
  await home.store.close();
  const vendor = await startVendor(home.dir, port);
  const pid = vendor.child.pid!;
  try {
    // One customer connects for real, then packs its messages before anything is timed.
    const resolver = createDidResolver();
    const customer = createPeerIdentity('http://127.0.0.1:9/didcomm/none').identity;
    const company = await resolvePeer(resolver, companyDid);
    const pack = async (type: string, body: Record<string, unknown>, extras: { returnRoute?: 'all' } = {}) => {
      const message = buildMessage({ type, from: customer.did, to: companyDid, body, ...extras }, systemClock);
      return { id: message.id, packed: Buffer.from(await packMessage({ message, signer: signingKeyOf(customer), recipients: [company.agreementKey] })) };
    };
    const connected = await send(new Agent(), port, '/didcomm', 'POST', (await pack(Connect.request.type, {}, { returnRoute: 'all' })).packed);
    if (connected.status !== 200) throw new Error(`connect failed: HTTP ${connected.status}`);

    const validCount = Math.ceil(options.requests / 2);
    const valid = await Promise.all(Array.from({ length: validCount }, (_, i) => pack(BasicMessage.message.type, { content: `overload #${i}` })));
    const junkKinds: { name: string; make: (i: number) => { path: string; method: string; body?: Buffer; headers?: Record<string, string> } }[] = [
      { name: 'not JSON', make: (i) => ({ path: '/didcomm', method: 'POST', body: Buffer.from(`garbage ${i} \u0000\u00ff`) }) },
      { name: 'not a JWE', make: () => ({ path: '/didcomm', method: 'POST', body: Buffer.from('{"protected":"x","ciphertext":"y"}') }) },
      { name: 'over the message limit', make: () => ({ path: '/didcomm', method: 'POST', body: Buffer.alloc(300 * 1024, 0x7b) }) },
      { name: 'admin without token', make: () => ({ path: '/admin/relationships', method: 'GET' }) },
      { name: 'admin, wrong token', make: () => ({ path: '/admin/relationships', method: 'GET', headers: { authorization: 'Bearer nope' } }) },
      { name: 'unknown path', make: (i) => ({ path: `/nothing/${i}`, method: 'GET' }) },
    ];
    type Job = { kind: 'valid'; index: number } | { kind: 'junk'; index: number };
    const jobs: Job[] = [];
    let junk = 0;
    for (let i = 0; i < options.requests; i++) jobs.push(i % 2 === 0 && i / 2 < validCount ? { kind: 'valid', index: i / 2 } : { kind: 'junk', index: junk++ });

    // One address, as one greedy client: the per-peer budget is what answers it.
    const addresses = ['127.0.0.1'];
    const agents = addresses.map((localAddress) => new Agent({ keepAlive: true, maxSockets: 16, localAddress }));
    const byStatus = new Map<string, number>();
    const count = (label: string) => byStatus.set(label, (byStatus.get(label) ?? 0) + 1);
    const refusedValid: { index: number; retryAfter: number }[] = [];

    const rssBefore = rssMiB(pid);
    let rssPeak = rssBefore ?? 0;
    const sampler = setInterval(() => {
      const now = rssMiB(pid);
      if (now !== undefined && now > rssPeak) rssPeak = now;
    }, 20);
    const started = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 64 }, async (_, worker) => {
        const agent = agents[worker % agents.length]!;
        while (next < jobs.length) {
          const job = jobs[next++]!;
          if (job.kind === 'valid') {
            const answer = await send(agent, port, '/didcomm', 'POST', valid[job.index]!.packed);
            count(`${answer.status} (valid)`);
            if (answer.status === 429 || answer.status === 503) refusedValid.push({ index: job.index, retryAfter: answer.retryAfter });
            else if (answer.status !== 202) throw new Error(`a valid message got HTTP ${answer.status}`);
          } else {
            const kind = junkKinds[job.index % junkKinds.length]!;
            const request = kind.make(job.index);
            const answer = await send(agent, port, request.path, request.method, request.body, request.headers);
            count(`${answer.status} (junk: ${kind.name})`);
          }
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
    await sleep(2_000);
    const rssAfter = rssMiB(pid);

    console.log(`${options.requests} requests (${validCount} valid messages, ${options.requests - validCount} junk of ${junkKinds.length} kinds) over 64 connections from ${addresses.length} addresses in ${seconds.toFixed(2)} s (${Math.round(options.requests / seconds)}/s)`);
    console.log('');
    console.log('| answer | count |');
    console.log('|---|---:|');
    for (const [label, n] of [...byStatus.entries()].sort()) console.log(`| ${label.replace(/^-1 /, 'connection closed ')} | ${n} |`);
    console.log('');
    console.log(`server RSS: before ${mib(rssBefore)}, peak ${mib(rssPeak)}, 2 s after ${mib(rssAfter)}`);

    // Every refused valid message again, after the wait it was given, until all are in.
    let rounds = 0;
    let pending = refusedValid;
    const retryStarted = performance.now();
    while (pending.length > 0 && rounds < 60) {
      rounds += 1;
      await sleep(Math.max(...pending.map((p) => p.retryAfter), 1) * 1000);
      const again: typeof pending = [];
      await Promise.all(
        pending.map(async (p, i) => {
          const answer = await send(agents[i % agents.length]!, port, '/didcomm', 'POST', valid[p.index]!.packed);
          if (answer.status === 429 || answer.status === 503) again.push({ index: p.index, retryAfter: answer.retryAfter });
          else if (answer.status !== 202) throw new Error(`a retried message got HTTP ${answer.status}`);
        }),
      );
      pending = again;
    }
    // The store, through the admin API: each valid message exactly once.
    const relationships = await fetchJson(port, '/admin/relationships?limit=10', adminToken);
    const relationshipId = (relationships as { relationships: { id: string }[] }).relationships[0]!.id;
    const stored: string[] = [];
    let cursor: string | null = null;
    do {
      const pageResult = (await fetchJson(port, `/admin/relationships/${relationshipId}/messages?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, adminToken)) as { messages: { messageId: string }[]; next: string | null };
      stored.push(...pageResult.messages.map((m) => m.messageId));
      cursor = pageResult.next;
    } while (cursor);
    const wanted = new Set(valid.map((v) => v.id));
    const landed = stored.filter((id) => wanted.has(id));
    const exactlyOnce = landed.length === wanted.size && new Set(landed).size === wanted.size;
    console.log(
      `refused valid messages retried after Retry-After: ${refusedValid.length} in ${rounds} round(s), ${((performance.now() - retryStarted) / 1000).toFixed(1)} s; in the store: ${new Set(landed).size} of ${wanted.size}, ${exactlyOnce ? 'each exactly once' : `NOT EXACTLY ONCE (${landed.length} rows)`}`,
    );
    for (const agent of agents) agent.destroy();

    await slowloris(port, pid, options.slowloris);
  } finally {
    await vendor.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

async function fetchJson(port: number, path: string, token: string): Promise<unknown> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { headers: { authorization: `Bearer ${token}` } });
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}

/** N slow clients at once; how long until each is cut, and /health's latency meanwhile. */
async function slowloris(port: number, pid: number, n: number): Promise<void> {
  const kinds = ['headers trickled', 'Content-Length body trickled', 'chunked body, no end'] as const;
  const cutAfter = new Map<string, number[]>(kinds.map((k) => [k, []]));
  const answered = new Map<string, number>(kinds.map((k) => [k, 0]));
  const rssBefore = rssMiB(pid);
  let rssPeak = rssBefore ?? 0;
  const started = performance.now();
  const connections = Array.from({ length: n }, (_, i) => {
    const kind = kinds[i % kinds.length]!;
    return new Promise<void>((done) => {
      const socket = connect({ port, host: '127.0.0.1' });
      const opened = performance.now();
      let text = '';
      socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
      socket.on('error', () => undefined);
      let timer: NodeJS.Timeout | undefined;
      socket.on('connect', () => {
        if (kind === 'headers trickled') socket.write('POST /didcomm HTTP/1.1\r\nHost: x\r\n');
        else if (kind === 'Content-Length body trickled') socket.write('POST /didcomm HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n');
        else socket.write('POST /didcomm HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n');
        timer = setInterval(() => {
          if (!socket.writable) return;
          socket.write(kind === 'headers trickled' ? 'X-A: b\r\n' : kind === 'chunked body, no end' ? '1\r\n{\r\n' : '{');
        }, 500);
      });
      socket.on('close', () => {
        clearInterval(timer);
        cutAfter.get(kind)!.push((performance.now() - opened) / 1000);
        if (/^HTTP\/1\.1 408/.test(text)) answered.set(kind, answered.get(kind)! + 1);
        done();
      });
    });
  });
  // /health while they are held: does the server still answer everyone else?
  const healthMs: number[] = [];
  const probe = (async () => {
    const agent = new Agent({ keepAlive: false, localAddress: '127.0.0.9' });
    for (let i = 0; i < 10; i++) {
      await sleep(300);
      const t = performance.now();
      await send(agent, port, '/health', 'GET', undefined);
      healthMs.push(performance.now() - t);
      const now = rssMiB(pid);
      if (now !== undefined && now > rssPeak) rssPeak = now;
    }
  })();
  await Promise.all([...connections, probe]);
  console.log(`\n${n} slow connections held at once (a byte every 500 ms), all cut in ${((performance.now() - started) / 1000).toFixed(1)} s:`);
  console.log('');
  console.log('| kind | connections | cut after (min / median / max, s) | answered 408 first |');
  console.log('|---|---:|---|---:|');
  for (const kind of kinds) {
    const times = cutAfter.get(kind)!;
    console.log(`| ${kind} | ${times.length} | ${Math.min(...times).toFixed(1)} / ${median(times).toFixed(1)} / ${Math.max(...times).toFixed(1)} | ${answered.get(kind)} |`);
  }
  console.log('');
  console.log(`/health meanwhile: median ${median(healthMs).toFixed(1)} ms, max ${Math.max(...healthMs).toFixed(1)} ms; server RSS before ${mib(rssBefore)}, peak ${mib(rssPeak)}`);
}
