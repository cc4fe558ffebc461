/**
 * The things bench (`KITH_BENCH_ONLY=things`, issue 13 item 8): her vault with 1,000 things and
 * 3,000 documents of about 100 KB (about 300 MB; KITH_BENCH_THINGS, KITH_BENCH_THINGS_DOCUMENTS,
 * KITH_BENCH_THINGS_DOCUMENT_KB). Measured, each in its own process so each peak RSS is its own:
 * the things list as her API answers it (target < 50 ms); the streamed plain and sealed (format 10)
 * exports `kith export` writes (ADR 0025) and their imports; the whole document with the files
 * inline (what the local API's export route still answers); and a baseline over the same bytes
 * (each file read, AES-256-GCM by raw node:crypto, written through fs.createWriteStream, and read
 * back and decrypted). Figures, not a timed test. See bench/README.md.
 */
import { fork } from 'node:child_process';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createPersonalAgent } from '../src/personal/createPersonalAgent.js';
import { exportVault, importVault, openExport } from '../src/personal/vault/export.js';
import { exportFileSource, exportFilesDir } from '../src/personal/vault/exportFiles.js';
import { writeExportFile } from '../src/personal/vault/exportStream.js';
import { Vault } from '../src/personal/vault/vault.js';
import { median, printTable } from './measure.js';

export interface ThingsBenchOptions {
  things: number;
  documents: number;
  documentBytes: number;
  repetitions: number;
}

const PASSPHRASE = 'bench';
const EXPORT_PASSPHRASE = 'bench export';
const KDF = { kdf: { N: 2 ** 14 } };
const LIMITS = { attachmentLimits: { maxFileBytes: 16 * 1024 * 1024, maxTotalBytes: 4 * 1024 ** 3 } };
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(0);

type Phase = 'list' | 'export-plain' | 'export-sealed' | 'export-inline' | 'import-plain' | 'import-sealed' | 'baseline-write' | 'baseline-read';
interface Report {
  phase: Phase;
  ms: number;
  /** The median of the repetitions (list only). */
  medianMs?: number;
  /** Peak RSS of the process (resourceUsage().maxRSS). */
  peakRss: number;
  bytes?: number;
}

const peak = () => process.resourceUsage().maxRSS * 1024;

/** Writes `bytes` through a write stream and waits for it to be on disk (the baseline's writes). */
function streamOut(path: string, bytes: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const out = createWriteStream(path, { mode: 0o600 });
    out.once('error', reject);
    out.end(bytes, () => resolve());
  });
}

