/**
 * `npm run bench`: (1) company inbound messages/s, end to end over loopback HTTP, Kith against a
 * bare node:http + node:crypto baseline fed the very same envelopes; (2) the profile fan-out
 * (bench/fanout.ts): time from `profile.set` to N acks against N bare POSTs; (3) connect with terms
 * against connect without (bench/connect.ts); (4) one intent cast to N companies until every
 * automatic offer is in her vault, against N bare round trips at once (bench/intent.ts). See bench/README.md.
 *
 * Every server and the load driver run in their own processes (fork), so each is measured the same
 * way and the driver's cost never shares a server's event loop.
 *
 * Environment: KITH_BENCH_MESSAGES (default 20000), KITH_BENCH_CONCURRENCY (32),
 * KITH_BENCH_WARMUP (2000), KITH_BENCH_PROFILE=<dir> (write a --cpu-prof of each server there),
 * KITH_BENCH_ONLY=inbound|fanout|connect|intent, KITH_BENCH_CONNECT_PER_ROUND (50), KITH_BENCH_CONNECT_ROUNDS (6), KITH_BENCH_FANOUT_SIZES (10,100), KITH_BENCH_FANOUT_REPS (7),
 * KITH_BENCH_FANOUT_PER_PROCESS (25), KITH_BENCH_FANOUT_BREAKDOWN (1; 0 skips the profile), KITH_BENCH_INTENT_SIZES (10,100),
 * KITH_BENCH_INTENT_REPS (7).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { createPeerIdentity, type LocalIdentity } from '../src/protocol/agent/identity.js';
import { runConnectBench } from './connect.js';
import { runFanoutBench } from './fanout.js';
import { runIntentBench } from './intent.js';

// --- messages between the processes -----------------------------------------------------------

export interface ServerStart {
  identity: LocalIdentity;
  engine: 'fast' | 'jose';
}
export type ServerCommand = { type: 'cpu' } | { type: 'stop' };
export type ServerEvent = { type: 'listening'; port: number } | { type: 'cpu'; usage: NodeJS.CpuUsage } | { type: 'stored'; count: number };

export interface RunResult {
  messages: number;
  seconds: number;
  p50: number;
  p99: number;
  failures: number;
  firstFailure?: string;
  /** Client CPU use during the run, in cores: near 1 means the driver, not the server, was the limit. */
  clientCpu: number;
}
export type ClientCommand =
  | { type: 'prepare'; companyDid: string; messages: number; warmup: number }
  | { type: 'run'; port: number; kind: 'kith' | 'baseline'; concurrency: number }
  | { type: 'go' }
  | { type: 'exit' };
export type ClientEvent =
  | { type: 'prepared'; seconds: number }
  | { type: 'warmed' }
  | { type: 'result'; result: RunResult }
  | { type: 'error'; message: string };

// --- orchestration ----------------------------------------------------------------------------

