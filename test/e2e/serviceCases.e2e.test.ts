import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServiceCaseDetail, ServiceCaseView as CompanyCaseView } from '../../src/company/serviceCases.js';
import type { ServiceCaseView } from '../../src/personal/serviceCases.js';
import type { ThingView } from '../../src/personal/things.js';
import type { RelationshipView } from '../../src/personal/views.js';
import { startConnectedCliPair, type CliPair } from '../support/cliPair.js';
import { ensureBuilt, runCli, runCliOk, waitFor, type CliResult } from '../support/processes.js';

/**
 * Service cases with the real processes and their CLIs only (docs/protocol/service.md): `kith
 * things service` opens a warranty claim with the company that sold her fridge, sharing the details
 * she picks and her policy number; `kith-vendor cases list|show|reply|resolve` sees and answers it;
 * she reads the thread with `kith things case`, writes back, and bad input is refused with its code.
 */

const PASSPHRASE = 'service cases e2e passphrase';
const STEP_TIMEOUT = 45_000;

let pair: CliPair;
let meHome: string;
let companyHome: string;
let relationship: RelationshipView;
let fridge: ThingView;
let opened: ServiceCaseView;

const kith = (args: string[]): Promise<CliResult> => runCli('kith', args, { home: meHome, env: { KITH_PASSPHRASE: PASSPHRASE } });
const kithOk = (args: string[]): Promise<CliResult> => runCliOk('kith', args, { home: meHome, env: { KITH_PASSPHRASE: PASSPHRASE } });
const vendorOk = (args: string[]): Promise<CliResult> => runCliOk('kith-vendor', ['--json', ...args], { home: companyHome });
const monthsAgo = (n: number) => {
  const d = new Date();
  d.setUTCMonth(d.getUTCMonth() - n);
  return d.toISOString().slice(0, 10);
};

beforeAll(async () => {
  ensureBuilt(['dist/src/cli/kith.js', 'dist/src/cli/kith-vendor.js', 'dist/src/cli/commands/serviceCases.js', 'dist/src/company/serviceCases.js']);
  pair = await startConnectedCliPair({ prefix: 'kith-e2e-cases-', companyName: 'Acme Appliances', passphrase: PASSPHRASE });
  ({ meHome, companyHome, relationship } = pair);
}, 120_000);

afterAll(async () => {
  await pair?.stop();
}, 60_000);

