import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { beforeEach, expect } from 'vitest';
import { REPO_ROOT, freePort, runCliOk, startServer, type ServerHandle } from './processes.js';

/*
 * What the web app's browser suites (test/e2e/ui.*.e2e.test.ts) each set up the same way: her
 * `kith serve` with its token and sign-in link, her agent's API called with that token, a page
 * whose console errors and uncaught errors are kept, bounded waits, and the suite's screenshots
 * in test/e2e/screenshots under its own prefix.
 */

export const SCREENSHOTS = join(REPO_ROOT, 'test', 'e2e', 'screenshots');
/** Playwright's own waits (visible, hidden, clicks): generous, bounded. */
export const UI_TIMEOUT = 10_000;
export const WIDE = { width: 1280, height: 900 } as const;
export const PHONE = { width: 390, height: 844 } as const;

/** Waits until the locator shows (Playwright's bounded wait); returns it. */
export async function visible(locator: Locator, timeout = UI_TIMEOUT): Promise<Locator> {
  await locator.waitFor({ state: 'visible', timeout });
  return locator;
}

export interface HerAgent {
  server: ServerHandle;
  home: string;
  /** http://127.0.0.1:<port> */
  base: string;
  token: string;
  /** What `kith open` prints: the link that signs a browser in. */
  loginUrl: string;
  /** Her agent's JSON API with her token; a non-2xx answer throws with its body. */
  api<T>(path: string, init?: { method?: string; body?: unknown }): Promise<T>;
}

/** `kith init` and `kith serve --idle-lock 0` in `<root>/me`, logs in `<root>/logs`. */
export async function startHer(root: string, options: { passphrase: string; env?: Record<string, string> }): Promise<HerAgent> {
  const home = join(root, 'me');
  const port = await freePort();
  const env = { KITH_PASSPHRASE: options.passphrase, ...options.env };
  await runCliOk('kith', ['init', '--json'], { home, env: { KITH_PASSPHRASE: options.passphrase } });
  const server = await startServer('kith', { home, port, logDir: join(root, 'logs'), name: 'me', env, serveArgs: ['--idle-lock', '0'] });
  const base = server.url;
  const token = server.agent!.token;
  const loginUrl = (await runCliOk('kith', ['open'], { home })).stdout.trim();
  const api = async <T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> => {
    const response = await fetch(`${base}${path}`, {
      method: init.method ?? 'GET',
      headers: { authorization: `Bearer ${token}`, ...(init.body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
    if (!response.ok) throw new Error(`${init.method ?? 'GET'} ${path} -> ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  };
  return { server, home, base, token, loginUrl, api };
}

export interface WatchedPage {
  context: BrowserContext;
  page: Page;
  /** Console errors (a CSP violation is one) and uncaught errors, each with the page's URL. */
  problems: string[];
}

/**
 * A new context (en-GB, UTC) and page, its errors kept in `problems`: a new list, or one the caller
 * shares between pages (`who` then says which page each came from).
 */
export async function openPage(browser: Browser, viewport: { width: number; height: number } = WIDE, options: { problems?: string[]; who?: string } = {}): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport, locale: 'en-GB', timezoneId: 'UTC' });
  const page = await context.newPage();
  page.setDefaultTimeout(UI_TIMEOUT);
  const problems = options.problems ?? [];
  const who = options.who ? `${options.who} ` : '';
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`${who}${page.url()}: ${message.text()} (${message.location().url})`);
  });
  page.on('pageerror', (error) => problems.push(`${who}${page.url()}: ${error.message}`));
  return { context, page, problems };
}

export interface Screenshots {
  /** `<prefix><name>.png`, the whole page from the top (`viewportOnly` for a modal, whose backdrop covers the viewport only). */
  shot(page: Page, name: string, options?: { viewportOnly?: boolean }): Promise<void>;
  /** `<prefix>FAILED-<test name>.png`: what she saw when a step failed. */
  failed(page: Page | undefined, testName: string): Promise<void>;
}

/** The suite's screenshots; its stale ones (same prefix) are removed first, so none passes for this run's. */
export function screenshots(prefix: string): Screenshots {
  mkdirSync(SCREENSHOTS, { recursive: true });
  for (const name of readdirSync(SCREENSHOTS)) if (name.startsWith(prefix) && name.endsWith('.png')) rmSync(join(SCREENSHOTS, name), { force: true });
  return {
    async shot(page, name, options = {}) {
      // From the top, so that the phone's sticky top bar is not captured in the middle of the page.
      if (!options.viewportOnly) await page.evaluate('window.scrollTo(0, 0)');
      await page.screenshot({ path: join(SCREENSHOTS, `${prefix}${name}.png`), fullPage: !options.viewportOnly, animations: 'disabled' });
    },
    async failed(page, testName) {
      await page?.screenshot({ path: join(SCREENSHOTS, `${prefix}FAILED-${testName.split(':')[0]!.replace(/[^a-z0-9]+/gi, '-')}.png`), fullPage: true }).catch(() => undefined);
    },
  };
}

/** The DOM as the accessibility check reads it (structural: the test code has no DOM lib). */
interface Control {
  id: string;
  tagName: string;
  getAttribute(name: string): string | null;
  labels?: ArrayLike<{ textContent: string | null }> | null;
  ownerDocument: { getElementById(id: string): { textContent: string | null } | null };
}

/** Form controls with no accessible name (aria-labelledby, aria-label, a label, a title), as `<tag id="…">`; [] when all have one. */
export async function unnamedControls(page: Page): Promise<string[]> {
  return page.locator('input:not([type="hidden"]), select, textarea').evaluateAll((elements: Control[]) =>
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
}

/**
 * Steps that build on each other: once one fails, the rest are skipped, and the page she saw then
 * is kept as `<prefix>FAILED-<step>.png`. Call it at the top of the suite; `failed()` tells
 * afterAll whether to keep her home for reading.
 */
export function stopAtFirstFailure(shots: () => Screenshots | undefined, page: () => Page | undefined): { failed(): boolean } {
  let failed = false;
  beforeEach((ctx) => {
    if (failed) ctx.skip();
    ctx.onTestFailed(async () => {
      failed = true;
      await shots()?.failed(page(), ctx.task.name);
    });
  });
  return { failed: () => failed };
}

/** Every form control has an accessible name, and the page has one h1 (as test/e2e/ui.e2e.test.ts checks). */
export async function expectAccessible(page: Page, where: string): Promise<void> {
  expect(await unnamedControls(page), `${where}: form controls without an accessible name`).toEqual([]);
  expect(await page.locator('h1').count(), `${where}: number of h1`).toBe(1);
}
