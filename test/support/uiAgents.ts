import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { openPage, screenshots as suiteScreenshots, startHer, WIDE, type HerAgent } from './uiSuite.js';

/*
 * The browser suites' set-up in the shape test/e2e/ui.personas.e2e.test.ts uses it: her web app in
 * a temporary directory of its own, a watched page writing into a shared list of problems, a
 * screenshot function, and the accessibility check as one assertion. Everything underneath is
 * test/support/uiSuite.ts.
 */

export { PHONE, SCREENSHOTS, UI_TIMEOUT, WIDE, expectAccessible, visible } from './uiSuite.js';

export interface HerWebApp extends HerAgent {
  /** The temporary directory holding her home (`me`) and the process logs (`logs`). */
  root: string;
  /** Stops her agent; removes the directory unless `keep` (a failed run keeps it to read). */
  stop(keep?: boolean): Promise<void>;
}

/** Her vault (`kith init`) and `kith serve --idle-lock 0` on a free port, in a new temporary directory. */
export async function startHerWebApp(options: { prefix: string; passphrase: string; env?: Record<string, string> }): Promise<HerWebApp> {
  const root = mkdtempSync(join(tmpdir(), options.prefix));
  const her = await startHer(root, options);
  return {
    ...her,
    root,
    async stop(keep = false) {
      await her.server.stop().catch(() => undefined);
      if (!keep) rmSync(root, { recursive: true, force: true });
    },
  };
}

/** A page in a new browser context (English, UTC), its console and uncaught errors added to `problems` (prefixed with `who`). */
export async function watchedPage(browser: Browser, problems: string[], options: { who?: string; viewport?: { width: number; height: number } } = {}): Promise<Page> {
  return (await openPage(browser, options.viewport ?? WIDE, { problems, ...(options.who ? { who: options.who } : {}) })).page;
}

/** Screenshots of one test file (`<prefix><name>.png`), as a function of page, name and `viewportOnly`. */
export function screenshots(prefix: string): (page: Page, name: string, viewportOnly?: boolean) => Promise<void> {
  const shots = suiteScreenshots(prefix);
  return (page, name, viewportOnly = false) => shots.shot(page, name, { viewportOnly });
}
