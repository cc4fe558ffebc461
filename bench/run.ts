/**
 * `npm run bench`: (1) company inbound messages/s, end to end over loopback HTTP, Kith against a
 * bare node:http + node:crypto baseline fed the very same envelopes; (2) the profile fan-out
 * (bench/fanout.ts): time from `profile.set` to N acks against N bare POSTs; (3) connect with terms
 * against connect without (bench/connect.ts); (4) one intent cast to N companies until every
 * automatic offer is in her vault, against N bare round trips at once (bench/intent.ts); (5) the
 * vault at scale (bench/vault.ts); (6) 100,000 fuzz cases against both agents (bench/fuzz.ts). See bench/README.md.
 *
 * Every server and the load driver run in their own processes (fork), so each is measured the same
 * way and the driver's cost never shares a server's event loop.
 *
 * Environment: KITH_BENCH_MESSAGES (default 20000), KITH_BENCH_CONCURRENCY (32),
 * KITH_BENCH_WARMUP (2000), KITH_BENCH_PROFILE=<dir> (write a --cpu-prof of each server there),
 * KITH_BENCH_ONLY=inbound|fanout|connect|intent, KITH_BENCH_CONNECT_PER_ROUND (50), KITH_BENCH_CONNECT_ROUNDS (6), KITH_BENCH_FANOUT_SIZES (10,100), KITH_BENCH_FANOUT_REPS (7),
 * KITH_BENCH_FANOUT_PER_PROCESS (25), KITH_BENCH_FANOUT_BREAKDOWN (1; 0 skips the profile), KITH_BENCH_INTENT_SIZES (10,100),
 * KITH_BENCH_INTENT_REPS (7), KITH_BENCH_POSTGRES_URL (unset: a throwaway cluster), KITH_BENCH_PROCS (1,2,4),
 * KITH_BENCH_VAULT_RELATIONSHIPS (10000), KITH_BENCH_VAULT_MESSAGES (100000), KITH_BENCH_VAULT_THINGS (1000), KITH_BENCH_VAULT_REPS (7),
 * KITH_BENCH_CONNECTOR_EVENTS (5000; bench/connectors.ts).
 * KITH_BENCH_ONLY=things: KITH_BENCH_THINGS (1000), KITH_BENCH_THINGS_DOCUMENTS (3000), KITH_BENCH_THINGS_DOCUMENT_KB (100).
 * KITH_BENCH_ONLY=overload, KITH_BENCH_OVERLOAD_REQUESTS (2000), KITH_BENCH_SLOWLORIS (200) (bench/overload.ts).
 * KITH_BENCH_FUZZ_CASES (100000), KITH_BENCH_FUZZ_SECONDS (2100), KITH_FUZZ_SEED (a fresh one).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { createPeerIdentity, type LocalIdentity } from '../src/protocol/agent/identity.js';
import { runConnectBench } from './connect.js';
import { runConnectorBench } from './connectors.js';
import { runFanoutBench } from './fanout.js';
import { runFuzzBench } from './fuzz.js';
import { runIntentBench } from './intent.js';
import { runVaultBench } from './vault.js';
import { runThingsBench } from './things.js';
import { runOverloadBench } from './overload.js';
import { startThrowawayPostgres } from '../test/support/postgres.js';

// --- messages between the processes -----------------------------------------------------------

export interface ServerStart {
  identity: LocalIdentity;
  engine: 'fast' | 'jose';
  /** Store in this PostgreSQL schema (shared by the company's processes) instead of a SQLite file. */
  postgres?: { url: string; schema: string };
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
  | { type: 'run'; ports: number[]; kind: 'kith' | 'baseline'; concurrency: number }
  | { type: 'go' }
  | { type: 'exit' };
export type ClientEvent =
  | { type: 'prepared'; seconds: number }
  | { type: 'warmed' }
  | { type: 'result'; result: RunResult }
  | { type: 'error'; message: string };

// --- orchestration ----------------------------------------------------------------------------

const TARGET_RATIO = 0.75;
const TARGET_RATIO_POSTGRES = 0.5;
const SCALING_TARGET = 0.8;
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
  /** The company's store: a SQLite file (default) or a schema of the bench's PostgreSQL. */
  store?: 'postgres';
  /** Processes of the one company, over the one PostgreSQL schema (default 1). */
  processes?: number;
}
const SCENARIOS: Scenario[] = [
  { name: 'baseline: node:http + node:crypto', script: 'baselineServer.js', kind: 'baseline', engine: 'fast' },
  { name: 'kith company (fast engine)', script: 'kithServer.js', kind: 'kith', engine: 'fast' },
  { name: 'kith company (jose engine, info)', script: 'kithServer.js', kind: 'kith', engine: 'jose' },
];
/** Scenarios on PostgreSQL: one process, then KITH_BENCH_PROCS processes of one company over one schema. */
const postgresScenarios = (procs: number[]): Scenario[] =>
  [...new Set([1, ...procs])].map((n) => ({ name: `kith company on PostgreSQL, ${n} process${n === 1 ? '' : 'es'}`, script: 'kithServer.js', kind: 'kith', engine: 'fast', store: 'postgres', processes: n }));

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
  scenario: Scenario;
  serverCpuUsPerMessage: number;
  stored: number | undefined;
}

