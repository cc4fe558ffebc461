import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { presentError } from '../../src/core/errorTable.js';
import type { RequestView } from '../../src/personal/disclosure/disclosure.js';
import type { AgreementView } from '../../src/personal/terms.js';
import type { RelationshipView } from '../../src/personal/views.js';
import type { TermsAgreementRow } from '../../src/company/store/types.js';
import { ensureBuilt, freePort, killAllStarted, runCli, runCliOk, startServer, waitFor, type CliResult, type ServerHandle } from '../support/processes.js';

/**
 * Terms end to end with real processes: her `kith serve` and three `kith-vendor serve`, each with
 * its own terms policy, driven only through the two CLIs (and HTTP for the published terms).
 * Acme accepts her default terms, Bluebird counters with something that protects her less (it
 * waits for her), Corner rejects them. She accepts Bluebird's counter; Acme may then only ask
 * within the agreed terms; she changes her terms with Acme; Corner proposes better terms and her
 * agent accepts them on its own.
 */

const PASSPHRASE = 'terms e2e passphrase';
const STEP_TIMEOUT = 30_000;
const ID = (name: string): string => `https://kith.invalid/terms/agreements/${name}`;

interface CompanyFixture {
  name: string;
  home: string;
  port: number;
  policy: unknown;
  server?: ServerHandle;
  /** Her relationship with it (her id) and the customer number it knows her by. */
  relationship?: RelationshipView;
}

let root: string;
let logDir: string;
let meHome: string;
let me: ServerHandle | undefined;
let acme: CompanyFixture;
let bluebird: CompanyFixture;
let corner: CompanyFixture;
let failed = false;

const kithOk = (args: string[]): Promise<CliResult> => runCliOk('kith', args, { home: meHome, env: { KITH_PASSPHRASE: PASSPHRASE } });
const companyCli = (company: CompanyFixture, args: string[]): Promise<CliResult> => runCli('kith-vendor', args, { home: company.home });
const companyOk = (company: CompanyFixture, args: string[]): Promise<CliResult> => runCliOk('kith-vendor', args, { home: company.home });

const refOf = (company: CompanyFixture): string => company.relationship!.customerRef!;
const rowsOf = (terms: { proposedBy: string; state: string; agreementId: string }[]) => terms.map((t) => [t.proposedBy, t.state, t.agreementId]);

async function companyTerms(company: CompanyFixture): Promise<TermsAgreementRow[]> {
  const rows = (await companyOk(company, ['--json', 'terms', refOf(company)])).json<TermsAgreementRow[]>();
  // A proffer and the counter answering it share one instant: her proffer first.
  return [...rows].sort((a, b) => a.createdAt - b.createdAt || (a.proposedBy === b.proposedBy ? 0 : a.proposedBy === 'person' ? -1 : 1));
}
async function myRelationships(): Promise<RelationshipView[]> {
  return (await kithOk(['relationships', '--json'])).json<RelationshipView[]>();
}
async function myRelationship(company: CompanyFixture): Promise<RelationshipView> {
  const found = (await myRelationships()).find((r) => r.id === company.relationship!.id);
  if (!found) throw new Error(`she has no relationship with ${company.name}`);
  return found;
}

beforeAll(async () => {
  ensureBuilt(['dist/src/cli/kith.js', 'dist/src/cli/kith-vendor.js', 'dist/src/cli/commands/terms.js']);
  root = mkdtempSync(join(tmpdir(), 'kith-e2e-terms-'));
  logDir = join(root, 'logs');
  meHome = join(root, 'me');
  const ports = new Set<number>();
  while (ports.size < 4) ports.add(await freePort());
  const [portA, portB, portC, portMe] = [...ports] as [number, number, number, number];
  acme = { name: 'Acme Accepts', home: join(root, 'acme'), port: portA, policy: { version: 1, terms: { accept: ['intent-only-contact', 'service-only'] } } };
  bluebird = { name: 'Bluebird Counters', home: join(root, 'bluebird'), port: portB, policy: { version: 1, terms: { preferred: 'loyalty-program' } } };
  corner = { name: 'Corner Rejects', home: join(root, 'corner'), port: portC, policy: { version: 1, terms: { accept: ['service-plus-billing'] } } };

  await Promise.all([
    ...[acme, bluebird, corner].map(async (company) => {
      const policyFile = join(root, `${company.home.split('/').pop()}-policy.json`);
      writeFileSync(policyFile, JSON.stringify(company.policy));
      await runCliOk('kith-vendor', ['init', '--name', company.name, '--port', String(company.port), '--policy', policyFile, '--json'], { home: company.home });
      company.server = await startServer('kith-vendor', { home: company.home, port: company.port, logDir, env: { KITH_OUTBOX_INTERVAL_MS: '250' } });
    }),
    (async () => {
      await kithOk(['init', '--json']);
      me = await startServer('kith', { home: meHome, port: portMe, logDir, name: 'me', env: { KITH_PASSPHRASE: PASSPHRASE } });
    })(),
  ]);
}, 120_000);

