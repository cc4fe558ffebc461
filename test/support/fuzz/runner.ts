/**
 * Runs one fuzz target with fast-check, bounded in count and time, and checks the property of every
 * case: the app answers (nothing thrown out of it), never with a 5xx, and a refusal (4xx) leaves
 * the agent's whole store or vault as it was. Outcomes are counted per status and error code;
 * violations are collected (with the case, printable) rather than stopping the run, so one run
 * gives every count. The agent must still answer a valid request afterwards.
 */
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import type { KithErrorCode } from '../../../src/core/errors.js';
import { ERROR_TABLE } from '../../../src/core/errorTable.js';

export interface FuzzTarget<C> {
  name: string;
  arbitrary: fc.Arbitrary<C>;
  /**
   * Builds one case's request (a throw here is the harness's fault and stops the run) and returns
   * what sends it (a throw there is a crash: the app let an error out).
   */
  prepare(c: C): Promise<() => Promise<Response>>;
  /** The agent's whole state (every row of the store or vault). */
  snapshot(): Promise<unknown>;
  /** Throws unless the agent still gives a valid request its normal answer. */
  alive(): Promise<void>;
  /** Whether no work between the agents is under way (requests in flight); absent: always. */
  quiet?(): boolean;
  /**
   * A number that changes whenever anything is committed to the store (SQLite's data_version, seen
   * from a connection of its own): while it stays, the last snapshot still holds and none is taken.
   */
  version?(): number;
}

export type ViolationKind = 'crash' | 'server_error' | 'store_changed' | 'not_alive';

export interface Violation {
  kind: ViolationKind;
  /** The case's index in the run (the seed replays the same sequence). */
  index: number;
  detail: string;
  /** The case, as fast-check prints it. */
  input: string;
}

export interface FuzzReport {
  target: string;
  seed: number;
  cases: number;
  ms: number;
  interrupted: boolean;
  /** `<status> <error code>` (or `<status> ok`) -> count. */
  outcomes: Record<string, number>;
  crashes: number;
  serverErrors: number;
  /** 502s that report a remote's failure (isRemoteFailure): not the agent's fault, not counted as 5xx. */
  remoteFailures: number;
  storeChanges: number;
  violations: Violation[];
}

export interface RunOptions {
  seed: number;
  numRuns: number;
  /** fast-check stops starting cases after this long (the run is bounded in time as well as count). */
  timeLimitMs: number;
}

/** KITH_FUZZ_SEED, else a fresh one: print it, so any run can be replayed. */
export function fuzzSeed(): number {
  const given = process.env['KITH_FUZZ_SEED'];
  if (given === undefined || given === '') return Math.floor(Math.random() * 2 ** 31);
  const seed = Number(given);
  if (!Number.isInteger(seed)) throw new Error('KITH_FUZZ_SEED must be an integer');
  return seed;
}

/** The case as fast-check prints it, cut short; a case too deep to print says so. */
function printable(input: unknown): string {
  try {
    return fc.stringify(input).slice(0, 2_000);
  } catch (error) {
    return `(not printable: ${error instanceof Error ? error.message : String(error)})`;
  }
}

/** How many violations keep their case text: the counts go on, the report stays readable. */
const KEPT = 20;

/**
 * A 502 whose code the error table gives 502: a remote the agent called for this request (a URL she
 * gave, the company she talks to) could not be reached or refused, and the answer says so, as a
 * gateway's does. Counted apart; any other 5xx (500 internal, 503, a 502 without such a code) is a fault.
 */
function isRemoteFailure(status: number, outcome: string): boolean {
  const code = outcome.slice(outcome.indexOf(' ') + 1);
  return status === 502 && code in ERROR_TABLE && ERROR_TABLE[code as KithErrorCode].status === 502;
}

/** `<status> <code>` for the counts, and the error's message for a violation's detail. */
async function outcomeOf(response: Response): Promise<{ outcome: string; message: string }> {
  if (response.headers.get('content-type')?.startsWith('text/event-stream')) {
    await response.body?.cancel();
    return { outcome: `${response.status} stream`, message: '' };
  }
  const text = await response.text();
  if (response.status < 400) return { outcome: `${response.status} ok`, message: '' };
  try {
    const error = (JSON.parse(text) as { error?: { code?: unknown; message?: unknown } }).error;
    return { outcome: `${response.status} ${typeof error?.code === 'string' ? error.code : '(no code)'}`, message: String(error?.message ?? '') };
  } catch {
    return { outcome: `${response.status} (not JSON)`, message: text.slice(0, 200) };
  }
}

/**
 * The target's snapshot once the agents are quiet (no request between them in flight) and it
 * stopped changing (two equal in a row, SETTLE_MS apart); at most SETTLE_MAX_MS.
 */
async function settled<C>(target: FuzzTarget<C>): Promise<unknown> {
  const until = performance.now() + SETTLE_MAX_MS;
  if (target.version) {
    let version = target.version();
    for (;;) {
      await new Promise((done) => setTimeout(done, SETTLE_VERSION_MS));
      const next = target.version();
      if ((next === version && (target.quiet?.() ?? true)) || performance.now() > until) break;
      version = next;
    }
    return target.snapshot();
  }
  let previous = await target.snapshot();
  for (;;) {
    await new Promise((done) => setTimeout(done, SETTLE_MS));
    const next = await target.snapshot();
    if ((isDeepStrictEqual(previous, next) && (target.quiet?.() ?? true)) || performance.now() > until) return next;
    previous = next;
  }
}
const SETTLE_VERSION_MS = 5;
const SETTLE_MS = 25;
const SETTLE_MAX_MS = 2_000;

