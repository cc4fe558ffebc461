import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AccountIdView } from '../../src/personal/accountIds.js';
import type { RelationshipView } from '../../src/personal/views.js';
import { startCompany, type CompanyHandle } from '../support/agents.js';
import { browserAvailable, ensureUiBuilt, launchBrowser } from '../support/browser.js';
import { ensureBuilt, killAllStarted } from '../support/processes.js';
import { openPage, startHer, visible, type HerAgent } from '../support/uiSuite.js';

/**
 * What a company knows her by, on her relationship page in a real browser (the system's Chromium via
 * playwright-core): the customer number and the policy number the company sent, marked as signed by
 * it; she notes a loyalty number herself, and removes it. No CSP violation or console error.
 */

const PASSPHRASE = 'ui account ids e2e passphrase';
const STEP_TIMEOUT = 30_000;

const available = browserAvailable('administrative identities on the relationship page (test/e2e/ui.accountIds.e2e.test.ts)');

let root: string;
let me: HerAgent | undefined;
let acme: CompanyHandle;
let browser: Browser | undefined;
let her: Page;
let relationship: RelationshipView;
let failed = false;
let problems: string[] = [];

beforeAll(async () => {
  if (!available) return;
  ensureBuilt();
  ensureUiBuilt();
  root = mkdtempSync(join(tmpdir(), 'kith-e2e-ui-ids-'));
  const started = await Promise.all([startCompany({ name: 'Acme Insurance' }), startHer(root, { passphrase: PASSPHRASE }), launchBrowser()]);
  acme = started[0];
  me = started[1];
  browser = started[2];
  relationship = (await me.api<{ relationship: RelationshipView }>('/api/connect', { method: 'POST', body: { invitation: acme.agent.invitationUrl() } })).relationship;
  const companyRelationship = (await acme.store.findRelationshipByDid(relationship.myDid))!;
  expect(await acme.agent.accountIds.set(companyRelationship.id, { kind: 'policy_number', value: '88-123', label: 'Home insurance' })).toMatchObject({ delivered: true });
  ({ page: her, problems } = await openPage(browser));
}, 90_000);

beforeEach((ctx) => {
  if (failed) ctx.skip();
  ctx.onTestFailed(() => {
    failed = true;
  });
});

afterAll(async () => {
  await browser?.close().catch(() => undefined);
  await me?.server.stop().catch(() => undefined);
  await killAllStarted();
  await acme?.cleanup().catch(() => undefined);
  if (root) rmSync(root, { recursive: true, force: true });
}, 60_000);

describe.skipIf(!available)('what a company knows her by, on her relationship page', { sequential: true }, () => {
  it('shows the customer number and the policy number the company sent, signed', { timeout: STEP_TIMEOUT }, async () => {
    await her.goto(me!.loginUrl);
    await her.waitForURL(`${me!.base}/`);
    await her.goto(`${me!.base}/relationships/${encodeURIComponent(relationship.id)}`);
    const section = await visible(her.getByRole('region', { name: 'What Acme Insurance knows you by' }));
    const items = section.getByTestId('account-id');
    await visible(items.filter({ hasText: `Customer number: ${relationship.customerRef}` }));
    const policy = await visible(items.filter({ hasText: 'Policy number: 88-123' }));
    await visible(policy.getByText('(Home insurance)'));
    await visible(policy.getByText('From Acme Insurance, signed'));
    expect(await items.count()).toBe(2);
    expect(problems).toEqual([]);
  });

  it('she notes a loyalty number herself, marked as hers, then removes it', { timeout: STEP_TIMEOUT }, async () => {
    const section = her.getByRole('region', { name: 'What Acme Insurance knows you by' });
    await section.getByLabel('Kind').selectOption('loyalty_number');
    await section.getByLabel('Number or login').fill('LOY 7781');
    await section.getByRole('button', { name: 'Add' }).click();
    const mine = await visible(section.getByTestId('account-id').filter({ hasText: 'Loyalty number: LOY 7781' }));
    await visible(mine.getByText('Noted by you'));
    const stored = (await me!.api<{ identifiers: AccountIdView[] }>('/api/account-ids/find?value=loy7781')).identifiers;
    expect(stored).toEqual([expect.objectContaining({ source: 'her', kind: 'loyalty_number' })]);

    // The same again is refused with a message, and nothing is added.
    await section.getByLabel('Number or login').fill('loy-7781');
    await section.getByRole('button', { name: 'Add' }).click();
    await visible(section.getByRole('alert'));
    expect(await section.getByTestId('account-id').count()).toBe(3);

    await mine.getByRole('button', { name: 'Remove' }).click();
    await section.getByTestId('account-id').filter({ hasText: 'LOY 7781' }).waitFor({ state: 'detached' });
    expect(await section.getByTestId('account-id').count()).toBe(2);
    // The refused add logged a 409 in the console: that one is expected.
    expect(problems.filter((p) => !p.includes('409'))).toEqual([]);
  });

  it('a number the company sends while her page is open shows by itself (account.identifiers event)', { timeout: STEP_TIMEOUT }, async () => {
    const section = her.getByRole('region', { name: 'What Acme Insurance knows you by' });
    const companyRelationship = (await acme.store.findRelationshipByDid(relationship.myDid))!;
    expect(await acme.agent.accountIds.set(companyRelationship.id, { kind: 'contract_number', value: 'C-5521' })).toMatchObject({ delivered: true });
    await visible(section.getByTestId('account-id').filter({ hasText: 'Contract number: C-5521' }));
    expect(problems.filter((p) => !p.includes('409'))).toEqual([]);
  });
});
