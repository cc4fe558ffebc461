/**
 * The fan-out bench ("change once everywhere"): how long from `profile.set(...)` until all N
 * companies' acknowledgements are recorded in her vault, against N bare HTTP POSTs of the same
 * sizes. See bench/README.md.
 *
 * Her agent runs in THIS process (createPersonalAgent on a temp vault, no server loops: the bench
 * drives `profile.deliver()` itself). The N company agents are real listeners on loopback in other
 * processes (bench/fleet.ts, `companiesPerProcess` in each). The baseline's listeners
 * (bench/bareListeners.ts) are laid out the same way and driven by node:http with keep-alive at the
 * same concurrency.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { systemClock } from '../src/core/clock.js';
import { createPeerIdentity, signingKeyOf, agreementKeyOf } from '../src/protocol/agent/identity.js';
import { resolvePeer } from '../src/protocol/agent/peer.js';
import { buildMessage } from '../src/protocol/buildMessage.js';
import { createDidResolver } from '../src/protocol/did/resolver.js';
import { fastEngine } from '../src/protocol/envelope/fastEngine.js';
import { packMessage } from '../src/protocol/envelope/pack.js';
import { DEFAULT_CLOCK_SKEW_MS, DEFAULT_MAX_MESSAGE_BYTES, receiveMessage } from '../src/protocol/envelope/receive.js';
import { ProfileUpdate, createMessageRegistry } from '../src/protocol/families/index.js';
import { privateKeyObject } from '../src/protocol/keys.js';
import { PROFILE_VCT, issueSdJwt, presentSdJwt, presentSelfIssued } from '../src/protocol/sdjwt/index.js';
import { createPersonalAgent, type PersonalAgent } from '../src/personal/createPersonalAgent.js';
import { Vault } from '../src/personal/vault/vault.js';
import type { FleetCompany } from './fleet.js';
import { chunks, inParallel, listenerForker, measureBareBaseline, median, noteWireSizes, printTable, timedRounds, type WireSizes } from './measure.js';
import { measureRawBaseline, type RawBaselineResult } from './rawBaseline.js';

export interface FanoutOptions {
  sizes: number[];
  repetitions: number;
  concurrency: number;
  companiesPerProcess: number;
  /** Also run the reps once more under the V8 profiler and print where her time goes. */
  breakdown: boolean;
}

const TARGET_RATIO = 1.5;
const TARGET_RAW_RATIO = 2;
const TARGET_HER_CPU_MS = 1;
const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const children = new Set<ChildProcess>();

// --- the company side: fleet processes -----------------------------------------------------------

export interface FleetProcess {
  child: ChildProcess;
  companies: FleetCompany[];
}

/** A fleet (bench/fleet.ts) in its own process; `extraArgs` e.g. `['--policy', file]`. */
export function startFleetProcess(dir: string, count: number, baseName: string, extraArgs: string[] = []): Promise<FleetProcess> {
  const child = spawn(process.execPath, [here('fleet.js'), '--dir', dir, '--count', String(count), '--base-name', baseName, '--quiet', ...extraArgs], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return new Promise((resolvePromise, reject) => {
    let text = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      text += chunk;
      const end = text.indexOf('\n');
      if (end >= 0) resolvePromise({ child, companies: (JSON.parse(text.slice(0, end)) as { companies: FleetCompany[] }).companies });
    });
    child.once('exit', (code) => reject(new Error(`fleet exited (${code}) before it was ready`)));
  });
}

export async function stopChild(child: ChildProcess, message?: unknown): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((done) => child.once('exit', done));
  if (message !== undefined) child.send(message as never);
  else child.kill('SIGTERM');
  await exited;
}

async function adminPost(company: FleetCompany, path: string, body: unknown): Promise<void> {
  const response = await fetch(`${company.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${company.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${company.name}: HTTP ${response.status} ${await response.text()}`);
}

// --- her side ---------------------------------------------------------------------------------

interface KithSetup {
  agent: PersonalAgent;
  vault: Vault;
  fleets: FleetProcess[];
}

const address = (i: number) => ({ street_address: `${i} Bench Street`, locality: 'Benchington', postal_code: String(10_000 + (i % 90_000)), country: 'GB' });

