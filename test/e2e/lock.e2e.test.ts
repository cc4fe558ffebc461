import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ERROR_TABLE } from '../../src/core/errorTable.js';
import { vaultFileId } from '../../src/personal/home.js';
import { REPO_ROOT, baseEnv, ensureBuilt, fatal, freePort, isListening, killAllStarted, runCli, runCliOk, spawnLogged, waitFor, type CliResult, type LoggedProcess } from '../support/processes.js';

/**
 * Locking, end to end: a real `kith serve --locked --idle-lock 0` process (started without her
 * passphrase), and the CLI against it: refused while locked, `kith unlock`, `kith lock`,
 * `kith open`, and a clean SIGTERM.
 */

const PASSPHRASE = 'correct horse battery staple (lock e2e)';

interface AgentFile {
  url: string;
  port: number;
  token: string;
  pid: number;
}

let root: string;
let home: string;
let port: number;
let serve: LoggedProcess | undefined;
let agent: AgentFile;
let failed = false;

const kith = (args: string[], env: Record<string, string | undefined> = { KITH_PASSPHRASE: PASSPHRASE }): Promise<CliResult> => runCli('kith', args, { home, env });
const kithOk = (args: string[], env: Record<string, string | undefined> = { KITH_PASSPHRASE: PASSPHRASE }): Promise<CliResult> => runCliOk('kith', args, { home, env });

async function status(): Promise<{ ok: boolean; locked: boolean; relationships: number | null }> {
  const response = await fetch(`${agent.url}/api/status`, { headers: { authorization: `Bearer ${agent.token}` } });
  expect(response.status).toBe(200);
  return (await response.json()) as { ok: boolean; locked: boolean; relationships: number | null };
}

beforeAll(async () => {
  ensureBuilt();
  root = mkdtempSync(join(tmpdir(), 'kith-e2e-lock-'));
  home = join(root, 'me');
  port = await freePort();
  await kithOk(['init']);
  // No passphrase in its environment: a locked start must not need one.
  serve = spawnLogged(join(REPO_ROOT, 'bin', 'kith.js'), ['--home', home, 'serve', '--port', String(port), '--locked', '--idle-lock', '0'], { name: 'serve', logDir: join(root, 'logs') });
  const started = serve;
  agent = await waitFor(
    'kith serve --locked to answer',
    async () => {
      const exit = started.exit();
      if (exit) throw fatal(`kith serve exited during start (${exit.code ?? exit.signal})\n${started.stderr()}`);
      if (!existsSync(join(home, 'agent.json'))) return undefined;
      const info = JSON.parse(readFileSync(join(home, 'agent.json'), 'utf8')) as AgentFile;
      if (info.pid !== started.pid) return undefined;
      const response = await fetch(`${info.url}/api/status`, { headers: { authorization: `Bearer ${info.token}` } });
      return response.ok && started.stdout().includes('Web app:') ? info : undefined;
    },
    { timeoutMs: 10_000, intervalMs: 50 },
  );
}, 30_000);

beforeEach((context) => {
  context.onTestFailed(() => {
    failed = true;
  });
});

afterAll(async () => {
  if (serve && !serve.exit()) await serve.signalAndWait('SIGTERM').catch(() => undefined);
  await killAllStarted();
  if (!root) return;
  if (failed) console.warn(`kith lock e2e: a step failed; home and logs kept in ${root}`);
  else rmSync(root, { recursive: true, force: true });
});

