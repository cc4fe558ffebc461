import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DirectoryEntryView, IntentView, OfferView } from '../../src/personal/http/apiContract.js';
import type { ReceivedIntentView } from '../../src/company/intents/intentCommands.js';
import { AGREEMENT_RECORD_TYPE } from '../../src/protocol/terms/agreementRecord.js';
import { BUNDLED_ROSTER_PATH } from '../../src/protocol/terms/roster.js';
import { companyMigrations } from '../../src/company/store/migrations.js';
import { REPO_ROOT, ensureBuilt, freePort, killAllStarted, runCli, runCliOk, startServer, waitFor, type CliResult, type ServerHandle } from '../support/processes.js';

/**
 * Intents end to end with real processes: her `kith serve` and five `kith-vendor serve`. Three
 * serve clothing (Acme and Globex from catalogs, Corner by hand), Bluebird serves books, and
 * Initech answers no intents. She adds them to her directory, casts anonymously (each company
 * gets the intent from its own fresh pairwise DID), her rule declines Globex's offer in another
 * currency, Corner's clerk offers by hand, she compares and accepts Corner's, and the others are
 * told the intent is closed. The three stores that received her intent share no identifier.
 */

const PASSPHRASE = 'intents e2e passphrase';
const STEP_TIMEOUT = 30_000;
const WORDING = 'Waterproof trail shoes, size 39';

interface CompanyFixture {
  name: string;
  home: string;
  port: number;
  policy: Record<string, unknown>;
  server?: ServerHandle;
}

let root: string;
let logDir: string;
let meHome: string;
let me: ServerHandle | undefined;
let acme: CompanyFixture;
let globex: CompanyFixture;
let corner: CompanyFixture;
let bluebird: CompanyFixture;
let initech: CompanyFixture;
let failed = false;

const kith = (args: string[]): Promise<CliResult> => runCli('kith', args, { home: meHome, env: { KITH_PASSPHRASE: PASSPHRASE } });
const kithOk = (args: string[]): Promise<CliResult> => runCliOk('kith', args, { home: meHome, env: { KITH_PASSPHRASE: PASSPHRASE } });
const companyOk = (company: CompanyFixture, args: string[]): Promise<CliResult> => runCliOk('kith-vendor', args, { home: company.home });
const receivedBy = async (company: CompanyFixture): Promise<ReceivedIntentView[]> => (await companyOk(company, ['intents', '--json'])).json<ReceivedIntentView[]>();

const shoe = { sku: 'TS-39', name: 'Trail shoe 39, waterproof', category: 'clothing', price: '129.90', priceCurrency: 'EUR', stock: 5, deliveryDays: 3, countries: ['DE'] };
const usShoe = { ...shoe, sku: 'TS-39-US', name: 'Trail shoe 39 (US import), waterproof', price: '99.00', priceCurrency: 'USD', countries: [] };
const acceptIntentTerms = { accept: ['intent-only-contact', 'service-only'] };

beforeAll(async () => {
  ensureBuilt(['dist/src/cli/kith.js', 'dist/src/cli/kith-vendor.js', 'dist/src/cli/commands/intents.js']);
  root = mkdtempSync(join(tmpdir(), 'kith-e2e-intents-'));
  logDir = join(root, 'logs');
  meHome = join(root, 'me');
  const ports = new Set<number>();
  while (ports.size < 6) ports.add(await freePort());
  const [pA, pG, pC, pB, pI, pMe] = [...ports] as [number, number, number, number, number, number];
  const catalog = (name: string, items: unknown[]): string => {
    const file = join(root, `${name}-catalog.json`);
    writeFileSync(file, JSON.stringify({ version: 1, items }));
    return file;
  };
  acme = { name: 'Acme Outfitters', home: join(root, 'acme'), port: pA, policy: { terms: acceptIntentTerms, intents: { categories: ['clothing'], catalogFile: catalog('acme', [shoe]) } } };
  globex = { name: 'Globex Imports', home: join(root, 'globex'), port: pG, policy: { terms: acceptIntentTerms, intents: { categories: ['goods'], catalogFile: catalog('globex', [usShoe]) } } };
  corner = { name: 'Corner Cobbler', home: join(root, 'corner'), port: pC, policy: { terms: acceptIntentTerms, intents: { categories: ['clothing'] } } };
  bluebird = { name: 'Bluebird Books', home: join(root, 'bluebird'), port: pB, policy: { terms: acceptIntentTerms, intents: { categories: ['books'] } } };
  initech = { name: 'Initech', home: join(root, 'initech'), port: pI, policy: { terms: acceptIntentTerms } };

  await Promise.all([
    ...[acme, globex, corner, bluebird, initech].map(async (company) => {
      const policyFile = join(root, `${company.home.split('/').pop()}-policy.json`);
      writeFileSync(policyFile, JSON.stringify({ version: 1, ...company.policy }));
      await runCliOk('kith-vendor', ['init', '--name', company.name, '--port', String(company.port), '--policy', policyFile, '--json'], { home: company.home });
      company.server = await startServer('kith-vendor', { home: company.home, port: company.port, logDir, env: { KITH_OUTBOX_INTERVAL_MS: '250' } });
    }),
    (async () => {
      await kithOk(['init', '--json']);
      me = await startServer('kith', { home: meHome, port: pMe, logDir, name: 'me', env: { KITH_PASSPHRASE: PASSPHRASE } });
    })(),
  ]);
}, 120_000);