async function setUpKith(n: number, dir: string, options: FanoutOptions): Promise<KithSetup> {
  const fleets = await Promise.all(chunks(n, options.companiesPerProcess).map((count, p) => startFleetProcess(join(dir, `fleet-${p}`), count, `Bench ${n}.${p}`)));
  const companies = fleets.flatMap((f) => f.companies);
  const vault = Vault.create(join(dir, 'vault.db'), 'bench passphrase');
  // Companies cannot push to her (no listener): their requests wait until she picks them up. Her
  // agent posts with its own transport (node:http, keep-alive), as `kith serve` does.
  const agent = createPersonalAgent({ vault, inboundBaseUrl: () => 'http://127.0.0.1:9', fanoutConcurrency: options.concurrency });
  agent.profile.set({ address: address(0) });
  await inParallel(companies, 8, async (company) => {
    const relationship = await agent.connect(company.invitation);
    await adminPost(company, `/admin/relationships/${encodeURIComponent(relationship.customerRef!)}/disclosure-requests`, { fields: ['address'], purpose: 'Deliveries' });
  });
  await agent.pickup();
  const requests = agent.disclosure.requests();
  if (requests.length !== n) throw new Error(`expected ${n} disclosure requests, got ${requests.length}`);
  await inParallel(requests, 8, async (r) => {
    await agent.disclosure.approve(r.id);
  });
  const holders = agent.profile.profile().fields.find((f) => f.field === 'address')?.heldBy.length;
  if (holders !== n) throw new Error(`expected ${n} companies holding the address, got ${holders}`);
  return { agent, vault, fleets };
}

/** One change, from `profile.set` until every acknowledgement is recorded; returns ms. */
async function fanOutOnce(agent: PersonalAgent, n: number, i: number): Promise<number> {
  const started = performance.now();
  const change = agent.profile.set({ address: address(i) });
  if (!change || change.deliveries.length !== n) throw new Error(`change ${i}: ${change?.deliveries.length ?? 0} deliveries, expected ${n}`);
  for (;;) {
    const result = await agent.profile.deliver();
    if (result.retrying + result.failed + result.skipped > 0) throw new Error(`change ${i}: ${JSON.stringify(result)}`);
    if (agent.profile.change(change.version).done) break;
  }
  return performance.now() - started;
}

// --- the baseline -----------------------------------------------------------------------------



// --- where her time goes ----------------------------------------------------------------------

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Breakdown {
  /** ms of samples by category */
  categories: Map<string, number>;
  /** ms of self time by function */
  functions: Map<string, number>;
}

const has = (frames: ProfileNode['callFrame'][], ...names: string[]) => frames.some((c) => names.includes(c.functionName));
/** First match wins; tested against the whole stack of each sample, root first. */
const CATEGORIES: [string, (frames: ProfileNode['callFrame'][]) => boolean][] = [
  ['idle (waiting for the network and the companies)', (f) => f.at(-1)?.functionName === '(idle)'],
  ['garbage collection', (f) => f.at(-1)?.functionName === '(garbage collector)'],
  ['pack: ephemeral X25519 key (generateKeyPairSync + DER re-import)', (f) => has(f, 'ephemeralKey')],
  ['her keys: JWK import (privateKeyObject) / DER export (rawPublicKeyOf)', (f) => has(f, 'privateKeyObject', 'rawPublicKeyOf')],
  ['SD-JWT issue + key binding (the rest)', (f) => has(f, 'issueSdJwt', 'presentSdJwt', 'presentSelfIssued') || f.some((c) => c.url.includes('/protocol/sdjwt/'))],
  ['pack notice (the rest: sign, encrypt, serialize)', (f) => has(f, 'packMessage')],
  ['unpack ack (decrypt, verify, parse)', (f) => has(f, 'receiveMessage')],
  ['vault (SQLite + row crypto + zod)', (f) => f.some((c) => c.url.includes('/personal/vault/'))],
  ['HTTP client (undici fetch)', (f) => f.some((c) => c.url.includes('undici'))],
  ['other JS (fan-out logic, promises, sockets)', (f) => f.some((c) => c.url.startsWith('file:') || c.url.startsWith('node:'))],
  ['native / program', () => true],
];

