import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { IntentView, OfferView } from '../../src/personal/intents.js';
import type { RelationshipView } from '../../src/personal/views.js';
import { startCompany, type CompanyHandle } from '../support/agents.js';
import { browserAvailable, ensureUiBuilt, launchBrowser } from '../support/browser.js';
import { REPO_ROOT, ensureBuilt, freePort, killAllStarted, runCliOk, startServer, type ServerHandle } from '../support/processes.js';

/**
 * Her Intents page, end to end, in a real browser (the system's Chromium via playwright-core):
 * one `kith serve --idle-lock 0` for her and four companies (in-process agents over real HTTP on
 * loopback) she is connected to. Acme, Globex and Corner answer from catalogs at once (Corner only
 * in US dollars, which her rule declines); Hillside answers by hand, through its admin API, while
 * her page is open. She casts an intent from the form (after a refused bad input), opens it,
 * compares the offers in the table, declines one and accepts one; her agent's API and the
 * companies' stores must then say the intent is accepted and every other company was told it is
 * closed. Screenshots at 1280 and 390 px go to test/e2e/screenshots/intents-*.png.
 */

const PASSPHRASE = 'ui intents e2e passphrase (correct horse)';
const AGREEMENT = 'https://kith.invalid/terms/agreements/intent-only-contact';
const SCREENSHOTS = join(REPO_ROOT, 'test', 'e2e', 'screenshots');
const PREFIX = 'intents-';
const WIDE = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };
const STEP_TIMEOUT = 30_000;
const UI_TIMEOUT = 10_000;

const DESCRIPTION = 'Waterproof trail shoes, size 39';
const acceptAll = { accept: ['intent-only-contact', 'service-only', 'service-plus-billing'] };
const shoe = { category: 'clothing', stock: 10, countries: ['DE'] };

const available = browserAvailable('intents page (test/e2e/ui.intents.e2e.test.ts)');

let root: string;
let logDir: string;
let me: ServerHandle | undefined;
let base: string;
let agentToken: string;
let loginUrl: string;
let acme: CompanyHandle;
let globex: CompanyHandle;
let corner: CompanyHandle;
let hillside: CompanyHandle;
let browser: Browser | undefined;
let context: BrowserContext;
let page: Page;
let failed = false;
const pageErrors: string[] = [];
const consoleErrors: string[] = [];
let intentId: string;

// ---------------------------------------------------------------------------------------------

