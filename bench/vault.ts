/**
 * The vault bench (`KITH_BENCH_ONLY=vault`): her agent over a vault with many relationships and
 * messages (KITH_BENCH_VAULT_RELATIONSHIPS, default 10,000, and KITH_BENCH_VAULT_MESSAGES, default
 * 100,000): the relationship list as her API answers it, the decrypted list alone (first and kept),
 * one relationship by id, by id prefix and by company name, a full export, and the agent's RSS.
 * Each relationship has agreed terms and two fields the company holds, as a live one has.
 * Targets from issue 15: list < 20 ms, one relationship < 5 ms, export < 5 s, RSS < 200 MB. With
 * her 1,000 things (KITH_BENCH_VAULT_THINGS, no documents: bench/things.ts has those), and the
 * export as `kith export` writes it (streamed to a file, plain and sealed: ADR 0025) beside the
 * whole document built in memory. See bench/README.md.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { writeExportFile } from '../src/personal/vault/exportStream.js';
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
import { agreementUri, loadTestDocuments } from '../test/support/documents.js';
import { median, printTable } from './measure.js';

export interface VaultBenchOptions {
  relationships: number;
  messages: number;
  repetitions: number;
  /** Her things (no documents). */
  things?: number;
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
  /** Peak RSS of the process after the streamed exports, before the whole document is built. */
  rssPeakStreamed: number;
}

/** {@link timed} for async work. */
async function timedAsync(repetitions: number, work: () => Promise<unknown>): Promise<Timing> {
  let started = performance.now();
  await work();
  const first = performance.now() - started;
  const runs: number[] = [];
  for (let i = 0; i < repetitions; i += 1) {
    started = performance.now();
    await work();
    runs.push(performance.now() - started);
  }
  return { first, median: median(runs) };
}

/** The measuring process: opens the vault as her agent does and times what she does with it. */
async function measureVault(path: string, middle: string, middleNumber: number, repetitions: number): Promise<MeasureReport> {
  const opened = Vault.open(path, 'bench passphrase');
  const agent = createPersonalAgent({ vault: opened, inboundBaseUrl: () => 'http://127.0.0.1:9' });
  const list = timed(repetitions, () => agent.relationships());
  const rssOpened = process.memoryUsage().rss;
  // The list is kept until the vault changes: the figure after a change is the one a refresh pays
  // when a message has just arrived.
  let arrived = 0;
  const afterMessage = timed(repetitions, () => {
    opened.messages.insert({ relationshipId: middle, direction: 'in', messageId: `bench-arrived-${(arrived += 1)}`, type: BasicMessage.message.type, body: { content: 'A new message' } });
    agent.relationships();
  });
  const rows: MeasureReport['rows'] = [
    ['relationships as her API lists them (views)', list, 20],
    ['the same, just after a message arrived', afterMessage, 20],
    ['relationships, decrypted list alone', timed(repetitions, () => opened.relationships.list()), undefined],
    ['one relationship by id', timed(repetitions, () => findRelationship(opened, middle)), 5],
    ['one relationship by id prefix', timed(repetitions, () => findRelationship(opened, middle.slice(0, 8))), 5],
    ['one relationship by company name', timed(repetitions, () => findRelationship(opened, `Company ${String(middleNumber).padStart(5, '0')}`)), 5],
  ];
  // The exports `kith export` writes (streamed, ADR 0025) first, so this process's peak RSS is theirs.
  const out = join(path, '..', 'export');
  rows.push(['full export, streamed to a file (plain)', await timedAsync(Math.min(3, repetitions), () => writeExportFile(opened, `${out}.json`, { plain: true })), 5000]);
  rows.push(['full export, streamed to a file (sealed)', await timedAsync(Math.min(3, repetitions), () => writeExportFile(opened, `${out}.jwe`, { passphrase: 'bench export' })), 5000]);
  const rssPeakStreamed = process.resourceUsage().maxRSS * 1024;
  rows.push(['full export (whole document in memory, the API)', timed(Math.min(3, repetitions), () => exportVault(opened)), undefined]);
  const rssAfter = process.memoryUsage().rss;
  opened.close();
  return { rows, rssOpened, rssAfter, rssPeakStreamed };
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
    const documents = await loadTestDocuments();
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
        // What every live relationship has once she connected and shared: agreed terms, and a few
        // fields the company holds (the relationship list decrypts both).
        const agreementRecordId = crypto.randomUUID();
        vault.agreements.insert({
          id: agreementRecordId,
          relationshipId: record.id,
          proposedBy: 'person',
          state: 'agreed',
          threadId: `urn:uuid:${crypto.randomUUID()}`,
          agreementId: agreementUri('service-only'),
          signed: documents.agreement(agreementRecordId, { signedBy: 'both' }),
          obligations: documents.obligations('service-only'),
          reason: null,
        });
        for (const [field, value] of [['email', `customer-${n}@example.org`], ['postal_code', '75011']] as const) {
          vault.disclosed.upsert({ relationshipId: record.id, field, value, version: 1, source: 'self', issuer: null, consentRecordId: crypto.randomUUID(), purpose: 'service-delivery', retention: 'P1Y', disclosedAt: Date.now() });
        }
        ids.push(record.id);
      }
    });
    vault.transaction(() => {
      for (let t = 0; t < (options.things ?? 1000); t += 1) {
        vault.things.insert({
          name: `Thing ${t}`,
          brand: 'Brand',
          model: `M-${t}`,
          serialNumber: `SN-${t}`,
          purchaseDate: '2026-01-15',
          contracts: [{ id: crypto.randomUUID(), kind: 'warranty', start: '2026-01-15', duration: 'P2Y' }],
          links: [{ relationshipId: ids[t % ids.length]!, role: 'seller' }],
        });
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
    console.log(`agent peak RSS through the streamed exports: ${mb(report.rssPeakStreamed)} MB (target < 200 MB)  ${report.rssPeakStreamed < 200 * 1024 * 1024 ? 'PASS' : 'OVER'}`);
    // The API's export builds the whole document in memory (every message decrypted): its figure is apart.
    console.log(`agent RSS after the whole-document export too: ${mb(report.rssAfter)} MB (information)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`vault bench took ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
