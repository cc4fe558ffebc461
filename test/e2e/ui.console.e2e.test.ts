import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RelationshipView } from '../../src/personal/views.js';
import type { RequestView } from '../../src/personal/disclosure/disclosure.js';
import { startCompany, type CompanyHandle } from '../support/agents.js';
import { browserAvailable, ensureUiBuilt, launchBrowser } from '../support/browser.js';
import { REPO_ROOT, ensureBuilt, freePort, killAllStarted, runCliOk, startServer, type ServerHandle } from '../support/processes.js';

/**
 * "Verify the caller", both sides in a real browser (the system's Chromium via playwright-core):
 * the company's call-center console (an in-process company agent over real HTTP on loopback) and
 * her web app (a real `kith serve --idle-lock 0`). The operator signs in to the console, finds her
 * by the email the company holds, opens her page and clicks Verify the caller; the console shows a
 * code, her web app shows the same code; she approves; the console shows "Verified: signed by <her
 * pairwise DID>" by itself. Neither page breaks its CSP or logs an error. Screenshots go to
 * test/e2e/screenshots/console-*.png.
 */

const PASSPHRASE = 'ui console e2e passphrase (correct horse)';
const SCREENSHOTS = join(REPO_ROOT, 'test', 'e2e', 'screenshots');
const PREFIX = 'console-';
const WIDE = { width: 1280, height: 900 };
const STEP_TIMEOUT = 30_000;
const UI_TIMEOUT = 10_000;
const EMAIL = 'alex.rivera@example.org';
const OPERATOR = 'Sam Operator';

const available = browserAvailable('console and caller verification (test/e2e/ui.console.e2e.test.ts)');

let root: string;
let me: ServerHandle | undefined;
let base: string;
let agentToken: string;
let loginUrl: string;
let acme: CompanyHandle;
let browser: Browser | undefined;
let operatorContext: BrowserContext;
let herContext: BrowserContext;
let operator: Page;
let her: Page;
let relationship: RelationshipView;
let code: string;
let failed = false;
const problems: string[] = [];

