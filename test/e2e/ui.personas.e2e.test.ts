import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RequestView } from '../../src/personal/disclosure/disclosure.js';
import type { PersonaView } from '../../src/personal/personas.js';
import type { RelationshipView } from '../../src/personal/views.js';
import { startCompany, type CompanyHandle } from '../support/agents.js';
import { browserAvailable, ensureUiBuilt, launchBrowser } from '../support/browser.js';
import { ensureBuilt, killAllStarted } from '../support/processes.js';
import { PHONE, WIDE, expectAccessible, screenshots, startHerWebApp, visible, watchedPage, type HerWebApp } from '../support/uiAgents.js';

/**
 * Her personas in her web app, in a real browser (the system's Chromium via playwright-core): her
 * `kith serve --idle-lock 0` and three companies (in-process agents over real HTTP on loopback).
 * Acme and Bluebird know her default self ("me") and hold its name and email. In the browser she
 * adds a "work" persona with its own email, connects Corner as work, moves Bluebird to work (told
 * first what it will be sent and what it will erase), then changes the work email: only Bluebird's
 * store gets it, Acme's keeps her own. Removing work while companies know her by it is refused with
 * the agent's words, and work stays; a nameless persona is not offered the name fields; making her
 * own self nameless while it holds her name is refused; she renames work and makes it her default. No console
 * error or CSP violation. Screenshots go to test/e2e/screenshots/personas-*.png.
 */

const PASSPHRASE = 'ui personas e2e passphrase (correct horse)';
const STEP_TIMEOUT = 40_000;
const ME = { name: 'Alex Rivera', email: 'alex@home.example' };
const WORK_EMAIL = 'alex@studio.example';
const NEW_WORK_EMAIL = 'alex.rivera@studio.example';

const available = browserAvailable('personas in the web app (test/e2e/ui.personas.e2e.test.ts)');

let her: HerWebApp | undefined;
let acme: CompanyHandle;
let bluebird: CompanyHandle;
let corner: CompanyHandle;
let browser: Browser | undefined;
let page: Page;
let shot: (page: Page, name: string, viewportOnly?: boolean) => Promise<void>;
let failed = false;
const problems: string[] = [];
/** Her relationship with each company, by company name. */
const mine = new Map<string, RelationshipView>();
let workId: string;

const heading = (name: string | RegExp, level = 1): Locator => page.getByRole('heading', { name, level, exact: typeof name === 'string' });
const status = (text: string | RegExp): Locator => page.getByRole('status').filter({ hasText: text });

/** What a company's store holds of her, field by field. */
async function held(company: CompanyHandle): Promise<Record<string, unknown>> {
  const relationship = (await company.store.findRelationshipByDid(mine.get(company.name)!.myDid))!;
  return Object.fromEntries((await company.store.listHeldFields(relationship.id)).map((f) => [f.field, f.value]));
}

async function personas(): Promise<PersonaView[]> {
  return (await her!.api<{ personas: PersonaView[] }>('/api/personas')).personas;
}

/** The browser's own lines for the calls the agent refuses (409, 422): the only console errors expected here. */
const unexpected = (): string[] => problems.filter((p) => !/status of (409|422)/.test(p));

beforeAll(async () => {
  if (!available) return;
  ensureBuilt();
  ensureUiBuilt();
  shot = screenshots('personas-');
  [acme, bluebird, corner, her, browser] = await Promise.all([
    startCompany({ name: 'Acme Outfitters' }),
    startCompany({ name: 'Bluebird Books' }),
    startCompany({ name: 'Corner Studio' }),
    startHerWebApp({ prefix: 'kith-e2e-ui-personas-', passphrase: PASSPHRASE }),
    launchBrowser(),
  ]);

  // Her own self's name and email, given to Acme and Bluebird through her API (other suites test those pages).
  await her.api('/api/profile', { method: 'PUT', body: { fields: ME } });
  for (const company of [acme, bluebird]) {
    const { relationship } = await her.api<{ relationship: RelationshipView }>('/api/connect', { method: 'POST', body: { invitation: company.agent.invitationUrl() } });
    mine.set(company.name, relationship);
    const theirs = (await company.store.findRelationshipByDid(relationship.myDid))!;
    await company.agent.requestDisclosure(theirs.id, { fields: ['name', 'email'], purpose: 'Orders and newsletters' });
    await her.api('/api/pickup', { method: 'POST' });
    const { requests } = await her.api<{ requests: RequestView[] }>('/api/requests');
    await her.api(`/api/requests/${requests[0]!.id}/approve`, { method: 'POST', body: {} });
    expect(await held(company)).toEqual(ME);
  }
  page = await watchedPage(browser, problems);
}, 90_000);

