/**
 * The intent bench (`KITH_BENCH_ONLY=intent`): one intent cast to N companies, from
 * `intents.cast(...)` until every company's automatic offer is in her vault, against N bare HTTP
 * round trips of the same sizes at the same concurrency. See bench/README.md.
 *
 * Laid out like the fan-out bench (bench/fanout.ts): her agent runs in THIS process
 * (createPersonalAgent on a temp vault, no server loops), the N company agents are real loopback
 * listeners in fleet processes (bench/fleet.ts, `companiesPerProcess` in each), each with an intent
 * policy and a one-item catalog that matches the cast. The cast sends to every company at once
 * (Promise.all in src/personal/intents.ts), so the baseline's N POSTs (bench/bareListeners.ts,
 * laid out the same way) are all in flight at once too.
 *
 * Her agent posts with its default transport (node:http, keep-alive); the sizes on the wire are
 * noted during the warm-up from node:http's diagnostics channels, not by handing her agent a fetch.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createPersonalAgent, type PersonalAgent } from '../src/personal/createPersonalAgent.js';
import { Vault } from '../src/personal/vault/vault.js';
import type { Demand } from '../src/protocol/families/intent.js';
import { startFleetProcess, stopChild, type FleetProcess } from './fanout.js';
import { chunks, inParallel, listenerForker, measureBareBaseline, median, noteWireSizes, printTable, timedRounds, type WireSizes } from './measure.js';

export interface IntentBenchOptions {
  sizes: number[];
  repetitions: number;
  companiesPerProcess: number;
}

const children = new Set<ChildProcess>();

// --- the cast and the catalog that answers it ---------------------------------------------------

const demand: Demand = {
  '@type': 'Demand',
  description: 'Waterproof trail shoes, size 39',
  category: 'clothing',
  priceSpecification: { maxPrice: '150', priceCurrency: 'EUR' },
  eligibleRegion: { addressCountry: 'DE' },
};
/** Every company's catalog: the one item that meets the demand (so every answer is an offer she keeps, none declined by her rule). */
const catalog = {
  version: 1,
  items: [{ sku: 'TS-39', name: 'Waterproof trail shoe 39', category: 'clothing', price: '129.90', priceCurrency: 'EUR', stock: 1000, deliveryDays: 3, countries: ['DE'] }],
};

// --- her side ---------------------------------------------------------------------------------

interface KithSetup {
  agent: PersonalAgent;
  vault: Vault;
  fleets: FleetProcess[];
}

async function setUpKith(n: number, dir: string, options: IntentBenchOptions): Promise<KithSetup> {
  const catalogFile = join(dir, 'catalog.json');
  writeFileSync(catalogFile, JSON.stringify(catalog));
  const policyFile = join(dir, 'policy.json');
  // It accepts the terms an anonymous cast proffers (intent-only-contact): otherwise it would make no offer.
  writeFileSync(policyFile, JSON.stringify({ terms: { accept: ['intent-only-contact'] }, intents: { categories: ['clothing'], catalogFile } }));
  const fleets = await Promise.all(
    chunks(n, options.companiesPerProcess).map((count, p) => startFleetProcess(join(dir, `fleet-${p}`), count, `Intent Bench ${n}.${p}`, ['--policy', policyFile])),
  );
  const companies = fleets.flatMap((f) => f.companies);
  const vault = Vault.create(join(dir, 'vault.db'), 'bench passphrase');
  // Companies cannot push to her (no listener); every offer comes back on the cast's own response.
  const agent = createPersonalAgent({ vault, inboundBaseUrl: () => 'http://127.0.0.1:9' });
  await inParallel(companies, 8, async (company) => {
    await agent.connect(company.invitation);
  });
  return { agent, vault, fleets };
}