describe('service cases through both CLIs', { sequential: true }, () => {
  it('she opens a warranty claim with the details she picks and her policy number; the company lists and shows it', { timeout: STEP_TIMEOUT }, async () => {
    await vendorOk(['account', 'set', relationship.customerRef!, '--kind', 'policy_number', '--value', '88-123', '--label', 'Appliance cover']);
    await waitFor('the policy at her agent', async () => (await kithOk(['ids', 'find', '88-123', '--json'])).json<unknown[]>()[0], { timeoutMs: 20_000, intervalMs: 300 });
    fridge = (
      await kithOk(['things', 'add', 'Fridge', '--brand', 'Coolco', '--model', 'CF-300', '--serial', 'SN-42', '--purchased', monthsAgo(2), '--price', '899.00 EUR', '--warranty', 'P2Y', '--sold-by', relationship.id, '--json'])
    ).json<ThingView>();

    opened = (await kithOk(['things', 'service', fridge.id.slice(0, 8), 'The freezer no longer gets cold.', '--share', 'serial,model,purchaseDate', '--ids', '88-123', '--json'])).json<ServiceCaseView>();
    expect(opened).toMatchObject({ state: 'open', warrantyClaim: true, companyName: 'Acme Appliances', shared: { serialNumber: 'SN-42', model: 'CF-300', purchaseDate: monthsAgo(2) }, identifier: { kind: 'policy_number', value: '88-123' } });

    const listed = (await vendorOk(['cases', 'list', '--state', 'open'])).json<CompanyCaseView[]>();
    expect(listed).toEqual([expect.objectContaining({ caseId: opened.id, customerRef: relationship.customerRef, warrantyClaim: true, thing: { serialNumber: 'SN-42', model: 'CF-300', purchaseDate: monthsAgo(2) } })]);
    const shown = (await runCliOk('kith-vendor', ['cases', 'show', listed[0]!.id.slice(0, 8)], { home: companyHome })).stdout;
    expect(shown).toContain('warranty claim');
    expect(shown).toContain('serialNumber=SN-42');
    expect(shown).toContain('policy_number 88-123');
    expect(shown).toContain('The freezer no longer gets cold.');
    expect(shown).not.toContain('Coolco');
    expect(shown).not.toContain('899.00');
  });

  it('the company answers; she sees the case answered, writes back; the company resolves it', { timeout: STEP_TIMEOUT }, async () => {
    const [companyCase] = (await vendorOk(['cases', 'list'])).json<CompanyCaseView[]>();
    const replied = (await vendorOk(['cases', 'reply', companyCase!.id, 'A technician comes on Monday.'])).json<{ case: ServiceCaseDetail; delivered: boolean }>();
    expect(replied.case.state).toBe('answered');
    const answered = await waitFor('the answer at her agent', async () => {
      const found = (await kithOk(['things', 'case', opened.id.slice(0, 8), '--json'])).json<ServiceCaseView>();
      return found.state === 'answered' ? found : undefined;
    }, { timeoutMs: 20_000, intervalMs: 300 });
    expect(answered.thread.map((e) => [e.author, e.text])).toEqual([
      ['her', 'The freezer no longer gets cold.'],
      ['company', 'A technician comes on Monday.'],
    ]);
    const text = (await kithOk(['things', 'case', opened.id])).stdout;
    expect(text).toContain('Company wrote:');
    expect(text).toContain('A technician comes on Monday.');
    expect((await kithOk(['things', 'cases', fridge.id.slice(0, 8)])).stdout).toMatch(/Fridge\s+Acme Appliances\s+answered\s+claim/);

    expect((await kithOk(['things', 'reply', opened.id.slice(0, 8), 'Monday suits me.'])).stdout).toContain('open (waiting for the company)');
    expect((await vendorOk(['cases', 'show', companyCase!.id])).json<ServiceCaseDetail>()).toMatchObject({ state: 'open', thread: [{}, {}, { author: 'person', text: 'Monday suits me.' }] });

    await vendorOk(['cases', 'resolve', companyCase!.id, 'Thermostat replaced under warranty.']);
    await waitFor('the resolve at her agent', async () => ((await kithOk(['things', 'case', opened.id, '--json'])).json<ServiceCaseView>().state === 'resolved' ? true : undefined), { timeoutMs: 20_000, intervalMs: 300 });
    expect((await vendorOk(['cases', 'list', '--state', 'open'])).json<unknown[]>()).toEqual([]);
  });

  it('refuses bad input with its code and changes nothing', { timeout: STEP_TIMEOUT }, async () => {
    const before = (await kithOk(['things', 'cases', '--json'])).stdout;
    const toaster = (await kithOk(['things', 'add', 'Toaster', '--json'])).json<ThingView>();
    const refusals: [string[], string][] = [
      [['things', 'reply', opened.id, 'One more thing.'], 'service.case_resolved'],
      [['things', 'reply', '00000000-0000-4000-8000-00000000dead', 'Hello?'], 'service.unknown_case'],
      [['things', 'service', toaster.id, 'Burns the toast.'], 'service.no_supporter'],
      [['things', 'service', fridge.id, 'Warm.', '--share', 'notes'], 'service.invalid'],
      [['things', 'service', fridge.id, 'Warm.', '--ids', 'NOPE-1'], 'account.unknown'],
    ];
    for (const [args, code] of refusals) {
      const result = await kith([...args, '--json']);
      expect(result.code, args.join(' ')).not.toBe(0);
      expect(result.stderr + result.stdout, args.join(' ')).toContain(code);
    }
    const vendorResolved = await runCli('kith-vendor', ['--json', 'cases', 'reply', opened.id, 'Anything else?'], { home: companyHome });
    expect(vendorResolved.stderr + vendorResolved.stdout).toContain('service.case_resolved');

    await kithOk(['mute', relationship.id]);
    const muted = await kith(['things', 'service', fridge.id, 'Warm again.', '--json']);
    expect(muted.stderr + muted.stdout).toContain('relationship.not_active');
    expect((await kithOk(['things', 'cases', '--json'])).stdout).toBe(before);
    expect((await vendorOk(['cases', 'list'])).json<unknown[]>()).toHaveLength(1);
  });
});