/** Names what differs between two snapshots: the tables whose rows changed. */
function changedTables(before: unknown, after: unknown): string {
  if (before === null || typeof before !== 'object' || after === null || typeof after !== 'object') return 'snapshot';
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys].filter((k) => !isDeepStrictEqual((before as Record<string, unknown>)[k], (after as Record<string, unknown>)[k])).join(', ');
}

export async function runFuzz<C>(target: FuzzTarget<C>, options: RunOptions): Promise<FuzzReport> {
  const report: FuzzReport = { target: target.name, seed: options.seed, cases: 0, ms: 0, interrupted: false, outcomes: {}, crashes: 0, serverErrors: 0, remoteFailures: 0, storeChanges: 0, violations: [] };
  const violate = (kind: ViolationKind, index: number, detail: string, input: unknown) => {
    // An agent that no longer answers has crashed as surely as one that threw.
    if (kind === 'crash' || kind === 'not_alive') report.crashes += 1;
    if (kind === 'server_error') report.serverErrors += 1;
    if (kind === 'store_changed') report.storeChanges += 1;
    if (report.violations.length < KEPT) report.violations.push({ kind, index, detail, input: printable(input) });
  };
  // An error escaping the app's promise chain (a handler's work left running) is a crash too.
  let current: { index: number; input: unknown } = { index: -1, input: undefined };
  const escaped = (error: unknown) => violate('crash', current.index, `escaped: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`, current.input);
  process.on('unhandledRejection', escaped);
  process.on('uncaughtException', escaped);
  let settle = false;
  let previous = 'none';
  /** The last snapshot, and the store's version when it was taken (undefined: no version, snapshot every case). */
  let cached: { version: number | undefined; snapshot: unknown } | undefined;
  const runCase = async (input: C): Promise<boolean> => {
    const index = report.cases;
    report.cases += 1;
    current = { index, input };
    const send = await target.prepare(input);
    // An accepted case may start work that ends later (a reply pushed to the other agent, whose
    // answer comes back): let it finish first, so a refusal is not blamed for its writes.
    if (settle || cached === undefined || target.version?.() !== cached.version) {
      const snapshot = settle ? await settled(target) : await target.snapshot();
      cached = { version: target.version?.(), snapshot };
    }
    settle = false;
    const before = cached;
    let response: Response;
    try {
      response = await send();
    } catch (error) {
      violate('crash', index, error instanceof Error ? (error.stack ?? error.message) : String(error), input);
      return true;
    }
    const { outcome, message } = await outcomeOf(response);
    report.outcomes[outcome] = (report.outcomes[outcome] ?? 0) + 1;
    if (response.status >= 500 && !isRemoteFailure(response.status, outcome)) violate('server_error', index, `${outcome}: ${message}`, input);
    else if (response.status >= 500) report.remoteFailures += 1;
    else if (response.status >= 400) {
      // Nothing committed since the snapshot (same data_version): nothing changed. Else compare rows.
      const unchanged = target.version !== undefined && target.version() === before.version;
      if (!unchanged) {
        const after = await target.snapshot();
        if (!isDeepStrictEqual(before.snapshot, after)) violate('store_changed', index, `${outcome} changed ${changedTables(before.snapshot, after)} (the case before: ${previous})`, input);
        cached = { version: target.version?.(), snapshot: after };
      }
    } else settle = true;
    previous = outcome;
    return true;
  };
  /** The case under way: fast-check's time limit abandons it, and it is awaited after the run. */
  let running: Promise<boolean> = Promise.resolve(true);
  const started = performance.now();
  try {
    const details = await fc.check(
      // fast-check's time limit abandons the case under way; it is awaited below, so its writes and
      // checks end before anything else (the liveness check, the next target) touches the agent.
      fc.asyncProperty(target.arbitrary, (input) => (running = runCase(input))),
      { seed: options.seed, numRuns: options.numRuns, interruptAfterTimeLimit: options.timeLimitMs, markInterruptAsFailure: false },
    );
    await running;
    report.interrupted = details.interrupted;
    // The property itself never fails (violations are counted); a failure here is the harness's own error.
    if (details.failed) throw new Error(`The fuzz harness failed on ${target.name}: ${String(details.errorInstance)}`);
  } finally {
    process.off('unhandledRejection', escaped);
    process.off('uncaughtException', escaped);
    report.ms = performance.now() - started;
  }
  try {
    await target.alive();
  } catch (error) {
    violate('not_alive', report.cases, error instanceof Error ? error.message : String(error), null);
  }
  return report;
}

/** A report as lines for a person: cases, the outcomes by count, the violations. */
export function formatReport(report: FuzzReport): string {
  const outcomes = Object.entries(report.outcomes)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `    ${String(n).padStart(7)}  ${k}`)
    .join('\n');
  const head = `${report.target}: ${report.cases} cases in ${(report.ms / 1000).toFixed(1)} s${report.interrupted ? ' (time limit reached)' : ''}, seed ${report.seed}; crashes ${report.crashes}, 5xx ${report.serverErrors} (+ ${report.remoteFailures} 502 from a remote), store changes from refusals ${report.storeChanges}`;
  const violations = report.violations.map((v) => `    ! ${v.kind} at case ${v.index}: ${v.detail.split('\n').slice(0, 4).join(' | ')}\n      input: ${v.input.slice(0, 600)}`).join('\n');
  return [head, outcomes, violations].filter((s) => s !== '').join('\n');
}
