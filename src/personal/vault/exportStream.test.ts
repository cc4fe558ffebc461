import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compactDecrypt, GeneralEncrypt } from 'jose';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../../core/clock.js';
import { SAMPLE_FILES } from '../../../test/support/sampleFiles.js';
import { codeOf, codeOfRejection } from '../../../test/support/errorCodes.js';
import { EXPORT_CONTENT_TYPE, exportVault, importVault, openExport, type ExportDocument } from './export.js';
import { exportFileSource, exportFilesDir, writePlainExport } from './exportFiles.js';
import { EXPORT_FILE_CONTENT_TYPE, openExportFile, sealExportFile, writeExportFile } from './exportStream.js';
import { Vault } from './vault.js';
import { AttachmentRepo } from './attachmentRepo.js';

const FAST = { kdf: { N: 2 ** 12 } };
const PASS = 'export passphrase';
let dir: string;
let vault: Vault;
let clock: ManualClock;
const documents = [SAMPLE_FILES.pdf, SAMPLE_FILES.jpeg, SAMPLE_FILES.png];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kith-export-stream-'));
  clock = new ManualClock();
  vault = Vault.create(join(dir, 'source.db'), 'pw', { ...FAST, clock });
  const shop = vault.relationships.insert({ theirDid: 'did:web:shop.example', vendorName: 'Shop', theirEndpoint: null, customerRef: null, invitationId: null, myDid: 'did:peer:2.test', routeToken: 'route' });
  vault.settings.set('theme', 'dark');
  const camera = vault.things.insert({ name: 'Camera', links: [{ relationshipId: shop.id, role: 'seller' }], contracts: [{ id: '00000000-0000-4000-8000-0000000000c9', kind: 'warranty', start: '2026-01-01', duration: 'P2Y' }] });
  const bike = vault.things.insert({ name: 'Bike' });
  vault.attachments.insert({ thingId: camera.id, kind: 'receipt', fileName: 'receipt.pdf', contentType: 'application/pdf', bytes: SAMPLE_FILES.pdf });
  clock.advance(1000);
  vault.attachments.insert({ thingId: camera.id, kind: 'photo', fileName: 'front.jpg', contentType: 'image/jpeg', bytes: SAMPLE_FILES.jpeg });
  clock.advance(1000);
  vault.attachments.insert({ thingId: bike.id, kind: 'photo', fileName: 'bike.png', contentType: 'image/png', bytes: SAMPLE_FILES.png });
});
afterEach(() => {
  vault.close();
  rmSync(dir, { recursive: true, force: true });
});

const target = (): string => join(dir, 'restored.db');
/** Nothing of a refused import is left: no vault file, no WAL, no journal. */
const leftBehind = (): string[] => readdirSync(dir).filter((name) => name.startsWith('restored.db'));

function restoredDocuments(restored: Vault): Buffer[] {
  return restored.attachments.list().map((a) => restored.attachments.content(a.id) ?? Buffer.alloc(0));
}

async function importFile(file: string, passphrase: string): Promise<Vault> {
  const doc = await openExport(readFileSync(file, 'utf8'), passphrase);
  return importVault(target(), 'new pw', doc, FAST, exportFileSource(file, doc));
}

async function refusal(file: string, passphrase: string): Promise<string> {
  return codeOfRejection(importFile(file, passphrase).then((v) => v.close()));
}

