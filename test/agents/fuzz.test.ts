/**
 * Fuzzing both agents (issue 17): mutated envelopes, mutated messages a real peer signed and
 * encrypted, and mutated local and admin API requests, a few hundred cases per target, in process
 * and a smaller share over real sockets. The property of every case (test/support/fuzz/runner.ts):
 * no crash, no 5xx, a refusal changes nothing, and the agent still answers afterwards. The seed is
 * printed; KITH_FUZZ_SEED=<seed> replays the same cases. The 100,000-case run is bench/fuzz.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatReport, fuzzSeed, runFuzz, type FuzzReport } from '../support/fuzz/runner.js';
import { fuzzTargets, startFuzzWorld, type FuzzWorld } from '../support/fuzz/targets.js';

const SEED = fuzzSeed();
/** Per target: cases, and the time after which fast-check starts no more (CI stays fast). */
const IN_PROCESS = { numRuns: 300, timeLimitMs: 4_000 };
const OVER_SOCKETS = { numRuns: 60, timeLimitMs: 1_500 };

let world: FuzzWorld;
beforeAll(async () => {
  console.log(`fuzz seed ${SEED} (replay: KITH_FUZZ_SEED=${SEED} npx vitest run test/agents/fuzz.test.ts)`);
  world = await startFuzzWorld();
});
afterAll(async () => {
  await world?.cleanup();
});

async function fuzzAll(transport: 'app' | 'socket', bounds: { numRuns: number; timeLimitMs: number }): Promise<FuzzReport[]> {
  const reports: FuzzReport[] = [];
  for (const target of await fuzzTargets(world, transport)) {
    const report = await runFuzz(target, { seed: SEED, ...bounds });
    console.log(formatReport(report));
    reports.push(report);
  }
  return reports;
}

/** Every target ran cases, and none broke the property. */
function expectClean(reports: FuzzReport[]): void {
  for (const report of reports) expect(report.cases, report.target).toBeGreaterThan(0);
  expect(reports.flatMap((r) => r.violations.map((v) => `${r.target}: ${v.kind} at case ${v.index}: ${v.detail}\n  ${v.input}`))).toEqual([]);
}

describe('fuzzing both agents', () => {
  it('in process: no crash, no 5xx, no change from a refusal, still answering', { timeout: 60_000 }, async () => {
    expectClean(await fuzzAll('app', IN_PROCESS));
  });

  it('over real sockets: the same', { timeout: 30_000 }, async () => {
    expectClean(await fuzzAll('socket', OVER_SOCKETS));
  });
});
