import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RelationshipView } from '../../src/personal/views.js';
import type { IntentView, OfferView } from '../../src/personal/intents.js';
import {
  DEFAULT_BUILT_FILES,
  REPO_ROOT,
  childPidsOf,
  ensureBuilt,
  fatal,
  freePortRange,
  isAlive,
  isListening,
  killAllStarted,
  spawnLogged,
  runCliOk,
  waitFor,
  type LoggedProcess,
} from '../support/processes.js';
import { everyPath, looseModes } from '../support/fileModes.js';

/**
 * `npm start` smoke test: the demo (`node dist/src/cli/demo.js`) starts a personal agent and three
 * demo companies as child processes, connects to each, prints the local API URL and token, and
 * stops everything cleanly on Ctrl-C (SIGINT). Its first-run tour casts an intent that Acme answers
 * with an offer from its catalog, and leaves the offer for her, with the commands to see and accept it.
 *
 * Contract: env KITH_DEMO_HOME (state dir) and KITH_DEMO_BASE_PORT (uses base .. base+5: her agent, three companies, their webhook receiver, Acme's SCIM provider); stdout
 * has the local API URL and, not being a terminal here, no token: the token is in
 * `<KITH_DEMO_HOME>/me/agent.json` (0600), whose path it prints. Every file the demo leaves is 0600,
 * every directory 0700, and no log holds the token.
 */

const DEMO_SCRIPT = 'dist/src/cli/demo.js';

const DEMO_COMPANIES = ['Acme Outfitters', 'Northwind Energy', 'Bluebird Books'];

let root: string;
let demo: LoggedProcess | undefined;
let failed = false;

beforeAll(() => {
  // Build if needed (the demo's source may be newer than the last build of a bare `vitest run`).
  ensureBuilt(existsSync(join(REPO_ROOT, 'src/cli/demo.ts')) ? [...DEFAULT_BUILT_FILES, DEMO_SCRIPT] : DEFAULT_BUILT_FILES);
  root = mkdtempSync(join(tmpdir(), 'kith-e2e-start-'));
  // The usual default, which the demo inherits: alone, it would leave new files readable by everyone.
  process.umask(0o022);
}, 180_000);

beforeEach((context) => {
  context.onTestFailed(() => {
    failed = true;
  });
});

afterAll(async () => {
  if (demo && !demo.exit()) {
    // Let the demo stop its children; if it does not, kill it and them.
    const children = childPidsOf(demo.pid);
    await demo.signalAndWait('SIGINT', 10_000).catch(() => undefined);
    for (const pid of children) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  }
  await killAllStarted();
  if (!root) return;
  if (failed) console.warn(`kith start e2e: failed; demo home and logs kept in ${root}`);
  else rmSync(root, { recursive: true, force: true });
}, 30_000);