/** Self time of her process by category and by function, from a V8 CPU profile of `work`. */
async function profileOf(work: () => Promise<void>, saveAs?: string): Promise<Breakdown> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  await session.post('Profiler.start');
  await work();
  const { profile } = (await session.post('Profiler.stop')) as { profile: { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] } };
  session.disconnect();
  // KITH_BENCH_PROFILE=<dir>: keep the raw profile too, for a look in Chrome DevTools or a script.
  const dir = process.env['KITH_BENCH_PROFILE'];
  if (dir && saveAs) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, saveAs), JSON.stringify(profile));
  }
  const parent = new Map<number, number>();
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const categoryOf = new Map<number, string>();
  const classify = (id: number): string => {
    const known = categoryOf.get(id);
    if (known) return known;
    const frames: ProfileNode['callFrame'][] = [];
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) frames.unshift(byId.get(at)!.callFrame);
    const category = CATEGORIES.find(([, test]) => test(frames))![0];
    categoryOf.set(id, category);
    return category;
  };
  const categories = new Map<string, number>();
  const functions = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    const category = classify(id);
    categories.set(category, (categories.get(category) ?? 0) + ms);
    const short = (frame: ProfileNode['callFrame']) => `${frame.functionName || '(anonymous)'} ${frame.url.replace(/^.*\/(node_modules\/[^/]+|dist\/src|dist\/bench)\//, '$1/')}:${frame.lineNumber + 1}`;
    const frame = byId.get(id)!.callFrame;
    let name = frame.url ? short(frame) : frame.functionName;
    if (!frame.url && !frame.functionName.startsWith('(')) {
      // A native function: name it with the nearest of our (or a library's) JS frames calling it.
      let caller: number | undefined = parent.get(id);
      while (caller !== undefined && !/^file:/.test(byId.get(caller)!.callFrame.url)) caller = parent.get(caller);
      name = `${frame.functionName} (native) <- ${caller === undefined ? '?' : short(byId.get(caller)!.callFrame)}`;
    }
    functions.set(name, (functions.get(name) ?? 0) + ms);
  });
  return { categories, functions };
}

/** Each step of one notice on her side, alone and in a loop (no network): µs per notice. */
async function microCosts(count: number): Promise<[string, number][]> {
  const resolver = createDidResolver();
  const registry = createMessageRegistry();
  const her = createPeerIdentity('http://127.0.0.1:9/didcomm/x').identity;
  const company = createPeerIdentity('http://127.0.0.1:9/didcomm').identity;
  const key = privateKeyObject(her.signing.privateJwk);
  const claims = { address: address(1) };
  const time = async (work: () => Promise<unknown>) => {
    for (let i = 0; i < 20; i += 1) await work();
    const started = performance.now();
    for (let i = 0; i < count; i += 1) await work();
    return ((performance.now() - started) * 1000) / count;
  };
  let presentation = '';
  // What deliverTo does: issued and key-bound in one go (selfIssued.ts), no library present.
  const sdJwt = await time(async () => {
    presentation = await presentSelfIssued(her, claims, { audience: company.did, nonce: 'n', issuedAt: Math.floor(Date.now() / 1000) });
  });
  // For comparison: a stored credential presented through @sd-jwt (what a third-party credential takes).
  const issued = await issueSdJwt({ issuer: { did: her.did, kid: her.signing.kid, privateKey: key }, holderPublicJwk: her.signing.publicJwk, vct: PROFILE_VCT, claims, issuedAt: Math.floor(Date.now() / 1000) });
  const libraryPresent = await time(() => presentSdJwt(issued, { disclose: ['address'], holderKey: key, audience: company.did, nonce: 'n', issuedAt: Math.floor(Date.now() / 1000) }));
  const pack = await time(async () => {
    const peer = await resolvePeer(resolver, company.did);
    const message = buildMessage({ type: ProfileUpdate.notice.type, from: her.did, to: company.did, body: { version: 2, fields: ['address'], presentation: { format: 'dc+sd-jwt', sd_jwt: presentation } }, returnRoute: 'all' }, systemClock);
    await packMessage({ message, signer: signingKeyOf(her), recipients: [peer.agreementKey], engine: fastEngine });
  });
  const herPeer = await resolvePeer(resolver, her.did);
  const acks: string[] = [];
  for (let i = 0; i < count + 20; i += 1) {
    const message = buildMessage({ type: ProfileUpdate.ack.type, from: company.did, to: her.did, body: { version: 2, applied: true, fields: ['address'] }, thid: 'notice' }, systemClock);
    acks.push(await packMessage({ message, signer: signingKeyOf(company), recipients: [herPeer.agreementKey], engine: fastEngine }));
  }
  const agreement = agreementKeyOf(her);
  let next = 0;
  const unpack = await time(() =>
    receiveMessage(acks[next++]!, {
      maxBytes: DEFAULT_MAX_MESSAGE_BYTES,
      engine: fastEngine,
      resolver,
      registry,
      clock: systemClock,
      clockSkewMs: DEFAULT_CLOCK_SKEW_MS,
      findRecipientKey: (kid) => (kid === agreement.kid ? agreement : undefined),
      hasSeen: () => false,
    }),
  );
  return [
    ['SD-JWT self-issued (issue + key binding)', sdJwt],
    ['(info: library present of a stored credential)', libraryPresent],
    ['pack notice (resolve did:peer, sign, encrypt)', pack],
    ['unpack ack (decrypt, verify, parse)', unpack],
  ];
}