/** One cast to all N, until every automatic offer is in her vault; returns ms. */
async function castOnce(agent: PersonalAgent, n: number, i: number): Promise<number> {
  const started = performance.now();
  const intent = await agent.intents.cast({ demand, outcome: `Bench cast ${i}`, expiresAt: Date.now() + 86_400_000 });
  const elapsed = performance.now() - started;
  const offers = agent.intents.offers(intent.id);
  if (intent.recipients.length !== n || offers.length !== n || offers.some((o) => o.state !== 'received' || !o.meets)) {
    throw new Error(`cast ${i}: ${intent.recipients.length} recipients, ${offers.length} offers (${offers.filter((o) => o.state === 'received' && o.meets).length} kept), expected ${n}`);
  }
  return elapsed;
}

/**
 * One anonymous cast to the N companies of her directory, each from a fresh pairwise DID that the
 * cast opens (proffering her terms), until every automatic offer is in her vault; returns ms.
 */
async function castAnonymouslyOnce(agent: PersonalAgent, n: number, i: number): Promise<number> {
  const started = performance.now();
  const intent = await agent.intents.cast({ demand, outcome: `Bench anonymous cast ${i}`, expiresAt: Date.now() + 86_400_000, anonymous: true });
  const elapsed = performance.now() - started;
  const offers = agent.intents.offers(intent.id);
  if (intent.recipients.length !== n || intent.recipients.some((r) => !r.anonymous) || offers.length !== n || offers.some((o) => o.state !== 'received')) {
    throw new Error(`anonymous cast ${i}: ${intent.recipients.length} recipients, ${offers.length} offers, expected ${n} of each`);
  }
  return elapsed;
}

// --- orchestration ----------------------------------------------------------------------------

interface SizeResult {
  n: number;
  kithMs: number[];
  /** The same cast, anonymously to the N companies of her directory (each opens a relationship). */
  anonymousMs: number[];
  baselineMs: number[];
  undiciMs: number[];
  castBytes: number;
  offerBytes: number;
  herCpuMs: number;
  companyCpuMs: number | undefined;
  bareCpuMs: number | undefined;
  setupSeconds: number;
}

async function measureSize(n: number, options: IntentBenchOptions): Promise<SizeResult> {
  const dir = mkdtempSync(join(tmpdir(), `kith-bench-intent-${n}-`));
  let setup: KithSetup | undefined;
  const bare: ChildProcess[] = [];
  try {
    const setupStarted = performance.now();
    setup = await setUpKith(n, dir, options);
    const { agent } = setup;
    const setupSeconds = (performance.now() - setupStarted) / 1000;
    console.log(`  N=${n}: ${setup.fleets.length} fleet process(es), connected, in ${setupSeconds.toFixed(1)} s (not measured)`);

    // Warm-up (not measured): JIT, connections, the companies' catalogs loaded, and the sizes on the wire.
    const sizes: WireSizes = { requests: [], responses: [] };
    const stopMeasuring = noteWireSizes(sizes);
    await castOnce(agent, n, 1);
    stopMeasuring();
    // At least ~300 round trips of warm-up whatever N: with only two casts at N=10 her code was still
    // cold (her CPU per company 5.3 ms alone against 2.3 ms after the other benches), which made the
    // growth to N=100 look sub-linear.
    for (let w = 2; w <= Math.max(2, Math.ceil(300 / n)); w += 1) await castOnce(agent, n, w);
    const castBytes = Math.round(median(sizes.requests));
    const offerBytes = Math.round(median(sizes.responses));

    const companyPids = setup.fleets.map((f) => f.child.pid);
    const kith = await timedRounds(options.repetitions, companyPids, (r) => castOnce(agent, n, 1000 + r));
    // Anonymously: her directory lists the N companies (fetched and verified once, not measured).
    await inParallel(setup.fleets.flatMap((f) => f.companies), 8, async (company) => {
      await agent.directory.add(company.url);
    });
    for (let w = 0; w < 2; w += 1) await castAnonymouslyOnce(agent, n, w);
    const anonymousMs: number[] = [];
    for (let r = 0; r < options.repetitions; r += 1) anonymousMs.push(await castAnonymouslyOnce(agent, n, 2000 + r));
    for (const fleet of setup.fleets) await stopChild(fleet.child);
    setup.vault.close();

    // The baseline: same layout of listeners, same sizes, all N at once.
    const forkListeners = listenerForker('bareListeners.js', children, bare);
    const { baselineMs, undiciMs, bareCpuMs } = await measureBareBaseline({ n, perProcess: options.companiesPerProcess, requestBytes: castBytes, replyBytes: offerBytes, concurrency: n, repetitions: options.repetitions, forkListeners });

    return {
      n,
      kithMs: kith.ms,
      anonymousMs,
      baselineMs,
      undiciMs,
      castBytes,
      offerBytes,
      herCpuMs: kith.herCpuMs,
      companyCpuMs: kith.otherCpuMs,
      bareCpuMs,
      setupSeconds,
    };
  } finally {
    for (const fleet of setup?.fleets ?? []) await stopChild(fleet.child);
    for (const child of bare) await stopChild(child, { type: 'stop' });
    rmSync(dir, { recursive: true, force: true });
  }
}


