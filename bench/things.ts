/**
 * The things bench (`KITH_BENCH_ONLY=things`, issue 13 item 8): her vault with 1,000 things and
 * 3,000 documents of about 100 KB (about 300 MB; KITH_BENCH_THINGS, KITH_BENCH_THINGS_DOCUMENTS,
 * KITH_BENCH_THINGS_DOCUMENT_KB). Measured, each in its own process so each peak RSS is its own:
 * the things list as her API answers it (target < 50 ms), a plain export with the documents as
 * files beside the JSON (what `kith export --plain` writes), the same export as one document with
 * the documents inline (what a sealed export encrypts), and the import of the plain export into a
 * fresh vault. Figures, not a timed test. See bench/README.md.
 */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createPersonalAgent } from '../src/personal/createPersonalAgent.js';
import { exportVault, importVault, openExport } from '../src/personal/vault/export.js';
import { inlineExportFiles, writePlainExport } from '../src/personal/vault/exportFiles.js';
import { Vault } from '../src/personal/vault/vault.js';
import { median, printTable } from './measure.js';

export interface ThingsBenchOptions {
  things: number;
  documents: number;
  documentBytes: number;
  repetitions: number;
}

const PASSPHRASE = 'bench';
const KDF = { kdf: { N: 2 ** 14 } };
const LIMITS = { attachmentLimits: { maxFileBytes: 16 * 1024 * 1024, maxTotalBytes: 4 * 1024 ** 3 } };
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(0);

type Phase = 'list' | 'export-plain' | 'export-inline' | 'import';
interface Report {
  phase: Phase;
  ms: number;
  /** The median of the repetitions (list only). */
  medianMs?: number;
  /** Peak RSS of the process (resourceUsage().maxRSS). */
  peakRss: number;
  bytes?: number;
}

async function measure(phase: Phase, dir: string, repetitions: number): Promise<Report> {
  const vaultFile = join(dir, 'vault.db');
  const exportFile = join(dir, 'export.json');
  const started = performance.now();
  if (phase === 'import') {
    const doc = inlineExportFiles(exportFile, await openExport(readFileSync(exportFile, 'utf8'), ''));
    importVault(join(dir, 'restored.db'), PASSPHRASE, doc, { ...KDF, ...LIMITS }).close();
    return { phase, ms: performance.now() - started, peakRss: process.resourceUsage().maxRSS * 1024 };
  }
  const vault = Vault.open(vaultFile, PASSPHRASE, LIMITS);
  try {
    if (phase === 'list') {
      const agent = createPersonalAgent({ vault, inboundBaseUrl: () => 'http://127.0.0.1:1' });
      const runs: number[] = [];
      const first = performance.now();
      agent.things.list();
      const firstMs = performance.now() - first;
      for (let i = 0; i < repetitions; i += 1) {
        const t = performance.now();
        agent.things.list();
        runs.push(performance.now() - t);
      }
      return { phase, ms: firstMs, medianMs: median(runs), peakRss: process.resourceUsage().maxRSS * 1024 };
    }
    const doc = exportVault(vault);
    if (phase === 'export-plain') {
      writePlainExport(exportFile, doc);
      return { phase, ms: performance.now() - started, peakRss: process.resourceUsage().maxRSS * 1024, bytes: statSync(exportFile).size };
    }
    const text = JSON.stringify(doc);
    return { phase, ms: performance.now() - started, peakRss: process.resourceUsage().maxRSS * 1024, bytes: Buffer.byteLength(text) };
  } finally {
    vault.close();
  }
}

if (process.argv[2] === '--measure') {
  const [phase, dir, repetitions] = process.argv.slice(3) as [Phase, string, string];
  measure(phase, dir, Number(repetitions)).then(
    (report) => process.send?.(report, () => process.exit(0)),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}

function inChild(phase: Phase, dir: string, repetitions: number): Promise<Report> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ['--measure', phase, dir, String(repetitions)], { execArgv: [], stdio: 'inherit' });
    child.once('message', (report) => resolve(report as Report));
    child.once('exit', (code) => (code === 0 ? undefined : reject(new Error(`${phase} exited with ${code}`))));
  });
}

export async function runThingsBench(options: ThingsBenchOptions): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'kith-bench-things-'));
  try {
    const started = performance.now();
    const vault = Vault.create(join(dir, 'vault.db'), PASSPHRASE, { ...KDF, ...LIMITS });
    const shop = vault.relationships.insert({ theirDid: 'did:web:shop.example', vendorName: 'Shop', theirEndpoint: null, customerRef: null, invitationId: null, myDid: 'did:peer:2.bench', routeToken: 'bench' });
    const ids: string[] = [];
    vault.transaction(() => {
      for (let i = 0; i < options.things; i += 1) {
        ids.push(
          vault.things.insert({
            name: `Thing ${i}`,
            brand: 'Brand',
            model: `M-${i}`,
            gtin: '4006381333931',
            serialNumber: `SN-${i}`,
            purchaseDate: '2026-01-15',
            price: { amount: `${100 + (i % 900)}.00`, currency: i % 2 ? 'EUR' : 'USD' },
            contracts: [{ id: crypto.randomUUID(), kind: 'warranty', start: '2026-01-15', duration: 'P2Y' }],
            links: [{ relationshipId: shop.id, role: 'seller' }],
          }).id,
        );
      }
    });
    // Documents: a JPEG signature and random bytes (incompressible, as photos are).
    const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0]);
    for (let start = 0; start < options.documents; start += 100) {
      vault.transaction(() => {
        for (let i = start; i < Math.min(start + 100, options.documents); i += 1) {
          const bytes = Buffer.concat([jpeg, randomBytes(options.documentBytes - jpeg.length)]);
          vault.attachments.insert({ thingId: ids[i % ids.length]!, kind: 'photo', fileName: `photo-${i}.jpg`, contentType: 'image/jpeg', bytes });
        }
      });
    }
    const total = vault.attachments.totalBytes();
    vault.close();
    const setupSeconds = (performance.now() - started) / 1000;
    console.log(`\nHer things: ${options.things} things, ${options.documents} documents, ${mb(total)} MB of files; vault ${mb(statSync(join(dir, 'vault.db')).size)} MB, written in ${setupSeconds.toFixed(1)} s`);

    const list = await inChild('list', dir, options.repetitions);
    const plain = await inChild('export-plain', dir, 1);
    const inline = await inChild('export-inline', dir, 1);
    const imported = await inChild('import', dir, 1);
    printTable(
      ['measure', 'time', 'peak RSS', 'note'],
      [
        ['things list (her API)', `${list.medianMs?.toFixed(1)} ms median (first ${list.ms.toFixed(1)} ms)`, `${mb(list.peakRss)} MB`, `target < 50 ms: ${(list.medianMs ?? Infinity) < 50 ? 'PASS' : 'OVER'}`],
        ['plain export, files beside', `${(plain.ms / 1000).toFixed(1)} s`, `${mb(plain.peakRss)} MB`, `JSON ${mb(plain.bytes ?? 0)} MB`],
        ['export document, files inline', `${(inline.ms / 1000).toFixed(1)} s`, `${mb(inline.peakRss)} MB`, `JSON ${mb(inline.bytes ?? 0)} MB (what a sealed export encrypts)`],
        ['import of the plain export', `${(imported.ms / 1000).toFixed(1)} s`, `${mb(imported.peakRss)} MB`, 'files read back, hashed, re-encrypted'],
      ],
    );
    console.log('Export and import hold the whole document in memory (not streamed): peak RSS grows with the files.');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
