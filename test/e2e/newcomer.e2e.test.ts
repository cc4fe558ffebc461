import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { companyPolicySchema } from '../../src/company/config.js';
import type { RelationshipView } from '../../src/personal/views.js';
import { ensureBuilt, freePort, killAllStarted, runCli, runCliOk, startServer, waitFor, type CliResult, type ServerHandle } from '../support/processes.js';

/**
 * Defaults a newcomer can live with (issue 16 item 5, decision 0020), with the real processes:
 * `kith init` sets protective default terms and says which and how to change them;
 * `kith-vendor init` writes its policy file and prints where; her first connect proffers her
 * terms and the fresh company accepts them; a request outside them is refused, one within them
 * reaches her and waits, as her default rules say.
 */

const PASSPHRASE = 'newcomer e2e passphrase';
const STEP_TIMEOUT = 45_000;
const INTENT_ONLY = 'https://kith.invalid/terms/agreements/intent-only-contact';

let root: string;
let meHome: string;
let companyHome: string;
let me: ServerHandle | undefined;
let company: ServerHandle | undefined;
let herInit: CliResult;
let companyInit: CliResult;

const kithOk = (args: string[]): Promise<CliResult> => runCliOk('kith', args, { home: meHome, env: { KITH_PASSPHRASE: PASSPHRASE } });
const vendor = (args: string[]): Promise<CliResult> => runCli('kith-vendor', args, { home: companyHome });

beforeAll(async () => {
  ensureBuilt(['dist/src/cli/kith.js', 'dist/src/cli/kith-vendor.js', 'dist/src/personal/disclosure/ruleBook.js']);
  root = mkdtempSync(join(tmpdir(), 'kith-e2e-newcomer-'));
  meHome = join(root, 'me');
  companyHome = join(root, 'shop');
  const logDir = join(root, 'logs');
  const [portCompany, portMe] = [await freePort(), await freePort()];
  companyInit = await runCliOk('kith-vendor', ['init', '--name', 'Fresh Shop', '--port', String(portCompany)], { home: companyHome });
  herInit = await kithOk(['init']);
  [company, me] = await Promise.all([
    startServer('kith-vendor', { home: companyHome, port: portCompany, logDir }),
    startServer('kith', { home: meHome, port: portMe, logDir, name: 'me', env: { KITH_PASSPHRASE: PASSPHRASE } }),
  ]);
}, 120_000);

afterAll(async () => {
  await me?.stop().catch(() => undefined);
  await company?.stop().catch(() => undefined);
  await killAllStarted();
  if (root) rmSync(root, { recursive: true, force: true });
}, 60_000);