beforeEach((ctx) => {
  if (failed) ctx.skip();
  ctx.onTestFailed(async () => {
    failed = true;
    await page?.screenshot({ path: `test/e2e/screenshots/personas-FAILED.png`, fullPage: true }).catch(() => undefined);
  });
});

afterAll(async () => {
  await browser?.close().catch(() => undefined);
  await her?.stop(failed);
  await killAllStarted();
  for (const company of [acme, bluebird, corner]) await company?.cleanup().catch(() => undefined);
  if (failed && her) console.warn(`kith personas ui e2e: a step failed; her home and logs kept in ${her.root}, screenshots in test/e2e/screenshots`);
}, 60_000);

describe.skipIf(!available)('her personas in her web app', { sequential: true }, () => {
  it('she adds a work persona and gives it its own email; the profile page shows one persona at a time, kept in the URL', { timeout: STEP_TIMEOUT }, async () => {
    await page.goto(her!.loginUrl);
    await page.waitForURL(`${her!.base}/`);
    // Every relationship says which self the company knows.
    await visible(page.getByRole('listitem').filter({ hasText: 'Acme Outfitters' }).getByText('Knows you as'));
    await page.goto(`${her!.base}/profile`);
    await visible(heading('Profile'));
    const section = page.getByRole('region', { name: 'Your personas' });
    const cards = section.getByTestId('persona');
    await visible(cards.filter({ hasText: 'me' }).getByText('default', { exact: true }));
    await visible(cards.filter({ hasText: 'me' }).getByText('2 companies know you by it · 2 details'));

    await section.getByLabel('Persona name').fill('work');
    await section.getByRole('button', { name: 'Add persona' }).click();
    await visible(status('Added work.'));
    const work = await visible(cards.filter({ has: page.getByText('work', { exact: true }) }));
    await visible(work.getByText('No company knows you by it · no details'));
    workId = (await personas()).find((p) => p.label === 'work')!.id;

    // The switcher: one link per persona, the default marked; choosing work puts it in the URL.
    const switcher = page.getByRole('navigation', { name: 'Personas' });
    await visible(switcher.getByRole('link', { name: 'me (default)' }));
    await switcher.getByRole('link', { name: 'work' }).click();
    await page.waitForURL(`${her!.base}/profile?persona=${workId}`);
    await page.reload();
    await visible(page.getByRole('region', { name: 'Your work details' }));
    expect(await switcher.getByRole('link', { name: 'work' }).getAttribute('aria-current')).toBe('page');
    await visible(page.getByText('Your profile is empty'));

    await page.getByRole('button', { name: 'Add email', exact: true }).click();
    await page.getByLabel('Email', { exact: true }).fill(WORK_EMAIL);
    await expectAccessible(page, 'profile (work, adding the email)');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await visible(status(/Saved as version \d+\. No company holds Email, so there is nothing to send\./));
    await visible(page.getByRole('region', { name: 'Your work details' }).getByText(WORK_EMAIL));

    expect((await her!.api<{ fields: { field: string; value: unknown }[] }>(`/api/profile?persona=${workId}`)).fields.map((f) => [f.field, f.value])).toEqual([['email', WORK_EMAIL]]);
    // Her own self is untouched, and so are the companies that know it.
    expect(Object.fromEntries((await her!.api<{ fields: { field: string; value: unknown }[] }>('/api/profile')).fields.map((f) => [f.field, f.value]))).toEqual(ME);
    for (const company of [acme, bluebird]) expect(await held(company)).toEqual(ME);
    await expectAccessible(page, 'profile (work)');
    await shot(page, '01-profile-work');
    expect(unexpected()).toEqual([]);
  });

  it('she connects to Corner as her work persona', { timeout: STEP_TIMEOUT }, async () => {
    await page.goto(`${her!.base}/connect?invitation=${encodeURIComponent(corner.agent.invitationUrl())}`);
    const connectAs = await visible(page.getByLabel('Connect as'));
    // Her default is preselected.
    expect(await connectAs.locator('option:checked').textContent()).toBe('me (default)');
    await connectAs.selectOption(workId);
    await expectAccessible(page, 'connect (as work)');
    await shot(page, '02-connect-as');
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    await visible(status('It knows you as your work persona.'));
    const { relationships } = await her!.api<{ relationships: RelationshipView[] }>('/api/relationships');
    const withCorner = relationships.find((r) => r.company === 'Corner Studio')!;
    mine.set('Corner Studio', withCorner);
    expect(withCorner.persona).toEqual({ id: workId, label: 'work' });
    expect(unexpected()).toEqual([]);
  });

  it('she moves Bluebird to her work persona: told first what it is sent and what it erases, then it holds the work email and no name', { timeout: STEP_TIMEOUT }, async () => {
    await page.goto(`${her!.base}/relationships/${encodeURIComponent(mine.get('Bluebird Books')!.id)}`);
    const section = await visible(page.getByRole('region', { name: 'Knows you as me' }));
    await section.getByLabel('Move to persona').selectOption(workId);
    await section.getByRole('button', { name: 'Move…' }).click();
    const dialog = await visible(page.getByRole('dialog', { name: 'Move Bluebird Books to your work persona?' }));
    await visible(dialog.getByText(`is sent again with work’s value: ${WORK_EMAIL}`));
    await visible(dialog.getByText('work has none, so your consent is withdrawn and Bluebird Books is asked to erase it'));
    await expectAccessible(page, 'relationship (move dialog)');
    await shot(page, '03-move-dialog', true);
    await dialog.getByRole('button', { name: 'Move', exact: true }).click();
    await dialog.waitFor({ state: 'hidden' });

    await visible(status('Bluebird Books now knows you as work.'));
    await visible(page.getByRole('region', { name: 'Knows you as work' }).getByText('Done: Bluebird Books has your work persona’s Email and erased your Full name.'), 15_000);
    expect(await held(bluebird)).toEqual({ email: WORK_EMAIL });
    expect(await held(acme)).toEqual(ME);
    expect((await her!.api<{ relationship: RelationshipView }>(`/api/relationships/${mine.get('Bluebird Books')!.id}`)).relationship.persona).toEqual({ id: workId, label: 'work' });
    await expectAccessible(page, 'relationship (moved)');
    await shot(page, '04-moved');
    expect(unexpected()).toEqual([]);
  });

  it('she changes her work email: only Bluebird, which holds it as work, receives it', { timeout: STEP_TIMEOUT }, async () => {
    const acmeMessages = acme.inbound.length;
    await page.goto(`${her!.base}/profile?persona=${workId}`);
    await page.getByRole('button', { name: 'Edit email' }).click();
    await visible(page.getByText('Saving sends the new value to the company that holds it:'));
    expect(await page.locator('.recipients .chip').allTextContents()).toEqual(['Bluebird Books']);
    await page.getByLabel('Email', { exact: true }).fill(NEW_WORK_EMAIL);
    await page.getByRole('button', { name: 'Save and send to Bluebird Books' }).click();

    const latest = page.getByRole('region', { name: 'Your latest change' });
    await visible(latest.getByText('Done: every company that holds your Email has the new value (1 of 1).'), 15_000);
    expect(await held(bluebird)).toEqual({ email: NEW_WORK_EMAIL });
    // Acme knows her own self: it keeps her own email and was sent nothing.
    expect(await held(acme)).toEqual(ME);
    expect(acme.inbound.length).toBe(acmeMessages);
    expect((await her!.api<{ fields: { field: string; value: unknown }[] }>('/api/profile')).fields.find((f) => f.field === 'email')?.value).toBe(ME.email);

    // Recent changes name the persona, and the move.
    const recent = page.getByRole('region', { name: 'Recent changes' });
    await visible(recent.getByText(/^Version \d+: Email \(work persona\)$/).first());
    await visible(recent.getByText(/^Version \d+: Bluebird Books moved to your work persona \(Email sent again, Full name withdrawn\)$/));
    await expectAccessible(page, 'profile (work email changed)');
    await shot(page, '05-work-email-changed');
    expect(unexpected()).toEqual([]);
  });

  it('removing the work persona while companies know her by it is refused with the agent’s words, and nothing is lost', { timeout: STEP_TIMEOUT }, async () => {
    const section = page.getByRole('region', { name: 'Your personas' });
    const work = section.getByTestId('persona').filter({ has: page.getByText('work', { exact: true }) });
    await visible(work.getByText('2 companies know you by it · 1 detail'));
    await work.getByRole('button', { name: 'Remove work' }).click();
    const dialog = await visible(page.getByRole('dialog', { name: 'Remove your work persona?' }));
    await dialog.getByRole('button', { name: 'Remove', exact: true }).click();
    await visible(dialog.getByRole('alert').filter({ hasText: '2 companies know you by this persona; move them to another first' }));
    await expectAccessible(page, 'profile (remove refused)');
    await shot(page, '06-remove-refused', true);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await visible(work);
    expect((await personas()).map((p) => [p.label, p.relationships, p.fields])).toEqual([
      ['me', 1, 2],
      ['work', 2, 1],
    ]);
    expect(await held(bluebird)).toEqual({ email: NEW_WORK_EMAIL });
    // The refused call is the one console error the browser logs (its own line for a 409 answer).
    expect(problems.filter((p) => /status of 409/.test(p))).toHaveLength(1);
    expect(unexpected()).toEqual([]);
  });

  it('a nameless persona is not offered the name fields, and one no company knows goes when she removes it', { timeout: STEP_TIMEOUT }, async () => {
    const section = page.getByRole('region', { name: 'Your personas' });
    await section.getByLabel('Persona name').fill('shopping');
    await section.getByLabel('Nameless: never holds a name').check();
    await section.getByRole('button', { name: 'Add persona' }).click();
    const shopping = await visible(section.getByTestId('persona').filter({ has: page.getByText('shopping', { exact: true }) }));
    await visible(shopping.getByText('nameless', { exact: true }));

    await page.getByRole('navigation', { name: 'Personas' }).getByRole('link', { name: 'shopping' }).click();
    await visible(page.getByRole('region', { name: 'Your shopping details' }));
    await visible(page.getByText('Your shopping persona is nameless: it never holds a name, so names are not offered here.'));
    await visible(page.getByRole('button', { name: 'Add email', exact: true }));
    for (const field of ['full name', 'first name', 'last name', 'nickname']) expect(await page.getByRole('button', { name: `Add ${field}`, exact: true }).count(), field).toBe(0);
    await shot(page, '07-nameless');

    await shopping.getByRole('button', { name: 'Remove shopping' }).click();
    const dialog = await visible(page.getByRole('dialog', { name: 'Remove your shopping persona?' }));
    await dialog.getByRole('button', { name: 'Remove', exact: true }).click();
    await dialog.waitFor({ state: 'hidden' });
    // It was the persona shown: the page goes back to her default.
    await page.waitForURL(`${her!.base}/profile`);
    await visible(status('Removed shopping and its details.'));
    await shopping.waitFor({ state: 'detached' });
    expect((await personas()).map((p) => p.label)).toEqual(['me', 'work']);
    expect(unexpected()).toEqual([]);
  });

  it('making her own self nameless while it holds her name is refused with the agent’s words; she renames work and makes it her default', { timeout: STEP_TIMEOUT }, async () => {
    const section = page.getByRole('region', { name: 'Your personas' });
    const card = (label: string): Locator => section.getByTestId('persona').filter({ has: page.getByText(label, { exact: true }) });
    await card('me').getByRole('button', { name: 'Rename me' }).click();
    const own = await visible(page.getByRole('form', { name: 'Change me' }));
    await own.getByLabel('Nameless: never holds a name').check();
    await own.getByRole('button', { name: 'Save', exact: true }).click();
    await visible(own.getByRole('alert').filter({ hasText: 'This persona holds a name; remove it from the persona first' }));
    await expectAccessible(page, 'profile (renaming me)');
    await shot(page, '08-nameless-refused');
    await own.getByRole('button', { name: 'Cancel' }).click();
    await own.waitFor({ state: 'detached' });
    expect((await personas()).find((p) => p.label === 'me')).toMatchObject({ nameless: false, fields: 2 });

    await card('work').getByRole('button', { name: 'Rename work' }).click();
    const work = page.getByRole('form', { name: 'Change work' });
    await work.getByLabel('Name of this persona').fill('studio');
    await work.getByRole('button', { name: 'Save', exact: true }).click();
    await visible(status('Renamed work to studio.'));
    await visible(page.getByRole('navigation', { name: 'Personas' }).getByRole('link', { name: 'studio' }));
    await card('studio').getByRole('button', { name: 'Make default (studio)' }).click();
    await visible(status('New companies now know you as studio unless you choose another when you connect.'));
    await visible(card('studio').getByText('default', { exact: true }));
    await visible(page.getByRole('navigation', { name: 'Personas' }).getByRole('link', { name: 'studio (default)' }));
    expect((await personas()).map((p) => [p.label, p.isDefault])).toEqual([
      ['me', false],
      ['studio', true],
    ]);
    // The relationships say so too.
    await page.goto(`${her!.base}/relationships/${encodeURIComponent(mine.get('Bluebird Books')!.id)}`);
    await visible(page.getByRole('region', { name: 'Knows you as studio' }));

    // On a phone: the switcher and the persona cards fit.
    await page.setViewportSize(PHONE);
    await page.goto(`${her!.base}/profile`);
    await visible(page.getByRole('navigation', { name: 'Personas' }).getByRole('link', { name: 'studio (default)' }));
    await visible(page.getByRole('region', { name: 'Your studio details' }));
    await expectAccessible(page, 'profile (phone)');
    await shot(page, '09-profile-phone');
    await page.setViewportSize(WIDE);
    expect(unexpected()).toEqual([]);
  });
});
