import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IdentifierList } from '../../src/company/accountIdentifiers.js';
import type { AccountIdView } from '../../src/personal/accountIds.js';
import type { RelationshipView } from '../../src/personal/views.js';
import { startConnectedCliPair, type CliPair } from '../support/cliPair.js';
import { ensureBuilt, runCli, runCliOk, waitFor, type CliResult } from '../support/processes.js';

/**
 * Administrative identities with the real processes and their CLIs only (docs/protocol/account.md):
 * after connect `kith ids` shows the customer number; `kith-vendor account set` sends a policy
 * number; `kith ids find "88 123"` names the company and the kind; her own entry, and the refusals.
 */

const PASSPHRASE = 'account ids e2e passphrase';
const STEP_TIMEOUT = 45_000;

let pair: CliPair;
let meHome: string;
let companyHome: string;
let relationship: RelationshipView;

const kith = (args: string[]): Promise<CliResult> => runCli('kith', args, { home: meHome, env: { KITH_PASSPHRASE: PASSPHRASE } });
const kithOk = (args: string[]): Promise<CliResult> => runCliOk('kith', args, { home: meHome, env: { KITH_PASSPHRASE: PASSPHRASE } });

beforeAll(async () => {
  ensureBuilt(['dist/src/cli/kith.js', 'dist/src/cli/kith-vendor.js', 'dist/src/cli/commands/accountIds.js', 'dist/src/company/accountIdentifiers.js']);
  pair = await startConnectedCliPair({ prefix: 'kith-e2e-ids-', companyName: 'Acme Insurance', passphrase: PASSPHRASE });
  ({ meHome, companyHome, relationship } = pair);
}, 120_000);

afterAll(async () => {
  await pair?.stop();
}, 60_000);

describe('administrative identities through both CLIs', { sequential: true }, () => {
  it('kith ids shows the customer number the company gave her on connect', { timeout: STEP_TIMEOUT }, async () => {
    const ids = (await kithOk(['ids', '--json'])).json<AccountIdView[]>();
    expect(ids).toEqual([expect.objectContaining({ kind: 'customer_number', value: relationship.customerRef, source: 'company', companyName: 'Acme Insurance' })]);
    const text = (await kithOk(['ids', relationship.id.slice(0, 8)])).stdout;
    expect(text).toContain('Acme Insurance');
    expect(text).toContain(relationship.customerRef!);
    expect(text).toContain('company (signed, list 0)');
  });

  it('kith-vendor account set sends a policy number; kith ids find "88 123" names the company and the kind', { timeout: STEP_TIMEOUT }, async () => {
    const sent = (await runCliOk('kith-vendor', ['--json', 'account', 'set', relationship.customerRef!, '--kind', 'policy_number', '--value', '88-123', '--label', 'Home insurance'], { home: companyHome })).json<IdentifierList>();
    expect(sent).toMatchObject({ sequence: 1, identifiers: [{ kind: 'customer_number' }, { kind: 'policy_number', value: '88-123', label: 'Home insurance' }] });
    const found = await waitFor('the policy at her agent', async () => (await kithOk(['ids', 'find', '88 123', '--json'])).json<AccountIdView[]>()[0], { timeoutMs: 20_000, intervalMs: 300 });
    expect(found).toMatchObject({ companyName: 'Acme Insurance', kind: 'policy_number', value: '88-123', label: 'Home insurance' });
    const text = (await kithOk(['ids', 'find', '88123'])).stdout;
    expect(text).toMatch(/Acme Insurance\s+policy_number\s+88-123\s+Home insurance/);
    // Nothing found: a script can tell by the exit code.
    const none = await kith(['ids', 'find', '99-999']);
    expect([none.code, none.stdout.trim()]).toEqual([1, 'No company knows you by that.']);
    const shown = await waitFor('her ack at the company', async () => {
      const list = (await runCliOk('kith-vendor', ['--json', 'account', 'show', relationship.customerRef!], { home: companyHome })).json<IdentifierList>();
      return list.acknowledged === 1 ? list : undefined;
    }, { timeoutMs: 20_000, intervalMs: 300 });
    expect(shown.sequence).toBe(1);
  });

  it('her own entry is added and removed; bad input is refused with its code', { timeout: STEP_TIMEOUT }, async () => {
    const added = (await kithOk(['ids', 'add', relationship.id.slice(0, 8), '--kind', 'loyalty_number', '--value', 'LOY 7781', '--json'])).json<AccountIdView>();
    expect(added).toMatchObject({ source: 'her', kind: 'loyalty_number' });
    expect((await kithOk(['ids'])).stdout).toContain('you');

    const unknown = await kith(['ids', 'add', 'no-such-company', '--kind', 'other', '--value', 'x', '--json']);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr + unknown.stdout).toContain('relationship.unknown');
    const badKind = await kith(['ids', 'add', relationship.id.slice(0, 8), '--kind', 'passport_number', '--value', 'x', '--json']);
    expect(badKind.stderr + badKind.stdout).toContain('api.bad_request');
    const twice = await kith(['ids', 'add', relationship.id.slice(0, 8), '--kind', 'loyalty_number', '--value', 'loy-7781', '--json']);
    expect(twice.stderr + twice.stdout).toContain('account.exists');
    const companyIssued = (await kithOk(['ids', '--json'])).json<AccountIdView[]>().find((i) => i.kind === 'policy_number')!;
    expect((await kith(['ids', 'remove', companyIssued.id, '--json'])).stderr).toContain('account.company_issued');

    expect((await kithOk(['ids', 'remove', added.id.slice(0, 8)])).stdout).toContain('Removed loyalty_number LOY 7781');
    expect((await kithOk(['ids', '--json'])).json<AccountIdView[]>().map((i) => i.source)).toEqual(['company', 'company']);

    const vendorBad = await runCli('kith-vendor', ['--json', 'account', 'set', relationship.customerRef!, '--kind', 'passport_number', '--value', '1'], { home: companyHome });
    expect(vendorBad.code).not.toBe(0);
    expect(vendorBad.stderr + vendorBad.stdout).toContain('api.bad_request');
  });
});
