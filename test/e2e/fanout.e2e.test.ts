import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ChangeView } from '../../src/personal/profile/fanout.js';
import type { RequestView } from '../../src/personal/disclosure/disclosure.js';
import type { RelationshipView } from '../../src/personal/views.js';
import type { Holdings } from '../../src/company/createCompanyAgent.js';
import type { ConnectorEvent } from '../../src/company/store/types.js';
import {
  REPO_ROOT,
  ensureBuilt,
  freePort,
  killAllStarted,
  runCli,
  runCliOk,
  spawnLogged,
  startServer,
  waitFor,
  type CliResult,
  type LoggedProcess,
  type ServerHandle,
} from '../support/processes.js';

/**
 * Change once, everywhere, with real processes: her `kith serve`, two company-fleet processes of ten
 * companies each (bench/fleet.ts) and one `kith-vendor serve`. Her agent is killed -9 in the middle
 * of a fan-out; later one company is down for a whole fan-out. Each company must end up with the new
 * address exactly once, and every one of her deliveries acknowledged.
 *
 * Fleet A answers 1 s after applying an update (the ack is late: the window to kill her agent in).
 * Fleet B is restarted for the kill step with a 1.5 s hold BEFORE it applies a message, dropping
 * it if the sender hung up meanwhile: at the kill, fleet A has applied, fleet B has not.
 */

const PASSPHRASE = 'fan-out e2e passphrase';
const FLEET_SIZE = 10;
const REPLY_DELAY_MS = 1_000;
const APPLY_DELAY_MS = 1_500;
const STEP_TIMEOUT = 90_000;
const ADDRESS_1 = '1 Old Rd; Oldtown; ; 111; GB';
const ADDRESS_2 = '2 New St; Newtown; ; 222; GB';
const ADDRESS_3 = '3 Third Ave; Thirdtown; ; 333; GB';
const parsed = (text: string) => {
  const [street_address, locality, , postal_code, country] = text.split(';').map((p) => p.trim());
  return { street_address, locality, postal_code, country };
};

interface Company {
  name: string;
  url: string;
  invitation: string;
  adminToken: string;
  home: string;
  group: 'A' | 'B' | 'solo';
  /** Her relationship with this company, and the customer number it knows her by. */
  relationshipId?: string;
  customerRef?: string;
}

let root: string;
let logDir: string;
let meHome: string;
let mePort: number;
let me: ServerHandle | undefined;
const fleets: Partial<Record<'A' | 'B', LoggedProcess>> = {};
let solo: { home: string; port: number; server?: ServerHandle };
let companies: Company[] = [];
let failed = false;

const FLEET_SCRIPT = join(REPO_ROOT, 'dist', 'bench', 'fleet.js');

const kithOk = (args: string[]): Promise<CliResult> => runCliOk('kith', args, { home: meHome, env: { KITH_PASSPHRASE: PASSPHRASE } });
const startMe = () => startServer('kith', { home: meHome, port: mePort, logDir, name: 'me', env: { KITH_PASSPHRASE: PASSPHRASE } });
const startSolo = () => startServer('kith-vendor', { home: solo.home, port: solo.port, logDir, name: 'solo', env: { KITH_OUTBOX_INTERVAL_MS: '250' } });

/** Starts (or reopens) one fleet process and reads the JSON line it prints when ready. */
async function startFleet(group: 'A' | 'B', extra: string[]): Promise<Company[]> {
  const proc = spawnLogged(FLEET_SCRIPT, ['--dir', join(root, `fleet-${group}`), '--count', String(FLEET_SIZE), '--base-name', `Fleet ${group}`, ...extra], {
    name: `fleet-${group}`,
    logDir,
    env: { KITH_OUTBOX_INTERVAL_MS: '250' },
  });
  fleets[group] = proc;
  const before = proc.stdout().length; // the log is appended to across restarts
  const line = await waitFor(
    `fleet ${group} to be ready`,
    () => {
      const exit = proc.exit();
      if (exit) throw Object.assign(new Error(`fleet ${group} exited (${exit.code ?? exit.signal}): ${proc.stderr().slice(-2000)}`), { fatal: true });
      const text = proc.stdout().slice(before);
      return text.includes('\n') ? text.slice(0, text.indexOf('\n')) : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 50 },
  );
  const { companies: list } = JSON.parse(line) as { companies: Omit<Company, 'group'>[] };
  expect(list).toHaveLength(FLEET_SIZE);
  return list.map((v) => ({ ...v, group }));
}