async function cpuOf(servers: ChildProcess[]): Promise<number> {
  const usages = await Promise.all(
    servers.map(async (server) => {
      const cpu = next<ServerEvent, 'cpu'>(server, 'cpu');
      server.send({ type: 'cpu' } satisfies ServerCommand);
      const { usage } = await cpu;
      return usage.user + usage.system;
    }),
  );
  return usages.reduce((a, b) => a + b, 0);
}

async function measure(scenario: Scenario, client: ChildProcess, identity: LocalIdentity, postgresUrl?: string): Promise<Measured> {
  const postgres = scenario.store === 'postgres' && postgresUrl ? { url: postgresUrl, schema: `kith_bench_${process.pid}_${Date.now()}` } : undefined;
  const servers: ChildProcess[] = [];
  const ports: number[] = [];
  // One after another: the first process creates the schema's tables, the others find them.
  for (let i = 0; i < (scenario.processes ?? 1); i += 1) {
    const server = start(scenario.script, PROFILE_DIR ? ['--cpu-prof', '--cpu-prof-dir', PROFILE_DIR] : []);
    const listening = next<ServerEvent, 'listening'>(server, 'listening');
    server.send({ identity, engine: scenario.engine, ...(postgres ? { postgres } : {}) } satisfies ServerStart);
    ports.push((await listening).port);
    servers.push(server);
  }

  const warmed = next<ClientEvent, 'warmed'>(client, 'warmed');
  const result = next<ClientEvent, 'result'>(client, 'result');
  result.catch(() => undefined); // a failed warm-up rejects both; `warmed` reports it
  client.send({ type: 'run', ports, kind: scenario.kind, concurrency: CONCURRENCY } satisfies ClientCommand);
  await warmed;
  const before = await cpuOf(servers);
  client.send({ type: 'go' } satisfies ClientCommand);
  const measured = (await result).result;
  const after = await cpuOf(servers);

  // The processes share one store: the first one counts what was stored.
  const stored = scenario.kind === 'kith' ? next<ServerEvent, 'stored'>(servers[0]!, 'stored') : undefined;
  const exited = servers.map((server) => new Promise((done) => server.once('exit', done)));
  for (const server of servers) server.send({ type: 'stop' } satisfies ServerCommand);
  const storedCount = stored ? (await stored).count : undefined;
  await Promise.all(exited);
  if (postgres) await dropSchema(postgres.url, postgres.schema);
  return { name: scenario.name, scenario, ...measured, serverCpuUsPerMessage: (after - before) / measured.messages, stored: storedCount };
}

async function dropSchema(url: string, schema: string): Promise<void> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`drop schema if exists "${schema}" cascade`);
  } finally {
    await client.end();
  }
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

  // PostgreSQL: KITH_BENCH_POSTGRES_URL, else a throwaway cluster like the tests' (test/support/postgres.ts).
  const postgres = process.env['KITH_BENCH_POSTGRES_URL'] ? { url: process.env['KITH_BENCH_POSTGRES_URL'], stop: async () => {} } : await startThrowawayPostgres();
  if ('skipped' in postgres) console.log(`PostgreSQL rows SKIPPED: ${postgres.skipped}\n`);
  const scenarios = 'skipped' in postgres ? SCENARIOS : [...SCENARIOS, ...postgresScenarios(PROCS)];
  const rows: Measured[] = [];
  try {
    for (const scenario of scenarios) rows.push(await measure(scenario, client, identity, 'url' in postgres ? postgres.url : undefined));
  } finally {
    client.send({ type: 'exit' } satisfies ClientCommand);
    if ('stop' in postgres) await postgres.stop();
  }
  printTable(rows);

  for (const row of rows) {
    if (row.failures > 0) console.log(`\n${row.name}: ${row.failures} requests failed, first: ${row.firstFailure}`);
    if (row.stored !== undefined && row.stored !== MESSAGES + WARMUP) console.log(`\n${row.name}: stored ${row.stored} messages, expected ${MESSAGES + WARMUP}`);
  }
  const [baseline, kith] = rows;
  if (!baseline || !kith) return;
  const rate = (r: Measured) => r.messages / r.seconds;
  const ratio = rate(kith) / rate(baseline);
  console.log(`\nratio (kith / baseline) = ${ratio.toFixed(2)} (target >= ${TARGET_RATIO.toFixed(2)})  ${ratio >= TARGET_RATIO ? 'PASS' : 'BELOW TARGET'}`);
  // Throughput moves with the machine's neighbours; server CPU per message is the steadier signal.
  console.log(`cpu ratio (baseline µs/msg / kith µs/msg) = ${(baseline.serverCpuUsPerMessage / kith.serverCpuUsPerMessage).toFixed(2)} (information)`);
  const onPostgres = rows.filter((r) => r.scenario.store === 'postgres');
  const single = onPostgres.find((r) => r.scenario.processes === 1);
  if (!single) return;
  const pgRatio = rate(single) / rate(baseline);
  console.log(`ratio on PostgreSQL (kith, 1 process / baseline) = ${pgRatio.toFixed(2)} (target >= ${TARGET_RATIO_POSTGRES.toFixed(2)})  ${pgRatio >= TARGET_RATIO_POSTGRES ? 'PASS' : 'BELOW TARGET'}`);
  for (const row of onPostgres.filter((r) => (r.scenario.processes ?? 1) > 1)) {
    const n = row.scenario.processes ?? 1;
    const speedup = rate(row) / rate(single);
    console.log(
      `${n} processes on PostgreSQL: x${speedup.toFixed(2)} the throughput of one, scaling efficiency ${(speedup / n).toFixed(2)} (target >= ${SCALING_TARGET.toFixed(2)} per process where cores are free: ${availableParallelism()} CPUs here, shared with the client and PostgreSQL)`,
    );
  }
}

