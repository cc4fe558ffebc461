/**
 * The fuzz bench (`KITH_BENCH_ONLY=fuzz`, issue 17): at least 100,000 fast-check cases (mutated
 * envelopes, mutated messages a real peer signed and encrypted, mutated local and admin API
 * requests) against both agents, most in process through the Hono apps, a share over real
 * sockets. Bounded in count (KITH_BENCH_FUZZ_CASES, default 100,000) and in time
 * (KITH_BENCH_FUZZ_SECONDS, default 2,100, shared out by what each target's cases cost). Prints the seed
 * (KITH_FUZZ_SEED replays it), the cases per target, the outcomes per code, and the crashes, 5xx
 * and store changes from refused input, which must all be 0. See bench/README.md.
 *
 * The cases run in rounds of at most ROUND cases per target, each round on fresh agents (a vault
 * that grew with every accepted message would make each snapshot slower than the last); round r
 * runs with seed + r, so a round replays alone as KITH_FUZZ_SEED=<seed + r>.
 */
import { formatReport, fuzzSeed, runFuzz, type FuzzReport } from '../test/support/fuzz/runner.js';
import { fuzzTargets, startFuzzWorld } from '../test/support/fuzz/targets.js';

export interface FuzzBenchOptions {
  cases: number;
  seconds: number;
}

/**
 * Each target's share of the cases (the cheap envelope cases most, 6% over real sockets) and of the
 * time (the signed messages cost most per case), in the order fuzzTargets gives them: company
 * envelopes, company messages, her envelopes, her messages, her local API, the admin API.
 */
const SHARES: Record<'app' | 'socket', { cases: readonly number[]; time: readonly number[] }> = {
  app: { cases: [0.33, 0.05, 0.33, 0.05, 0.09, 0.09], time: [0.14, 0.17, 0.14, 0.17, 0.14, 0.1] },
  socket: { cases: [0.01, 0.01, 0.01, 0.01, 0.01, 0.01], time: [0.02, 0.02, 0.02, 0.02, 0.02, 0.02] },
};
/** Cases per target and round: a round's agents start fresh. */
const ROUND = 2_500;

interface Totals {
  target: string;
  cases: number;
  ms: number;
  outcomes: Record<string, number>;
  crashes: number;
  serverErrors: number;
  remoteFailures: number;
  storeChanges: number;
  violations: string[];
}

function add(totals: Map<string, Totals>, report: FuzzReport): void {
  const t = totals.get(report.target) ?? { target: report.target, cases: 0, ms: 0, outcomes: {}, crashes: 0, serverErrors: 0, remoteFailures: 0, storeChanges: 0, violations: [] };
  t.cases += report.cases;
  t.ms += report.ms;
  for (const [k, n] of Object.entries(report.outcomes)) t.outcomes[k] = (t.outcomes[k] ?? 0) + n;
  t.crashes += report.crashes;
  t.serverErrors += report.serverErrors;
  t.remoteFailures += report.remoteFailures;
  t.storeChanges += report.storeChanges;
  if (report.violations.length > 0) t.violations.push(formatReport(report));
  totals.set(report.target, t);
}

export async function runFuzzBench(options: FuzzBenchOptions): Promise<void> {
  const seed = fuzzSeed();
  console.log(`\nFuzz bench: ${options.cases} cases, at most ${options.seconds} s, seed ${seed} (replay a round r: KITH_FUZZ_SEED=<seed + r>)`);
  const totals = new Map<string, Totals>();
  const started = performance.now();
  for (const transport of ['app', 'socket'] as const) {
    const shares = SHARES[transport];
    const quota = shares.cases.map((share) => Math.ceil(options.cases * share));
    const budgetMs = shares.time.map((share) => options.seconds * 1000 * share);
    const done = quota.map(() => 0);
    const spentMs = quota.map(() => 0);
    for (let round = 0; done.some((n, i) => n < quota[i]! && spentMs[i]! < budgetMs[i]!); round += 1) {
      const world = await startFuzzWorld();
      try {
        const targets = await fuzzTargets(world, transport);
        for (const [i, target] of targets.entries()) {
          const left = quota[i]! - done[i]!;
          const timeLeft = budgetMs[i]! - spentMs[i]!;
          if (left <= 0 || timeLeft <= 0) continue;
          const report = await runFuzz(target, { seed: seed + round, numRuns: Math.min(ROUND, left), timeLimitMs: Math.min(timeLeft, 600_000) });
          done[i]! += report.cases;
          spentMs[i]! += report.ms;
          add(totals, report);
          console.log(`  round ${round}: ${report.target}: ${report.cases} cases in ${(report.ms / 1000).toFixed(1)} s (${done[i]}/${quota[i]})`);
        }
      } finally {
        await world.cleanup();
      }
    }
  }
  const all = [...totals.values()];
  console.log(`\nFuzz bench results (seed ${seed}, ${((performance.now() - started) / 1000).toFixed(0)} s):`);
  for (const t of all) {
    console.log(`\n${t.target}: ${t.cases} cases, ${(t.cases / (t.ms / 1000)).toFixed(0)} cases/s; crashes ${t.crashes}, 5xx ${t.serverErrors} (+ ${t.remoteFailures} 502 from a remote), store changes from refusals ${t.storeChanges}`);
    for (const [k, n] of Object.entries(t.outcomes).sort((a, b) => b[1] - a[1])) console.log(`  ${String(n).padStart(7)}  ${k}`);
    for (const v of t.violations) console.log(v);
  }
  const sum = (pick: (t: Totals) => number) => all.reduce((s, t) => s + pick(t), 0);
  const cases = sum((t) => t.cases);
  const faults = sum((t) => t.crashes) + sum((t) => t.serverErrors) + sum((t) => t.storeChanges);
  console.log(
    `\nfuzz total: ${cases} cases (${sum((t) => (t.target.includes('(socket)') ? t.cases : 0))} over sockets), crashes ${sum((t) => t.crashes)}, 5xx ${sum((t) => t.serverErrors)} (+ ${sum((t) => t.remoteFailures)} 502 from a remote), store changes from refusals ${sum((t) => t.storeChanges)}  ${faults === 0 && cases >= options.cases ? 'PASS' : cases < options.cases ? 'SHORT OF THE CASES (time limit)' : 'FAULTS FOUND'}`,
  );
}
