/**
 * Connect bench (`KITH_BENCH_ONLY=connect`): what proffering terms adds to a connection. Her agent
 * runs in this process on a temp vault; one company agent runs in a fleet process whose policy
 * accepts her terms. Connects run one after another (each is a full round trip: pack, POST,
 * the company's transaction, the signed response, her vault transaction), alternating rounds
 * without terms (the baseline: the same connect as before terms existed) and with her default
 * terms (she signs a record; the company checks it against its roster, countersigns it and stores
 * it; she checks the countersignature and stores it).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPersonalAgent } from '../src/personal/createPersonalAgent.js';
import { Vault } from '../src/personal/vault/vault.js';
import { startFleetProcess, stopChild } from './fanout.js';
import { median } from './measure.js';

export interface ConnectBenchOptions {
  /** Connects per round and kind. */
  perRound: number;
  rounds: number;
}

const TERMS = 'intent-only-contact';


export async function runConnectBench(options: ConnectBenchOptions): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'kith-bench-connect-'));
  const policyFile = join(dir, 'policy.json');
  writeFileSync(policyFile, JSON.stringify({ terms: { accept: [TERMS], preferred: null } }));
  const fleet = await startFleetProcess(join(dir, 'fleet'), 1, 'Connect Bench', ['--policy', policyFile]);
  const vault = Vault.create(join(dir, 'vault.db'), 'bench passphrase', { kdf: { N: 2 ** 12 } });
  try {
    const company = fleet.companies[0]!;
    // Companies cannot push to her (no listener); nothing here waits for a push.
    const agent = createPersonalAgent({ vault, inboundBaseUrl: () => 'http://127.0.0.1:9' });
    const times = { plain: [] as number[], terms: [] as number[] };
    const connectOnce = async (kind: 'plain' | 'terms', record: boolean) => {
      const started = performance.now();
      const view = await agent.connect(company.invitation);
      const elapsed = performance.now() - started;
      if ((view.terms.name !== null) !== (kind === 'terms')) throw new Error(`connect ${kind}: terms ${view.terms.name ?? 'none'}`);
      if (record) times[kind].push(elapsed);
    };
    // Warm-up: both paths, JIT and caches (roster loaded, DID resolution).
    await agent.terms.setDefault(TERMS);
    for (let i = 0; i < 20; i += 1) await connectOnce('terms', false);
    await agent.terms.setDefault(null);
    for (let i = 0; i < 20; i += 1) await connectOnce('plain', false);
    for (let round = 0; round < options.rounds; round += 1) {
      for (const kind of round % 2 === 0 ? (['plain', 'terms'] as const) : (['terms', 'plain'] as const)) {
        await agent.terms.setDefault(kind === 'terms' ? TERMS : null);
        for (let i = 0; i < options.perRound; i += 1) await connectOnce(kind, true);
      }
    }
    const plain = median(times.plain);
    const terms = median(times.terms);
    console.log(`\nKith connect bench: ${times.plain.length} connects each, one at a time, her agent here, one company process accepting "${TERMS}"`);
    console.log(`  without terms (baseline)  median ${plain.toFixed(2)} ms   ${(1000 / plain).toFixed(0)} connects/s`);
    console.log(`  with terms proffered      median ${terms.toFixed(2)} ms   ${(1000 / terms).toFixed(0)} connects/s`);
    console.log(`  ratio with/without: ${(terms / plain).toFixed(2)}  (terms add ${(terms - plain).toFixed(2)} ms per connect)`);
  } finally {
    vault.close();
    await stopChild(fleet.child);
    rmSync(dir, { recursive: true, force: true });
  }
}