describe('a newcomer on both sides', { sequential: true }, () => {
  it('kith init says which terms it set and how to change them', () => {
    expect(herInit.stdout).toContain('Your default terms: intent-only-contact (Intent-only contact), proffered to every company you connect to:');
    expect(herInit.stdout).toContain('+ Contacts you only when you asked for it');
    expect(herInit.stdout).toContain('Change them at once with: kith terms set <agreement>');
    expect(herInit.stdout).toContain('Your disclosure rules: Decline anything for marketing; Ask me about anything (kith rules).');
  });

  it('kith-vendor init writes its policy file (0600), prints where, and what it accepts', () => {
    const policyFile = join(companyHome, 'policy.json');
    expect(companyInit.stdout).toContain(`Policy in ${policyFile} (written for you`);
    expect(companyInit.stdout).toContain('accepts the terms: intent-only-contact, service-only, service-plus-billing; counters with: intent-only-contact');
    expect(companyInit.stdout).toContain('connectors: logging');
    expect(statSync(policyFile).mode & 0o777).toBe(0o600);
    const policy = companyPolicySchema.parse(JSON.parse(readFileSync(policyFile, 'utf8')));
    expect(policy.terms).toMatchObject({ accept: ['intent-only-contact', 'service-only', 'service-plus-billing'], preferred: 'intent-only-contact' });
    expect(JSON.parse(readFileSync(join(companyHome, 'config.json'), 'utf8'))).toMatchObject({ policyFile });
  });

  it('her first connect proffers her default terms, and the fresh company accepts them', { timeout: STEP_TIMEOUT }, async () => {
    expect((await kithOk(['terms', 'show', '--json'])).json<{ default: string }>().default).toBe(INTENT_ONLY);
    const invitation = (await runCliOk('kith-vendor', ['invite', '--json'], { home: companyHome })).json<{ url: string }>().url;
    const relationship = (await kithOk(['connect', invitation, '--json'])).json<RelationshipView>();
    expect(relationship.terms).toMatchObject({ name: 'intent-only-contact', outcome: 'accepted' });

    // Within the terms: it reaches her and waits (her default rules ask her); outside them: refused.
    const ref = relationship.customerRef!;
    const outside = await vendor(['request', ref, '--fields', 'email', '--purpose', 'Newsletter', '--purpose-code', 'marketing', '--retention', 'P30D']);
    expect(outside.code).not.toBe(0);
    expect(outside.stderr).toContain('[terms.outside_terms]');
    expect((await vendor(['request', ref, '--fields', 'email', '--purpose', 'Order updates', '--purpose-code', 'order-fulfilment', '--retention', 'P30D'])).code).toBe(0);
    const waiting = await waitFor(
      'the request at her agent',
      async () => {
        const requests = (await kithOk(['requests', '--json'])).json<{ purpose: string; state: string }[]>();
        return requests.length > 0 ? requests : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 300 },
    );
    expect(waiting.map((r) => [r.purpose, r.state])).toEqual([['Order updates', 'pending']]);
  });

  it('kith rules: she adds a rule, the next such request is answered by it and listed with it (kith requests --auto); bad rules change nothing', { timeout: STEP_TIMEOUT }, async () => {
    const kith = (args: string[]): Promise<CliResult> => runCli('kith', args, { home: meHome, env: { KITH_PASSPHRASE: PASSPHRASE } });
    await kithOk(['profile', 'set', 'email', 'newcomer@example.org']);
    const before = (await kithOk(['rules', 'list', '--json'])).json<{ rules: { id: string }[] }>();
    expect(before.rules.map((r) => r.id)).toEqual(['decline-marketing', 'ask-everything-else']);

    // Bad input: a field she has not got, an unknown purpose, a malformed rule file; each with its code, nothing changed.
    const notHeld = await kith(['rules', 'add', 'approve', '--fields', 'phone_number']);
    expect([notHeld.code, notHeld.stderr.trim()]).toEqual([1, 'error: A rule would approve a field you have no value for: You have no value for: phone_number; a rule cannot approve what you have not got (set it with `kith profile set` first) [rules.field_not_held]']);
    expect((await kith(['rules', 'add', 'decline', '--purpose', 'profiling'])).stderr).toContain('[rules.unknown_purpose]');
    const file = join(root, 'rules.json');
    writeFileSync(file, '{ "version": 1, "rules": [ { "when": {}, "action": "ask" }');
    expect((await kith(['rules', 'set', file])).stderr).toContain('[rules.invalid]');
    expect((await kithOk(['rules', 'list', '--json'])).json()).toEqual(before);

    const added = await kithOk(['rules', 'add', 'approve', '--id', 'updates', '--fields', 'email', '--purpose', 'order-fulfilment', '--trust', 'agreed_terms']);
    expect(added.stdout).toContain('updates                Approve email for order-fulfilment to companies that agreed your terms');
    const ref = (await kithOk(['relationships', '--json'])).json<RelationshipView[]>()[0]!.customerRef!;
    expect((await vendor(['request', ref, '--fields', 'email', '--purpose', 'Shipping notices', '--purpose-code', 'order-fulfilment', '--retention', 'P30D'])).code).toBe(0);
    const auto = await waitFor(
      'her rule’s answer',
      async () => {
        const requests = (await kithOk(['requests', '--auto', '--json'])).json<{ purpose: string; state: string; answeredBy: { ruleId: string } | null }[]>();
        return requests.length > 0 ? requests : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 300 },
    );
    expect(auto.map((r) => [r.purpose, r.state, r.answeredBy?.ruleId])).toEqual([['Shipping notices', 'approved', 'updates']]);
    expect((await kithOk(['requests', '--auto'])).stdout).toContain('approved by your rule updates: Approve email for order-fulfilment to companies that agreed your terms');
  });
});
