/**
 * The vault bench (`KITH_BENCH_ONLY=vault`): her agent over a vault with many relationships and
 * messages (KITH_BENCH_VAULT_RELATIONSHIPS, default 10,000, and KITH_BENCH_VAULT_MESSAGES, default
 * 100,000): the relationship list as her API answers it, the decrypted list alone (first and kept),
 * one relationship by id, by id prefix and by company name, a full export, and the agent's RSS.
 * Targets from issue 15: list < 20 ms, one relationship < 5 ms, export < 5 s, RSS < 200 MB. Her
 * things (issue 13) do not exist yet and are not in the vault. See bench/README.md.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createPersonalAgent } from '../src/personal/createPersonalAgent.js';
import { findRelationship } from '../src/personal/relationshipLookup.js';
import { exportVault } from '../src/personal/vault/export.js';
import { Vault } from '../src/personal/vault/vault.js';
import { createPeerIdentity } from '../src/protocol/agent/identity.js';
import { BasicMessage } from '../src/protocol/families/index.js';
import { median, printTable } from './measure.js';

export interface VaultBenchOptions {
  relationships: number;
  messages: number;
  repetitions: number;
}

/** Times `work` `repetitions` times (after one warm-up call), in ms. */
function timed(repetitions: number, work: () => unknown): Timing {
  let started = performance.now();
  work();
  const first = performance.now() - started;
  const runs: number[] = [];
  for (let i = 0; i < repetitions; i += 1) {
    started = performance.now();
    work();
    runs.push(performance.now() - started);
  }
  return { first, median: median(runs) };
}

type Timing = { first: number; median: number };
interface MeasureReport {
  rows: [string, Timing, number | undefined][];
  rssOpened: number;
  rssAfter: number;
}

/** The measuring process: opens the vault as her agent does and times what she does with it. */
async function measureVault(path: string, middle: string, middleNumber: number, repetitions: number): Promise<MeasureReport> {
  const opened = Vault.open(path, 'bench passphrase');
  const agent = createPersonalAgent({ vault: opened, inboundBaseUrl: () => 'http://127.0.0.1:9' });
  const list = timed(repetitions, () => agent.relationships());
  const rssOpened = process.memoryUsage().rss;
  const rows: MeasureReport['rows'] = [
    ['relationships as her API lists them (views)', list, 20],
    ['relationships, decrypted list alone', timed(repetitions, () => opened.relationships.list()), undefined],
    ['one relationship by id', timed(repetitions, () => findRelationship(opened, middle)), 5],
    ['one relationship by id prefix', timed(repetitions, () => findRelationship(opened, middle.slice(0, 8))), 5],
    ['one relationship by company name', timed(repetitions, () => findRelationship(opened, `Company ${String(middleNumber).padStart(5, '0')}`)), 5],
    ['full export (plain document)', timed(Math.min(3, repetitions), () => exportVault(opened)), 5000],
  ];
  const rssAfter = process.memoryUsage().rss;
  opened.close();
  return { rows, rssOpened, rssAfter };
}

if (process.argv[2] === '--measure') {
  const [path, middle, middleNumber, repetitions] = process.argv.slice(3);
  measureVault(path!, middle!, Number(middleNumber), Number(repetitions)).then(
    (report) => process.send?.(report, () => process.exit(0)),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}

export async function runVaultBench(options: VaultBenchOptions): Promise<void> {
  const started = performance.now();
  console.log(`\nKith vault bench: ${options.relationships} relationships, ${options.messages} messages, median of ${options.repetitions} (first call shown apart)`);
  const dir = mkdtempSync(join(tmpdir(), 'kith-bench-vault-'));
  try {
    const vault = Vault.create(join(dir, 'vault.db'), 'bench passphrase');
    // Filled as her agent fills it: encrypted rows, pairwise keys, one company name each.
    const fillStarted = performance.now();
    const ids: string[] = [];
    vault.transaction(() => {
      for (let n = 0; n < options.relationships; n += 1) {
        // A pairwise identity of her own per company, as connect makes one.
        const { identity } = createPeerIdentity(`http://127.0.0.1:9/didcomm/route-${n}`);
        const record = vault.relationships.insert({
          myDid: identity.did,
          theirDid: `did:web:company-${n}.example`,
          vendorName: `Company ${String(n).padStart(5, '0')}`,
          theirEndpoint: `https://company-${n}.example/didcomm`,
          routeToken: `route-${n}`,
          customerRef: `C-${10_000_000 + n}`,
          invitationId: null,
          state: 'active',
        });
        vault.keys.insert({ relationshipId: record.id, purpose: 'authentication', ...identity.signing });
        vault.keys.insert({ relationshipId: record.id, purpose: 'keyAgreement', ...identity.agreement });
        ids.push(record.id);
      }
    });
    vault.transaction(() => {
      for (let m = 0; m < options.messages; m += 1) {
        vault.messages.insert({
          relationshipId: ids[m % ids.length]!,
          direction: m % 2 === 0 ? 'in' : 'out',
          status: m % 2 === 0 ? 'shown' : 'sent',
          messageId: `msg-${m}`,
          type: BasicMessage.message.type,
          body: { content: `Message ${m}: a line of about the length people write, with a number ${m * 7}.` },
        });
      }
    });
    console.log(`  filled in ${((performance.now() - fillStarted) / 1000).toFixed(1)} s (not measured)`);
    vault.close();

    // Measured in a process of its own, so that its RSS is the agent's, not the filling's.
    const child = fork(fileURLToPath(import.meta.url), ['--measure', join(dir, 'vault.db'), ids[Math.floor(ids.length / 2)]!, String(Math.floor(ids.length / 2)), String(options.repetitions)], { execArgv: [], stdio: 'inherit' });
    const report = await new Promise<MeasureReport>((resolve, reject) => {
      child.once('message', (message) => resolve(message as MeasureReport));
      child.once('exit', (code) => reject(new Error(`the vault measuring process exited (${code}) without a report`)));
    });
    printTable(
      ['operation', 'first ms', 'median ms', 'target ms', 'verdict'],
      // (A row without a target crosses the IPC channel as null.)
      report.rows.map(([name, t, target]) => [name, t.first.toFixed(1), t.median.toFixed(1), target == null ? '-' : String(target), target == null ? '' : t.median < target ? 'PASS' : 'OVER']),
    );
    const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(0);
    console.log(`agent RSS once open and listed: ${mb(report.rssOpened)} MB (target < 200 MB)  ${report.rssOpened < 200 * 1024 * 1024 ? 'PASS' : 'OVER'}`);
    // An export builds the whole document in memory (every message decrypted): its peak is its own figure.
    console.log(`agent RSS after the exports: ${mb(report.rssAfter)} MB (information: the export document is built whole)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`vault bench took ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
