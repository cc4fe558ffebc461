import { execFileSync } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { REPO_ROOT, buildOnceUnderLock } from './processes.js';

/**
 * The browser for the web app's end-to-end tests: playwright-core driving the system's Chromium
 * (Debian's `chromium` package). Browsers are never downloaded. Without Chromium the browser suite
 * is skipped loudly; with KITH_TEST_REQUIRE_BROWSER=1 (CI) it fails instead, as
 * KITH_TEST_REQUIRE_POSTGRES=1 does for the PostgreSQL tests.
 */

export const DEFAULT_CHROMIUM = '/usr/bin/chromium';

/** Headless, and quiet: no network of its own, no updates, no sync, no first-run UI. */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The Chromium to drive: KITH_CHROMIUM when set, else /usr/bin/chromium; undefined when it is not there. */
export function chromiumPath(): string | undefined {
  const given = process.env['KITH_CHROMIUM'];
  const path = given !== undefined && given !== '' ? given : DEFAULT_CHROMIUM;
  return isExecutable(path) ? path : undefined;
}

/**
 * Whether the browser suite can run. When it cannot: throws if KITH_TEST_REQUIRE_BROWSER=1 (CI must
 * never go green because the browser was missing), else prints a banner and returns false, for
 * `describe.skipIf(!browserAvailable(...))`.
 */
export function browserAvailable(suite: string): boolean {
  if (chromiumPath() !== undefined) return true;
  const given = process.env['KITH_CHROMIUM'];
  const where = given ? `KITH_CHROMIUM=${given} is not an executable` : `${DEFAULT_CHROMIUM} not found`;
  if (process.env['KITH_TEST_REQUIRE_BROWSER'] === '1') {
    throw new Error(`KITH_TEST_REQUIRE_BROWSER=1 but Chromium is not available (${where}). Install it with: apt-get install -y chromium`);
  }
  const bar = '!'.repeat(100);
  console.warn(
    [
      '',
      bar,
      `!!! Chromium not available (${where}): the browser suite "${suite}" is SKIPPED`,
      '!!! Install it with: apt-get install -y chromium   (or point KITH_CHROMIUM at a Chromium binary)',
      '!!! Set KITH_TEST_REQUIRE_BROWSER=1 to make a missing browser fail the run instead.',
      bar,
      '',
    ].join('\n'),
  );
  return false;
}

/** Launches the system Chromium headless. @throws when there is none */
export async function launchBrowser(): Promise<Browser> {
  const executablePath = chromiumPath();
  if (executablePath === undefined) throw new Error(`No Chromium at ${process.env['KITH_CHROMIUM'] || DEFAULT_CHROMIUM}: apt-get install -y chromium`);
  return chromium.launch({ executablePath, args: CHROMIUM_ARGS, timeout: 30_000 });
}

/**
 * Builds the web app (dist/ui) with the repository's Vite when it is missing (`npm test` and
 * `npm run build` build it; a bare `vitest run` may not have). The agent reads dist/ui once at
 * start, so this must run before `kith serve` starts. A lock directory keeps parallel test files
 * from building into the same dist/ui at once.
 */
export function ensureUiBuilt(): void {
  buildOnceUnderLock(['dist/ui/index.html', 'dist/ui/login.html'], '.kith-e2e-ui-build.lock', () =>
    execFileSync(process.execPath, [join(REPO_ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', 'src/ui/vite.config.ts'], { cwd: REPO_ROOT, stdio: 'inherit', timeout: 110_000 }),
  );
}