beforeEach((context) => {
  context.onTestFailed(() => {
    failed = true;
  });
});

afterAll(async () => {
  for (const server of [me, acme?.server, bluebird?.server, corner?.server]) await server?.stop().catch(() => undefined);
  await killAllStarted();
  if (!root) return;
  if (failed) console.warn(`kith terms e2e: a step failed; homes and process logs kept in ${root}`);
  else rmSync(root, { recursive: true, force: true });
}, 60_000);

describe('terms, end to end with real processes', { sequential: true }, () => {
  it('she sets her default terms, and each company publishes its own at /.well-known/kith-terms', { timeout: STEP_TIMEOUT }, async () => {
    expect((await kithOk(['terms', 'set', 'intent-only-contact', '--json'])).json()).toEqual({ default: ID('intent-only-contact') });
    const roster = (await kithOk(['terms', 'show', '--json'])).json<{ default: string | null }>();
    expect(roster.default).toBe(ID('intent-only-contact'));

    const published = await fetch(`${bluebird.server!.url}/.well-known/kith-terms`);
    expect(published.status).toBe(200);
    expect(await published.json()).toMatchObject({ accept: [], preferred: ID('loyalty-program'), rule: 'accept the listed agreements; otherwise counter once with the preferred one' });
    expect(await (await fetch(`${acme.server!.url}/.well-known/kith-terms`)).json()).toMatchObject({ accept: [ID('intent-only-contact'), ID('service-only')], preferred: null });
  });

  it('connects to all three: accepted, countered (waiting for her), rejected', { timeout: STEP_TIMEOUT }, async () => {
    await Promise.all(
      [acme, bluebird, corner].map(async (company) => {
        const invitation = (await companyOk(company, ['invite', '--json'])).json<{ url: string }>().url;
        company.relationship = (await kithOk(['connect', invitation, '--json'])).json<RelationshipView>();
        expect(company.relationship).toMatchObject({ company: company.name, state: 'active' });
      }),
    );
    const views = await myRelationships();
    const termsOf = (company: CompanyFixture) => views.find((v) => v.id === company.relationship!.id)!.terms;
    expect(termsOf(acme)).toMatchObject({ name: 'intent-only-contact', outcome: 'accepted', awaitingHer: false });
    expect(termsOf(bluebird)).toMatchObject({ name: null, awaitingHer: true });
    expect(termsOf(corner)).toMatchObject({ name: null, lastState: 'rejected', awaitingHer: false });

    const table = (await kithOk(['relationships'])).stdout;
    const line = (company: CompanyFixture) => table.split('\n').find((l) => l.includes(company.name)) ?? '';
    expect(line(acme)).toContain('intent-only-contact');
    expect(line(bluebird)).toContain('answer waiting');
    expect(line(corner)).toContain('none (rejected)');
  });

  it('she sees Bluebird’s counter and what it weakens, accepts it, and both sides have it agreed', { timeout: STEP_TIMEOUT }, async () => {
    const rel = bluebird.relationship!.id;
    const shown = (await kithOk(['terms', 'show', rel, '--json'])).json<AgreementView[]>();
    const waiting = shown.filter((t) => t.awaitingHer);
    expect(waiting).toHaveLength(1);
    expect(waiting[0]).toMatchObject({ proposedBy: 'company', state: 'proffered', agreementId: ID('loyalty-program'), weaker: ['allowedPurposes', 'maxRetention', 'contactOnlyOnIntent'] });
    const text = (await kithOk(['terms', 'show', rel])).stdout;
    expect(text).toContain('Waiting for you: the company countered with loyalty-program, which protects you less on: what it may use your data for, how long it may keep your data, when it may contact you');
    // The counter's obligations in words, marked + where they protect her and - where they allow more.
    expect(text).toContain('  - May contact you at any time');
    // With a company whose terms are agreed, the agreement in force and what it obliges the company to, in words.
    const acmeText = (await kithOk(['terms', 'show', acme.relationship!.id])).stdout;
    expect(acmeText).toMatch(/In force: .+, signed by both of you \(record [0-9a-f]{8}\)\. The company:/);
    expect(acmeText).toContain('  + Contacts you only when you asked for it');
    expect(acmeText).not.toContain('contactOnlyOnIntent');

    const accepted = (await kithOk(['terms', 'accept', rel, '--json'])).json<AgreementView[]>();
    expect(rowsOf(accepted)).toEqual([
      ['person', 'countered', ID('intent-only-contact')],
      ['company', 'agreed', ID('loyalty-program')],
    ]);
    expect(rowsOf(await companyTerms(bluebird))).toEqual([
      ['person', 'countered', ID('intent-only-contact')],
      ['company', 'agreed', ID('loyalty-program')],
    ]);
    expect((await companyOk(bluebird, ['terms', refOf(bluebird)])).stdout).toMatch(/loyalty-program\s+company\s+agreed/);
    expect((await myRelationship(bluebird)).terms).toMatchObject({ name: 'loyalty-program', outcome: 'countered-accepted', awaitingHer: false });
  });

  it('Acme may only ask within the agreed terms: refused outside them, delivered within', { timeout: STEP_TIMEOUT }, async () => {
    const refused = await companyCli(acme, ['request', refOf(acme), '--fields', 'email', '--purpose', 'x', '--purpose-code', 'marketing', '--retention', 'P30D']);
    expect(refused.code).toBe(presentError('terms.outside_terms').exit);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(`error: ${presentError('terms.outside_terms').cli}:`);
    expect(refused.stderr).toContain('[terms.outside_terms]');

    const sent = (await companyOk(acme, ['--json', 'request', refOf(acme), '--fields', 'email', '--purpose', 'Order confirmations', '--purpose-code', 'order-fulfilment', '--retention', 'P30D'])).json<{
      request: { id: string; termsRef: string | null };
    }>();
    expect(sent.request.termsRef).toBe(ID('intent-only-contact'));
    const requests = await waitFor(
      'the request at her agent',
      async () => {
        const list = (await kithOk(['requests', '--json'])).json<RequestView[]>();
        return list.length > 0 ? list : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 250 },
    );
    expect(requests.map((r) => ({ relationshipId: r.relationshipId, purpose: r.purpose, retention: r.retention, termsRef: r.termsRef }))).toEqual([
      { relationshipId: acme.relationship!.id, purpose: 'Order confirmations', retention: 'P30D', termsRef: ID('intent-only-contact') },
    ]);
  });

  it('she changes her terms with Acme: a new record agreed on both sides, the old one superseded', { timeout: STEP_TIMEOUT }, async () => {
    const history = (await kithOk(['terms', 'set', 'service-only', '--for', acme.relationship!.id, '--json'])).json<AgreementView[]>();
    const expected = [
      ['person', 'superseded', ID('intent-only-contact')],
      ['person', 'agreed', ID('service-only')],
    ];
    expect(rowsOf(history)).toEqual(expected);
    const rows = await companyTerms(acme);
    expect(rowsOf(rows)).toEqual(expected);
    expect(rows.map((r) => r.id)).toEqual(history.map((t) => t.recordId));
    expect((await myRelationship(acme)).terms).toMatchObject({ name: 'service-only', recordId: history[1]!.recordId });
  });

  it('Corner proposes service-only; her agent accepts it on its own (it protects her better than her default)', { timeout: STEP_TIMEOUT }, async () => {
    const proposed = (await companyOk(corner, ['--json', 'propose-terms', refOf(corner), 'service-only'])).json<{ recordId: string; delivered: boolean }>();
    if (!proposed.delivered) await kithOk(['pickup']);
    const rows = await waitFor(
      'Corner to have the proposal agreed',
      async () => {
        const list = await companyTerms(corner);
        return list.some((r) => r.id === proposed.recordId && r.state === 'agreed') ? list : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 250 },
    );
    expect(rowsOf(rows)).toEqual([
      ['person', 'rejected', ID('intent-only-contact')],
      ['company', 'agreed', ID('service-only')],
    ]);
    const mine = (await kithOk(['terms', 'show', corner.relationship!.id, '--json'])).json<AgreementView[]>();
    expect(rowsOf(mine)).toEqual(rowsOf(rows));
    expect(mine.map((t) => t.recordId)).toEqual(rows.map((r) => r.id));
    expect((await myRelationship(corner)).terms).toMatchObject({ name: 'service-only', outcome: 'accepted', recordId: proposed.recordId });
  });

  it('every process shuts down cleanly on SIGTERM', { timeout: STEP_TIMEOUT }, async () => {
    await me!.stop();
    me = undefined;
    for (const company of [acme, bluebird, corner]) {
      await company.server!.stop();
      company.server = undefined;
    }
  });
});
