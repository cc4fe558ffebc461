import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChangeView, PersonaView, RelationshipView } from '../../src/personal/http/apiContract.js';
import { ensureBuilt, freePort, killAllStarted, runCli, runCliOk, startServer, waitFor, type CliResult, type ServerHandle } from '../support/processes.js';

/**
 * Personas with real processes and their CLIs only: her `kith serve` and four `kith-vendor serve`,
 * two companies connected as her default self and two as "work"; her rule answers their requests
 * for email from the persona each knows; a work email change reaches only the two work companies;
 * a persona in use cannot be removed; and moving a company to another persona sends it that
 * persona's value.
 */

const PASSPHRASE = 'personas e2e passphrase';
const STEP_TIMEOUT = 60_000;
const HOME_EMAIL = 'sam@home.example';
const WORK_EMAIL = 'sam@works.example';
const NEW_WORK_EMAIL = 'sam.lee@works.example';

interface Company {
  name: string;
  home: string;
  server: ServerHandle;
  /** The company's reference for her (its customer number). */
  ref: string;
}

let root: string;
let meHome: string;
let me: ServerHandle;
const companies: Company[] = [];

const env = { KITH_PASSPHRASE: PASSPHRASE };
const kith = (args: string[]): Promise<CliResult> => runCli('kith', args, { home: meHome, env });
const kithOk = (args: string[]): Promise<CliResult> => runCliOk('kith', args, { home: meHome, env });
const vendorOk = (company: Company, args: string[]): Promise<CliResult> => runCliOk('kith-vendor', args, { home: company.home });
const byName = (name: string): Company => companies.find((c) => c.name === name)!;

/** What the company holds of her email, by its own CLI. */
async function heldEmail(company: Company): Promise<unknown> {
  const holdings = (await vendorOk(company, ['holdings', company.ref, '--json'])).json<{ fields: { field: string; value: unknown }[] }>();
  return holdings.fields.find((f) => f.field === 'email')?.value;
}

beforeAll(async () => {
  ensureBuilt(['dist/src/cli/kith.js', 'dist/src/cli/kith-vendor.js', 'dist/src/cli/commands/personas.js', 'dist/src/personal/personas.js']);
  root = mkdtempSync(join(tmpdir(), 'kith-e2e-personas-'));
  meHome = join(root, 'me');
  const logDir = join(root, 'logs');
  await runCliOk('kith', ['init', '--json'], { home: meHome, env });
  me = await startServer('kith', { home: meHome, port: await freePort(), logDir, name: 'me', env });
  await kithOk(['profile', 'set', 'email', HOME_EMAIL]);
  await kithOk(['personas', 'add', 'work']);
  await kithOk(['profile', 'set', 'email', WORK_EMAIL, '--persona', 'work']);
  // Her rule: any company may have the email of the persona it knows her by, for order updates.
  await kithOk(['rules', 'add', 'approve', '--fields', 'email', '--purpose', 'order-fulfilment', '--id', 'email-for-orders', '--position', '1']);
  for (const [name, persona] of [
    ['Grocer', undefined],
    ['Cinema', undefined],
    ['Supplier', 'work'],
    ['Printer', 'work'],
  ] as const) {
    const home = join(root, name.toLowerCase());
    const port = await freePort();
    await runCliOk('kith-vendor', ['init', '--name', name, '--port', String(port), '--json'], { home });
    const server = await startServer('kith-vendor', { home, port, logDir, name });
    const invitation = (await runCliOk('kith-vendor', ['invite', '--json'], { home })).json<{ url: string }>().url;
    const relationship = (await kithOk(['connect', invitation, ...(persona ? ['--persona', persona] : []), '--json'])).json<RelationshipView>();
    expect(relationship.persona.label).toBe(persona ?? 'me');
    companies.push({ name, home, server, ref: relationship.customerRef! });
  }
}, 180_000);

afterAll(async () => {
  await me?.stop().catch(() => undefined);
  for (const company of companies) await company.server.stop().catch(() => undefined);
  await killAllStarted();
  if (root) rmSync(root, { recursive: true, force: true });
}, 60_000);

describe('personas through both CLIs, over real processes', { sequential: true }, () => {
  it('her rule answers each company from the persona it knows her by', { timeout: STEP_TIMEOUT }, async () => {
    for (const company of companies) {
      await vendorOk(company, ['request', company.ref, '--fields', 'email', '--purpose', 'Order updates', '--purpose-code', 'order-fulfilment', '--retention', 'P30D']);
    }
    for (const company of companies) {
      const expected = company.name === 'Supplier' || company.name === 'Printer' ? WORK_EMAIL : HOME_EMAIL;
      await waitFor(`${company.name} to hold her email`, async () => ((await heldEmail(company)) === expected ? true : undefined), { timeoutMs: 30_000 });
    }
    const auto = (await kithOk(['requests', '--auto', '--json'])).json<{ company: string; answeredBy: { ruleId: string } | null }[]>();
    expect(auto.map((r) => [r.company, r.answeredBy?.ruleId]).sort()).toEqual([
      ['Cinema', 'email-for-orders'],
      ['Grocer', 'email-for-orders'],
      ['Printer', 'email-for-orders'],
      ['Supplier', 'email-for-orders'],
    ]);
    const personas = (await kithOk(['personas', '--json'])).json<PersonaView[]>();
    expect(personas.map((p) => [p.label, p.relationships, p.isDefault])).toEqual([
      ['me', 2, true],
      ['work', 2, false],
    ]);
  });

  it('a work email change reaches only the two companies that know her work self', { timeout: STEP_TIMEOUT }, async () => {
    const change = (await kithOk(['profile', 'set', 'email', NEW_WORK_EMAIL, '--persona', 'work', '--json'])).json<ChangeView>();
    expect(change).toMatchObject({ done: true, persona: { label: 'work' }, summary: { total: 2, acked: 2 } });
    expect(change.deliveries.map((d) => d.company).sort()).toEqual(['Printer', 'Supplier']);
    expect(await heldEmail(byName('Supplier'))).toBe(NEW_WORK_EMAIL);
    expect(await heldEmail(byName('Printer'))).toBe(NEW_WORK_EMAIL);
    expect(await heldEmail(byName('Grocer'))).toBe(HOME_EMAIL);
    expect(await heldEmail(byName('Cinema'))).toBe(HOME_EMAIL);
    const shown = (await kithOk(['profile', 'show', '--persona', 'work'])).stdout;
    expect(shown).toContain('Persona work');
    expect(shown).toContain(NEW_WORK_EMAIL);
  });

  it('refuses removing a persona in use, and moving a company sends it the other persona\'s value', { timeout: STEP_TIMEOUT }, async () => {
    const refused = await kith(['personas', 'remove', 'work']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('persona.in_use');
    expect((await kithOk(['personas', '--json'])).json<PersonaView[]>().map((p) => p.label)).toEqual(['me', 'work']);
    const unknown = await kith(['connect', 'https://example.invalid/invite?oob=x', '--persona', 'nobody']);
    expect(unknown.code).not.toBe(0);

    const moved = (await kithOk(['personas', 'use', 'Cinema', 'work', '--json'])).json<{ moved: boolean; change: ChangeView }>();
    expect(moved).toMatchObject({ moved: true, change: { moved: { company: 'Cinema' }, persona: { label: 'work' } } });
    await waitFor('Cinema to hold her work email', async () => ((await heldEmail(byName('Cinema'))) === NEW_WORK_EMAIL ? true : undefined), { timeoutMs: 30_000 });
    expect(await heldEmail(byName('Grocer'))).toBe(HOME_EMAIL);
  });
});