beforeEach((context) => {
  context.onTestFailed(() => {
    failed = true;
  });
});

afterAll(async () => {
  for (const server of [me, acme?.server, globex?.server, corner?.server, bluebird?.server, initech?.server]) await server?.stop().catch(() => undefined);
  await killAllStarted();
  if (!root) return;
  if (failed) console.warn(`kith intents e2e: a step failed; homes and process logs kept in ${root}`);
  else rmSync(root, { recursive: true, force: true });
}, 60_000);

describe('intents, end to end with five company processes', { sequential: true }, () => {
  let intent: IntentView;

  it('she adds the companies to her directory; the one that answers no intents is refused with a clear error', { timeout: STEP_TIMEOUT }, async () => {
    for (const company of [acme, globex, corner, bluebird]) {
      const entry = (await kithOk(['directory', 'add', company.server!.url, '--json'])).json<DirectoryEntryView>();
      expect(entry.companies.map((c) => c.name)).toEqual([company.name]);
    }
    const refused = await kith(['directory', 'add', initech.server!.url]);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('The directory URL could not be fetched');
    const listed = (await kithOk(['directory', '--json'])).json<DirectoryEntryView[]>();
    expect(listed.flatMap((e) => e.companies.map((c) => c.name))).toEqual([acme.name, globex.name, corner.name, bluebird.name]);
  });

  it('casts anonymously: the three serving clothing each get it from a fresh DID; books and Initech get nothing', { timeout: STEP_TIMEOUT }, async () => {
    const cast = await kithOk(['intent', 'cast', WORDING, '--category', 'clothing', '--max', '150', '--currency', 'EUR', '--country', 'DE', '--anonymous', '--json']);
    intent = cast.json<IntentView>();
    expect(intent.recipients.map((r) => [r.company, r.anonymous, r.termsDecision]).sort()).toEqual([
      [acme.name, true, 'accepted'],
      [corner.name, true, 'accepted'],
      [globex.name, true, 'accepted'],
    ]);
    for (const company of [acme, globex, corner]) expect(await receivedBy(company)).toHaveLength(1);
    for (const company of [bluebird, initech]) expect(await receivedBy(company)).toEqual([]);
  });

  it('her rule declines Globex’s offer in dollars; Acme’s automatic offer waits for her', { timeout: STEP_TIMEOUT }, async () => {
    const offers = (await kithOk(['offers', intent.id.slice(0, 8), '--json'])).json<OfferView[]>();
    expect(offers.map((o) => [o.company, o.offer.priceCurrency, o.state, o.decidedBy])).toEqual([
      [globex.name, 'USD', 'declined', 'outside-constraints'],
      [acme.name, 'EUR', 'received', null],
    ]);
    const [globexIntent] = await receivedBy(globex);
    expect(globexIntent!.offers.map((o) => o.state)).toEqual(['declined']);
  });

  it('Corner’s clerk offers by hand; the offer is pushed to her agent and compared with the rest', { timeout: STEP_TIMEOUT }, async () => {
    const [cornerIntent] = await receivedBy(corner);
    expect(cornerIntent!.demand.description).toBe(WORDING);
    const made = (await companyOk(corner, ['offer', cornerIntent!.id.slice(0, 8), '--name', 'Hand-stitched trail boot 39', '--price', '139.00', '--currency', 'EUR', '--delivery', '2026-12-30', '--conditions', 'Resoled free for a year', '--json'])).json<{ delivered: boolean }>();
    expect(made.delivered).toBe(true);
    const offers = await waitFor('Corner’s offer in her vault', async () => {
      const all = (await kithOk(['offers', intent.id, '--json'])).json<OfferView[]>();
      return all.length === 3 ? all : undefined;
    });
    expect(offers.map((o) => [o.company, o.offer.price, o.meets])).toEqual([
      [globex.name, '99.00', false],
      [acme.name, '129.90', true],
      [corner.name, '139.00', true],
    ]);
    const table = (await kithOk(['offers', intent.id])).stdout;
    expect(table).toMatch(/Corner Cobbler +Hand-stitched trail boot 39 +139\.00 EUR +2026-12-30/);
  });

  it('she accepts Corner’s offer; Acme and Globex are told the intent is closed', { timeout: STEP_TIMEOUT }, async () => {
    const offers = (await kithOk(['offers', intent.id, '--json'])).json<OfferView[]>();
    const cornerOffer = offers.find((o) => o.company === corner.name)!;
    const accepted = await kithOk(['offer', 'accept', cornerOffer.id.slice(0, 8)]);
    expect(accepted.stdout).toContain('Accepted Hand-stitched trail boot 39 from Corner Cobbler for 139.00 EUR');
    expect(accepted.stdout).toContain('The company knows you only by the pairwise DID this intent was sent from.');
    expect((await kithOk(['intent', 'show', intent.id, '--json'])).json<IntentView>().state).toBe('accepted');
    const [cornerIntent] = await receivedBy(corner);
    expect([cornerIntent!.state, cornerIntent!.offers.map((o) => o.state)]).toEqual(['accepted', ['accepted']]);
    const [acmeIntent] = await receivedBy(acme);
    expect([acmeIntent!.state, acmeIntent!.offers.map((o) => o.state)]).toEqual(['closed', ['closed']]);
    expect((await receivedBy(globex))[0]!.state).toBe('closed');
  });

  it('the three stores that received her intent share no identifier: only her wording and public constants', { timeout: STEP_TIMEOUT }, async () => {
    const held = [acme, globex, corner].map((company) => identifierLike(stringsInDatabase(join(company.home, 'vendor.db'))));
    // Each holds her pairwise DID for it, which the others do not.
    const dids = await Promise.all([acme, globex, corner].map(async (c) => (await companyOk(c, ['relationships', '--json'])).json<{ theirDid: string }[]>().map((r) => r.theirDid)));
    expect(dids.map((d) => d.length)).toEqual([1, 1, 1]);
    for (const [index, set] of held.entries()) expect(set.has(dids[index]![0]!)).toBe(true);
    const common = (a: Set<string>, b: Set<string>) => [...a].filter((s) => b.has(s));
    expect(common(held[0]!, held[1]!)).toEqual([]);
    expect(common(held[0]!, held[2]!)).toEqual([]);
    expect(common(held[1]!, held[2]!)).toEqual([]);
  });
});