const TARGET_RATIO = 0.6;
const envInt = (name: string, fallback: number) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`);
  return value;
};
const MESSAGES = envInt('KITH_BENCH_MESSAGES', 20_000);
const CONCURRENCY = envInt('KITH_BENCH_CONCURRENCY', 32);
const WARMUP = envInt('KITH_BENCH_WARMUP', 2_000);
const PROFILE_DIR = process.env['KITH_BENCH_PROFILE'];
const STALL_SECONDS = 300;

interface Scenario {
  name: string;
  script: string;
  kind: 'kith' | 'baseline';
  engine: 'fast' | 'jose';
}
const SCENARIOS: Scenario[] = [
  { name: 'baseline: node:http + node:crypto', script: 'baselineServer.js', kind: 'baseline', engine: 'fast' },
  { name: 'kith company (fast engine)', script: 'kithServer.js', kind: 'kith', engine: 'fast' },
  { name: 'kith company (jose engine, info)', script: 'kithServer.js', kind: 'kith', engine: 'jose' },
];

const children = new Set<ChildProcess>();
function start(script: string, execArgv: string[] = []): ChildProcess {
  // execArgv set explicitly so a profiled orchestrator does not profile every child too.
  const child = fork(fileURLToPath(new URL(script, import.meta.url)), [], { execArgv, stdio: 'inherit' });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** The next IPC message of `type` from a child; rejects on a reported error, an early exit or a stall. */
function next<T extends { type: string }, K extends T['type']>(child: ChildProcess, type: K): Promise<Extract<T, { type: K }>> {
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => finish(() => reject(new Error(`no '${type}' from child ${child.pid} within ${STALL_SECONDS} s`))), STALL_SECONDS * 1000);
    const onMessage = (message: T) => {
      if (message.type === 'error') finish(() => reject(new Error((message as unknown as { message: string }).message)));
      else if (message.type === type) finish(() => resolvePromise(message as Extract<T, { type: K }>));
    };
    const onExit = (code: number | null) => finish(() => reject(new Error(`child exited (${code}) before sending '${type}'`)));
    const finish = (settle: () => void) => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      settle();
    };
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

interface Measured extends RunResult {
  name: string;
  serverCpuUsPerMessage: number;
  stored: number | undefined;
}

async function measure(scenario: Scenario, client: ChildProcess, identity: LocalIdentity): Promise<Measured> {
  const server = start(scenario.script, PROFILE_DIR ? ['--cpu-prof', '--cpu-prof-dir', PROFILE_DIR] : []);
  const listening = next<ServerEvent, 'listening'>(server, 'listening');
  server.send({ identity, engine: scenario.engine } satisfies ServerStart);
  const { port } = await listening;

  const warmed = next<ClientEvent, 'warmed'>(client, 'warmed');
  const result = next<ClientEvent, 'result'>(client, 'result');
  result.catch(() => undefined); // a failed warm-up rejects both; `warmed` reports it
  client.send({ type: 'run', port, kind: scenario.kind, concurrency: CONCURRENCY } satisfies ClientCommand);
  await warmed;
  const cpuBefore = next<ServerEvent, 'cpu'>(server, 'cpu');
  server.send({ type: 'cpu' } satisfies ServerCommand);
  const before = (await cpuBefore).usage;
  client.send({ type: 'go' } satisfies ClientCommand);
  const measured = (await result).result;
  const cpuAfter = next<ServerEvent, 'cpu'>(server, 'cpu');
  server.send({ type: 'cpu' } satisfies ServerCommand);
  const after = (await cpuAfter).usage;

  const stored = scenario.kind === 'kith' ? next<ServerEvent, 'stored'>(server, 'stored') : undefined;
  const exited = new Promise((done) => server.once('exit', done));
  server.send({ type: 'stop' } satisfies ServerCommand);
  const storedCount = stored ? (await stored).count : undefined;
  await exited;
  const serverCpuUs = after.user + after.system - before.user - before.system;
  return { name: scenario.name, ...measured, serverCpuUsPerMessage: serverCpuUs / measured.messages, stored: storedCount };
}

function printTable(rows: Measured[]): void {
  const header = ['scenario', 'messages', 'seconds', 'messages/s', 'p50 ms', 'p99 ms', 'server CPU µs/msg', 'client CPU'];
  const lines = rows.map((r) => [
    r.name,
    String(r.messages),
    r.seconds.toFixed(2),
    (r.messages / r.seconds).toFixed(0),
    r.p50.toFixed(2),
    r.p99.toFixed(2),
    r.serverCpuUsPerMessage.toFixed(0),
    `${(r.clientCpu * 100).toFixed(0)}%`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const format = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(format(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const line of lines) console.log(format(line));
}

async function main(): Promise<void> {
  console.log(`Kith company inbound bench: node ${process.version}, ${availableParallelism()} CPUs, ${MESSAGES} messages (+${WARMUP} warm-up), concurrency ${CONCURRENCY}`);
  const { identity } = createPeerIdentity();
  const client = start('client.js');
  const prepared = next<ClientEvent, 'prepared'>(client, 'prepared');
  client.send({ type: 'prepare', companyDid: identity.did, messages: MESSAGES, warmup: WARMUP } satisfies ClientCommand);
  console.log(`packed ${MESSAGES + WARMUP} envelopes in ${(await prepared).seconds.toFixed(1)} s (not measured)\n`);

  const rows: Measured[] = [];
  try {
    for (const scenario of SCENARIOS) rows.push(await measure(scenario, client, identity));
  } finally {
    client.send({ type: 'exit' } satisfies ClientCommand);
  }
  printTable(rows);

  for (const row of rows) {
    if (row.failures > 0) console.log(`\n${row.name}: ${row.failures} requests failed, first: ${row.firstFailure}`);
    if (row.stored !== undefined && row.stored !== MESSAGES + WARMUP) console.log(`\n${row.name}: stored ${row.stored} messages, expected ${MESSAGES + WARMUP}`);
  }
  const [baseline, kith] = rows;
  if (!baseline || !kith) return;
  const ratio = kith.messages / kith.seconds / (baseline.messages / baseline.seconds);
  console.log(`\nratio (kith / baseline) = ${ratio.toFixed(2)} (target >= ${TARGET_RATIO.toFixed(2)})  ${ratio >= TARGET_RATIO ? 'PASS' : 'BELOW TARGET'}`);
  // Throughput moves with the machine's neighbours; server CPU per message is the steadier signal.
  console.log(`cpu ratio (baseline µs/msg / kith µs/msg) = ${(baseline.serverCpuUsPerMessage / kith.serverCpuUsPerMessage).toFixed(2)} (information)`);
}

const ONLY = process.env['KITH_BENCH_ONLY'];
if (ONLY !== undefined && ONLY !== 'inbound' && ONLY !== 'fanout' && ONLY !== 'connect' && ONLY !== 'intent') throw new Error('KITH_BENCH_ONLY must be inbound, fanout, connect or intent');
const sizesOf = (name: string) =>
  (process.env[name] ?? '10,100').split(',').map((s) => {
    const n = Number(s.trim());
    if (!Number.isInteger(n) || n < 1) throw new Error(`${name} takes positive integers, comma-separated`);
    return n;
  });
const FANOUT_SIZES = sizesOf('KITH_BENCH_FANOUT_SIZES');
const INTENT_SIZES = sizesOf('KITH_BENCH_INTENT_SIZES');

async function all(): Promise<void> {
  if (ONLY === undefined || ONLY === 'inbound') await main();
  if (ONLY === undefined || ONLY === 'fanout') {
    await runFanoutBench({
      sizes: FANOUT_SIZES,
      repetitions: envInt('KITH_BENCH_FANOUT_REPS', 7),
      concurrency: CONCURRENCY,
      companiesPerProcess: envInt('KITH_BENCH_FANOUT_PER_PROCESS', 25),
      breakdown: process.env['KITH_BENCH_FANOUT_BREAKDOWN'] !== '0',
    });
  }
  if (ONLY === undefined || ONLY === 'connect') await runConnectBench({ perRound: envInt('KITH_BENCH_CONNECT_PER_ROUND', 50), rounds: envInt('KITH_BENCH_CONNECT_ROUNDS', 6) });
  if (ONLY === undefined || ONLY === 'intent') {
    await runIntentBench({ sizes: INTENT_SIZES, repetitions: envInt('KITH_BENCH_INTENT_REPS', 7), companiesPerProcess: envInt('KITH_BENCH_FANOUT_PER_PROCESS', 25) });
  }
}

all().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
  for (const child of children) child.kill();
});