describe('npm start (the demo)', () => {
  it('starts an agent and three connected demo companies, and stops them all on SIGINT', { timeout: 90_000 }, async () => {
    expect(existsSync(join(REPO_ROOT, DEMO_SCRIPT)), `${DEMO_SCRIPT} is not built`).toBe(true);
    const base = await freePortRange(6);
    const ports = [base, base + 1, base + 2, base + 3];
    demo = spawnLogged(join(REPO_ROOT, DEMO_SCRIPT), [], {
      name: 'demo',
      logDir: join(root, 'logs'),
      env: { KITH_DEMO_HOME: join(root, 'demo-home'), KITH_DEMO_BASE_PORT: String(base) },
    });
    const running = demo;

    const agentFile = join(root, 'demo-home', 'me', 'agent.json');
    const { url, token } = await waitFor(
      'the demo to print where its API token is',
      () => {
        const exit = running.exit();
        if (exit) throw fatal(`demo exited early (${exit.code ?? exit.signal})`);
        const out = running.stdout();
        const tokenAt = out.includes(`API token: in ${agentFile} (readable only by you)`);
        const urlMatch = /(http:\/\/(?:127\.0\.0\.1|localhost):\d+)\/api\b/.exec(out);
        if (!tokenAt || !urlMatch) return undefined;
        return { url: urlMatch[1]!, token: (JSON.parse(readFileSync(agentFile, 'utf8')) as { token: string }).token };
      },
      { timeoutMs: 60_000, intervalMs: 100 },
    ).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}\n--- demo stdout ---\n${running.stdout()}\n--- demo stderr ---\n${running.stderr()}`);
    });
    expect(url).toBe(`http://127.0.0.1:${base}`);

    const response = await fetch(`${url}/api/relationships`, { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(200);
    const { relationships } = (await response.json()) as { relationships: RelationshipView[] };
    expect(relationships).toHaveLength(3);
    expect(relationships.map((r) => r.company).sort()).toEqual([...DEMO_COMPANIES].sort());
    expect(relationships.every((r) => r.state === 'active')).toBe(true);
    // One of each terms outcome: accepted as proffered, a stricter counter her rule accepted, rejected.
    const terms = Object.fromEntries(relationships.map((r) => [r.company, [r.terms.name, r.terms.outcome, r.terms.lastState]]));
    expect(terms).toEqual({
      'Acme Outfitters': ['intent-only-contact', 'accepted', null],
      'Bluebird Books': ['service-only', 'countered-accepted', null],
      'Northwind Energy': [null, null, 'rejected'],
    });
    // Her two selves: Bluebird knows her work persona (and holds the studio's address), the others her own.
    expect(Object.fromEntries(relationships.map((r) => [r.company, r.persona.label]))).toEqual({ 'Acme Outfitters': 'me', 'Bluebird Books': 'work', 'Northwind Energy': 'me' });
    const studio = relationships.find((r) => r.company === 'Bluebird Books')?.holds.find((h) => h.field === 'address');
    expect((studio?.value as { street_address?: string } | undefined)?.street_address).toBe('5 Mill Yard');
    expect(relationships.find((r) => r.company === 'Acme Outfitters')?.holds.find((h) => h.field === 'address')?.value).toMatchObject({ street_address: '22 New Street' });
    // Her web app is served: the login page is public, the app itself wants the session cookie.
    const login = await fetch(`${url}/login`);
    expect([login.status, login.headers.get('content-security-policy')?.startsWith("default-src 'self'")]).toEqual([200, true]);
    const app = await fetch(`${url}/`, { redirect: 'manual' });
    expect([app.status, app.headers.get('location')]).toEqual([302, '/login']);
    // The sign-in link and the token went to no file: stdout is not a terminal here, so it names `kith open`.
    expect(running.stdout()).toMatch(/Web app: {3}.*kith\.js --home \S+ open/);
    expect(running.stdout()).not.toContain(token);

    // The intent step: one intent cast to all three; Acme offered from its catalog, the others acknowledged.
    const out = await waitFor('the demo to print the commands to try', () => (running.stdout().includes('Ctrl-C stops everything.') ? running.stdout() : undefined), { timeoutMs: 10_000 });
    const api = async <T>(path: string): Promise<T> => {
      const answer = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${token}` } });
      expect(answer.status, path).toBe(200);
      return (await answer.json()) as T;
    };
    const { intents } = await api<{ intents: IntentView[] }>('/api/intents');
    expect(intents).toHaveLength(1);
    const [intent] = intents as [IntentView];
    expect([intent.state, intent.demand.description, intent.demand.category, intent.demand.priceSpecification, intent.demand.eligibleRegion]).toEqual([
      'open',
      'Waterproof trail shoes, size 39',
      'clothing',
      { maxPrice: '150', priceCurrency: 'EUR' },
      { addressCountry: 'GB' },
    ]);
    expect(Object.fromEntries(intent.recipients.map((r) => [r.company, r.state]))).toEqual({ 'Acme Outfitters': 'acknowledged', 'Bluebird Books': 'acknowledged', 'Northwind Energy': 'acknowledged' });
    const { offers } = await api<{ offers: OfferView[] }>(`/api/intents/${intent.id}/offers`);
    expect(offers.map((o) => [o.company, o.offer.itemOffered.name, o.offer.price, o.offer.priceCurrency, o.meets, o.state])).toEqual([
      ['Acme Outfitters', 'Ridge GTX waterproof trail shoe, EU 39', '129.90', 'EUR', true, 'received'],
    ]);
    const [offer] = offers as [OfferView];
    expect(out).toContain(`You cast an intent: "Waterproof trail shoes, size 39" (clothing, up to 150 EUR, delivered to GB by ${intent.demand.availabilityEnds})`);
    expect(out).toMatch(new RegExp(`Acme Outfitters +Ridge GTX waterproof trail shoe, EU 39 +129\\.90 EUR +${offer.offer.deliveryDate} +yes\n`));
    expect(out).toMatch(/Northwind Energy +acknowledged, no offer\n/);
    // The companies' CRM stand-in got their Standard Webhooks, signatures checked, field names only.
    await waitFor('the webhooks to be printed', () => (running.stdout().includes('Webhook verified: Acme Outfitters -> its CRM: profile.disclosed') ? true : undefined), { timeoutMs: 10_000 });
    await waitFor('Bluebird’s webhooks too', () => (/Webhook verified: Bluebird Books -> its CRM: profile\.(disclosed|updated) \(/.test(running.stdout()) ? true : undefined), { timeoutMs: 10_000 });
    expect(running.stdout()).not.toContain('Webhook refused');
    // The command to try it again names her real customer number at Acme.
    expect(out).toMatch(/kith-vendor\.js --home \S+acme verify C-\d+\n/);
    // Acme's call center asked her agent to vouch for the caller, and its console shows her signed answer.
    expect(out).toMatch(/Acme's call center asked your agent to vouch for you on the phone: code [A-Z0-9]{3}-[A-Z0-9]{3} on both screens; approved for the demo; its console shows: approved/);
    // And Acme's SCIM connector keeps her as a User in its CRM (a scimmy service provider).
    await waitFor('Acme to provision her over SCIM', () => (/SCIM: Acme's CRM holds User \S+ \(name, emails, addresses\)/.test(running.stdout()) ? true : undefined), { timeoutMs: 10_000 });
    expect(out).toMatch(/Bluebird Books +acknowledged, no offer\n/);
    // The offer is left for her: the commands to compare and accept it, with short ids that work.
    const me = join(root, 'demo-home', 'me');
    // The commands name the repository's own CLI, never `npx kith` (an unrelated npm package outside the repository).
    expect(out).not.toContain('npx kith');
    const cli = out.includes(`node bin/kith.js --home ${me}`) ? `node bin/kith.js --home ${me}` : `node ${join(REPO_ROOT, 'bin', 'kith.js')} --home ${me}`;
    expect(out).toContain(`${cli} offers ${intent.id.slice(0, 8)} `);
    expect(out).toContain(`${cli} offer accept ${offer.id.slice(0, 8)} `);
    expect(out).toContain(`${cli} intent cast "`);
    const shown = await runCliOk('kith', ['offers', intent.id.slice(0, 8), '--json'], { home: me });
    expect(shown.json<OfferView[]>().map((o) => o.id)).toEqual([offer.id]);
    // Her directory lists the three companies; an anonymous cast through the CLI reaches the one serving books, from a new DID.
    const directory = (await runCliOk('kith', ['directory', '--json'], { home: me })).json<{ kind: string; companies: { name: string }[] }[]>();
    expect(directory.map((e) => [e.kind, e.companies.map((c) => c.name)])).toEqual([
      ['company', ['Acme Outfitters']],
      ['company', ['Northwind Energy']],
      ['company', ['Bluebird Books']],
    ]);
    const paperback = await runCliOk('kith', ['intent', 'cast', 'A paperback for a rainy weekend', '--category', 'books', '--max', '20', '--currency', 'GBP', '--country', 'GB', '--anonymous', '--json'], { home: me });
    const anonymous = paperback.json<IntentView>();
    expect(anonymous.recipients.map((r) => [r.company, r.anonymous, r.state])).toEqual([['Bluebird Books', true, 'acknowledged']]);
    const bluebird = anonymous.recipients[0]!.relationshipId;
    const afterCast = (await runCliOk('kith', ['relationships', '--json'], { home: me })).json<{ id: string; company: string; myDid: string }[]>();
    const bluebirds = afterCast.filter((r) => r.company === 'Bluebird Books');
    expect(bluebirds).toHaveLength(2);
    expect(new Set(bluebirds.map((r) => r.myDid)).size).toBe(2);
    expect(bluebirds.map((r) => r.id)).toContain(bluebird);
    // What each company knows her by, her rules and her things: the commands the Try list prints work as printed.
    const ids = (await runCliOk('kith', ['ids', '--json'], { home: me })).json<{ kind: string; companyName: string }[]>();
    expect(ids.filter((x) => x.kind === 'customer_number').map((x) => x.companyName).sort()).toEqual([...DEMO_COMPANIES].sort());
    expect(out).toContain(`${cli} rules list `);
    // Her things with their companies: Acme's signed receipt accepted, the headlamp registered with its maker, a service case answered.
    expect(out).toMatch(/Acme Outfitters sent a signed receipt for your Lux 300 rechargeable headlamp \(34\.50 EUR, 2-year warranty\): accepted into your things/);
    expect(out).toMatch(/You registered it with its maker, Acme Outfitters: only its serial number and purchase date/);
    expect(out).toMatch(/You opened a service case about it with Acme Outfitters, a warranty claim \(its warranty is in force\); its support answered: "Sorry about that/);
    const headlamp = (await runCliOk('kith', ['things', 'list', '--json'], { home: me })).json<{ name: string; proofOfPurchase: unknown; registrations: { companyName: string }[] }[]>().find((t) => t.name === 'Lux 300 rechargeable headlamp');
    expect(headlamp?.proofOfPurchase).toMatchObject({ companyName: 'Acme Outfitters' });
    expect(headlamp?.registrations.map((r) => r.companyName)).toEqual(['Acme Outfitters']);
    const cases = (await runCliOk('kith', ['things', 'cases', '--json'], { home: me })).json<{ state: string; warrantyClaim: boolean; companyName: string }[]>();
    expect(cases.map((c) => [c.companyName, c.state, c.warrantyClaim])).toEqual([['Acme Outfitters', 'answered', true]]);
    // A request answered by her rule, from her work persona, without asking her; and her personas as the Try list says.
    expect(out).toMatch(/Bluebird Books asked for your email \("Email you when your books ship"\): approved by your rule "work-email", from your work persona, without asking you/);
    const personas = (await runCliOk('kith', ['personas', '--json'], { home: me })).json<{ label: string; relationships: number; isDefault: boolean }[]>();
    expect(personas.map((p) => [p.label, p.relationships, p.isDefault])).toEqual([
      ['me', 3, true],
      ['work', 1, false],
    ]);
    const thingsLine = out.split('\n').find((line) => line.startsWith(`  ${cli} things add `));
    expect(thingsLine).toBeDefined();
    // The printed line, split as a shell would (quoted words kept whole), without `node <bin> --home <dir>`.
    const words = [...thingsLine!.slice(`  ${cli} `.length).matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!);
    const added = (await runCliOk('kith', [...words, '--json'], { home: me })).json<{ name: string; warranty: string; links: { companyName: string; role: string }[] }>();
    expect(added).toMatchObject({ name: 'Trail shoes', warranty: 'active', links: [{ companyName: 'Acme Outfitters', role: 'seller' }] });
    for (const port of ports) expect(await isListening(port), `port ${port} listens`).toBe(true);

    // Its four servers are child processes (where /proc lets us see them).
    const children = childPidsOf(running.pid);
    if (existsSync('/proc')) expect(children.length).toBeGreaterThanOrEqual(4);

    // No log of the demo holds the token, and every file it made is its owner's only.
    const demoHome = join(root, 'demo-home');
    const logs = readdirSync(join(demoHome, 'logs'));
    expect(logs.sort()).toEqual(['acme.log', 'bluebird.log', 'me.log', 'northwind.log']);
    for (const log of logs) expect(readFileSync(join(demoHome, 'logs', log), 'utf8'), log).not.toContain(token);
    expect(looseModes(demoHome)).toEqual([]);
    // …the vault and the stores included (with their -wal and -shm), and the keys.
    const files = everyPath(demoHome).map((path) => path.slice(demoHome.length + 1));
    expect(files).toEqual(expect.arrayContaining(['me/vault.db', 'me/vault.db-wal', 'me/agent.json', 'acme/vendor.db', 'acme/vendor.db-wal', 'acme/vendor.db-shm', 'acme/admin-token', 'issuer/issuer.json', 'demo-passphrase']));

    const exit = await running.signalAndWait('SIGINT', 10_000);
    expect(exit).toEqual({ code: 0, signal: null });
    await waitFor('the demo’s child processes to be gone', () => (children.every((pid) => !isAlive(pid)) ? true : undefined), { timeoutMs: 5_000 });
    for (const port of ports) expect(await isListening(port), `port ${port} is closed`).toBe(false);
  });
});