async function myApi<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const response = await fetch(`${base}${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${agentToken}`, ...(init.body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  if (!response.ok) throw new Error(`${init.method ?? 'GET'} ${path} -> ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

function catalog(name: string, items: unknown[]): string {
  const path = join(root, `${name}-catalog.json`);
  writeFileSync(path, JSON.stringify({ version: 1, items }));
  return path;
}

async function visible(locator: Locator, timeout = UI_TIMEOUT): Promise<Locator> {
  await locator.waitFor({ state: 'visible', timeout });
  return locator;
}

const heading = (name: string | RegExp, level = 1): Locator => page.getByRole('heading', { name, level, exact: typeof name === 'string' });
const status = (text: string | RegExp): Locator => page.getByRole('status').filter({ hasText: text });
const alert = (text: string | RegExp): Locator => page.getByRole('alert').filter({ hasText: text });

async function shot(name: string, viewportOnly = false): Promise<void> {
  // From the top, so that the phone's sticky top bar is not captured in the middle of the page.
  if (!viewportOnly) await page.evaluate('window.scrollTo(0, 0)');
  await page.screenshot({ path: join(SCREENSHOTS, `${PREFIX}${name}.png`), fullPage: !viewportOnly, animations: 'disabled' });
}

/** Every form control has an accessible name, and the page has one h1 (as test/e2e/ui.e2e.test.ts checks). */
async function a11y(where: string): Promise<void> {
  interface Control {
    id: string;
    tagName: string;
    getAttribute(name: string): string | null;
    labels?: ArrayLike<{ textContent: string | null }> | null;
    ownerDocument: { getElementById(id: string): { textContent: string | null } | null };
  }
  const unnamed = await page.locator('input:not([type="hidden"]), select, textarea').evaluateAll((elements: Control[]) =>
    elements
      .filter((el) => {
        const byIds = (el.getAttribute('aria-labelledby') ?? '')
          .split(/\s+/)
          .filter(Boolean)
          .map((id) => el.ownerDocument.getElementById(id)?.textContent ?? '')
          .join('')
          .trim();
        const byLabels = Array.from(el.labels ?? [])
          .map((label) => label.textContent ?? '')
          .join('')
          .trim();
        return !(byIds || (el.getAttribute('aria-label') ?? '').trim() || byLabels || (el.getAttribute('title') ?? '').trim());
      })
      .map((el) => `<${el.tagName.toLowerCase()} id="${el.id}">`),
  );
  expect(unnamed, `${where}: form controls without an accessible name`).toEqual([]);
  expect(await page.locator('h1').count(), `${where}: number of h1`).toBe(1);
}

function expectCleanPage(): void {
  expect(pageErrors, 'uncaught errors in the page').toEqual([]);
  expect(consoleErrors, 'errors in the console').toEqual([]);
}


// ---------------------------------------------------------------------------------------------

beforeAll(async () => {
  if (!available) return;
  ensureBuilt();
  ensureUiBuilt();
  mkdirSync(SCREENSHOTS, { recursive: true });
  // This file's screenshots only (others' stay): a stale one must not pass for this run's.
  for (const name of readdirSync(SCREENSHOTS)) if (name.startsWith(PREFIX) && name.endsWith('.png')) rmSync(join(SCREENSHOTS, name), { force: true });
  root = mkdtempSync(join(tmpdir(), 'kith-e2e-ui-intents-'));
  logDir = join(root, 'logs');
  const meHome = join(root, 'me');
  const port = await freePort();

  const intents = (categories: string[], items?: unknown[], name?: string) => ({ categories, ...(items && name ? { catalogFile: catalog(name, items) } : {}) });
  [acme, globex, corner, hillside] = await Promise.all([
    startCompany({ name: 'Acme Outfitters', policy: { terms: acceptAll, intents: intents(['clothing'], [{ ...shoe, sku: 'AC-39', name: 'Trail shoe Alpine 39', price: '129.90', priceCurrency: 'EUR', deliveryDays: 3, conditions: '30 days returns' }], 'acme') } }),
    startCompany({ name: 'Globex Shoes', policy: { terms: acceptAll, intents: intents(['goods'], [{ ...shoe, sku: 'GX-39', name: 'Waterproof trail shoe 39', price: '119.00', priceCurrency: 'EUR', deliveryDays: 5, conditions: 'Free returns within 14 days' }], 'globex') } }),
    startCompany({ name: 'Corner Store', policy: { terms: acceptAll, intents: intents(['clothing'], [{ ...shoe, sku: 'CS-39', name: 'Trail shoe 39 (US)', price: '99.00', priceCurrency: 'USD', deliveryDays: 9, countries: [] }], 'corner') } }),
    // No catalog: it answers by hand.
    startCompany({ name: 'Hillside Sports', policy: { terms: acceptAll, intents: intents(['clothing']) } }),
  ]);
  const started = await Promise.all([
    (async () => {
      await runCliOk('kith', ['init', '--json'], { home: meHome, env: { KITH_PASSPHRASE: PASSPHRASE } });
      return startServer('kith', { home: meHome, port, logDir, name: 'me', env: { KITH_PASSPHRASE: PASSPHRASE }, serveArgs: ['--idle-lock', '0'] });
    })(),
    launchBrowser(),
  ]);
  me = started[0];
  browser = started[1];
  base = me.url;
  agentToken = me.agent!.token;
  loginUrl = (await runCliOk('kith', ['open'], { home: meHome })).stdout.trim();

  // Her terms, then the four relationships, through her API (the Connect page has its own test).
  await myApi('/api/terms/default', { method: 'PUT', body: { agreement: AGREEMENT } });
  for (const company of [acme, globex, corner, hillside]) await myApi('/api/connect', { method: 'POST', body: { invitation: company.agent.invitationUrl() } });

  context = await browser.newContext({ viewport: WIDE, locale: 'en-GB', timezoneId: 'UTC' });
  page = await context.newPage();
  page.setDefaultTimeout(UI_TIMEOUT);
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(`${page.url()}: ${message.text()} (${message.location().url})`);
  });
  page.on('pageerror', (error) => pageErrors.push(`${page.url()}: ${error.message}`));
}, 90_000);

beforeEach((ctx) => {
  if (failed) ctx.skip();
  ctx.onTestFailed(async () => {
    failed = true;
    await page?.screenshot({ path: join(SCREENSHOTS, `${PREFIX}FAILED-${ctx.task.name.split(':')[0]!.replace(/[^a-z0-9]+/gi, '-')}.png`), fullPage: true }).catch(() => undefined);
  });
});

afterAll(async () => {
  await browser?.close().catch(() => undefined);
  await me?.stop().catch(() => undefined);
  await killAllStarted();
  await Promise.all([acme, globex, corner, hillside].map((c) => c?.cleanup().catch(() => undefined)));
  if (!root) return;
  if (failed) console.warn(`kith intents e2e: a step failed; her home and logs kept in ${root}, screenshots in ${SCREENSHOTS}`);
  else rmSync(root, { recursive: true, force: true });
}, 60_000);

// ---------------------------------------------------------------------------------------------

describe.skipIf(!available)('her intents page in a real browser', { sequential: true }, () => {
  it('opens from the navigation: no intent yet, a form sending to her four companies and sharing nothing by default', { timeout: STEP_TIMEOUT }, async () => {
    await page.goto(loginUrl);
    await page.waitForURL(`${base}/`);
    await visible(heading('Relationships'));
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Intents' }).click();
    await visible(heading('Intents'));
    expect(new URL(page.url()).pathname).toBe('/intents');
    expect(await page.getByRole('link', { name: 'Intents', exact: true }).getAttribute('aria-current')).toBe('page');
    await visible(page.getByText('No intents yet'));

    const sendTo = page.getByRole('group', { name: 'Send to' });
    for (const company of [acme, globex, corner, hillside]) expect(await sendTo.getByRole('checkbox', { name: company.name, exact: true }).isChecked()).toBe(true);
    expect(await sendTo.getByRole('checkbox', { name: 'Also ask companies in my directory, anonymously' }).isChecked()).toBe(false);
    const share = page.getByRole('group', { name: 'Share up front' });
    await visible(share.getByText('Nothing about you is shared by default'));
    expect(await share.getByRole('checkbox').count()).toBe(0); // her profile is empty
    await a11y('intents (empty)');
    await shot('01-empty');
    expectCleanPage();
  });

  it('refuses a bad form in words naming each field and its rule, and casts nothing', { timeout: STEP_TIMEOUT }, async () => {
    await page.getByLabel('Min price').fill('200');
    await page.getByLabel('Max price').fill('150');
    await page.getByRole('button', { name: 'Send intent' }).click();
    const summary = await visible(alert('Nothing was sent.'));
    for (const text of ['What you want: say what you want; it cannot be empty.', 'Category: choose one.', 'Max price: must not be below the min price (200).']) await visible(summary.getByText(text));
    expect(await page.getByLabel('Max price').getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByLabel('What you want').getAttribute('aria-invalid')).toBe('true');
    await shot('02-bad-input');
    expect((await myApi<{ intents: IntentView[] }>('/api/intents')).intents).toEqual([]);
    expectCleanPage();
  });

  it('casts to her relationships: the intent is listed with the offers the catalogs made at once', { timeout: STEP_TIMEOUT }, async () => {
    await page.getByLabel('What you want').fill(DESCRIPTION);
    // The shipped list, grouped into goods and services.
    const category = page.getByRole('combobox', { name: 'Category', exact: true });
    expect(await category.locator('optgroup').evaluateAll((groups: { label: string }[]) => groups.map((g) => g.label))).toEqual(['Goods', 'Services']);
    await category.selectOption({ label: 'Clothing and shoes' });
    await page.getByLabel('Min price').fill('');
    await page.getByLabel('Max price').fill('150');
    await page.getByLabel('Currency', { exact: true }).fill('EUR');
    await page.getByLabel(/^Country/).fill('de');
    await page.getByLabel('The outcome you are after').fill('Dry feet on winter hikes');
    await page.getByLabel('Ends in').selectOption({ label: '1 week' });
    await page.getByRole('button', { name: 'Send intent' }).click();

    const sent = await visible(status('Sent to 4 companies; 3 offers so far.'), 20_000);
    expect(await alert('Nothing was sent.').count()).toBe(0);
    const card = page.getByRole('list', { name: 'Your intents, newest first' }).getByRole('listitem').filter({ hasText: DESCRIPTION });
    await visible(card);
    for (const text of ['Open', '4 companies', 'up to 150 EUR']) await visible(card.getByText(text, { exact: true }));
    await visible(card.getByText('Clothing and shoes', { exact: true }));
    // The fourth offer may already have come in: the list follows live events.
    await visible(card.getByText(/^[34] offers$/));

    const { intents } = await myApi<{ intents: IntentView[] }>('/api/intents');
    expect(intents).toHaveLength(1);
    const intent = intents[0]!;
    intentId = intent.id;
    expect(intent.demand).toMatchObject({ description: DESCRIPTION, category: 'clothing', priceSpecification: { maxPrice: '150', priceCurrency: 'EUR' }, eligibleRegion: { addressCountry: 'DE' } });
    expect(intent.outcome).toBe('Dry feet on winter hikes');
    expect(intent.disclosed).toEqual([]);
    expect(intent.recipients.map((r) => r.company).sort()).toEqual(['Acme Outfitters', 'Corner Store', 'Globex Shoes', 'Hillside Sports']);
    expect(intent.recipients.every((r) => !r.anonymous)).toBe(true);
    // A week from now, rounded up to the hour.
    expect(intent.expiresAt - Date.now()).toBeGreaterThan(7 * 86_400_000 - 120_000);
    expect(intent.expiresAt - Date.now()).toBeLessThanOrEqual(7 * 86_400_000 + 3_600_000);
    await shot('03-cast');
    await sent.getByRole('link', { name: 'Compare the offers' }).waitFor();
    expectCleanPage();
  });

  it('compares the offers side by side, and shows a hand-made offer arriving live', { timeout: STEP_TIMEOUT }, async () => {
    await page.getByRole('link', { name: DESCRIPTION }).click();
    await visible(heading(DESCRIPTION));
    expect(new URL(page.url()).pathname).toBe(`/intents/${intentId}`);
    const table = await visible(page.getByRole('table', { name: 'Offers compared, cheapest first' }));
    const columns = () => table.getByRole('columnheader').allInnerTexts();

    // Hillside answers by hand while she looks: the table follows (server-sent events).
    const [received] = await hillside.store.listReceivedIntents({ state: 'open' });
    const made = await fetch(`${hillside.url}/admin/intents/${received!.id}/offers`, {
      method: 'POST',
      headers: { authorization: `Bearer ${hillside.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Trail runner GTX 39', price: '139.50', currency: 'EUR', deliveryDate: new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10), conditions: 'Fitted in store' }),
    });
    expect(made.status).toBe(201);
    await visible(table.getByRole('columnheader', { name: /Hillside Sports/ }));

    // Cheapest first; one column per offer, each with its price.
    const heads = (await columns()).slice(1).map((t) => t.split('\n')[0]);
    expect(heads).toEqual(['Corner Store', 'Globex Shoes', 'Acme Outfitters', 'Hillside Sports']);
    for (const price of ['99.00 USD', '119.00 EUR', '129.90 EUR', '139.50 EUR']) await visible(table.getByText(price, { exact: true }));
    for (const text of ['Trail shoe Alpine 39', 'Waterproof trail shoe 39', 'Trail runner GTX 39', '30 days returns', 'Fitted in store']) await visible(table.getByText(text, { exact: true }));
    await visible(table.getByText('Intent-only contact', { exact: true }).first());
    // Corner's dollars: outside what she asked, declined by her rule.
    await visible(table.getByText('in another currency', { exact: true }));
    await visible(table.getByText(/Declined by your rule: outside-constraints/));
    await visible(table.getByText('cheapest that meets what you asked'));
    expect(await table.getByRole('button', { name: /^Accept the offer of/ }).count()).toBe(3);

    const recipients = page.getByRole('region', { name: 'Who you asked' });
    for (const company of [acme, globex, corner, hillside]) await visible(recipients.getByRole('link', { name: company.name }));
    await a11y('intent (offers)');
    await shot('04-offers');

    // A phone: the page keeps to the screen, the table scrolls sideways inside it.
    await page.setViewportSize(PHONE);
    try {
      await visible(page.getByRole('button', { name: 'Menu' }));
      expect(await page.evaluate('document.documentElement.scrollWidth'), 'page width at 390 px').toBeLessThanOrEqual(PHONE.width);
      const scroller = page.getByRole('region', { name: 'Offers compared, cheapest first' });
      const [scrollWidth, clientWidth] = (await scroller.evaluate((el: { scrollWidth: number; clientWidth: number }) => [el.scrollWidth, el.clientWidth])) as [number, number];
      expect(scrollWidth).toBeGreaterThan(clientWidth);
      await shot('05-offers-390');
      await page.getByRole('link', { name: '← All intents' }).click();
      await visible(heading('Intents'));
      expect(await page.evaluate('document.documentElement.scrollWidth'), 'intents page width at 390 px').toBeLessThanOrEqual(PHONE.width);
      await shot('06-list-390');
      await page.getByRole('link', { name: DESCRIPTION }).click();
      await visible(heading(DESCRIPTION));
    } finally {
      await page.setViewportSize(WIDE);
    }
    expectCleanPage();
  });

  it('declines one offer, then accepts another through the confirmation; the others are told the intent is closed', { timeout: STEP_TIMEOUT }, async () => {
    const table = page.getByRole('table', { name: 'Offers compared, cheapest first' });
    await table.getByRole('button', { name: 'Decline the offer of Hillside Sports' }).click();
    const declineDialog = await visible(page.getByRole('dialog', { name: 'Decline Hillside Sports’s offer?' }));
    await declineDialog.getByLabel('Reason for Hillside Sports (optional)').fill('Found it cheaper');
    await declineDialog.getByRole('button', { name: 'Decline offer' }).click();
    await visible(status('Declined Hillside Sports’s offer; Hillside Sports was told.'));
    await table.getByRole('button', { name: 'Decline the offer of Hillside Sports' }).waitFor({ state: 'detached' });
    expect(await table.getByRole('button', { name: /^Accept the offer of/ }).count()).toBe(2);

    await table.getByRole('button', { name: 'Accept the offer of Globex Shoes' }).click();
    const acceptDialog = await visible(page.getByRole('dialog', { name: 'Accept Globex Shoes’s offer?' }));
    await visible(acceptDialog.getByText('The other 3 companies you asked are told the intent is closed, and offers still waiting are closed.'));
    await visible(acceptDialog.getByText('119.00 EUR', { exact: true }));
    // Not anonymous: nothing to link.
    expect(await acceptDialog.getByRole('combobox').count()).toBe(0);
    await a11y('intent (accept dialog)');
    await shot('07-accept-dialog', true);
    await acceptDialog.getByRole('button', { name: 'Accept offer' }).click();
    await visible(status('You accepted Globex Shoes’s offer: Waterproof trail shoe 39 for 119.00 EUR. The other companies were told the intent is closed.'), 15_000);
    await visible(page.locator('.page-title-row').getByText('Accepted', { exact: true }));
    expect(await page.getByRole('button', { name: /^(Accept|Decline) the offer of/ }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Close intent…' }).count()).toBe(0);
    await shot('08-accepted');
    await page.setViewportSize(PHONE);
    try {
      await shot('09-accepted-390');
    } finally {
      await page.setViewportSize(WIDE);
    }

    // Her agent: the intent accepted with Globex's offer; every other company closed.
    const { intent } = await myApi<{ intent: IntentView }>(`/api/intents/${intentId}`);
    const { offers } = await myApi<{ offers: OfferView[] }>(`/api/intents/${intentId}/offers`);
    const byCompany = new Map(offers.map((o) => [o.company, o]));
    expect(intent.state).toBe('accepted');
    expect(intent.acceptedOfferId).toBe(byCompany.get('Globex Shoes')!.id);
    expect(Object.fromEntries(intent.recipients.map((r) => [r.company, r.state]))).toEqual({ 'Acme Outfitters': 'closed', 'Corner Store': 'closed', 'Globex Shoes': 'accepted', 'Hillside Sports': 'closed' });
    expect(offers.map((o) => [o.company, o.state, o.decidedBy])).toEqual([
      ['Corner Store', 'declined', 'outside-constraints'],
      ['Globex Shoes', 'accepted', null],
      ['Acme Outfitters', 'closed', null],
      ['Hillside Sports', 'declined', null],
    ]);
    // The companies' side agrees.
    expect((await globex.store.listReceivedIntents())[0]!.state).toBe('accepted');
    for (const company of [acme, corner, hillside]) expect((await company.store.listReceivedIntents())[0]!.state, company.name).toBe('closed');
    const mine = await myApi<{ relationships: RelationshipView[] }>('/api/relationships');
    expect(mine.relationships.every((r) => r.state === 'active')).toBe(true);

    // Back on the list: the intent says accepted.
    await page.getByRole('link', { name: '← All intents' }).click();
    const card = page.getByRole('list', { name: 'Your intents, newest first' }).getByRole('listitem').filter({ hasText: DESCRIPTION });
    await visible(card.getByText('Accepted', { exact: true }));
    await visible(card.getByText('4 offers', { exact: true }));
    expectCleanPage();
  });
  it('adds a company to her directory, casts anonymously, and accepts its offer linked to the relationship she had', { timeout: STEP_TIMEOUT }, async () => {
    const directory = page.getByRole('region', { name: 'Directory' }).or(page.locator('#directory'));
    await directory.getByLabel('Company or directory URL').fill(acme.url);
    await directory.getByRole('button', { name: 'Add', exact: true }).click();
    await visible(status('Added Acme Outfitters, verified.'));
    await visible(directory.getByText('Clothing and shoes'));

    await page.getByLabel('What you want').fill(DESCRIPTION);
    await page.getByRole('combobox', { name: 'Category', exact: true }).selectOption({ label: 'Clothing and shoes' });
    await page.getByLabel('Max price').fill('150');
    await page.getByLabel('Currency', { exact: true }).fill('EUR');
    const sendTo = page.getByRole('group', { name: 'Send to' });
    for (const company of [acme, globex, corner, hillside]) await sendTo.getByRole('checkbox', { name: company.name, exact: true }).uncheck();
    await sendTo.getByRole('checkbox', { name: 'Also ask companies in my directory, anonymously' }).check();
    await page.getByRole('button', { name: 'Send intent' }).click();
    const sent = await visible(status('Sent to 1 company; 1 offer so far.'), 20_000);
    await shot('10-anonymous-cast');

    const { intents } = await myApi<{ intents: IntentView[] }>('/api/intents');
    const anonymous = intents.find((i) => i.id !== intentId)!;
    expect(anonymous.recipients.map((r) => [r.company, r.anonymous])).toEqual([['Acme Outfitters', true]]);
    await sent.getByRole('link', { name: 'Compare the offers' }).click();
    const table = await visible(page.getByRole('table', { name: 'Offers compared, cheapest first' }));
    await table.getByRole('button', { name: /^Accept the offer of Anonymous company \(Acme Outfitters\)/ }).click();
    const dialog = await visible(page.getByRole('dialog', { name: /^Accept Anonymous company \(Acme Outfitters\)/ }));
    // Only her other relationship with the same company is offered to link.
    const link = dialog.getByRole('combobox', { name: 'This is the same company as my relationship with…' });
    expect(await link.locator('option').allTextContents()).toEqual(['No one I know (keep it separate)', 'Acme Outfitters']);
    const acmeRelationship = (await myApi<{ relationships: RelationshipView[] }>('/api/relationships')).relationships.find((r) => r.company === 'Acme Outfitters' && r.id !== anonymous.recipients[0]!.relationshipId)!;
    await link.selectOption(acmeRelationship.id);
    await a11y('intent (accept an anonymous offer)');
    await shot('11-accept-anonymous-dialog', true);
    await dialog.getByRole('button', { name: 'Accept offer' }).click();
    await visible(status('You accepted Anonymous company (Acme Outfitters)’s offer: Trail shoe Alpine 39 for 129.90 EUR. Your vault notes it is the company you already knew; it was not told.'), 15_000);
    const { relationship } = await myApi<{ relationship: RelationshipView }>(`/api/relationships/${anonymous.recipients[0]!.relationshipId}`);
    expect(relationship.linkedTo).toBe(acmeRelationship.id);
    expectCleanPage();
  });
});
