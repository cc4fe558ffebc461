import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Locator, Page, Response } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ReceiptView, RelationshipView } from '../../src/personal/views.js';
import type { HeldField, StoredMessage, TermsAgreementRow, CompanyRelationship } from '../../src/company/store/types.js';
import { systemClock } from '../../src/core/clock.js';
import { AGE_VCT, ageClaims, issueCredential } from '../../src/issuer/demoIssuer.js';
import { createPeerIdentity } from '../../src/protocol/agent/identity.js';
import { browserAvailable, ensureUiBuilt, launchBrowser } from '../support/browser.js';
import { REPO_ROOT, ensureBuilt, freePort, killAllStarted, runCli, runCliOk, startServer, waitFor, type ServerHandle } from '../support/processes.js';

/**
 * Her web app, end to end, in a real browser (the system's Chromium via playwright-core) against
 * real processes: one `kith serve --idle-lock 0` and three `kith-vendor serve`, each with its own
 * policy. Acme accepts her terms and asks for name, email and address on connect; Bluebird counters
 * with stricter terms (her agent accepts them by itself) and asks for her address; Corner rejects
 * her terms. Every step checks what she sees (roles, labels, text) and the effect on the company's
 * side (its admin API or the `kith-vendor` CLI). Screenshots go to test/e2e/screenshots/.
 */

/** What `npm start` tells her lock screen (KITH_PASSPHRASE_HINT). */
const LOCK_SCREEN_HINT = 'This is the demo: its passphrase is in /tmp/kith-demo/demo-passphrase.';
const PASSPHRASE = 'ui e2e passphrase (correct horse)';
const ID = (name: string): string => `https://kith.invalid/terms/agreements/${name}`;
const SCREENSHOTS = join(REPO_ROOT, 'test', 'e2e', 'screenshots');
const WIDE = { width: 1280, height: 900 };
const NARROW = { width: 375, height: 812 };
const STEP_TIMEOUT = 30_000;
/** Playwright's own waits (visible, hidden, clicks): generous, bounded. */
const UI_TIMEOUT = 10_000;

const ME = {
  name: 'Alex Rivera',
  email: 'alex.rivera@example.org',
  phone: '+44 20 7946 0321',
  address: { street_address: '1 Old Road', locality: 'Oldtown', postal_code: 'OT1 1AA', country: 'GB' },
};
const NEW_ADDRESS = { street_address: '22 New Street', locality: 'Newtown', postal_code: 'NT2 2BB', country: 'GB' };

interface CompanyFixture {
  slug: string;
  name: string;
  home: string;
  port: number;
  url: string;
  policy: unknown;
  server?: ServerHandle;
  adminToken?: string;
  /** Her relationship with it, as her agent reports it. */
  relationship?: RelationshipView;
}

const available = browserAvailable('web app (test/e2e/ui.e2e.test.ts)');

let root: string;
let logDir: string;
let meHome: string;
let me: ServerHandle | undefined;
let base: string;
let agentToken: string;
let loginUrl: string;
let acme: CompanyFixture;
let bluebird: CompanyFixture;
let corner: CompanyFixture;
let browser: Browser | undefined;
let context: BrowserContext;
let page: Page;
let failed = false;
const cspViolations: string[] = [];
const pageErrors: string[] = [];
const consoleErrors: string[] = [];
const timings: [string, number][] = [];
let stepStarted = 0;

// ---------------------------------------------------------------------------------------------
// Her agent's API (bearer token) and the companies' admin API, for checking effects

