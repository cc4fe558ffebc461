import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { KithError } from '../../core/errors.js';
import { SAMPLE_FILES } from '../../../test/support/sampleFiles.js';
import { exportVault, importVault, openExport } from './export.js';
import { exportFilesDir, inlineExportFiles, writePlainExport } from './exportFiles.js';
import { Vault } from './vault.js';

const FAST = { kdf: { N: 2 ** 12 } };
let dir: string;
let vault: Vault;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kith-export-files-'));
  vault = Vault.create(join(dir, 'source.db'), 'pw', FAST);
  const thing = vault.things.insert({ name: 'Camera' });
  vault.attachments.insert({ thingId: thing.id, kind: 'receipt', fileName: 'receipt.pdf', contentType: 'application/pdf', bytes: SAMPLE_FILES.pdf });
  vault.attachments.insert({ thingId: thing.id, kind: 'photo', fileName: 'front.jpg', contentType: 'image/jpeg', bytes: SAMPLE_FILES.jpeg });
});
afterEach(() => {
  vault.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a plain export keeps the documents as files beside the JSON', () => {
  it('writes each file as kept (owner-only), names it in the JSON, and reads it back on import', async () => {
    const file = join(dir, 'my export.json');
    const doc = exportVault(vault);
    expect(writePlainExport(file, doc)).toBe(2);
    const [receipt, photo] = doc.attachments;
    const beside = exportFilesDir(file);
    expect(readdirSync(beside).sort()).toEqual([receipt?.id, photo?.id].sort());
    expect(readFileSync(join(beside, receipt?.id ?? ''))).toEqual(SAMPLE_FILES.pdf);
    expect(statSync(beside).mode & 0o777).toBe(0o700);
    expect(statSync(join(beside, photo?.id ?? '')).mode & 0o777).toBe(0o600);

    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain(SAMPLE_FILES.pdf.toString('base64'));
    const opened = await openExport(text, '');
    expect(opened.attachments.map((a) => a.file)).toEqual([`my export.json.files/${receipt?.id}`, `my export.json.files/${photo?.id}`]);
    const restored = importVault(join(dir, 'restored.db'), 'pw', inlineExportFiles(file, opened), FAST);
    expect(restored.attachments.content(photo?.id ?? '')).toEqual(SAMPLE_FILES.jpeg);
    restored.close();
  });

  it('refuses an import whose file is missing or altered, creating no vault', async () => {
    const file = join(dir, 'export.json');
    writePlainExport(file, exportVault(vault));
    const opened = await openExport(readFileSync(file, 'utf8'), '');
    const [receipt, photo] = opened.attachments;
    rmSync(join(exportFilesDir(file), receipt?.id ?? ''));
    let code: string | undefined;
    try {
      inlineExportFiles(file, opened);
    } catch (err) {
      code = (err as KithError).code;
    }
    expect(code).toBe('export.corrupted');

    writePlainExport(file, exportVault(vault));
    const again = await openExport(readFileSync(file, 'utf8'), '');
    const photoPath = join(exportFilesDir(file), photo?.id ?? '');
    const bytes = readFileSync(photoPath);
    bytes[bytes.length - 1] ^= 1;
    // The file edited behind the export's back, as another program would.
    writeFileSync(photoPath, bytes);
    const target = join(dir, 'restored.db');
    try {
      importVault(target, 'pw', inlineExportFiles(file, again), FAST);
      code = undefined;
    } catch (err) {
      code = (err as KithError).code;
    }
    expect(code).toBe('export.corrupted');
    expect(existsSync(target)).toBe(false);
  });
});