/** Every string in every column of every table, and the string leaves of JSON held in them. */
function stringsInDatabase(file: string): Set<string> {
  const out = new Set<string>();
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[];
    for (const { name } of tables) for (const row of db.prepare(`SELECT * FROM "${name}"`).all() as Record<string, unknown>[]) for (const value of Object.values(row)) collect(value, out);
  } finally {
    db.close();
  }
  return out;
}

function collect(value: unknown, out: Set<string>): void {
  if (typeof value === 'string') {
    out.add(value);
    if (/^[[{]/.test(value)) {
      try {
        collect(JSON.parse(value), out);
      } catch {
        // Not JSON: the string itself is what is held.
      }
    }
  } else if (Array.isArray(value)) for (const inner of value) collect(inner, out);
  else if (typeof value === 'object' && value !== null && !Buffer.isBuffer(value)) for (const inner of Object.values(value)) collect(inner, out);
}

/** The public roster's words and the agreement record type (every proffer of the same agreement quotes them), and the code's own names. */
const PUBLIC_CONSTANTS = new Set<string>([AGREEMENT_RECORD_TYPE, WORDING]);
collect(JSON.parse(readFileSync(join(REPO_ROOT, BUNDLED_ROSTER_PATH), 'utf8')), PUBLIC_CONSTANTS);
// The schema's migration names, the same in every company's database.
for (const name of Object.keys(companyMigrations('sqlite'))) PUBLIC_CONSTANTS.add(name);
/** A moment (when a message came): every company sees when it arrives; it names no one. */
const MOMENT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;
const PROTOCOL = [/^https:\/\/didcomm\.org\//, /^https:\/\/kith\.invalid\//, /^application\//];

/** A JSON document held as text: its leaves were collected one by one, and are what is compared. */
function isJsonDocument(value: string): boolean {
  if (!/^[[{]/.test(value)) return false;
  try {
    JSON.parse(value);
    return true;
  } catch {
    return false;
  }
}

function identifierLike(strings: Set<string>): Set<string> {
  return new Set([...strings].filter((s) => s.length >= 16 && !isJsonDocument(s) && !PUBLIC_CONSTANTS.has(s) && !MOMENT.test(s) && !PROTOCOL.some((p) => p.test(s))));
}