export async function runIntentBench(options: IntentBenchOptions): Promise<void> {
  const started = performance.now();
  console.log(
    `\nKith intent bench: one intent cast to N companies, each answering with an automatic offer; time from intents.cast to all N offers in her vault (median of ${options.repetitions}), all N at once, ${options.companiesPerProcess} companies per process`,
  );
  const results: SizeResult[] = [];
  try {
    for (const n of options.sizes) results.push(await measureSize(n, options));
  } finally {
    for (const child of [...children]) child.kill('SIGKILL');
  }
  const ms = (v: number) => v.toFixed(1);
  console.log('');
  printTable(
    ['N', 'cast B', 'offer B', 'kith ms', 'baseline ms', 'undici ms (info)', 'ratio', 'anonymous ms', 'anon ratio', 'her CPU ms', 'her CPU ms/company', 'company CPU ms', 'bare CPU ms'],
    results.map((r) => [
      String(r.n),
      String(r.castBytes),
      String(r.offerBytes),
      ms(median(r.kithMs)),
      ms(median(r.baselineMs)),
      ms(median(r.undiciMs)),
      (median(r.kithMs) / median(r.baselineMs)).toFixed(1),
      ms(median(r.anonymousMs)),
      (median(r.anonymousMs) / median(r.baselineMs)).toFixed(1),
      ms(r.herCpuMs),
      (r.herCpuMs / r.n).toFixed(2),
      r.companyCpuMs === undefined ? '-' : ms(r.companyCpuMs),
      r.bareCpuMs === undefined ? '-' : ms(r.bareCpuMs),
    ]),
  );
  console.log('(kith ms, baseline ms: wall time per cast, median; anonymous ms: the same cast to the N companies of her directory, each from a fresh pairwise DID it opens; CPU: per cast over relationships, mean; company/bare CPU from /proc, 10 ms resolution)');
  for (const r of results) console.log(`  N=${r.n} kith runs ms: ${r.kithMs.map(ms).join(' ')} | baseline: ${r.baselineMs.map(ms).join(' ')}`);

  const first = results.find((r) => r.n === 10) ?? results[0];
  const last = results.find((r) => r.n === 100) ?? results.at(-1);
  if (first && last) {
    console.log('');
    for (const r of first === last ? [first] : [first, last]) console.log(`ratio at N=${r.n} (kith / baseline) = ${(median(r.kithMs) / median(r.baselineMs)).toFixed(1)}`);
    if (first !== last) {
      const scale = last.n / first.n;
      const kithGrowth = median(last.kithMs) / median(first.kithMs);
      const baseGrowth = median(last.baselineMs) / median(first.baselineMs);
      console.log(`growth N=${first.n} -> N=${last.n}: kith x${kithGrowth.toFixed(1)}, baseline x${baseGrowth.toFixed(1)} (linear = x${scale.toFixed(0)})  ${kithGrowth <= scale ? 'PASS' : 'WORSE THAN LINEAR'}`);
    }
  }
  console.log(`intent bench took ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
