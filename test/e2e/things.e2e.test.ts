import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AttachmentView, DueView, ThingView } from '../../src/personal/things.js';
import { SAMPLE_FILES } from '../support/sampleFiles.js';
import { ensureBuilt, runCli, runCliOk, type CliResult } from '../support/processes.js';

/**
 * `kith things` with the real CLI and no running agent (each command opens the vault itself): add,
 * attach, show, due, inventory, edit, a plain export with the documents beside it imported into a
 * fresh home, and bad input refused with its code, changing nothing.
 */

const PASSPHRASE = 'things e2e passphrase';
let root: string;
let home: string;

const kith = (args: string[], at = home): Promise<CliResult> => runCli('kith', args, { home: at, env: { KITH_PASSPHRASE: PASSPHRASE } });
const kithOk = (args: string[], at = home): Promise<CliResult> => runCliOk('kith', args, { home: at, env: { KITH_PASSPHRASE: PASSPHRASE } });

beforeAll(async () => {
  ensureBuilt(['dist/src/cli/kith.js', 'dist/src/cli/commands/things.js']);
  root = mkdtempSync(join(tmpdir(), 'kith-e2e-things-'));
  home = join(root, 'me');
  await kithOk(['init', '--json']);
  writeFileSync(join(root, 'receipt.pdf'), SAMPLE_FILES.pdf);
  writeFileSync(join(root, 'fake.pdf'), SAMPLE_FILES.html);
}, 60_000);

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('kith things', () => {
  let fridge: ThingView;

  it('adds a thing, keeps its receipt, and shows it with its warranty', async () => {
    fridge = (await kithOk(['things', 'add', 'Fridge', '--brand', 'Coolco', '--gtin', '4006381333931', '--purchased', '2025-01-20', '--price', '899.00 eur', '--warranty', 'P2Y', '--json'])).json<ThingView>();
    expect(fridge).toMatchObject({ name: 'Fridge', price: { amount: '899.00', currency: 'EUR' }, contracts: [{ kind: 'warranty', start: '2025-01-20', end: '2027-01-19' }] });
    const attachment = (await kithOk(['things', 'attach', fridge.id.slice(0, 8), join(root, 'receipt.pdf'), '--kind', 'receipt', '--json'])).json<AttachmentView>();
    expect(attachment).toMatchObject({ kind: 'receipt', fileName: 'receipt.pdf', contentType: 'application/pdf', size: SAMPLE_FILES.pdf.length });
    const shown = (await kithOk(['things', 'show', fridge.id.slice(0, 8)])).stdout;
    expect(shown).toContain('Warranty      2025-01-20 to 2027-01-19 (P2Y');
    expect(shown).toContain('receipt: receipt.pdf (application/pdf');
    expect((await kithOk(['things', 'list'])).stdout).toMatch(/Fridge\s+Coolco\s+2025-01-20\s+899\.00 EUR/);
  }, 60_000);

  it('refuses bad input with its code and changes nothing', async () => {
    const before = (await kithOk(['things', 'list', '--json'])).stdout;
    const cases: [string[], string][] = [
      [['things', 'add', 'Toaster', '--gtin', '4006381333932'], 'thing.invalid'],
      [['things', 'add', 'Toaster', '--price', '-5 EUR'], 'thing.invalid'],
      [['things', 'add', 'Toaster', '--purchased', '2026-01-01', '--warranty', 'two years'], 'thing.invalid'],
      [['things', 'add', 'Toaster', '--maker', 'Nobody Inc'], 'relationship.unknown'],
      [['things', 'attach', fridge.id, join(root, 'fake.pdf')], 'thing.attachment_type_mismatch'],
      [['things', 'show', '00000000-0000-4000-8000-00000000dead'], 'thing.unknown'],
      [['things', 'remove', 'ffffffff', '--yes'], 'thing.unknown'],
    ];
    for (const [args, code] of cases) {
      const result = await kith(args);
      expect({ args, code: result.code, stderr: result.stderr.includes(`[${code}]`) }).toEqual({ args, code: 1, stderr: true });
    }
    expect((await kithOk(['things', 'list', '--json'])).stdout).toBe(before);
  }, 90_000);

  it('lists what ends soon and writes the inventory as CSV', async () => {
    const due = (await kithOk(['things', 'due', '--within', '1000d', '--json'])).json<DueView[]>();
    expect(due.map((d) => d.thingName)).toEqual(['Fridge']);
    const csv = (await kithOk(['things', 'inventory', '--csv'])).stdout;
    expect(csv.split('\r\n')[1]).toContain(`${fridge.id},Fridge,Coolco,,4006381333931,,,2025-01-20,899.00,EUR`);
    await kithOk(['things', 'inventory', '--html', '--out', join(root, 'inventory.html')]);
    expect(readFileSync(join(root, 'inventory.html'), 'utf8')).toContain('<tr><th>EUR</th><td>899.00</td></tr>');
  }, 60_000);

  it('edits a thing, and carries it with its documents through a plain export into a fresh home', async () => {
    const edited = (await kithOk(['things', 'edit', fridge.id.slice(0, 8), '--location', 'Kitchen', '--clear', 'brand', '--json'])).json<ThingView>();
    expect(edited).toMatchObject({ location: 'Kitchen' });
    expect(edited).not.toHaveProperty('brand');
    const file = join(root, 'export.json');
    await kithOk(['export', '--plain', file]);
    const beside = `${file}.files`;
    expect(existsSync(join(beside, edited.attachments[0]?.id ?? ''))).toBe(true);
    expect(readFileSync(file, 'utf8')).not.toContain(SAMPLE_FILES.pdf.toString('base64'));

    const other = join(root, 'restored');
    await kithOk(['import', file], other);
    const [restored] = (await kithOk(['things', 'list', '--json'], other)).json<ThingView[]>();
    expect(restored).toEqual(edited);
    await kithOk(['things', 'document', fridge.id.slice(0, 8), edited.attachments[0]?.id.slice(0, 8) ?? '', '--out', join(root, 'back.pdf')], other);
    expect(readFileSync(join(root, 'back.pdf'))).toEqual(SAMPLE_FILES.pdf);

    await kithOk(['things', 'remove', fridge.id.slice(0, 8), '--yes'], other);
    expect((await kithOk(['things', 'list', '--json'], other)).json<ThingView[]>()).toEqual([]);
  }, 90_000);

  it('carries its documents through a sealed export (format 10: each a JWE file beside it) into a fresh home, and refuses a stray file', async () => {
    const env = { KITH_PASSPHRASE: PASSPHRASE, KITH_EXPORT_PASSPHRASE: 'sealed export passphrase' };
    const [thing] = (await kithOk(['things', 'list', '--json'])).json<ThingView[]>();
    const file = join(root, 'sealed.jwe');
    await runCliOk('kith', ['export', file], { home, env });
    const sealedFile = join(`${file}.files`, `${thing?.attachments[0]?.id ?? ''}.jwe`);
    expect(existsSync(sealedFile)).toBe(true);
    expect(readFileSync(sealedFile, 'utf8').split('.')).toHaveLength(5);
    expect(readFileSync(file, 'utf8')).not.toContain(SAMPLE_FILES.pdf.toString('base64'));

    // A file beside it that no document names: refused, and no vault made.
    const stray = join(`${file}.files`, '00000000-0000-4000-8000-0000000000ff.jwe');
    writeFileSync(stray, readFileSync(sealedFile));
    const refusedHome = join(root, 'refused');
    const refused = await runCli('kith', ['import', file], { home: refusedHome, env });
    expect({ code: refused.code, corrupted: refused.stderr.includes('[export.corrupted]') }).toEqual({ code: 1, corrupted: true });
    expect(existsSync(join(refusedHome, 'vault.db'))).toBe(false);
    rmSync(stray);

    const other = join(root, 'restored-sealed');
    await runCliOk('kith', ['import', file], { home: other, env });
    const [restored] = (await kithOk(['things', 'list', '--json'], other)).json<ThingView[]>();
    expect(restored).toEqual(thing);
    await kithOk(['things', 'document', thing?.id.slice(0, 8) ?? '', thing?.attachments[0]?.id.slice(0, 8) ?? '', '--out', join(root, 'back-sealed.pdf')], other);
    expect(readFileSync(join(root, 'back-sealed.pdf'))).toEqual(SAMPLE_FILES.pdf);
  }, 90_000);
});