/** KITH_BENCH_PROCS: the numbers of company processes over one PostgreSQL to measure (1 is always measured). */
const PROCS = (process.env['KITH_BENCH_PROCS'] ?? '1,2,4').split(',').map((s) => {
  const n = Number(s.trim());
  if (!Number.isInteger(n) || n < 1) throw new Error('KITH_BENCH_PROCS takes positive integers, comma-separated');
  return n;
});
const ONLY = process.env['KITH_BENCH_ONLY'];
if (ONLY !== undefined && !['inbound', 'fanout', 'connect', 'intent', 'vault', 'connectors', 'things', 'overload', 'fuzz'].includes(ONLY)) throw new Error('KITH_BENCH_ONLY must be inbound, fanout, connect, intent, vault, connectors, things, overload or fuzz');
const sizesOf = (name: string) =>
  (process.env[name] ?? '10,100').split(',').map((s) => {
    const n = Number(s.trim());
    if (!Number.isInteger(n) || n < 1) throw new Error(`${name} takes positive integers, comma-separated`);
    return n;
  });
const FANOUT_SIZES = sizesOf('KITH_BENCH_FANOUT_SIZES');
const INTENT_SIZES = sizesOf('KITH_BENCH_INTENT_SIZES');

async function all(): Promise<void> {
  // Figures mean little without the machine: say it first, whichever benchmark runs.
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  console.log(`Kith benchmarks (${ONLY ?? 'all'}): node ${process.version}, ${availableParallelism()} CPUs (${cpu}), ${Math.round(totalmem() / 2 ** 30)} GiB, ${process.platform}/${process.arch}`);
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
  if (ONLY === undefined || ONLY === 'vault') {
    await runVaultBench({ relationships: envInt('KITH_BENCH_VAULT_RELATIONSHIPS', 10_000), messages: envInt('KITH_BENCH_VAULT_MESSAGES', 100_000), repetitions: envInt('KITH_BENCH_VAULT_REPS', 7), things: envInt('KITH_BENCH_VAULT_THINGS', 1_000) });
  }
  if (ONLY === undefined || ONLY === 'connectors') await runConnectorBench({ events: envInt('KITH_BENCH_CONNECTOR_EVENTS', 5_000) });
  if (ONLY === undefined || ONLY === 'things') {
    await runThingsBench({
      things: envInt('KITH_BENCH_THINGS', 1_000),
      documents: envInt('KITH_BENCH_THINGS_DOCUMENTS', 3_000),
      documentBytes: envInt('KITH_BENCH_THINGS_DOCUMENT_KB', 100) * 1024,
      repetitions: envInt('KITH_BENCH_VAULT_REPS', 7),
    });
  }
  if (ONLY === undefined || ONLY === 'overload') {
    await runOverloadBench({ requests: envInt('KITH_BENCH_OVERLOAD_REQUESTS', 2_000), slowloris: envInt('KITH_BENCH_SLOWLORIS', 200) });
  }
  if (ONLY === undefined || ONLY === 'fuzz') await runFuzzBench({ cases: envInt('KITH_BENCH_FUZZ_CASES', 100_000), seconds: envInt('KITH_BENCH_FUZZ_SECONDS', 2_100) });
}

all().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
  for (const child of children) child.kill();
});