// --- orchestration ----------------------------------------------------------------------------

interface SizeResult {
  n: number;
  kithMs: number[];
  baselineMs: number[];
  undiciMs: number[];
  noticeBytes: number;
  ackBytes: number;
  herCpuMs: number;
  companyCpuMs: number | undefined;
  bareCpuMs: number | undefined;
  /** The raw-crypto baseline (bench/rawBaseline.ts): the protocol's cryptography alone, both sides. */
  raw: RawBaselineResult;
  breakdown?: Breakdown;
  breakdownMs?: number;
}

async function measureSize(n: number, options: FanoutOptions): Promise<SizeResult> {
  const dir = mkdtempSync(join(tmpdir(), `kith-bench-fanout-${n}-`));
  let setup: KithSetup | undefined;
  const bare: ChildProcess[] = [];
  try {
    const setupStarted = performance.now();
    setup = await setUpKith(n, dir, options);
    const { agent } = setup;
    console.log(`  N=${n}: ${setup.fleets.length} fleet process(es), connected, disclosed, in ${((performance.now() - setupStarted) / 1000).toFixed(1)} s (not measured)`);

    // Warm-up (not measured): JIT, connections, and the sizes on the wire.
    const sizes: WireSizes = { requests: [], responses: [] };
    const stopMeasuring = noteWireSizes(sizes);
    await fanOutOnce(agent, n, 1);
    stopMeasuring();
    await fanOutOnce(agent, n, 2);
    const noticeBytes = Math.round(median(sizes.requests));
    const ackBytes = Math.round(median(sizes.responses));

    const companyPids = setup.fleets.map((f) => f.child.pid);
    const kith = await timedRounds(options.repetitions, companyPids, (r) => fanOutOnce(agent, n, 10 + r));

    let breakdown: Breakdown | undefined;
    let breakdownMs: number | undefined;
    if (options.breakdown) {
      const started = performance.now();
      breakdown = await profileOf(async () => {
        for (let r = 0; r < options.repetitions; r += 1) await fanOutOnce(agent, n, 100 + r);
      }, `fanout-her-${n}.cpuprofile`);
      breakdownMs = performance.now() - started;
    }
    for (const fleet of setup.fleets) await stopChild(fleet.child);
    setup.vault.close();

    // The baseline: same layout of listeners, same sizes, same concurrency.
    const forkListeners = listenerForker('bareListeners.js', children, bare);
    const { baselineMs, undiciMs, bareCpuMs } = await measureBareBaseline({ n, perProcess: options.companiesPerProcess, requestBytes: noticeBytes, replyBytes: ackBytes, concurrency: options.concurrency, repetitions: options.repetitions, forkListeners });
    // The raw-crypto baseline: the same layout, the protocol's cryptography on node:crypto alone.
    const forkRawListeners = listenerForker('rawListeners.js', children, bare);
    const raw = await measureRawBaseline({ n, perProcess: options.companiesPerProcess, noticeBytes, concurrency: options.concurrency, repetitions: options.repetitions, forkListeners: forkRawListeners });

    return {
      n,
      kithMs: kith.ms,
      baselineMs,
      undiciMs,
      noticeBytes,
      ackBytes,
      herCpuMs: kith.herCpuMs,
      companyCpuMs: kith.otherCpuMs,
      bareCpuMs,
      raw,
      ...(breakdown ? { breakdown, breakdownMs: breakdownMs! } : {}),
    };
  } finally {
    for (const fleet of setup?.fleets ?? []) await stopChild(fleet.child);
    for (const child of bare) await stopChild(child, { type: 'stop' });
    rmSync(dir, { recursive: true, force: true });
  }
}