async function myApi<T>(path: string): Promise<T> {
  const response = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${agentToken}` } });
  if (!response.ok) throw new Error(`GET ${path} -> ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

async function admin<T>(company: CompanyFixture, path: string): Promise<T> {
  const response = await fetch(`${company.url}/admin${path}`, { headers: { authorization: `Bearer ${company.adminToken}` } });
  if (!response.ok) throw new Error(`${company.name} GET /admin${path} -> ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

async function companyRelationships(company: CompanyFixture): Promise<CompanyRelationship[]> {
  return (await admin<{ relationships: CompanyRelationship[] }>(company, '/relationships')).relationships;
}
async function companyHoldings(company: CompanyFixture): Promise<{ fields: HeldField[]; profileVersion: number | null }> {
  return admin(company, `/relationships/${encodeURIComponent(company.relationship!.customerRef!)}/holdings`);
}
async function companyMessages(company: CompanyFixture): Promise<StoredMessage[]> {
  return (await admin<{ messages: StoredMessage[] }>(company, `/relationships/${encodeURIComponent(company.relationship!.customerRef!)}/messages`)).messages;
}
async function companyTerms(company: CompanyFixture): Promise<TermsAgreementRow[]> {
  return (await admin<{ terms: TermsAgreementRow[] }>(company, `/relationships/${encodeURIComponent(company.relationship!.customerRef!)}/terms`)).terms;
}
const heldValue = (fields: HeldField[], name: string): unknown => fields.find((f) => f.field === name)?.value;

// ---------------------------------------------------------------------------------------------
// Browser helpers

/** Waits until the locator shows (Playwright's bounded wait); returns it. */
async function visible(locator: Locator, timeout = UI_TIMEOUT): Promise<Locator> {
  await locator.waitFor({ state: 'visible', timeout });
  return locator;
}

const heading = (name: string | RegExp, level = 1): Locator => page.getByRole('heading', { name, level, exact: typeof name === 'string' });
const status = (text: string | RegExp): Locator => page.getByRole('status').filter({ hasText: text });
const alert = (text: string | RegExp): Locator => page.getByRole('alert').filter({ hasText: text });

/** Goes to a page through the main navigation, as she would. */
async function navTo(label: string, title: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: new RegExp(`^${label}`) }).click();
  await visible(heading(title));
}

/** A PNG of the whole page; `viewportOnly` for a modal or a menu, whose fixed backdrop covers the viewport only. */
async function shot(name: string, viewportOnly = false): Promise<void> {
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: !viewportOnly, animations: 'disabled' });
}

/** The DOM as the accessibility check reads it (structural: the test code has no DOM lib). */
interface DomNode {
  tagName: string;
  id: string;
  textContent: string | null;
  getAttribute(name: string): string | null;
  labels?: ArrayLike<DomNode> | null;
  ownerDocument: { getElementById(id: string): DomNode | null; activeElement: unknown };
}

/**
 * The accessibility smoke check of the page as shown: every input, select and textarea has an
 * accessible name (aria-labelledby, aria-label, a <label>, or a title), and there is exactly one h1.
 */
async function a11y(where: string): Promise<void> {
  const unnamed = await page.locator('input:not([type="hidden"]), select, textarea').evaluateAll((elements: DomNode[]) =>
    elements
      .map((el) => {
        const doc = el.ownerDocument;
        const byIds = (el.getAttribute('aria-labelledby') ?? '')
          .split(/\s+/)
          .filter(Boolean)
          .map((id) => doc.getElementById(id)?.textContent ?? '')
          .join(' ')
          .trim();
        const byLabels = Array.from(el.labels ?? [])
          .map((label) => label.textContent ?? '')
          .join(' ')
          .trim();
        const name = byIds || (el.getAttribute('aria-label') ?? '').trim() || byLabels || (el.getAttribute('title') ?? '').trim();
        return name ? undefined : `<${el.tagName.toLowerCase()} id="${el.id}" type="${el.getAttribute('type') ?? ''}">`;
      })
      .filter((x): x is string => x !== undefined),
  );
  expect(unnamed, `${where}: form controls without an accessible name`).toEqual([]);
  expect(await page.locator('h1').count(), `${where}: number of h1`).toBe(1);
}

/**
 * Keyboard: from the top of a freshly loaded page, the first Tab reaches the skip link, and
 * following it moves the focus to the main content. (Reloads the current page.)
 */
async function skipLinkFirst(where: string, title: string): Promise<void> {
  await page.reload();
  await visible(heading(title));
  await page.keyboard.press('Tab');
  const skip = page.getByRole('link', { name: 'Skip to content' });
  expect(await skip.evaluate((el: DomNode) => el.ownerDocument.activeElement === el), `${where}: the first Tab reaches the skip link`).toBe(true);
  await page.keyboard.press('Enter');
  expect(await page.locator('#main').evaluate((el: DomNode) => el.ownerDocument.activeElement === el), `${where}: the skip link moves the focus to the main content`).toBe(true);
}

function expectNoCspViolation(): void {
  expect(cspViolations, 'Content Security Policy violations in the console').toEqual([]);
  expect(pageErrors, 'uncaught errors in the page').toEqual([]);
}

// ---------------------------------------------------------------------------------------------
// Processes

function companyFixture(slug: string, name: string, port: number, policy: unknown): CompanyFixture {
  return { slug, name, home: join(root, slug), port, url: `http://127.0.0.1:${port}`, policy };
}

async function startCompany(v: CompanyFixture): Promise<void> {
  const policyFile = join(root, `${v.slug}-policy.json`);
  writeFileSync(policyFile, JSON.stringify(v.policy));
  await runCliOk('kith-vendor', ['init', '--name', v.name, '--port', String(v.port), '--policy', policyFile, '--json'], { home: v.home });
  v.adminToken = readFileSync(join(v.home, 'admin-token'), 'utf8').trim();
  v.server = await startServer('kith-vendor', { home: v.home, port: v.port, logDir, env: { KITH_OUTBOX_INTERVAL_MS: '250' } });
}

beforeAll(async () => {
  if (!available) return;
  const started = Date.now();
  ensureBuilt();
  ensureUiBuilt();
  mkdirSync(SCREENSHOTS, { recursive: true });
  // Its own screenshots only (each page's file has its prefix, e.g. intents-): a stale one must not pass for this run's.
  for (const name of readdirSync(SCREENSHOTS)) if (/^(\d{2}|FAILED)-.*\.png$/.test(name)) rmSync(join(SCREENSHOTS, name), { force: true });
  root = mkdtempSync(join(tmpdir(), 'kith-e2e-ui-'));
  logDir = join(root, 'logs');
  meHome = join(root, 'me');
  const ports = new Set<number>();
  while (ports.size < 4) ports.add(await freePort());
  const [portA, portB, portC, portMe] = [...ports] as [number, number, number, number];
  acme = companyFixture('acme', 'Acme Outfitters', portA, {
    version: 1,
    terms: { accept: ['intent-only-contact', 'service-only'] },
    requestOnConnect: { fields: ['name', 'email', 'address'], purpose: 'Order confirmations and shipping', purposeCode: 'order-fulfilment', retention: 'P30D', legalBasis: 'contract' },
  });
  // Counters with stricter terms than hers: her agent accepts them on its own.
  bluebird = companyFixture('bluebird', 'Bluebird Books', portB, {
    version: 1,
    terms: { accept: ['service-only'], preferred: 'service-only' },
    requestOnConnect: { fields: ['address'], purpose: 'Delivering your books', purposeCode: 'service-delivery', retention: 'P30D', legalBasis: 'contract' },
  });
  corner = companyFixture('corner', 'Corner Shop', portC, { version: 1, terms: { accept: ['service-plus-billing'] } });

  await Promise.all([
    ...[acme, bluebird, corner].map(startCompany),
    (async () => {
      await runCliOk('kith', ['init', '--json'], { home: meHome, env: { KITH_PASSPHRASE: PASSPHRASE } });
      // kith init sets default terms (decision 0020); this tour starts without, to show her choosing them on the Terms page.
      await runCliOk('kith', ['terms', 'set', 'none'], { home: meHome, env: { KITH_PASSPHRASE: PASSPHRASE } });
      me = await startServer('kith', { home: meHome, port: portMe, logDir, name: 'me', env: { KITH_PASSPHRASE: PASSPHRASE, KITH_PASSPHRASE_HINT: LOCK_SCREEN_HINT }, serveArgs: ['--idle-lock', '0'] });
    })(),
    (async () => {
      browser = await launchBrowser();
    })(),
  ]);
  base = me!.url;
  agentToken = me!.agent!.token;
  // What `kith open` prints: the link that signs her browser in. `kith serve`, its output going to
  // a file here, kept the token out of it.
  loginUrl = (await runCliOk('kith', ['open'], { home: meHome })).stdout.trim();
  expect(loginUrl).toBe(`${base}/login#token=${agentToken}`);
  expect(me!.process.stdout()).toContain('kith open');
  expect(me!.process.stdout() + me!.process.stderr()).not.toContain(agentToken);

  context = await browser!.newContext({ viewport: WIDE, locale: 'en-GB', timezoneId: 'UTC' });
  page = await context.newPage();
  page.setDefaultTimeout(UI_TIMEOUT);
  page.on('console', (message) => {
    const text = message.text();
    if (text.includes('Content Security Policy')) cspViolations.push(`${page.url()}: ${text}`);
    else if (message.type() === 'error') consoleErrors.push(`${page.url()}: ${text}`);
  });
  page.on('pageerror', (error) => pageErrors.push(`${page.url()}: ${error.message}`));
  timings.push(['setup (build check, 4 processes, browser)', Date.now() - started]);
}, 120_000);

beforeEach((ctx) => {
  // The steps build on each other: after a failure the rest would only fail in its wake.
  if (failed) ctx.skip();
  stepStarted = Date.now();
  ctx.onTestFailed(async () => {
    failed = true;
    // What she saw when it failed.
    await page?.screenshot({ path: join(SCREENSHOTS, `FAILED-${ctx.task.name.split(':')[0]!.replace(/[^a-z0-9]+/gi, '-')}.png`), fullPage: true }).catch(() => undefined);
  });
  ctx.onTestFinished(() => {
    timings.push([ctx.task.name.slice(0, 60), Date.now() - stepStarted]);
  });
});

afterAll(async () => {
  await browser?.close().catch(() => undefined);
  for (const server of [me, acme?.server, bluebird?.server, corner?.server]) await server?.stop().catch(() => undefined);
  await killAllStarted();
  if (timings.length > 0) console.info(`kith ui e2e timings (ms):\n${timings.map(([name, ms]) => `  ${String(ms).padStart(6)}  ${name}`).join('\n')}`);
  if (consoleErrors.length > 0) console.info(`kith ui e2e: console errors seen (expected ones include the 401/409 answers the test provokes):\n  ${consoleErrors.join('\n  ')}`);
  if (!root) return;
  if (failed) console.warn(`kith ui e2e: a step failed; homes, process logs and screenshots kept in ${root} and ${SCREENSHOTS}`);
  else rmSync(root, { recursive: true, force: true });
}, 60_000);

// ---------------------------------------------------------------------------------------------

describe.skipIf(!available)('her web app in a real browser, against real processes', { sequential: true }, () => {
  it('login: the printed link signs the browser in with an HttpOnly cookie and leaves the address bar', { timeout: STEP_TIMEOUT }, async () => {
    // Without a session, the app's pages send her to the login page (which returns her there after).
    const anonymous = await fetch(`${base}/profile`, { redirect: 'manual' });
    expect(anonymous.status).toBe(302);
    expect(anonymous.headers.get('location')).toBe('/login?next=%2Fprofile');

    // A stale link: the page says so, and the secret leaves the address bar all the same.
    await page.goto(`${base}/login#token=not-this-agents-token`);
    await visible(alert('This sign-in link is not valid'));
    await visible(heading('Open Kith'));
    expect(page.url()).toBe(`${base}/login`);
    expect(await context.cookies(base)).toEqual([]);
    await a11y('login');
    await shot('01-login-stale-link');

    await page.goto('about:blank');
    const documentResponse = page.waitForResponse((r: Response) => r.url() === `${base}/` && r.request().resourceType() === 'document');
    await page.goto(loginUrl);
    const appPage = await documentResponse;
    await page.waitForURL(`${base}/`);
    await visible(heading('Relationships'));
    expect(page.url()).toBe(`${base}/`);
    expect(page.url()).not.toContain(agentToken);
    expect(await page.evaluate('location.hash')).toBe('');

    const cookies = await context.cookies(base);
    const cookieName = `kith_session_${me!.port}`;
    expect(cookies.map((c) => c.name)).toEqual([cookieName]);
    const session = cookies.find((c) => c.name === cookieName);
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });
    expect(session!.value.length).toBeGreaterThanOrEqual(20);
    expect(session!.value).not.toBe(agentToken);
    // HttpOnly: the page's scripts cannot read it.
    expect(await page.evaluate('document.cookie')).not.toContain('kith_session');
    // The session key the API wants besides the cookie: in this tab's sessionStorage (scoped by
    // port, unlike cookies), in no cookie and not in localStorage.
    const sessionKey = (await page.evaluate('sessionStorage.getItem("kith.sessionKey")')) as string | null;
    expect(sessionKey?.length ?? 0).toBeGreaterThanOrEqual(20);
    expect(cookies.map((c) => c.value)).not.toContain(sessionKey);
    expect(await page.evaluate('localStorage.length')).toBe(0);
    // The cookie alone, as another local server would replay it (Origin forged): refused.
    const replayed = await fetch(`${base}/api/relationships`, { headers: { cookie: `${cookieName}=${session!.value}`, origin: base } });
    expect(replayed.status).toBe(401);
    expect(((await replayed.json()) as { error: { code: string } }).error.code).toBe('api.session_key_required');
    // A new tab shares the cookie but not sessionStorage: it asks the open tab for the key.
    const otherTab = await context.newPage();
    try {
      await otherTab.goto(`${base}/profile`);
      await otherTab.getByRole('heading', { name: 'Profile', level: 1, exact: true }).waitFor();
      expect(await otherTab.evaluate('sessionStorage.getItem("kith.sessionKey")')).toBe(sessionKey);
    } finally {
      await otherTab.close();
    }
    // With no tab of the app open to ask, a new tab is sent to sign in again (`kith open`).
    await page.goto('about:blank');
    const lonelyTab = await context.newPage();
    try {
      await lonelyTab.goto(`${base}/profile`);
      await lonelyTab.waitForURL(`${base}/login`);
      await lonelyTab.getByRole('heading', { name: 'Open Kith' }).waitFor();
    } finally {
      await lonelyTab.close();
    }
    // This tab kept its key across the navigation.
    await page.goto(`${base}/`);
    await visible(heading('Relationships'));

    // A strict CSP on the app page: nothing inline, nothing from elsewhere, never framed.
    const csp = appPage.headers()['content-security-policy'] ?? '';
    for (const directive of ["default-src 'self'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"]) {
      expect(csp, `CSP of / has ${directive}`).toContain(directive);
    }
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(appPage.headers()['x-frame-options']).toBe('DENY');

    await visible(page.getByText('Live updates on'));
    await visible(page.getByText('No relationships yet'));
    await a11y('relationships (empty)');
    await skipLinkFirst('relationships (empty)', 'Relationships');
    expectNoCspViolation();
  });

  it('unlock: Lock shows the unlock screen; a wrong passphrase is refused with an alert; hers opens the app again', { timeout: STEP_TIMEOUT }, async () => {
    await page.getByRole('button', { name: 'Lock', exact: true }).click();
    await visible(heading('Your vault is locked'));
    expect((await myApi<{ locked: boolean }>('/api/status')).locked).toBe(true);
    // Started as the demo starts it: the lock screen says where the passphrase is.
    await visible(page.getByText(LOCK_SCREEN_HINT));

    const passphrase = page.getByLabel('Passphrase');
    await passphrase.fill('not her passphrase');
    await page.getByRole('button', { name: 'Unlock' }).click();
    await visible(alert('Wrong passphrase. Try again.'));
    expect(await passphrase.inputValue()).toBe('');
    expect(await passphrase.getAttribute('aria-invalid')).toBe('true');
    expect((await myApi<{ locked: boolean }>('/api/status')).locked).toBe(true);
    await a11y('unlock');
    await shot('02-unlock-wrong-passphrase');

    await passphrase.fill(PASSPHRASE);
    await page.getByRole('button', { name: 'Unlock' }).click();
    await visible(heading('Relationships'));
    expect(await myApi<{ locked: boolean; relationships: number }>('/api/status')).toMatchObject({ locked: false, relationships: 0 });
    await visible(page.getByText('Live updates on'));
    expectNoCspViolation();
  });

  it('profile: she adds her name, email, postal address and phone', { timeout: STEP_TIMEOUT }, async () => {
    await navTo('Profile', 'Profile');
    await skipLinkFirst('profile', 'Profile');
    await visible(page.getByText('Your profile is empty'));

    const add = async (chip: string, fill: () => Promise<void>, label: string) => {
      await page.getByRole('button', { name: chip, exact: true }).click();
      await fill();
      await a11y(`profile (adding ${label})`);
      await page.getByRole('button', { name: 'Save', exact: true }).click();
      await visible(status(new RegExp(`Saved as version \\d+\\. No company holds ${label}, so there is nothing to send\\.`)));
    };
    await add('Add full name', () => page.getByLabel('Full name', { exact: true }).fill(ME.name), 'Full name');
    await add('Add email', () => page.getByLabel('Email', { exact: true }).fill(ME.email), 'Email');
    await add(
      'Add postal address',
      async () => {
        await visible(page.getByRole('group', { name: 'Postal address' }));
        await page.getByLabel('Street', { exact: true }).fill(ME.address.street_address);
        await page.getByLabel('City or town', { exact: true }).fill(ME.address.locality);
        await page.getByLabel('Postal code', { exact: true }).fill(ME.address.postal_code);
        await page.getByLabel('Country', { exact: true }).fill(ME.address.country);
      },
      'Postal address',
    );
    await add('Add phone', () => page.getByLabel('Phone', { exact: true }).fill(ME.phone), 'Phone');

    const details = page.getByRole('region', { name: 'Your details' });
    for (const text of [ME.name, ME.email, ME.phone, 'Oldtown']) await visible(details.getByText(text));
    await visible(details.getByText('Version 4'));

    const profile = await myApi<{ version: number; fields: { field: string; value: unknown }[] }>('/api/profile');
    expect(profile.version).toBe(4);
    expect(Object.fromEntries(profile.fields.map((f) => [f.field, f.value]))).toEqual({ name: ME.name, email: ME.email, address: ME.address, phone_number: ME.phone });
    await a11y('profile');
    await shot('03-profile');
    expectNoCspViolation();
  });

  it('terms: she makes intent-only contact her default terms', { timeout: STEP_TIMEOUT }, async () => {
    await navTo('Terms', 'Terms');
    await skipLinkFirst('terms', 'Terms');
    await visible(page.getByText('You have no default terms: new connections proffer none.'));
    await page.getByRole('button', { name: 'Use as my default (Intent-only contact)' }).click();
    await visible(status('Intent-only contact is your default now: every new connection proffers it.'));
    await visible(page.getByText('Every new connection proffers Intent-only contact.'));
    const card = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: 'Intent-only contact', level: 3 }) });
    await visible(card.getByText('Your default'));
    expect((await myApi<{ default: string | null }>('/api/terms')).default).toBe(ID('intent-only-contact'));
    await a11y('terms');
    await shot('04-terms');
    expectNoCspViolation();
  });

  it('connect: she previews each invitation (the predicted terms decision), connects, and sees three companies with their terms outcomes', { timeout: STEP_TIMEOUT + 15_000 }, async () => {
    await navTo('Connect', 'Connect to a company');
    await skipLinkFirst('connect', 'Connect to a company');

    const cases: { company: CompanyFixture; prediction: string[]; outcome: string }[] = [
      { company: acme, prediction: ['published policy accepts Intent-only contact: expect them to be agreed and signed by you both.'], outcome: 'Terms agreed: Intent-only contact, signed by you both.' },
      {
        company: bluebird,
        prediction: ['will likely counter with Service only instead of Intent-only contact.', 'It protects you at least as well on every point, so Kith will accept it for you.'],
        outcome: 'Terms agreed: Service only (its counter, which Kith accepted as at least as protective).',
      },
      { company: corner, prediction: ['does not accept Intent-only contact and offers nothing else: you would connect without agreed terms.'], outcome: 'The company rejected your terms: none are agreed.' },
    ];
    for (const { company: v, prediction, outcome } of cases) {
      // The invitation as the company hands it out: its CLI for the first, its /invite for the others.
      const invitation =
        v === acme
          ? (await runCliOk('kith-vendor', ['invite', '--json'], { home: v.home })).json<{ url: string }>().url
          : ((await (await fetch(`${v.url}/invite`)).json()) as { url: string }).url;
      expect(invitation.startsWith(`${v.url}/invite?_oob=`)).toBe(true);

      await page.getByLabel('Invitation link', { exact: true }).fill(invitation);
      await page.getByRole('button', { name: 'Preview', exact: true }).click();
      const preview = page.getByRole('region', { name: '2. Check and connect' });
      await visible(preview);
      await visible(preview.getByRole('heading', { name: `“Connect with ${v.name}”` }));
      for (const text of prediction) await visible(preview.getByText(text));
      // Previewing sends nothing to the company.
      expect(await companyRelationships(v)).toEqual([]);
      await a11y(`connect preview (${v.slug})`);
      await shot(`05-connect-preview-${v.slug}`);

      await preview.getByRole('button', { name: 'Connect', exact: true }).click();
      const result = status(`Connected to ${v.name} as customer`);
      await visible(result, 15_000);
      await visible(result.getByText(outcome));
      await visible(page.getByRole('link', { name: `Open ${v.name}` }));
      expect(await page.getByLabel('Invitation link', { exact: true }).inputValue()).toBe('');
    }
    await shot('05-connect-result');

    const mine = await myApi<{ relationships: RelationshipView[] }>('/api/relationships');
    for (const v of [acme, bluebird, corner]) {
      v.relationship = mine.relationships.find((r) => r.company === v.name);
      expect(v.relationship, `her relationship with ${v.name}`).toMatchObject({ state: 'active' });
      const theirs = await companyRelationships(v);
      expect(theirs).toHaveLength(1);
      expect(theirs[0]).toMatchObject({ state: 'active', customerRef: v.relationship!.customerRef, theirDid: v.relationship!.myDid });
    }
    expect((await companyTerms(acme)).find((t) => t.state === 'agreed')?.agreementId).toBe(ID('intent-only-contact'));
    expect((await companyTerms(bluebird)).find((t) => t.state === 'agreed')).toMatchObject({ agreementId: ID('service-only'), proposedBy: 'company' });
    expect((await companyTerms(corner)).map((t) => t.state)).toEqual(['rejected']);

    await navTo('Relationships', 'Relationships');
    const card = (v: CompanyFixture) => page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: v.name, level: 3 }) });
    const expected: [CompanyFixture, string][] = [
      [acme, 'Intent-only contact'],
      [bluebird, 'Service only (their counter)'],
      [corner, 'none (rejected)'],
    ];
    for (const [v, terms] of expected) {
      await visible(card(v));
      await visible(card(v).getByText(terms, { exact: true }));
      await visible(card(v).getByText('Active', { exact: true }));
      await visible(card(v).getByText(v.relationship!.customerRef!, { exact: true }));
    }
    expect(await page.locator('.rel-card').count()).toBe(3);
    await skipLinkFirst('relationships', 'Relationships');
    await a11y('relationships');
    await shot('06-relationships');
    expectNoCspViolation();
  });

  it('requests: both requests arrive; she shares name and address with Acme but not her email, and her address with Bluebird', { timeout: STEP_TIMEOUT }, async () => {
    await navTo('Requests', 'Requests');
    const cardOf = (v: CompanyFixture) => page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: `${v.name} asks for your data`, level: 2 }) });
    // Acme asks at once; Bluebird asks a few seconds after her agent accepted its counter. Both
    // come in live (pushed to her agent, announced to the page over server-sent events).
    await visible(cardOf(acme), 15_000);
    await visible(cardOf(bluebird), 15_000);
    await visible(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Requests 2 waiting' }));
    await a11y('requests');
    await shot('07-requests');

    const acmeCard = cardOf(acme);
    for (const text of ['Order confirmations and shipping', '30 days', 'a contract with you']) await visible(acmeCard.getByText(text, { exact: true }));
    for (const field of ['Full name', 'Email', 'Postal address']) expect(await acmeCard.getByRole('checkbox', { name: field, exact: true }).isChecked()).toBe(true);
    await acmeCard.getByRole('checkbox', { name: 'Email', exact: true }).uncheck();
    await acmeCard.getByRole('button', { name: 'Share 2 of 3' }).click();
    await visible(status(/Shared Full name, Postal address with Acme Outfitters\. Consent record \S+ is kept by you both\./));

    const atAcme = await waitFor('Acme to hold the fields she shared', async () => {
      const { fields } = await companyHoldings(acme);
      return fields.length >= 2 ? fields : undefined;
    });
    expect(atAcme.map((f) => f.field).sort()).toEqual(['address', 'name']);
    expect(heldValue(atAcme, 'name')).toBe(ME.name);
    expect(heldValue(atAcme, 'address')).toEqual(ME.address);
    expect(heldValue(atAcme, 'email')).toBeUndefined();

    await cardOf(bluebird).getByRole('button', { name: 'Share all' }).click();
    await visible(status(/Shared Postal address with Bluebird Books\./));
    const atBluebird = (await companyHoldings(bluebird)).fields;
    expect(atBluebird.map((f) => [f.field, f.value])).toEqual([['address', ME.address]]);

    await visible(page.getByText('Nothing waiting'));
    const answered = page.getByRole('region', { name: 'Answered' });
    await visible(answered.getByText('Acme Outfitters: Full name, Postal address'));
    await visible(answered.getByText('Bluebird Books: Postal address'));
    // Corner asked for nothing and holds nothing.
    expect((await companyHoldings(corner)).fields).toEqual([]);
    await a11y('requests (answered)');
    await shot('07-requests-answered');
    expectNoCspViolation();
  });

  it('rules: her disclosure rules in words on the Requests page; one switch makes her answer everything by hand, and back', { timeout: STEP_TIMEOUT }, async () => {
    const rules = page.getByRole('region', { name: 'Your rules' });
    await visible(rules.getByText('Decline anything for marketing', { exact: true }));
    await visible(rules.getByText('Ask me about anything', { exact: true }));
    await rules.getByRole('button', { name: 'Answer everything by hand' }).click();
    await visible(status('You answer every request by hand now.'));
    await visible(rules.getByText('You answer every request by hand: your rules are kept, but answer nothing.'));
    expect((await myApi<{ manual: boolean }>('/api/rules')).manual).toBe(true);
    await rules.getByRole('button', { name: 'Let my rules answer again' }).click();
    await visible(status('Your rules apply again.'));
    expect((await myApi<{ manual: boolean }>('/api/rules')).manual).toBe(false);
    await a11y('requests (rules)');
    expectNoCspViolation();
  });

  it('profile change: a new address says who gets it, then shows each company receiving it (one after a retry); both companies hold it', { timeout: STEP_TIMEOUT }, async () => {
    await navTo('Profile', 'Profile');
    const addressRow = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: 'Postal address', level: 3 }) });
    await visible(addressRow.getByText('Held by'));
    await visible(addressRow.getByRole('link', { name: 'Acme Outfitters' }));
    await visible(addressRow.getByRole('link', { name: 'Bluebird Books' }));
    await page.getByRole('button', { name: 'Edit postal address' }).click();

    // Before saving: who will receive the new value (the two companies holding it, not Corner).
    await visible(page.getByText('Saving sends the new value to the 2 companies that hold it:'));
    const recipients = await page.locator('.recipients .chip').allTextContents();
    expect(recipients.sort()).toEqual(['Acme Outfitters', 'Bluebird Books']);
    await page.getByLabel('Street', { exact: true }).fill(NEW_ADDRESS.street_address);
    await page.getByLabel('City or town', { exact: true }).fill(NEW_ADDRESS.locality);
    await page.getByLabel('Postal code', { exact: true }).fill(NEW_ADDRESS.postal_code);
    await a11y('profile (editing the address)');
    await shot('08-profile-edit-address');
    // Bluebird is down while she saves: the page shows it retrying, then receiving it once it is back.
    await bluebird.server!.stop();
    bluebird.server = undefined;
    await page.getByRole('button', { name: 'Save and send to 2 companies' }).click();

    const latest = page.getByRole('region', { name: 'Your latest change' });
    const deliveryRow = (v: CompanyFixture) => latest.getByRole('listitem').filter({ hasText: v.name });
    await visible(latest);
    await visible(deliveryRow(acme).getByText('received', { exact: true }));
    await visible(deliveryRow(bluebird).getByText('retrying (company unreachable)', { exact: true }));
    await visible(latest.getByText('Sending version 5: 1 of 2 companies have it.'));
    await a11y('profile (delivering)');
    await shot('09-profile-delivering');

    bluebird.server = await startServer('kith-vendor', { home: bluebird.home, port: bluebird.port, logDir, env: { KITH_OUTBOX_INTERVAL_MS: '250' } });
    await visible(latest.getByText('Done: every company that holds your Postal address has the new value (2 of 2).'), 15_000);
    for (const v of [acme, bluebird]) await visible(deliveryRow(v).getByText('received', { exact: true }));
    expect(await latest.getByRole('listitem').count()).toBe(2);
    expect(await latest.getByRole('progressbar', { name: 'Delivery of version 5' }).getAttribute('value')).toBe('2');

    for (const v of [acme, bluebird]) {
      const { fields } = await companyHoldings(v);
      expect(heldValue(fields, 'address'), `${v.name} holds the new address`).toEqual(NEW_ADDRESS);
      expect(fields.find((f) => f.field === 'address')!.version).toBe(5);
    }
    expect(heldValue((await companyHoldings(acme)).fields, 'name')).toBe(ME.name);
    await visible(addressRow.getByText('22 New Street, Newtown, NT2 2BB, GB'));
    await a11y('profile (delivered)');
    await shot('10-profile-delivered');
    expectNoCspViolation();
  });

  it('messages: hers reaches Acme; Acme’s reply appears in her open thread live, without a reload', { timeout: STEP_TIMEOUT }, async () => {
    await navTo('Relationships', 'Relationships');
    await page.getByRole('link', { name: 'Acme Outfitters', exact: true }).click();
    await visible(heading('Acme Outfitters'));
    await skipLinkFirst('relationship', 'Acme Outfitters');
    await visible(page.getByRole('navigation', { name: 'Relationship sections' }).getByRole('link', { name: 'Messages' }));
    // Words a person reads: no DID in the main view; the pairwise identity is one click away.
    expect(await page.locator('main').innerText()).not.toContain('did:');
    await page.getByText('Show that identity').click();
    await visible(page.getByText(acme.relationship!.myDid));
    await page.getByText('Show that identity').click();

    const outgoing = 'Hello Acme, where is my parcel? (ui e2e)';
    await page.getByLabel('Message to Acme Outfitters').fill(outgoing);
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await visible(status('Sent to Acme Outfitters.'));
    const thread = page.getByRole('list', { name: 'Messages with Acme Outfitters, oldest first' });
    await visible(thread.getByText(outgoing));
    const atAcme = await companyMessages(acme);
    expect(atAcme.filter((m) => m.direction === 'in' && (m.body as { content?: unknown }).content === outgoing)).toHaveLength(1);

    // Marks this very document: a reload would lose the mark.
    await page.evaluate('window.__kithSameDocument = true');
    // With a right-to-left override, which would make its end read "label.exe" backwards: shown as a visible mark instead.
    const incoming = 'Your parcel left our warehouse today (ui e2e), label: \u202Efdp.exe';
    const sent = (await runCliOk('kith-vendor', ['message', acme.relationship!.customerRef!, incoming, '--json'], { home: acme.home })).json<{ messageId: string; delivered: boolean }>();
    expect(sent.messageId).toBeTruthy();
    await visible(thread.getByText('Your parcel left our warehouse today (ui e2e), label: [U+202E]fdp.exe', { exact: true }), 10_000);
    expect(await thread.textContent()).not.toContain('\u202E');
    expect(await page.evaluate('window.__kithSameDocument === true')).toBe(true);
    expect(await thread.getByRole('listitem').count()).toBe(2);

    await a11y('relationship (messages)');
    await shot('11-relationship-messages');

    await page.getByRole('navigation', { name: 'Relationship sections' }).getByRole('link', { name: 'What they hold' }).click();
    const holds = page.getByRole('region', { name: 'What Acme Outfitters holds' });
    await visible(holds);
    await visible(holds.getByRole('rowheader', { name: 'Full name' }));
    await visible(holds.getByRole('rowheader', { name: 'Postal address' }));
    expect(await holds.getByRole('rowheader', { name: 'Email' }).count()).toBe(0);
    await visible(holds.getByText('22 New Street, Newtown, NT2 2BB, GB'));
    await a11y('relationship (holds)');
    await shot('12-relationship-holds');
    expectNoCspViolation();
  });

  it('cut-off: a confirmation, then the signed erasure receipt; the list shows it ended; Acme erased her', { timeout: STEP_TIMEOUT }, async () => {
    const companyRelId = (await companyRelationships(acme))[0]!.id;
    await page.getByRole('button', { name: 'Cut off…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Cut off Acme Outfitters?' });
    await visible(dialog);
    await visible(dialog.getByText('erase everything it holds about you'));
    // The safe choice has the focus first.
    expect(await dialog.getByRole('button', { name: 'Cancel' }).evaluate((el: DomNode) => el.ownerDocument.activeElement === el)).toBe(true);
    await a11y('cut-off dialog');
    await shot('13-cutoff-dialog', true);
    await dialog.getByRole('button', { name: 'Cut off and erase' }).click();
    await dialog.waitFor({ state: 'hidden' });

    const receipt = page.getByRole('region', { name: 'Erasure receipt' });
    await visible(receipt);
    await visible(receipt.getByRole('heading', { name: 'Acme Outfitters erased your data' }));
    // In words she reads first: messages, her data and its consents, agreements, the relationship.
    const groups = await receipt.locator('.receipt-groups li').evaluateAll((lis: { querySelectorAll(s: string): ArrayLike<{ textContent: string | null }> }[]) =>
      lis.map((li) => [li.querySelectorAll('span')[0]?.textContent ?? '', Number(li.querySelectorAll('span')[1]?.textContent ?? 'NaN')] as [string, number]),
    );
    const human = Object.fromEntries(groups);
    expect(Object.keys(human)).toEqual(expect.arrayContaining(['Messages', 'Your data, and the consents you gave for it', 'Agreements', 'The relationship itself']));
    expect(human['The relationship itself']).toBe(1);
    expect(await receipt.locator('tbody tr').first().isVisible()).toBe(false);
    // The store's own list, on request.
    await receipt.getByText('Show the technical list').click();
    const rows = await receipt.locator('tbody tr').evaluateAll((trs: { querySelector(s: string): { textContent: string | null } | null }[]) =>
      trs.map((tr) => [tr.querySelector('th')?.textContent ?? '', Number(tr.querySelector('td')?.textContent ?? 'NaN')] as [string, number]),
    );
    const erased = Object.fromEntries(rows);
    expect(Object.keys(erased)).toEqual(expect.arrayContaining(['messages', 'held fields', 'consent records', 'relationship', 'terms agreements']));
    expect(erased['held fields']).toBe(2);
    expect(erased['messages']).toBeGreaterThanOrEqual(2);
    expect(erased['relationship']).toBe(1);
    await visible(page.getByText('Cut off', { exact: true }).first());
    expect(await page.getByRole('button', { name: 'Cut off…' }).count()).toBe(0);
    // The tab she was on (what they hold) now says it is all erased; the thread says it is closed.
    await visible(page.getByText('Nothing: Acme Outfitters erased what it held when you cut it off.'));
    // Its identity for Acme is destroyed: the page no longer says "it knows you as".
    expect(await page.getByText('It knows you only as').count()).toBe(0);
    await visible(page.getByText('It knew you only by an identity made for it alone; that identity is destroyed.'));
    await a11y('receipt');
    await shot('14-receipt');
    await page.getByRole('navigation', { name: 'Relationship sections' }).getByRole('link', { name: 'Messages' }).click();
    await visible(page.getByText('You cut off Acme Outfitters: no messages can go either way any more.'));
    expect(await page.getByLabel('Message to Acme Outfitters').count()).toBe(0);
    // Her consent to Acme is withdrawn (the data is gone), in her vault and on the holdings tab.
    const consents = await myApi<{ consents: { state: string }[] }>(`/api/consents?relationship=${acme.relationship!.id}`);
    expect(consents.consents.map((c) => c.state)).toEqual(['withdrawn']);
    await page.getByRole('navigation', { name: 'Relationship sections' }).getByRole('link', { name: 'What they hold' }).click();
    await visible(page.getByRole('region', { name: 'Consent records' }).getByText('Withdrawn', { exact: true }));

    const receipts = await myApi<{ receipts: ReceiptView[] }>(`/api/receipts?relationship=${acme.relationship!.id}`);
    expect(receipts.receipts).toHaveLength(1);
    expect((receipts.receipts[0]!.body as { erased: { category: string; count: number }[] }).erased.find((e) => e.category === 'held_fields')?.count).toBe(2);
    await shot('14-receipt-messages-tab');

    // The company's side: the relationship is erased down to a tombstone, and it can no longer write.
    const atAcme = await companyRelationships(acme);
    expect(atAcme).toHaveLength(1);
    expect(atAcme[0]).toMatchObject({ id: companyRelId, state: 'cut_off', customerRef: '' });
    expect(atAcme[0]!.theirDid).not.toMatch(/^did:/);
    expect(JSON.stringify(atAcme)).not.toContain(acme.relationship!.myDid);
    const refused = await runCli('kith-vendor', ['message', companyRelId, 'Are you still there?'], { home: acme.home });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('relationship.cut_off');

    await navTo('Relationships', 'Relationships');
    const ended = page.getByRole('region', { name: 'Ended' });
    await visible(ended);
    const acmeCard = ended.getByRole('listitem').filter({ has: page.getByRole('heading', { name: 'Acme Outfitters', level: 3 }) });
    await visible(acmeCard.getByText('Cut off', { exact: true }));
    await visible(acmeCard.getByText('erased', { exact: true }));
    const current = page.getByRole('region', { name: 'Current' });
    for (const v of [bluebird, corner]) await visible(current.getByRole('heading', { name: v.name, level: 3 }));
    // The other companies are untouched.
    expect((await companyRelationships(bluebird))[0]).toMatchObject({ state: 'active' });
    await a11y('relationships (after cut-off)');
    await shot('15-relationships-after-cutoff');
    expectNoCspViolation();
  });

  it('an address that is not a page shows the app’s own not-found page (404), not the API’s JSON', { timeout: STEP_TIMEOUT }, async () => {
    const response = await page.goto(`${base}/no-such-page`);
    expect(response?.status()).toBe(404);
    await visible(heading('Nothing here'));
    await page.getByRole('link', { name: 'Go to your relationships' }).click();
    await visible(heading('Relationships'));
    // The API keeps answering its clients in JSON.
    const api = await fetch(`${base}/api/no-such-route`, { headers: { authorization: `Bearer ${me!.agent!.token}` } });
    expect(api.headers.get('content-type')).toContain('application/json');
    expectNoCspViolation();
  });

  it('her credentials have a page: what each lets her prove, one claim at a time, the issuer behind Details', { timeout: STEP_TIMEOUT }, async () => {
    await navTo('Credentials', 'Credentials');
    await visible(page.getByText('No credentials yet'));
    // The demo issuer gives her an age credential, as npm start does.
    const post = async <T,>(path: string, body?: unknown): Promise<T> => {
      const response = await fetch(`${base}${path}`, { method: 'POST', headers: { authorization: `Bearer ${agentToken}`, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
      expect(response.status, await response.clone().text()).toBeLessThan(300);
      return (await response.json()) as T;
    };
    const holderKey = await post<{ publicJwk: { kty: 'OKP'; crv: 'Ed25519'; x: string } }>('/api/credentials/keys');
    const issuer = createPeerIdentity().identity;
    const sdJwt = await issueCredential(issuer, { holderPublicJwk: holderKey.publicJwk, vct: AGE_VCT, claims: ageClaims('1990-04-12', new Date()) }, systemClock);
    await post('/api/credentials', { sdJwt });
    await page.reload();
    await visible(heading('Credentials'));
    const card = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: 'Age credential', level: 2 }) });
    await visible(card.getByText('Valid', { exact: true }));
    await visible(card.getByText(/You can show each of these on its own, and nothing else from the credential: .*Over 18/));
    // No DID in the main view: it is behind Details.
    expect(await card.getByText(issuer.did).isVisible()).toBe(false);
    await card.getByText('Details').click();
    await visible(card.getByText(issuer.did));
    await a11y('credentials');
    await shot('16b-credentials');
    expectNoCspViolation();
  });

  it('terms with companies, settings, and the phone-sized layout of the relationships and profile pages', { timeout: STEP_TIMEOUT }, async () => {
    // Her terms page now lists the live companies, each with a form to propose other terms.
    await navTo('Terms', 'Terms');
    const perCompany = page.getByRole('region', { name: 'With each company' });
    for (const v of [bluebird, corner]) await visible(perCompany.getByRole('combobox', { name: `Propose other terms to ${v.name}` }));
    expect(await perCompany.getByRole('heading', { name: 'Acme Outfitters' }).count()).toBe(0);
    await a11y('terms (with companies)');
    await shot('04-terms-with-companies');

    await navTo('Settings', 'Settings');
    await skipLinkFirst('settings', 'Settings');
    await visible(page.getByRole('button', { name: 'Export encrypted' }));
    // Import restores into an empty vault only: here it says why there is no form.
    await visible(page.getByText(/^This vault already holds \d+ relationships? and \d+ profile fields?, so there is nothing to import into\./));
    expect(await page.getByRole('button', { name: 'Import', exact: true }).count()).toBe(0);
    await a11y('settings');
    await shot('16-settings');

    // A request waits for her (Bluebird asks again): on a phone it must show outside the closed menu.
    const asked = await fetch(`${bluebird.url}/admin/relationships/${encodeURIComponent(bluebird.relationship!.customerRef!)}/disclosure-requests`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bluebird.adminToken!}`, 'content-type': 'application/json' },
      body: JSON.stringify({ fields: ['phone_number'], purpose: 'Text you when a parcel is out', purposeCode: 'service-delivery', retention: 'P30D' }),
    });
    expect(asked.status).toBeLessThan(300);
    await fetch(`${base}/api/pickup`, { method: 'POST', headers: { authorization: `Bearer ${agentToken}` } });
    const waiting = (await myApi<{ requests: unknown[] }>('/api/requests')).requests.length;
    expect(waiting).toBeGreaterThan(0);

    await page.setViewportSize(NARROW);
    try {
      await page.goto(`${base}/`);
      await visible(page.getByRole('link', { name: `${waiting} ${waiting === 1 ? 'request' : 'requests'} waiting for you` }));
      // And on the card of the company that asked.
      const bluebirdCard = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: 'Bluebird Books', level: 3 }) });
      await visible(bluebirdCard.getByRole('link', { name: 'A request waits for your answer' }));
      const narrowPage = async (path: string, title: string, name: string) => {
        await page.goto(`${base}${path}`);
        await visible(heading(title));
        await visible(page.getByRole('button', { name: 'Menu' }));
        // Nothing wider than the phone: no sideways scrolling.
        expect(await page.evaluate('document.documentElement.scrollWidth'), `${name}: page width at 375 px`).toBeLessThanOrEqual(NARROW.width);
        await a11y(`${name} (375 px)`);
        await shot(`${name}-375`);
      };
      await narrowPage('/', 'Relationships', '17-relationships');
      await narrowPage('/profile', 'Profile', '18-profile');
      await page.getByRole('button', { name: 'Menu' }).click();
      await visible(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: /^Relationships/ }));
      await shot('19-menu-open-375', true);
    } finally {
      await page.setViewportSize(WIDE);
    }
    expectNoCspViolation();
  });

  it('Settings changes her passphrase with the current one: a wrong one or a mismatch changes nothing; then only the new one unlocks', { timeout: STEP_TIMEOUT }, async () => {
    await navTo('Settings', 'Settings');
    const section = page.getByRole('region', { name: 'Passphrase' });
    // Started as the demo is: it says the passphrase file must follow.
    await visible(section.getByText(`${LOCK_SCREEN_HINT} Change it there too`));
    const fill = async (current: string, next: string, repeat: string) => {
      await section.getByLabel('Current passphrase').fill(current);
      await section.getByLabel('New passphrase', { exact: true }).fill(next);
      await section.getByLabel('Repeat the new passphrase').fill(repeat);
      await section.getByRole('button', { name: 'Change passphrase' }).click();
    };
    const NEW = 'a new passphrase for the test';
    await fill('not the passphrase', NEW, NEW);
    await visible(section.getByText('Current passphrase: that is not the one this vault opens with. Nothing changed.'));
    await fill(PASSPHRASE, NEW, `${NEW}!`);
    await visible(section.getByText('Repeat the new passphrase: the two entries differ.'));
    await fill(PASSPHRASE, NEW, NEW);
    await visible(section.getByText('Passphrase changed. Unlock Kith with the new one from now on; Kith cannot recover it.'));
    await a11y('settings (passphrase)');

    // How long until it locks by itself: her choice, kept in her vault.
    const idle = page.getByLabel('Lock by itself after');
    await idle.selectOption({ label: '5 minutes' });
    await visible(page.getByText('Kith locks after 5 minutes without use.'));
    expect(await myApi<{ minutes: number }>('/api/settings/idle-lock')).toEqual({ minutes: 5 });
    await idle.selectOption({ label: 'Never' });
    await visible(page.getByText('Kith will not lock by itself; lock it when you leave.'));
    expect(await myApi<{ minutes: number }>('/api/settings/idle-lock')).toEqual({ minutes: 0 });

    await page.getByRole('button', { name: 'Lock', exact: true }).click();
    await visible(heading('Your vault is locked'));
    await page.getByLabel('Passphrase').fill(PASSPHRASE);
    await page.getByRole('button', { name: 'Unlock' }).click();
    await visible(alert('Wrong passphrase. Try again.'));
    await page.getByLabel('Passphrase').fill(NEW);
    await page.getByRole('button', { name: 'Unlock' }).click();
    await visible(heading('Settings'));
    expectNoCspViolation();
  });

  it('removing a field: the dialog names the company holding it, which erases it and records the withdrawal; her profile no longer has it', { timeout: STEP_TIMEOUT }, async () => {
    await navTo('Profile', 'Profile');
    await page.getByRole('button', { name: 'Edit postal address' }).click();
    await page.getByRole('button', { name: 'Remove from profile' }).click();
    const dialog = page.getByRole('dialog', { name: 'Remove your postal address?' });
    await visible(dialog);
    // Acme was cut off and erased everything: only Bluebird still holds the address.
    expect(await dialog.locator('.chip').allTextContents()).toEqual(['Bluebird Books']);
    expect(await dialog.getByRole('button', { name: 'Cancel' }).evaluate((el: DomNode) => el.ownerDocument.activeElement === el)).toBe(true);
    await a11y('profile (remove dialog)');
    await shot('20-profile-remove-dialog', true);
    await dialog.getByRole('button', { name: 'Remove and ask them to erase it' }).click();
    await dialog.waitFor({ state: 'hidden' });

    const latest = page.getByRole('region', { name: 'Your latest change' });
    await visible(latest.getByText('Done: every company that held your postal address erased it (1 of 1).'), 15_000);
    await visible(latest.getByRole('listitem').filter({ hasText: bluebird.name }).getByText('erased', { exact: true }));
    // The address is among the fields she can add again, not among her details.
    await visible(page.getByRole('button', { name: 'Add postal address' }));
    const profile = await myApi<{ fields: { field: string }[] }>('/api/profile');
    expect(profile.fields.map((f) => f.field)).not.toContain('address');

    // Bluebird: the address is gone, and the consent record says she withdrew it.
    const { fields } = await companyHoldings(bluebird);
    expect(fields.map((f) => f.field)).not.toContain('address');
    const consents = await myApi<{ consents: { state: string; record: { events: { type: string; pii_categories?: string[] }[] } }[] }>(`/api/consents?relationship=${bluebird.relationship!.id}`);
    // Her address was all she gave Bluebird: the whole record is withdrawn.
    expect(consents.consents.map((c) => c.state)).toEqual(['withdrawn']);
    expect(consents.consents.flatMap((c) => c.record.events).map((e) => [e.type, e.pii_categories ?? null])).toEqual([
      ['requested', null],
      ['given', null],
      ['withdrawn', null],
    ]);
    await a11y('profile (removed)');
    expectNoCspViolation();
  });

  it('every process shuts down cleanly on SIGTERM', { timeout: STEP_TIMEOUT }, async () => {
    await browser?.close();
    browser = undefined;
    await me!.stop();
    me = undefined;
    for (const v of [acme, bluebird, corner]) {
      await v.server!.stop();
      v.server = undefined;
    }
  });
});
