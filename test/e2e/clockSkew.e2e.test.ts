import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_TABLE } from '../../src/core/errorTable.js';
import type { RelationshipView } from '../../src/personal/views.js';
import { ensureBuilt, freePort, killAllStarted, runCli, runCliOk, startServer, waitFor, type CliResult, type ServerHandle } from '../support/processes.js';

/**
 * Clock skew beyond the window, with real processes whose clocks are shifted by the test hook
 * KITH_CLOCK_OFFSET_MS (src/core/clock.ts): her messages from an hour ahead are refused with
 * message.from_the_future, from 31 days behind with message.expired (a message lives 30 days);
 * a company an hour ahead of her has its push refused the same way. Each time the CLI or the
 * company's log names the code and nothing is stored on either side.
 */

const PASSPHRASE = 'clock skew e2e passphrase';
const HOUR = 60 * 60 * 1000;
const AHEAD = String(HOUR);
const BEHIND = String(-31 * 24 * HOUR);

let root: string;
let meHome: string;
let companyHome: string;
let company: ServerHandle | undefined;
let me: ServerHandle | undefined;
let relationship: RelationshipView;
let mePort: number;

const kith = (args: string[], offset?: string): Promise<CliResult> =>
  runCli('kith', args, { home: meHome, env: { KITH_PASSPHRASE: PASSPHRASE, ...(offset ? { KITH_CLOCK_OFFSET_MS: offset } : {}) } });
const vendor = (args: string[], offset?: string): Promise<CliResult> => runCli('kith-vendor', args, { home: companyHome, env: offset ? { KITH_CLOCK_OFFSET_MS: offset } : {} });

async function herThread(): Promise<unknown[]> {
  const result = await kith(['messages', relationship.id, '--json']);
  expect(result.code).toBe(0);
  return result.json<unknown[]>();
}
async function companyThread(): Promise<unknown[]> {
  const result = await vendor(['messages', relationship.customerRef!, '--json']);
  expect(result.code).toBe(0);
  return result.json<unknown[]>();
}

beforeAll(async () => {
  ensureBuilt();
  root = mkdtempSync(join(tmpdir(), 'kith-e2e-skew-'));
  meHome = join(root, 'me');
  companyHome = join(root, 'acme');
  const port = await freePort();
  await runCliOk('kith-vendor', ['init', '--name', 'Acme Outfitters', '--port', String(port), '--json'], { home: companyHome });
  company = await startServer('kith-vendor', { home: companyHome, port, logDir: join(root, 'logs') });
  await runCliOk('kith', ['init', '--json'], { home: meHome, env: { KITH_PASSPHRASE: PASSPHRASE } });
  // A first start records her port, so the DID she connects with names where kith serve listens later.
  mePort = await freePort();
  await (await startServer('kith', { home: meHome, port: mePort, logDir: join(root, 'logs'), name: 'me-first', env: { KITH_PASSPHRASE: PASSPHRASE } })).stop();
  const invitation = (await runCliOk('kith-vendor', ['invite', '--json'], { home: companyHome })).json<{ url: string }>().url;
  relationship = (await runCliOk('kith', ['connect', invitation, '--json'], { home: meHome, env: { KITH_PASSPHRASE: PASSPHRASE } })).json<RelationshipView>();
}, 60_000);

afterAll(async () => {
  await me?.stop().catch(() => undefined);
  await company?.stop().catch(() => undefined);
  await killAllStarted();
  if (root) rmSync(root, { recursive: true, force: true });
}, 30_000);

describe('clock skew beyond the window, real processes', { sequential: true, timeout: 60_000 }, () => {
  for (const [label, offset, code] of [
    ['an hour ahead', AHEAD, 'message.from_the_future'],
    ['31 days behind', BEHIND, 'message.expired'],
  ] as const) {
    it(`her message from a clock ${label} is refused with ${code}; the CLI says so and neither side keeps it`, async () => {
      const hers = await herThread();
      const theirs = await companyThread();
      const result = await kith(['message', relationship.id, `sent from a clock ${label}`], offset);
      expect(result.code).toBe(ERROR_TABLE['transport.rejected'].exit);
      expect(result.stderr).toContain(code);
      expect(await herThread()).toEqual(hers);
      expect(await companyThread()).toEqual(theirs);
    });
  }

  it('a company an hour ahead of her: its push is refused with message.from_the_future, named in its log; she keeps nothing', async () => {
    // The company's server and CLI both run an hour ahead; she runs kith serve on true time.
    await company!.stop();
    company = await startServer('kith-vendor', { home: companyHome, port: company!.port, logDir: join(root, 'logs'), name: 'acme-ahead', env: { KITH_CLOCK_OFFSET_MS: AHEAD } });
    me = await startServer('kith', { home: meHome, port: mePort, logDir: join(root, 'logs'), name: 'me', env: { KITH_PASSPHRASE: PASSPHRASE }, serveArgs: ['--idle-lock', '0'] });
    const hers = await herThread();
    const sent = await vendor(['message', relationship.customerRef!, 'from a clock an hour ahead'], AHEAD);
    expect(sent.code).toBe(0);
    expect(sent.stdout).toContain('Queued'); // not delivered: she refused it
    const log = join(root, 'logs', 'acme-ahead.stderr.log'); // its JSON log
    await waitFor('the company to log her refusal', () => (readLog(log).includes('"peer_code":"message.from_the_future"') ? true : undefined), { timeoutMs: 20_000, intervalMs: 200 });
    expect(await herThread()).toEqual(hers);
  });
});

function readLog(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