export async function runFanoutBench(options: FanoutOptions): Promise<void> {
  console.log(
    `\nKith profile fan-out bench: N companies each holding her address; time from profile.set to all N acks recorded (median of ${options.repetitions}), concurrency ${options.concurrency}, ${options.companiesPerProcess} companies per process`,
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
    ['N', 'notice B', 'ack B', 'kith ms', 'baseline ms', 'undici ms (info)', 'ratio', 'raw crypto ms', 'kith / raw', 'her CPU ms/company', 'raw her CPU ms/company', 'company CPU ms', 'raw company CPU ms', 'bare CPU ms'],
    results.map((r) => [
      String(r.n),
      String(r.noticeBytes),
      String(r.ackBytes),
      ms(median(r.kithMs)),
      ms(median(r.baselineMs)),
      ms(median(r.undiciMs)),
      (median(r.kithMs) / median(r.baselineMs)).toFixed(1),
      ms(median(r.raw.rawMs)),
      (median(r.kithMs) / median(r.raw.rawMs)).toFixed(2),
      (r.herCpuMs / r.n).toFixed(2),
      (r.raw.herRawCpuMs / r.n).toFixed(2),
      r.companyCpuMs === undefined ? '-' : ms(r.companyCpuMs),
      r.raw.rawCompanyCpuMs === undefined ? '-' : ms(r.raw.rawCompanyCpuMs),
      r.bareCpuMs === undefined ? '-' : ms(r.bareCpuMs),
    ]),
  );
  console.log('(kith ms, baseline ms: wall time per change, median; CPU: per change, mean; company/bare CPU from /proc, 10 ms resolution)');
  for (const r of results) console.log(`  N=${r.n} kith runs ms: ${r.kithMs.map(ms).join(' ')} | baseline: ${r.baselineMs.map(ms).join(' ')}`);

  const first = results.find((r) => r.n === 10) ?? results[0];
  const last = results.find((r) => r.n === 100) ?? results.at(-1);
  if (first && last) {
    console.log('');
    for (const r of first === last ? [first] : [first, last]) {
      const ratio = median(r.kithMs) / median(r.baselineMs);
      console.log(`ratio at N=${r.n} (kith / bare baseline) = ${ratio.toFixed(1)} (target <= ${TARGET_RATIO.toFixed(1)})  ${ratio <= TARGET_RATIO ? 'PASS' : 'ABOVE TARGET'}`);
    }
    // Issue 15's figures: the distance to the cryptography the protocol needs, and her CPU per company.
    const rawRatio = median(last.kithMs) / median(last.raw.rawMs);
    console.log(`ratio at N=${last.n} (kith / raw crypto) = ${rawRatio.toFixed(2)} (target <= ${TARGET_RAW_RATIO.toFixed(1)})  ${rawRatio <= TARGET_RAW_RATIO ? 'PASS' : 'ABOVE TARGET'}`);
    const perCompany = last.herCpuMs / last.n;
    console.log(`her CPU per company at N=${last.n} = ${perCompany.toFixed(2)} ms (raw crypto: ${(last.raw.herRawCpuMs / last.n).toFixed(2)} ms; target <= ${TARGET_HER_CPU_MS.toFixed(1)} ms)  ${perCompany <= TARGET_HER_CPU_MS ? 'PASS' : 'ABOVE TARGET'}`);
    if (first !== last) {
      const scale = last.n / first.n;
      const kithGrowth = median(last.kithMs) / median(first.kithMs);
      const baseGrowth = median(last.baselineMs) / median(first.baselineMs);
      console.log(`growth N=${first.n} -> N=${last.n}: kith x${kithGrowth.toFixed(1)}, baseline x${baseGrowth.toFixed(1)} (linear = x${scale.toFixed(0)})  ${kithGrowth <= scale ? 'PASS' : 'WORSE THAN LINEAR'}`);
    }
  }

  if (options.breakdown) {
    console.log('\nWhere her time goes (V8 CPU profile of her process during the same fan-outs, run again; % of wall time):');
    for (const r of results) {
      if (!r.breakdown || r.breakdownMs === undefined) continue;
      const total = [...r.breakdown.categories.values()].reduce((a, b) => a + b, 0);
      console.log(`  N=${r.n} (${ms(r.breakdownMs / options.repetitions)} ms per change while profiled):`);
      for (const [name, t] of [...r.breakdown.categories.entries()].sort((a, b) => b[1] - a[1])) console.log(`    ${((t / total) * 100).toFixed(0).padStart(3)}%  ${name}`);
    }
    const largest = results.at(-1);
    if (largest?.breakdown) {
      const total = [...largest.breakdown.functions.values()].reduce((a, b) => a + b, 0);
      console.log(`  top self time at N=${largest.n}:`);
      for (const [name, t] of [...largest.breakdown.functions.entries()].sort((a, b) => b[1] - a[1]).slice(0, 12)) console.log(`    ${((t / total) * 100).toFixed(1).padStart(5)}%  ${name}`);
    }
    const micro = await microCosts(300);
    console.log('\nHer per-notice steps alone (no network, µs per notice): ' + micro.map(([name, us]) => `${name} ${us.toFixed(0)}`).join(', '));
  }
}