async function stopFleet(group: 'A' | 'B'): Promise<void> {
  const exit = await fleets[group]!.signalAndWait('SIGTERM', 15_000);
  expect(exit).toEqual({ code: 0, signal: null });
}

async function admin<T>(company: Pick<Company, 'name' | 'url' | 'adminToken'>, method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${company.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${company.adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${company.name} ${method} ${path}: HTTP ${response.status} ${text.slice(0, 500)}`);
  return JSON.parse(text) as T;
}
const holdings = (company: Company) => admin<Holdings>(company, 'GET', `/admin/relationships/${encodeURIComponent(company.customerRef!)}/holdings`);
const updatedEvents = async (company: Company, version: number) =>
  (await admin<{ events: ConnectorEvent[] }>(company, 'GET', `/admin/events?relationship=${encodeURIComponent(company.customerRef!)}`)).events.filter(
    (e) => e.type === 'profile.updated' && (e.payload as { version?: number }).version === version,
  );
const addressOf = (h: Holdings) => h.fields.find((f) => f.field === 'address');

async function myChange(version: number): Promise<ChangeView> {
  const changes = (await kithOk(['profile', 'changes', '--json', '--limit', '10'])).json<ChangeView[]>();
  const change = changes.find((c) => c.version === version);
  if (!change) throw new Error(`no change ${version} in ${JSON.stringify(changes.map((c) => c.version))}`);
  return change;
}

/** Runs `work` over `items`, `limit` at a time (each CLI call is a Node process; 2 cores). */
async function inBatches<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

/** After a fan-out of `version` to `address`: every company holds it, applied exactly once, and she has every ack. */
async function expectEverywhere(version: number, address: string): Promise<void> {
  for (const company of companies) {
    const held = await holdings(company);
    expect({ company: company.name, version: held.profileVersion, address: addressOf(held)?.value, fieldVersion: addressOf(held)?.version }).toEqual({
      company: company.name,
      version,
      address: parsed(address),
      fieldVersion: version,
    });
    const events = await updatedEvents(company, version);
    expect({ company: company.name, events: events.length }).toEqual({ company: company.name, events: 1 });
    expect(events[0]!.payload).toMatchObject({ version, fields: { address: parsed(address) } });
  }
  const change = await myChange(version);
  expect(change.summary).toEqual({ total: companies.length, acked: companies.length, pending: 0, failed: 0, skipped: 0 });
  expect(new Set(change.deliveries.map((d) => d.relationshipId))).toEqual(new Set(companies.map((v) => v.relationshipId)));
  expect(change.deliveries.every((d) => d.state === 'acked')).toBe(true);
}

/**
 * Within the terms `kith init` proffers and a fresh `kith-vendor init` accepts (intent-only-contact,
 * decision 0020): a company that agreed them names the purpose and the retention of what it asks.
 */
const DELIVERIES = { purposeCode: 'service-delivery', retention: 'P30D' };

beforeAll(async () => {
  ensureBuilt(['dist/src/cli/kith.js', 'dist/src/cli/kith-vendor.js', 'dist/bench/fleet.js']);
  root = mkdtempSync(join(tmpdir(), 'kith-e2e-fanout-'));
  logDir = join(root, 'logs');
  meHome = join(root, 'me');
  mePort = await freePort();
  let soloPort = await freePort();
  while (soloPort === mePort) soloPort = await freePort();
  solo = { home: join(root, 'solo'), port: soloPort };

  const [a, b] = await Promise.all([
    startFleet('A', ['--reply-delay-ms', String(REPLY_DELAY_MS)]),
    startFleet('B', ['--reply-delay-ms', String(REPLY_DELAY_MS)]),
    runCliOk('kith-vendor', ['init', '--name', 'Solo Company', '--port', String(solo.port), '--json'], { home: solo.home }),
    kithOk(['init', '--json']),
  ]);
  solo.server = await startSolo();
  me = await startMe();
  companies = [...a, ...b];
  const soloAdmin = { name: 'Solo Company', url: solo.server.url, adminToken: readFileSync(join(solo.home, 'admin-token'), 'utf8').trim() };
  const invitation = (await admin<{ url: string }>(soloAdmin, 'GET', '/admin/invitation')).url;
  companies.push({ ...soloAdmin, invitation, home: solo.home, group: 'solo' });
}, 120_000);

beforeEach((context) => {
  context.onTestFailed(() => {
    failed = true;
  });
});

afterAll(async () => {
  await me?.stop().catch(() => undefined);
  await solo?.server?.stop().catch(() => undefined);
  for (const group of ['A', 'B'] as const) await fleets[group]?.signalAndWait('SIGTERM', 15_000).catch(() => undefined);
  await killAllStarted();
  if (!root) return;
  if (failed) console.warn(`kith fan-out e2e: a step failed; homes and process logs kept in ${root}`);
  else rmSync(root, { recursive: true, force: true });
}, 60_000);

describe('change once everywhere, end to end with real processes', { sequential: true }, () => {
  it('connects to 21 companies; each asks for her address and she approves', { timeout: STEP_TIMEOUT }, async () => {
    expect(companies).toHaveLength(2 * FLEET_SIZE + 1);
    await inBatches(companies, 6, async (company) => {
      const relationship = (await kithOk(['connect', company.invitation, '--json'])).json<RelationshipView>();
      expect(relationship).toMatchObject({ company: company.name, state: 'active' });
      company.relationshipId = relationship.id;
      company.customerRef = relationship.customerRef!;
    });

    await Promise.all(companies.map((company) => admin(company, 'POST', `/admin/relationships/${encodeURIComponent(company.customerRef!)}/disclosure-requests`, { fields: ['address'], purpose: 'Deliveries', ...DELIVERIES })));
    const requests = await waitFor(
      'all 21 requests at her agent',
      async () => {
        const list = (await kithOk(['requests', '--json'])).json<RequestView[]>();
        return list.length === companies.length ? list : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 250 },
    );
    expect(new Set(requests.map((r) => r.relationshipId))).toEqual(new Set(companies.map((v) => v.relationshipId)));

    const first = (await kithOk(['profile', 'set', 'address', ADDRESS_1, '--json'])).json<ChangeView>();
    expect(first.deliveries).toEqual([]); // nobody holds it yet
    await inBatches(requests, 6, async (request) => {
      const outcome = (await kithOk(['approve', request.id, '--json'])).json<{ fields: string[] }>();
      expect(outcome.fields).toEqual(['address']);
    });
    for (const company of companies) {
      const held = await holdings(company);
      expect(addressOf(held)).toMatchObject({ value: parsed(ADDRESS_1), version: first.version, source: 'self' });
    }
    const profile = (await kithOk(['profile', 'show', '--json'])).json<{ fields: { field: string; heldBy: unknown[] }[] }>();
    expect(profile.fields.find((f) => f.field === 'address')?.heldBy).toHaveLength(companies.length);
  });

  it('her agent killed -9 mid fan-out: after a restart every company has the change exactly once, every ack recorded', { timeout: STEP_TIMEOUT }, async () => {
    // Fleet B now holds each message 1.5 s before applying it (and drops it if she hung up).
    await stopFleet('B');
    const reopened = await startFleet('B', ['--reply-delay-ms', String(REPLY_DELAY_MS), '--apply-delay-ms', String(APPLY_DELAY_MS)]);
    expect(reopened.map((v) => [v.name, v.url, v.invitation])).toEqual(companies.filter((v) => v.group === 'B').map((v) => [v.name, v.url, v.invitation]));

    const change = (await kithOk(['profile', 'set', 'address', ADDRESS_2, '--no-wait', '--json'])).json<ChangeView>();
    const version = change.version;
    expect(change.deliveries).toHaveLength(companies.length);

    const fleetA = companies.filter((v) => v.group === 'A');
    await waitFor(
      'a fleet A company to apply the change',
      async () => ((await Promise.all(fleetA.map(holdings))).some((h) => h.profileVersion === version) ? true : undefined),
      { timeoutMs: 10_000, intervalMs: 20 },
    );
    await me!.kill9();
    me = undefined;

    // At the kill: some companies applied it, not all; and at least one of them applied it but her
    // agent never saw the ack.
    const atKill = await Promise.all(companies.map(async (v) => ({ company: v, version: (await holdings(v)).profileVersion })));
    const applied = atKill.filter((x) => x.version === version).map((x) => x.company);
    expect(applied.length).toBeGreaterThan(0);
    expect(applied.length).toBeLessThan(companies.length);
    expect(applied.some((v) => v.group === 'B')).toBe(false);
    const whileDown = await myChange(version); // the CLI opens her vault in-process
    expect(whileDown.done).toBe(false);
    const pending = new Set(whileDown.deliveries.filter((d) => d.state === 'pending').map((d) => d.relationshipId));
    expect(applied.some((v) => pending.has(v.relationshipId!))).toBe(true);

    me = await startMe();
    await waitFor('the change to be done', async () => ((await myChange(version)).done ? true : undefined), { timeoutMs: 30_000, intervalMs: 500 });
    await expectEverywhere(version, ADDRESS_2);
  });

  it('a company down for the whole fan-out gets the change exactly once when it is back', { timeout: STEP_TIMEOUT }, async () => {
    const soloCompany = companies.find((v) => v.group === 'solo')!;
    await solo.server!.stop();
    solo.server = undefined;

    const change = (await kithOk(['profile', 'set', 'address', ADDRESS_3, '--no-wait', '--json'])).json<ChangeView>();
    const version = change.version;
    const waiting = await waitFor(
      'the fleet to acknowledge while the solo company is retried',
      async () => {
        const view = await myChange(version);
        const soloDelivery = view.deliveries.find((d) => d.relationshipId === soloCompany.relationshipId);
        return view.summary.acked === 2 * FLEET_SIZE && soloDelivery?.state === 'pending' && soloDelivery.lastError === 'transport.unreachable' ? view : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    expect(waiting.summary).toMatchObject({ total: companies.length, pending: 1, failed: 0 });
    expect((await holdings(companies[0]!)).profileVersion).toBe(version);

    solo.server = await startSolo();
    await waitFor('the solo company to be caught up', async () => ((await myChange(version)).done ? true : undefined), { timeoutMs: 40_000, intervalMs: 500 });
    await expectEverywhere(version, ADDRESS_3);
    const soloDelivery = (await myChange(version)).deliveries.find((d) => d.relationshipId === soloCompany.relationshipId)!;
    expect(soloDelivery.attempts).toBeGreaterThanOrEqual(1);
  });

  it('kith access: the company’s signed answer, in words (values as she wrote them, the agreement by name)', { timeout: STEP_TIMEOUT }, async () => {
    const out = (await kithOk(['access', 'Solo Company'])).stdout;
    expect(out).toContain('Signed answer, kept in your vault');
    expect(out).toMatch(/address +3 Third Ave, Thirdtown, 333, GB/);
    expect(out).not.toContain('{"street_address"');
    expect(out).not.toContain('https://');
  });

  it('kith profile remove: asks first (refused without a terminal or --yes, nothing changes); with --yes every company erases the address', { timeout: STEP_TIMEOUT }, async () => {
    const before = (await kithOk(['profile', 'show', '--json'])).json<{ version: number }>();
    const refused = await runCli('kith', ['profile', 'remove', 'address'], { home: meHome, env: { KITH_PASSPHRASE: PASSPHRASE } });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('kith profile remove asks before it removes: run it in a terminal, or add --yes');
    const notSet = await runCli('kith', ['profile', 'remove', 'nickname', '--yes'], { home: meHome, env: { KITH_PASSPHRASE: PASSPHRASE } });
    expect(notSet.stderr).toContain('Your profile has no nickname');
    expect((await kithOk(['profile', 'show', '--json'])).json<{ version: number }>().version).toBe(before.version);

    const change = (await kithOk(['profile', 'remove', 'address', '--yes', '--json', '--timeout', '60'])).json<ChangeView>();
    expect(change).toMatchObject({ fields: ['address'], removed: ['address'], done: true, summary: { total: companies.length, acked: companies.length } });
    await inBatches(companies, 4, async (company) => {
      const held = await holdings(company);
      expect(addressOf(held), `${company.name} erased the address`).toBeUndefined();
      // Her address was all she gave each: the consent record is withdrawn whole.
      expect(held.consentRecords.map((c) => c.state), company.name).toEqual(['withdrawn']);
    });
    const profile = (await kithOk(['profile', 'show', '--json'])).json<{ fields: { field: string }[] }>();
    expect(profile.fields.map((f) => f.field)).not.toContain('address');
  });

  it('every process shuts down cleanly on SIGTERM', { timeout: STEP_TIMEOUT }, async () => {
    await me!.stop();
    me = undefined;
    await solo.server!.stop();
    solo.server = undefined;
    await stopFleet('A');
    await stopFleet('B');
  });
});
