import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { Agent, request, type ClientRequest, type IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { BareEvent, BareStart } from './bareListeners.js';

/*
 * What the fleet benchmarks (fanout.ts, intent.ts, connect.ts) measure with: medians, parallel
 * work with a limit, CPU of other processes from /proc, the bare baseline's POST, and the table
 * they print.
 */

export const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** `n` split into runs of at most `size` (companies per fleet process). */
export const chunks = (n: number, size: number): number[] => Array.from({ length: Math.ceil(n / size) }, (_, i) => Math.min(size, n - i * size));

export async function inParallel<T>(items: T[], limit: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        await work(items[index]!, index);
      }
    }),
  );
}

/** CPU time (user + system, ms) of another process, from /proc; undefined where there is none. */
export function cpuMsOf(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in USER_HZ (100)
  } catch {
    return undefined;
  }
}

/** The CPU of several processes together, or undefined if any cannot be read. */
export const sumCpu = (pids: (number | undefined)[]): number | undefined => {
  const values = pids.map(cpuMsOf);
  return values.every((v) => v !== undefined) ? values.reduce((a, b) => a! + b!, 0)! : undefined;
};

/** One bare POST of an envelope to a baseline listener on loopback; resolves with the answer's size. */
export function postDidcomm(agent: Agent, port: number, body: Buffer): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/didcomm', method: 'POST', agent, headers: { 'content-type': 'application/didcomm-encrypted+json', 'content-length': body.length } },
      (res) => {
        let size = 0;
        res.on('data', (chunk: Buffer) => (size += chunk.length));
        res.on('end', () => (res.statusCode === 200 ? resolvePromise(size) : reject(new Error(`HTTP ${res.statusCode}`))));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** One round trip to each port, `concurrency` at a time; returns the wall time in ms. */
export async function bareRoundTrips(ports: number[], concurrency: number, send: (port: number) => Promise<number>): Promise<number> {
  const started = performance.now();
  await inParallel(ports, concurrency, async (port) => {
    await send(port);
  });
  return performance.now() - started;
}

/** Prints a table: the first column left-aligned, the others right-aligned. */
export function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const format = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(format(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(format(row));
}

export interface BareBaseline {
  /** Wall time of N round trips through node:http with keep-alive, per repetition. */
  baselineMs: number[];
  /** The same through undici fetch (information). */
  undiciMs: number[];
  /** CPU of the listener processes per repetition (node:http runs), from /proc. */
  bareCpuMs: number | undefined;
}

/**
 * The bare baseline of a fleet benchmark: N listeners laid out like the companies
 * (`perProcess` per process, started by `forkListeners`, which the caller tracks for cleanup),
 * answering `replyBytes` to a `requestBytes` POST; two warm-up rounds, then `repetitions` rounds of
 * N round trips at `concurrency`, through node:http and through undici.
 */
export async function measureBareBaseline(options: {
  n: number;
  perProcess: number;
  requestBytes: number;
  replyBytes: number;
  concurrency: number;
  repetitions: number;
  forkListeners(): ChildProcess;
}): Promise<BareBaseline> {
  const listenerPorts: number[] = [];
  const pids: (number | undefined)[] = [];
  for (const count of chunks(options.n, options.perProcess)) {
    const child = options.forkListeners();
    pids.push(child.pid);
    const ports = await new Promise<number[]>((resolvePromise, reject) => {
      child.once('message', (event: BareEvent) => resolvePromise(event.ports));
      child.once('exit', (code) => reject(new Error(`bare listeners exited (${code})`)));
      child.send({ count, replyBytes: options.replyBytes } satisfies BareStart);
    });
    listenerPorts.push(...ports);
  }
  const body = Buffer.from(randomBytes(Math.ceil(options.requestBytes / 2)).toString('hex').slice(0, options.requestBytes));
  const httpAgent = new Agent({ keepAlive: true });
  const viaNodeHttp = (port: number) => postDidcomm(httpAgent, port, body);
  const viaUndici = async (port: number) => {
    const response = await fetch(`http://127.0.0.1:${port}/didcomm`, { method: 'POST', headers: { 'content-type': 'application/didcomm-encrypted+json' }, body: body.toString('utf8') });
    const text = await response.text();
    if (response.status !== 200) throw new Error(`HTTP ${response.status}`);
    return text.length;
  };
  for (let w = 0; w < 2; w += 1) {
    await bareRoundTrips(listenerPorts, options.concurrency, viaNodeHttp);
    await bareRoundTrips(listenerPorts, options.concurrency, viaUndici);
  }
  const bareCpuBefore = sumCpu(pids);
  const baselineMs: number[] = [];
  for (let r = 0; r < options.repetitions; r += 1) baselineMs.push(await bareRoundTrips(listenerPorts, options.concurrency, viaNodeHttp));
  const bareCpuAfter = sumCpu(pids);
  const undiciMs: number[] = [];
  for (let r = 0; r < options.repetitions; r += 1) undiciMs.push(await bareRoundTrips(listenerPorts, options.concurrency, viaUndici));
  httpAgent.destroy();
  return { baselineMs, undiciMs, bareCpuMs: bareCpuBefore !== undefined && bareCpuAfter !== undefined ? (bareCpuAfter - bareCpuBefore) / options.repetitions : undefined };
}

/** Body sizes of the HTTP requests this process made and of their responses. */
export interface WireSizes {
  requests: number[];
  responses: number[];
}

/**
 * Notes the size of every HTTP request body (its content-length) and response body this process
 * sends and receives through node:http while on, from node:http's diagnostics channels: her agent's
 * own transport is measured as it runs, not replaced by a measuring one. Returns the switch-off.
 */
export function noteWireSizes(sizes: WireSizes): () => void {
  const onRequest = (message: unknown) => {
    const { request: req } = message as { request: ClientRequest };
    const length = Number(req.getHeader('content-length'));
    if (Number.isFinite(length)) sizes.requests.push(length);
  };
  const onResponse = (message: unknown) => {
    const { response } = message as { response: IncomingMessage };
    let size = 0;
    response.on('data', (chunk: Buffer) => (size += chunk.length));
    response.on('end', () => sizes.responses.push(size));
  };
  subscribe('http.client.request.start', onRequest);
  subscribe('http.client.response.finish', onResponse);
  return () => {
    unsubscribe('http.client.request.start', onRequest);
    unsubscribe('http.client.response.finish', onResponse);
  };
}

/**
 * A forker of one listener script of bench/ (compiled, next to this file): each child is added to
 * `tracked` (killed if the bench fails) until it exits, and to `started` (stopped by the caller).
 */
export function listenerForker(script: string, tracked: Set<ChildProcess>, started: ChildProcess[]): () => ChildProcess {
  return () => {
    const child = fork(new URL(script, import.meta.url), [], { execArgv: [], stdio: 'inherit' });
    tracked.add(child);
    child.once('exit', () => tracked.delete(child));
    started.push(child);
    return child;
  };
}

/** Measured rounds: each one's wall time, and the CPU per round of this process and of `otherPids` (from /proc). */
export interface TimedRounds {
  ms: number[];
  herCpuMs: number;
  otherCpuMs: number | undefined;
}

/** Runs `round` `repetitions` times in a row (each returns its own wall time), measuring the CPU spent around all of them. */
export async function timedRounds(repetitions: number, otherPids: (number | undefined)[], round: (r: number) => Promise<number>): Promise<TimedRounds> {
  const ms: number[] = [];
  const otherBefore = sumCpu(otherPids);
  const herBefore = process.cpuUsage();
  for (let r = 0; r < repetitions; r += 1) ms.push(await round(r));
  const her = process.cpuUsage(herBefore);
  const otherAfter = sumCpu(otherPids);
  return {
    ms,
    herCpuMs: (her.user + her.system) / 1000 / repetitions,
    otherCpuMs: otherBefore !== undefined && otherAfter !== undefined ? (otherAfter - otherBefore) / repetitions : undefined,
  };
}