async function myApi<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const response = await fetch(`${base}${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${agentToken}`, ...(init.body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  if (!response.ok) throw new Error(`${init.method ?? 'GET'} ${path} -> ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

async function visible(locator: Locator, timeout = UI_TIMEOUT): Promise<Locator> {
  await locator.waitFor({ state: 'visible', timeout });
  return locator;
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SCREENSHOTS, `${PREFIX}${name}.png`), fullPage: true, animations: 'disabled' });
}

/** Every console error (a CSP violation is one) and uncaught error of a page. */
function watch(page: Page, who: string): void {
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`${who} ${page.url()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`${who} ${page.url()}: ${error.message}`));
}

beforeAll(async () => {
  if (!available) return;
  ensureBuilt();
  ensureUiBuilt();
  mkdirSync(SCREENSHOTS, { recursive: true });
  for (const name of readdirSync(SCREENSHOTS)) if (name.startsWith(PREFIX) && name.endsWith('.png')) rmSync(join(SCREENSHOTS, name), { force: true });
  root = mkdtempSync(join(tmpdir(), 'kith-e2e-ui-console-'));
  const meHome = join(root, 'me');
  const port = await freePort();
  const started = await Promise.all([
    startCompany({ name: 'Acme Outfitters' }),
    (async () => {
      await runCliOk('kith', ['init', '--json'], { home: meHome, env: { KITH_PASSPHRASE: PASSPHRASE } });
      return startServer('kith', { home: meHome, port, logDir: join(root, 'logs'), name: 'me', env: { KITH_PASSPHRASE: PASSPHRASE }, serveArgs: ['--idle-lock', '0'] });
    })(),
    launchBrowser(),
  ]);
  acme = started[0];
  me = started[1];
  browser = started[2];
  base = me.url;
  agentToken = me.agent!.token;
  loginUrl = (await runCliOk('kith', ['open'], { home: meHome })).stdout.trim();

  // She connects and gives Acme her email, through her API (other suites test those pages).
  await myApi('/api/profile', { method: 'PUT', body: { fields: { email: EMAIL, name: 'Alex Rivera' } } });
  relationship = (await myApi<{ relationship: RelationshipView }>('/api/connect', { method: 'POST', body: { invitation: acme.agent.invitationUrl() } })).relationship;
  const companyRelationship = (await acme.store.findRelationshipByDid(relationship.myDid))!;
  await acme.agent.requestDisclosure(companyRelationship.id, { fields: ['email', 'name'], purpose: 'Order updates and support' });
  await myApi('/api/pickup', { method: 'POST' });
  const { requests } = await myApi<{ requests: RequestView[] }>('/api/requests');
  await myApi(`/api/requests/${requests[0]!.id}/approve`, { method: 'POST', body: {} });
  expect((await acme.store.listHeldFields(companyRelationship.id)).map((f) => f.field).sort()).toEqual(['email', 'name']);

  operatorContext = await browser.newContext({ viewport: WIDE, locale: 'en-GB', timezoneId: 'UTC' });
  herContext = await browser.newContext({ viewport: WIDE, locale: 'en-GB', timezoneId: 'UTC' });
  operator = await operatorContext.newPage();
  her = await herContext.newPage();
  for (const [page, who] of [[operator, 'console'], [her, 'her app']] as const) {
    page.setDefaultTimeout(UI_TIMEOUT);
    watch(page, who);
  }
}, 90_000);

beforeEach((ctx) => {
  if (failed) ctx.skip();
  ctx.onTestFailed(async () => {
    failed = true;
    await operator?.screenshot({ path: join(SCREENSHOTS, `${PREFIX}FAILED-console.png`), fullPage: true }).catch(() => undefined);
    await her?.screenshot({ path: join(SCREENSHOTS, `${PREFIX}FAILED-her.png`), fullPage: true }).catch(() => undefined);
  });
});

afterAll(async () => {
  await browser?.close().catch(() => undefined);
  await me?.stop().catch(() => undefined);
  await killAllStarted();
  await acme?.cleanup().catch(() => undefined);
  if (!root) return;
  if (failed) console.warn(`kith console e2e: a step failed; her home and logs kept in ${root}, screenshots in ${SCREENSHOTS}`);
  else rmSync(root, { recursive: true, force: true });
}, 60_000);

describe.skipIf(!available)('verify the caller: the console and her web app in a real browser', { sequential: true }, () => {
  it('the operator signs in to the console and finds her by the email the company holds', { timeout: STEP_TIMEOUT }, async () => {
    await operator.goto(`${acme.url}/console`);
    await visible(operator.getByRole('heading', { name: 'Sign in', level: 1 }));
    expect(new URL(operator.url()).pathname).toBe('/console/login');
    await operator.getByLabel('Your name').fill(OPERATOR);
    await operator.getByLabel('Admin token').fill(acme.adminToken);
    await operator.getByRole('button', { name: 'Sign in' }).click();
    await visible(operator.getByRole('heading', { name: 'Find a customer', level: 1 }));
    await visible(operator.getByText(`Signed in as ${OPERATOR}`));

    await operator.getByLabel(/^Customer number, relationship id/).fill(EMAIL.toUpperCase());
    await operator.getByRole('button', { name: 'Search' }).click();
    const result = await visible(operator.getByRole('link', { name: relationship.customerRef! }));
    await shot(operator, '01-search');
    await result.click();
    await visible(operator.getByRole('heading', { name: `Customer ${relationship.customerRef}`, level: 1 }));
    const held = operator.getByRole('table').filter({ hasText: 'Purpose' });
    await visible(held.getByRole('row', { name: /email/ }).getByText(EMAIL));
    await visible(held.getByText('Order updates and support').first());
    await shot(operator, '02-customer');
    expect(problems).toEqual([]);
  });

  it('Verify the caller shows a code; her web app shows the same code with Approve and Refuse', { timeout: STEP_TIMEOUT }, async () => {
    await operator.getByRole('button', { name: 'Verify the caller' }).click();
    await visible(operator.getByRole('heading', { name: 'Verify the caller', level: 1 }));
    code = (await (await visible(operator.locator('.code'))).textContent())!.trim();
    expect(code).toMatch(/^[ACDEFGHJKMNPQRTWXYZ234679]{3}-[ACDEFGHJKMNPQRTWXYZ234679]{3}$/);
    await visible(operator.getByRole('status').filter({ hasText: 'Waiting for her answer' }));
    await shot(operator, '03-waiting');

    await her.goto(loginUrl);
    await her.waitForURL(`${base}/`);
    // What waits for her shows in the navigation: the verification counts as a request.
    await visible(her.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: /^Requests/ }).filter({ hasText: '1' }));
    await her.goto(`${base}/relationships/${encodeURIComponent(relationship.id)}`);
    const card = await visible(her.getByRole('listitem', { name: 'Caller verification from Acme Outfitters' }));
    await visible(card.getByText('Acme Outfitters is asking you to confirm it is you on the phone.'));
    expect((await card.getByTestId('verification-code').textContent())?.trim()).toBe(code);
    await visible(card.getByText(`Asked by ${OPERATOR}.`, { exact: false }));
    await shot(her, '04-her-card');
    expect(problems).toEqual([]);
  });

  it('she approves; the console shows Verified, signed by her pairwise DID, by itself', { timeout: STEP_TIMEOUT }, async () => {
    const card = her.getByRole('listitem', { name: 'Caller verification from Acme Outfitters' });
    await card.getByRole('button', { name: 'Approve' }).click();
    await visible(card.getByText('Approved', { exact: true }));

    const verified = await visible(operator.getByRole('status').filter({ hasText: 'Verified: signed by' }), 10_000);
    expect(await verified.textContent()).toContain(relationship.myDid);
    await shot(operator, '05-verified');

    const { entries } = (await (await fetch(`${acme.url}/admin/audit`, { headers: { authorization: `Bearer ${acme.adminToken}` } })).json()) as { entries: { operator: string; action: string }[] };
    expect(entries.map((e) => e.action).reverse()).toEqual(['console.sign_in', 'console.search', 'console.view_customer', 'console.verify', 'console.view_verification', 'console.view_verification']);
    expect(entries.every((e) => e.operator === OPERATOR)).toBe(true);
    expect(problems).toEqual([]);
  });
});