describe('a plain export written as a stream', () => {
  it('writes, byte for byte, what the whole-document writer writes, and its files beside it', async () => {
    mkdirSync(join(dir, 'a'));
    mkdirSync(join(dir, 'b'));
    const streamed = join(dir, 'a', 'export.json');
    const whole = join(dir, 'b', 'export.json');
    expect(await writeExportFile(vault, streamed, { plain: true })).toEqual({ format: 'plain', documents: 3 });
    writePlainExport(whole, exportVault(vault));
    expect(readFileSync(streamed, 'utf8')).toBe(readFileSync(whole, 'utf8'));
    expect(JSON.parse(readFileSync(streamed, 'utf8'))).toMatchObject({ format: 'kith-export', version: 10 });
    expect(readdirSync(exportFilesDir(streamed)).sort()).toEqual(readdirSync(exportFilesDir(whole)).sort());
    for (const name of readdirSync(exportFilesDir(streamed))) expect(readFileSync(join(exportFilesDir(streamed), name))).toEqual(readFileSync(join(exportFilesDir(whole), name)));
    expect(statSync(streamed).mode & 0o777).toBe(0o600);
  });

  it('round-trips: the import reads the files beside it and restores every document byte for byte', async () => {
    const file = join(dir, 'export.json');
    await writeExportFile(vault, file, { plain: true });
    const restored = await importFile(file, '');
    try {
      expect(restoredDocuments(restored)).toEqual(documents);
      expect(restored.things.list().map((t) => t.name)).toEqual(['Camera', 'Bike']);
    } finally {
      restored.close();
    }
  });

  it('does not build the whole document: a document is on disk before the later members are read', async () => {
    const file = join(dir, 'export.json');
    const serviceCases = vi.spyOn(vault.serviceCases, 'list');
    const withContent = vi.spyOn(vault.attachments, 'listWithContent');
    const seen: { text: string; serviceCasesRead: number; files: number }[] = [];
    await writeExportFile(vault, file, {
      plain: true,
      onProgress: (written) => {
        // At the second document, the first one's row is in the file already.
        if (written === 2) seen.push({ text: readFileSync(file, 'utf8'), serviceCasesRead: serviceCases.mock.calls.length, files: readdirSync(exportFilesDir(file)).length });
      },
    });
    expect(seen).toHaveLength(1);
    const [first] = seen;
    // The members before the documents are already in the file, the ones after not yet read.
    expect(first?.text).toContain('"things": [');
    expect(first?.text).toContain('"attachments": [');
    expect(first?.text).not.toContain('"serviceCases"');
    expect(first?.serviceCasesRead).toBe(0);
    expect(first?.files).toBe(2);
    expect(first?.text).toContain(`"file": "export.json.files/${vault.attachments.list()[0]?.id}"`);
    // The whole-document reader (every file in memory at once) is never used.
    expect(withContent).not.toHaveBeenCalled();
    expect(serviceCases).toHaveBeenCalledTimes(1);
  });

  it('leaves no half export behind when a record does not open', async () => {
    const file = join(dir, 'export.json');
    const repo = vault.attachments;
    const original = AttachmentRepo.prototype.content;
    let calls = 0;
    vi.spyOn(repo, 'content').mockImplementation((id) => {
      calls += 1;
      if (calls === 2) throw new Error('unreadable');
      return original.call(repo, id);
    });
    const failure = await writeExportFile(vault, file, { plain: true }).catch((e: unknown) => e as Error);
    expect((failure as Error).message).toBe("unreadable");
    expect(existsSync(file)).toBe(false);
    expect(readdirSync(exportFilesDir(file))).toEqual([]);
  });
});

describe('an export the file system refuses', () => {
  it('is export.unwritable, naming the file, and removes nothing that was there', async () => {
    const missing = join(dir, 'no-such-dir', 'export.json');
    expect(await codeOfRejection(writeExportFile(vault, missing, { plain: true }))).toBe('export.unwritable');
    expect(existsSync(join(dir, 'no-such-dir'))).toBe(false);
    // A directory where the file would go: refused, and it keeps what it holds.
    const occupied = join(dir, 'occupied');
    mkdirSync(occupied);
    writeFileSync(join(occupied, 'keep.txt'), 'hers');
    const refused = (await writeExportFile(vault, occupied, { passphrase: PASS }).then(
      () => undefined,
      (e: unknown) => e,
    )) as { code?: string; details?: Record<string, unknown> } | undefined;
    expect([refused?.code, refused?.details?.['file'], refused?.details?.['reason']]).toEqual(['export.unwritable', occupied, 'EISDIR']);
    expect(readFileSync(join(occupied, 'keep.txt'), 'utf8')).toBe('hers');
  });
});