describe('kith serve --locked, driven by the CLI', { sequential: true }, () => {
  it('starts locked and prints where it listens and how to open the web app, its token in no output', async () => {
    expect(agent).toMatchObject({ url: `http://127.0.0.1:${port}`, port });
    expect(agent.token.length).toBeGreaterThanOrEqual(20);
    const out = serve!.stdout();
    expect(out).toContain(`Kith personal agent listening on http://127.0.0.1:${port} (locked)\n`);
    // Its output goes to a file here, not a terminal: the token stays out of it (it is in agent.json, 0600), and `kith open` prints the link.
    expect(out).toContain('Web app: `kith open` prints its sign-in link');
    expect(out).toContain(`(API token in ${join(home, 'agent.json')}, readable only by you)`);
    expect(out).not.toContain(agent.token);
    expect((await kith(['open'])).stdout).toBe(`http://127.0.0.1:${port}/login#token=${agent.token}\n`);
    expect(await status()).toEqual({ ok: true, locked: true, relationships: null, passphraseHint: null, vaultFile: vaultFileId(home) });
  });

  it('kith relationships fails while locked, with the exit code and text of vault.locked', async () => {
    const result = await kith(['relationships']);
    expect(result.code).toBe(ERROR_TABLE['vault.locked'].exit);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(new RegExp(`^error: ${ERROR_TABLE['vault.locked'].cli}: .*kith unlock.*\\[vault\\.locked\\]\\n$`));
    const json = await kith(['--json', 'relationships']);
    expect(json.code).toBe(ERROR_TABLE['vault.locked'].exit);
    expect(json.json<{ error: { code: string } }>().error.code).toBe('vault.locked');
  });

  it('kith unlock with a wrong passphrase fails and it stays locked', async () => {
    const result = await kith(['unlock'], { KITH_PASSPHRASE: 'not her passphrase' });
    expect(result.code).toBe(ERROR_TABLE['vault.wrong_passphrase'].exit);
    expect(result.stderr).toContain(`error: ${ERROR_TABLE['vault.wrong_passphrase'].cli}: `);
    expect(result.stderr).toContain('[vault.wrong_passphrase]');
    expect((await status()).locked).toBe(true);
  });

  it('kith unlock (KITH_PASSPHRASE) unlocks; kith relationships then works', async () => {
    const unlock = await kithOk(['unlock']);
    expect(unlock.stdout).toBe('Unlocked.\n');
    expect(await status()).toEqual({ ok: true, locked: false, relationships: 0, passphraseHint: null, vaultFile: vaultFileId(home) });
    const relationships = await kithOk(['relationships']);
    expect(relationships.stdout).toContain('No relationships yet.');
    expect((await kithOk(['--json', 'relationships'])).json()).toEqual([]);
  });

  it('kith lock locks it again', async () => {
    const lock = await kithOk(['lock']);
    expect(lock.stdout).toBe('Locked.\n');
    expect((await status()).locked).toBe(true);
    expect((await kith(['relationships'])).code).toBe(ERROR_TABLE['vault.locked'].exit);
  });

  it('kith open prints the login link with the token from agent.json', async () => {
    const token = (JSON.parse(readFileSync(join(home, 'agent.json'), 'utf8')) as AgentFile).token;
    const open = await kithOk(['open'], {});
    expect(open.stdout).toBe(`http://127.0.0.1:${port}/login#token=${token}\n`);
  });

  it('SIGTERM stops it cleanly (exit 0) and removes agent.json', async () => {
    const exit = await serve!.signalAndWait('SIGTERM', 10_000);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(existsSync(join(home, 'agent.json'))).toBe(false);
    expect(serve!.stderr()).not.toContain(agent.token);
  });
});

describe('the first words a newcomer meets without a passphrase or a vault', () => {
  it('says in one sentence which variable to set or that a terminal would ask, and that kith init makes a vault', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'kith-newcomer-'));
    try {
      // No KITH_PASSPHRASE (the helper passes none unless told) and no terminal.
      const init = await runCli('kith', ['init'], { home: empty });
      expect(init.code).toBe(ERROR_TABLE['vault.passphrase_required'].exit);
      expect(init.stderr.trim()).toBe('error: No passphrase: set KITH_PASSPHRASE, or run in a terminal to be asked for it [vault.passphrase_required]');
      const serve = await runCli('kith', ['serve'], { home: empty });
      expect(serve.code).toBe(ERROR_TABLE['vault.not_initialized'].exit);
      expect(serve.stderr.trim()).toBe(`error: No vault here: nothing at ${join(empty, 'vault.db')}; create one with \`kith init\` [vault.not_initialized]`);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe('kith serve started through npx', () => {
  it('stops when a supervisor stops the npx process (npm does not pass SIGTERM on)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kith-npx-'));
    const npxHome = join(dir, 'home');
    await runCliOk('kith', ['init', '--json'], { home: npxHome, env: { KITH_PASSPHRASE: PASSPHRASE } });
    const npxPort = await freePort();
    // `npx kith` in the repository runs its own bin (never the registry's "kith": --no-install).
    const npx = spawn('npx', ['--no-install', 'kith', '--home', npxHome, 'serve', '--port', String(npxPort), '--locked', '--idle-lock', '0'], { cwd: REPO_ROOT, env: baseEnv(), stdio: 'ignore' });
    try {
      await waitFor('the agent under npx to listen', async () => ((await isListening(npxPort)) ? true : undefined), { timeoutMs: 30_000, intervalMs: 100 });
      npx.kill('SIGTERM');
      // It notices its launcher is gone within a second; a loaded CI machine gets room to spare.
      await waitFor('the agent to stop after npx went away', async () => (!(await isListening(npxPort)) ? true : undefined), { timeoutMs: 25_000, intervalMs: 100 });
    } finally {
      npx.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