async function measure(phase: Phase, dir: string, repetitions: number): Promise<Report> {
  const vaultFile = join(dir, 'vault.db');
  const plainFile = join(dir, 'export.json');
  const sealedFile = join(dir, 'export.jwe');
  const baselineDir = join(dir, 'baseline');
  const started = performance.now();
  if (phase === 'import-plain' || phase === 'import-sealed') {
    const file = phase === 'import-plain' ? plainFile : sealedFile;
    const doc = await openExport(readFileSync(file, 'utf8'), phase === 'import-plain' ? '' : EXPORT_PASSPHRASE);
    importVault(join(dir, `restored-${phase}.db`), PASSPHRASE, doc, { ...KDF, ...LIMITS }, exportFileSource(file, doc)).close();
    return { phase, ms: performance.now() - started, peakRss: peak() };
  }
  if (phase === 'baseline-write' || phase === 'baseline-read') {
    // The least such an export or import could do with the same bytes: each document's file read,
    // AES-256-GCM (raw node:crypto) over it, and written through fs.createWriteStream (or read back
    // and decrypted), one at a time.
    const key = Buffer.alloc(32, 1);
    const source = exportFilesDir(plainFile);
    let bytes = 0;
    if (phase === 'baseline-write') mkdirSync(baselineDir, { recursive: true });
    for (const name of readdirSync(phase === 'baseline-write' ? source : baselineDir)) {
      if (phase === 'baseline-write') {
        const plain = readFileSync(join(source, name));
        const iv = randomBytes(12);
        const cipher = createCipheriv('aes-256-gcm', key, iv);
        const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
        await streamOut(join(baselineDir, name), sealed);
        bytes += sealed.length;
      } else {
        const sealed = readFileSync(join(baselineDir, name));
        const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12));
        decipher.setAuthTag(sealed.subarray(sealed.length - 16));
        bytes += Buffer.concat([decipher.update(sealed.subarray(12, sealed.length - 16)), decipher.final()]).length;
      }
    }
    return { phase, ms: performance.now() - started, peakRss: peak(), bytes };
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
      return { phase, ms: firstMs, medianMs: median(runs), peakRss: peak() };
    }
    if (phase === 'export-plain') {
      await writeExportFile(vault, plainFile, { plain: true });
      return { phase, ms: performance.now() - started, peakRss: peak(), bytes: statSync(plainFile).size };
    }
    if (phase === 'export-sealed') {
      await writeExportFile(vault, sealedFile, { passphrase: EXPORT_PASSPHRASE });
      return { phase, ms: performance.now() - started, peakRss: peak(), bytes: statSync(sealedFile).size };
    }
    // What the local API's export route still does: one document, the files inline.
    const text = JSON.stringify(exportVault(vault));
    return { phase, ms: performance.now() - started, peakRss: peak(), bytes: Buffer.byteLength(text) };
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
    const sealed = await inChild('export-sealed', dir, 1);
    const inline = await inChild('export-inline', dir, 1);
    const baseWrite = await inChild('baseline-write', dir, 1);
    const importPlain = await inChild('import-plain', dir, 1);
    const importSealed = await inChild('import-sealed', dir, 1);
    const baseRead = await inChild('baseline-read', dir, 1);
    const s = (r: Report) => `${(r.ms / 1000).toFixed(1)} s`;
    const ratio = (r: Report, base: Report) => `${(r.ms / base.ms).toFixed(1)}x baseline time`;
    printTable(
      ['measure', 'time', 'peak RSS', 'note'],
      [
        ['things list (her API)', `${list.medianMs?.toFixed(1)} ms median (first ${list.ms.toFixed(1)} ms)`, `${mb(list.peakRss)} MB`, `target < 50 ms: ${(list.medianMs ?? Infinity) < 50 ? 'PASS' : 'OVER'}`],
        ['plain export, streamed', s(plain), `${mb(plain.peakRss)} MB`, `JSON ${mb(plain.bytes ?? 0)} MB, files beside; ${ratio(plain, baseWrite)}`],
        ['sealed export (format 10)', s(sealed), `${mb(sealed.peakRss)} MB`, `JWE ${mb(sealed.bytes ?? 0)} MB, files .jwe beside; ${ratio(sealed, baseWrite)}`],
        ['baseline: read+AES-GCM+write', s(baseWrite), `${mb(baseWrite.peakRss)} MB`, `raw node:crypto + createWriteStream, ${mb(baseWrite.bytes ?? 0)} MB`],
        ['(API) document, files inline', s(inline), `${mb(inline.peakRss)} MB`, `JSON ${mb(inline.bytes ?? 0)} MB in memory: what POST /api/export answers`],
        ['import of the plain export', s(importPlain), `${mb(importPlain.peakRss)} MB`, `files read one at a time; ${ratio(importPlain, baseRead)}`],
        ['import of the sealed export', s(importSealed), `${mb(importSealed.peakRss)} MB`, `each file decrypted, hashed, re-encrypted; ${ratio(importSealed, baseRead)}`],
        ['baseline: read+AES-GCM open', s(baseRead), `${mb(baseRead.peakRss)} MB`, 'raw node:crypto over the same bytes'],
      ],
    );
    console.log('Export and import stream the documents one at a time: peak RSS does not grow with the files (the other sections are read one at a time).');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
