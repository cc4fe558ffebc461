import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { expect } from 'vitest';
import { REPO_ROOT, freePort, runCliOk, startServer, type ServerHandle } from './processes.js';

/*
 * What the web app's browser tests (test/e2e/ui.*.e2e.test.ts) each set up the same way: her real
 * `kith serve --idle-lock 0` with its API token and login link, a browser page that records every
 * console error (a CSP violation is one) and uncaught error, screenshots under a file's own prefix,
 * waiting for an element, and the accessibility checks every page passes.
 */

export const SCREENSHOTS = join(REPO_ROOT, 'test', 'e2e', 'screenshots');
export const WIDE = { width: 1280, height: 900 };
export const PHONE = { width: 390, height: 844 };
export const UI_TIMEOUT = 10_000;

export interface HerWebApp {
  /** The temporary directory holding her home (`me`) and the process logs (`logs`). */
  root: string;
  home: string;
  server: ServerHandle;
  /** `http://127.0.0.1:<port>` */
  base: string;
  /** `/login#token=…`, as `kith open` prints it. */
  loginUrl: string;
  /** Her JSON API with her agent token; throws on a non-2xx answer, with its body. */
  api<T>(path: string, init?: { method?: string; body?: unknown }): Promise<T>;
  /** Stops her agent; removes the directory unless `keep` (a failed run keeps it to read). */
  stop(keep?: boolean): Promise<void>;
}

/** Her vault (`kith init`) and `kith serve --idle-lock 0` on a free port, in a new temporary directory. */
export async function startHerWebApp(options: { prefix: string; passphrase: string; env?: Record<string, string> }): Promise<HerWebApp> {
  const root = mkdtempSync(join(tmpdir(), options.prefix));
  const home = join(root, 'me');
  const env = { KITH_PASSPHRASE: options.passphrase, ...options.env };
  const port = await freePort();
  await runCliOk('kith', ['init', '--json'], { home, env });
  const server = await startServer('kith', { home, port, logDir: join(root, 'logs'), name: 'me', env, serveArgs: ['--idle-lock', '0'] });
  const base = server.url;
  const token = server.agent!.token;
  const loginUrl = (await runCliOk('kith', ['open'], { home })).stdout.trim();
  return {
    root,
    home,
    server,
    base,
    loginUrl,
    async api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
      const response = await fetch(`${base}${path}`, {
        method: init.method ?? 'GET',
        headers: { authorization: `Bearer ${token}`, ...(init.body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      });
      if (!response.ok) throw new Error(`${init.method ?? 'GET'} ${path} -> ${response.status} ${await response.text()}`);
      return (await response.json()) as T;
    },
    async stop(keep = false) {
      await server.stop().catch(() => undefined);
      if (!keep) rmSync(root, { recursive: true, force: true });
    },
  };
}

/** A page in a new browser context (English, UTC), recording its console errors and uncaught errors into `problems`. */
export async function watchedPage(browser: Browser, problems: string[], options: { who?: string; viewport?: { width: number; height: number } } = {}): Promise<Page> {
  const context = await browser.newContext({ viewport: options.viewport ?? WIDE, locale: 'en-GB', timezoneId: 'UTC' });
  const page = await context.newPage();
  page.setDefaultTimeout(UI_TIMEOUT);
  const who = options.who ? `${options.who} ` : '';
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`${who}${page.url()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`${who}${page.url()}: ${error.message}`));
  return page;
}

export async function visible(locator: Locator, timeout = UI_TIMEOUT): Promise<Locator> {
  await locator.waitFor({ state: 'visible', timeout });
  return locator;
}

/**
 * Screenshots of one test file, `test/e2e/screenshots/<prefix><name>.png`. Its old ones are removed
 * first (others' stay): a stale one must not pass for this run's.
 */
export function screenshots(prefix: string): (page: Page, name: string, viewportOnly?: boolean) => Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  for (const name of readdirSync(SCREENSHOTS)) if (name.startsWith(prefix) && name.endsWith('.png')) rmSync(join(SCREENSHOTS, name), { force: true });
  return async (page, name, viewportOnly = false) => {
    // From the top, so that the phone's sticky top bar is not captured in the middle of the page.
    if (!viewportOnly) await page.evaluate('window.scrollTo(0, 0)');
    await page.screenshot({ path: join(SCREENSHOTS, `${prefix}${name}.png`), fullPage: !viewportOnly, animations: 'disabled' });
  };
}

/** Every form control has an accessible name, and the page has one h1 (as test/e2e/ui.e2e.test.ts checks). */
export async function expectAccessible(page: Page, where: string): Promise<void> {
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