describe('a sealed export (format 10): documents as compact JWE files beside it', () => {
  it('keeps the documents out of the sealed JSON, each a dir + A256GCM JWE under the files key, and round-trips', async () => {
    const file = join(dir, 'export.jwe');
    const progress: [number, number][] = [];
    expect(await writeExportFile(vault, file, { passphrase: PASS, onProgress: (w, t) => progress.push([w, t]) })).toEqual({ format: 'jwe', documents: 3 });
    expect(progress).toEqual([
      [1, 3],
      [2, 3],
      [3, 3],
    ]);
    const text = readFileSync(file, 'utf8');
    // One General JSON JWE, encrypted as it was written: jose opens it, a wrong passphrase is told apart.
    expect(JSON.parse(text)).toHaveProperty('recipients');
    expect(await codeOfRejection(openExport(text, 'not the passphrase'))).toBe('vault.wrong_passphrase');
    const doc = await openExport(text, PASS);
    expect(doc.version).toBe(10);
    expect(doc.filesKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(doc.attachments.every((a) => a.content === undefined && a.file === `export.jwe.files/${a.id}.jwe`)).toBe(true);
    // Any JOSE library opens a file with the key.
    const first = doc.attachments[0];
    const sealed = readFileSync(join(dir, first?.file ?? ''), 'utf8');
    const opened = await compactDecrypt(sealed, Buffer.from(doc.filesKey ?? '', 'base64url'));
    expect(opened.protectedHeader).toEqual({ alg: 'dir', enc: 'A256GCM', cty: EXPORT_FILE_CONTENT_TYPE });
    expect(Buffer.from(opened.plaintext)).toEqual(SAMPLE_FILES.pdf);
    expect(statSync(join(dir, first?.file ?? '')).mode & 0o777).toBe(0o600);

    const restored = await importFile(file, PASS);
    try {
      expect(restoredDocuments(restored)).toEqual(documents);
    } finally {
      restored.close();
    }
  });

  it('still imports a version 9 sealed export with its documents inline', async () => {
    const { filesKey: _k, ...current } = exportVault(vault);
    const v9 = { ...current, version: 9 };
    expect(v9.attachments.every((a) => a.content !== undefined)).toBe(true);
    const jwe = await new GeneralEncrypt(new TextEncoder().encode(JSON.stringify(v9)))
      .setProtectedHeader({ alg: 'PBES2-HS512+A256KW', enc: 'A256GCM', cty: EXPORT_CONTENT_TYPE })
      .addRecipient(new TextEncoder().encode(PASS))
      .setKeyManagementParameters({ p2c: 1000 })
      .encrypt();
    const file = join(dir, 'old.jwe');
    writeFileSync(file, JSON.stringify(jwe));
    const restored = await importFile(file, PASS);
    try {
      expect(restoredDocuments(restored)).toEqual(documents);
    } finally {
      restored.close();
    }
  });

  it('refuses a missing file, a file that differs from its record, one that does not decrypt, and a stray file, leaving nothing behind', async () => {
    const file = join(dir, 'export.jwe');
    await writeExportFile(vault, file, { passphrase: PASS });
    const doc = await openExport(readFileSync(file, 'utf8'), PASS);
    const [a, b] = doc.attachments.map((x) => join(dir, x.file ?? ''));
    const keep = readFileSync(a ?? '');

    rmSync(a ?? '');
    expect(await refusal(file, PASS)).toBe('export.corrupted');
    expect(leftBehind()).toEqual([]);

    // Another document's file under this one's name: it decrypts, but its SHA-256 and size differ.
    copyFileSync(b ?? '', a ?? '');
    expect(await refusal(file, PASS)).toBe('export.corrupted');
    expect(leftBehind()).toEqual([]);

    // Altered ciphertext: AES-GCM refuses it.
    const parts = keep.toString('utf8').split('.');
    parts[3] = `${parts[3]?.startsWith('A') ? 'B' : 'A'}${parts[3]?.slice(1)}`;
    writeFileSync(a ?? '', parts.join('.'));
    expect(await refusal(file, PASS)).toBe('export.corrupted');
    expect(leftBehind()).toEqual([]);

    // Back as written, plus a file for a document the export does not have.
    writeFileSync(a ?? '', keep);
    writeFileSync(join(exportFilesDir(file), '00000000-0000-4000-8000-0000000000ff.jwe'), keep);
    expect(await refusal(file, PASS)).toBe('export.corrupted');
    expect(leftBehind()).toEqual([]);

    rmSync(join(exportFilesDir(file), '00000000-0000-4000-8000-0000000000ff.jwe'));
    const restored = await importFile(file, PASS);
    restored.close();
  });

  it('refuses a sealed file in an export without a files key, and a plain export whose file was altered', async () => {
    const file = join(dir, 'export.jwe');
    await writeExportFile(vault, file, { passphrase: PASS });
    const doc = await openExport(readFileSync(file, 'utf8'), PASS);
    const { filesKey: _k, ...withoutKey } = doc;
    const plainFile = join(dir, 'export.jwe2');
    // The same document, plain and without its key, beside the same sealed files.
    writeFileSync(plainFile, JSON.stringify({ ...withoutKey, attachments: withoutKey.attachments.map((a) => ({ ...a, file: `export.jwe.files/${a.id}.jwe` })) } satisfies Omit<ExportDocument, 'filesKey'>));
    expect(await refusal(plainFile, '')).toBe('export.corrupted');
    expect(leftBehind()).toEqual([]);

    const plain = join(dir, 'plain.json');
    await writeExportFile(vault, plain, { plain: true });
    const one = readdirSync(exportFilesDir(plain))[0] ?? '';
    const bytes = readFileSync(join(exportFilesDir(plain), one));
    bytes[bytes.length - 1] ^= 0xff;
    writeFileSync(join(exportFilesDir(plain), one), bytes);
    expect(await refusal(plain, '')).toBe('export.corrupted');
    expect(leftBehind()).toEqual([]);
  });

  it('a second export to the same name leaves no file of the first behind, so it imports', async () => {
    const file = join(dir, 'again.jwe');
    await writeExportFile(vault, file, { passphrase: PASS });
    const [gone] = vault.attachments.list();
    vault.attachments.remove(gone?.id ?? '');
    writePlainExport(join(dir, 'again.json'), exportVault(vault)); // the other writer cleans up too
    await writeExportFile(vault, file, { passphrase: PASS });
    expect(readdirSync(exportFilesDir(file))).toHaveLength(2);
    const restored = await importFile(file, PASS);
    try {
      expect(restoredDocuments(restored)).toHaveLength(2);
    } finally {
      restored.close();
    }
  });

  it('writes no files key when there is no document', async () => {
    for (const a of vault.attachments.list()) vault.attachments.remove(a.id);
    const file = join(dir, 'empty.jwe');
    expect(await writeExportFile(vault, file, { passphrase: PASS })).toEqual({ format: 'jwe', documents: 0 });
    const doc = await openExport(readFileSync(file, 'utf8'), PASS);
    expect(doc.filesKey).toBeUndefined();
    expect(doc.things).toHaveLength(2);
    expect(await writeExportFile(vault, file, {}).catch((e: { code?: string }) => e.code)).toBe('vault.passphrase_required');
    expect(existsSync(file)).toBe(true); // refused before anything was touched
  });

  it('a sealed file opens only under its key', () => {
    const key = Buffer.alloc(32, 7);
    const sealed = sealExportFile(SAMPLE_FILES.pdf, key);
    expect(openExportFile(sealed, key, 'x')).toEqual(SAMPLE_FILES.pdf);
    expect(codeOf(() => openExportFile(sealed, Buffer.alloc(32, 8), 'x'))).toBe('export.corrupted');
    expect(codeOf(() => openExportFile('not a jwe', key, 'x'))).toBe('export.corrupted');
  });
});
