import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeEach, describe, expect, it } from 'vitest';
import type { ThingRecord } from './thingRepo.js';
import { Vault } from './vault.js';
import { SAMPLE_FILES } from '../../../test/support/sampleFiles.js';
import { TEST_VAULT_PASSPHRASE, useTestVault } from '../../../test/support/testVault.js';
import { codeOf } from '../../../test/support/errorCodes.js';

let vault: Vault;
let thing: ThingRecord;

const t = useTestVault();
beforeEach(() => {
  ({ vault } = t);
  thing = vault.things.insert({ name: 'Camera' });
});

describe('AttachmentRepo', () => {
  it('keeps each document encrypted, lists metadata only, and gives the file back', () => {
    const receipt = vault.attachments.insert({ thingId: thing.id, kind: 'receipt', fileName: 'receipt.pdf', contentType: 'application/pdf', bytes: SAMPLE_FILES.pdf });
    const photo = vault.attachments.insert({ thingId: thing.id, kind: 'photo', fileName: 'front.jpg', contentType: 'image/jpeg', bytes: SAMPLE_FILES.jpeg });
    expect(receipt).toMatchObject({ kind: 'receipt', fileName: 'receipt.pdf', contentType: 'application/pdf', size: SAMPLE_FILES.pdf.length });
    expect(vault.attachments.list(thing.id)).toEqual([receipt, photo]);
    expect(vault.attachments.content(receipt.id)).toEqual(SAMPLE_FILES.pdf);
    expect(vault.attachments.totalBytes()).toBe(SAMPLE_FILES.pdf.length + SAMPLE_FILES.jpeg.length);
    const rows = JSON.stringify(vault.snapshot()['thing_attachments']);
    expect(rows).not.toContain(SAMPLE_FILES.pdf.toString('hex'));
    expect(rows).not.toContain(Buffer.from('receipt.pdf').toString('hex'));
  });

  it('refuses a type it does not take, a file that is not what it claims, too large a file, a full vault and an unknown thing, writing nothing', () => {
    const small = { maxFileBytes: 64, maxTotalBytes: 100 };
    const limited = (input: Partial<Parameters<Vault['attachments']['insert']>[0]>) => () =>
      vault.attachments.insert({ thingId: thing.id, kind: 'other', fileName: 'f', contentType: 'text/plain', bytes: SAMPLE_FILES.text, ...input }, small);
    limited({})();
    limited({ bytes: Buffer.from('x'.repeat(60)) })();
    const before = vault.snapshot();
    expect(codeOf(limited({ contentType: 'text/html', bytes: SAMPLE_FILES.html }))).toBe('thing.attachment_type_unsupported');
    expect(codeOf(limited({ contentType: 'application/pdf', bytes: SAMPLE_FILES.html }))).toBe('thing.attachment_type_mismatch');
    expect(codeOf(limited({ contentType: 'image/jpeg', bytes: SAMPLE_FILES.png }))).toBe('thing.attachment_type_mismatch');
    expect(codeOf(limited({ bytes: Buffer.from('x'.repeat(65)) }))).toBe('thing.attachment_too_large');
    expect(codeOf(limited({ bytes: Buffer.from('x'.repeat(20)) }))).toBe('thing.attachments_full');
    expect(codeOf(limited({ thingId: '00000000-0000-4000-8000-00000000dead', bytes: Buffer.from('x') }))).toBe('thing.unknown');
    expect(codeOf(limited({ fileName: '../etc/passwd', bytes: Buffer.from('x') }))).toBe('vault.corrupt');
    expect(vault.snapshot()).toEqual(before);
  });

  it('fails closed on a file moved into another row', () => {
    const a = vault.attachments.insert({ thingId: thing.id, kind: 'other', fileName: 'a.txt', contentType: 'text/plain', bytes: Buffer.from('a') });
    const b = vault.attachments.insert({ thingId: thing.id, kind: 'other', fileName: 'b.txt', contentType: 'text/plain', bytes: Buffer.from('b') });
    const path = vault.path;
    vault.close();
    const db = new Database(path);
    db.prepare('UPDATE thing_attachments SET content = (SELECT content FROM thing_attachments WHERE id = ?) WHERE id = ?').run(a.id, b.id);
    db.close();
    t.vault = Vault.open(path, TEST_VAULT_PASSPHRASE);
    expect(t.vault.attachments.content(a.id)?.toString()).toBe('a');
    expect(codeOf(() => t.vault.attachments.content(b.id))).toBe('vault.corrupt');
  });
});

describe('attachment limits from the vault options', () => {
  it('applies the limits a vault was opened with', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kith-att-'));
    try {
      const v = Vault.create(join(dir, 'v.db'), 'pw', { kdf: { N: 2 ** 12 }, attachmentLimits: { maxFileBytes: 3, maxTotalBytes: 10 } });
      const th = v.things.insert({ name: 'Pen' });
      expect(codeOf(() => v.attachments.insert({ thingId: th.id, kind: 'other', fileName: 'f', contentType: 'text/plain', bytes: Buffer.from('four') }))).toBe('thing.attachment_too_large');
      expect(v.attachments.limits).toEqual({ maxFileBytes: 3, maxTotalBytes: 10 });
      v.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
