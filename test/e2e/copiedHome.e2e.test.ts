import { chmodSync, cpSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ERROR_TABLE } from '../../src/core/errorTable.js';
import { ensureBuilt, freePort, killAllStarted, runCli, runCliOk, startServer, type CliResult, type RunningAgentFile, type ServerHandle } from '../support/processes.js';

/**
 * A copied home, with real processes: `kith serve` runs for her home, and the home is copied
 * whole (vault, WAL, and the agent.json that names the running agent and holds its token). The
 * CLI in the copy must not drive the original's agent: that agent's answer names the vault file it
 * serves, which is not the copy's. The CLI in the original home still uses its agent.
 */

const PASSPHRASE = 'correct horse battery staple (copied home e2e)';

interface ProfileJson {
  fields: { field: string; value: unknown }[];
}

let root: string;
let home: string;
let copy: string;
let server: ServerHandle;
let agent: RunningAgentFile;
let failed = false;

const kith = (at: string, args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> => runCli('kith', args, { home: at, env });
const email = (profile: ProfileJson): unknown => profile.fields.find((f) => f.field === 'email')?.value;

/** Her original agent's profile, asked over its API with its own token. */
async function originalProfile(): Promise<ProfileJson> {
  const response = await fetch(`${agent.url}/api/profile`, { headers: { authorization: `Bearer ${agent.token}` } });
  expect(response.status).toBe(200);
  return (await response.json()) as ProfileJson;
}

beforeAll(async () => {
  ensureBuilt();
  root = mkdtempSync(join(tmpdir(), 'kith-e2e-copied-home-'));
  home = join(root, 'me');
  copy = join(root, 'me-copy');
  await runCliOk('kith', ['init'], { home, env: { KITH_PASSPHRASE: PASSPHRASE } });
  // A stale agent.json, readable by all (a crash, or an old copy): `kith serve` must not keep its mode.
  writeFileSync(join(home, 'agent.json'), '{"stale":true}\n');
  chmodSync(join(home, 'agent.json'), 0o644);
  server = await startServer('kith', { home, port: await freePort(), logDir: join(root, 'logs'), env: { KITH_PASSPHRASE: PASSPHRASE }, serveArgs: ['--idle-lock', '0'] });
  agent = server.agent!;
  // Through her running agent (no passphrase given: only the agent can do it).
  await runCliOk('kith', ['profile', 'set', 'email', 'her@original.example'], { home });
  cpSync(home, copy, { recursive: true });
}, 60_000);

beforeEach((context) => {
  context.onTestFailed(() => {
    failed = true;
  });
});

afterAll(async () => {
  await server?.stop().catch(() => undefined);
  await killAllStarted();
  if (!root) return;
  if (failed) console.warn(`kith copied-home e2e: a step failed; homes and logs kept in ${root}`);
  else rmSync(root, { recursive: true, force: true });
});

describe('a copied home does not drive the original home’s running agent', { sequential: true }, () => {
  it('kith serve writes agent.json with mode 0600, even over a stale 0644 one, and logs no token', () => {
    expect(statSync(join(home, 'agent.json')).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(join(home, 'agent.json'), 'utf8'))).toMatchObject({ url: agent.url, pid: server.pid });
    // The copy took agent.json along: it names the original's agent, token and all.
    expect(JSON.parse(readFileSync(join(copy, 'agent.json'), 'utf8'))).toEqual(agent);
    expect(server.process.stderr()).not.toContain(agent.token);
  });

  it('in the original home the CLI still uses its running agent (no passphrase needed)', async () => {
    const status = await runCliOk('kith', ['status'], { home });
    expect(status.stdout).toBe(`Running at ${agent.url} (pid ${agent.pid})\n`);
    const profile = (await runCliOk('kith', ['--json', 'profile', 'show'], { home })).json<ProfileJson>();
    expect(email(profile)).toBe('her@original.example');
  });

  it('in the copy, a command does not reach the original agent: without the passphrase it cannot open the copy’s vault, and says why', async () => {
    const result = await kith(copy, ['--json', 'profile', 'show']);
    expect(result.code).toBe(ERROR_TABLE['vault.passphrase_required'].exit);
    expect(result.json<{ error: { code: string } }>().error.code).toBe('vault.passphrase_required');
    expect(result.stderr).toContain(`note: ${join(copy, 'agent.json')} names the agent at ${agent.url} (pid ${agent.pid}), which is not this home's: it serves another vault`);
    expect(`${result.stdout}${result.stderr}`).not.toContain(agent.token);
  });

  it('in the copy, a change goes to the copy’s vault; the original agent’s vault is untouched', async () => {
    const before = await originalProfile();
    await runCliOk('kith', ['profile', 'set', 'email', 'her@copy.example'], { home: copy, env: { KITH_PASSPHRASE: PASSPHRASE } });
    expect(await originalProfile()).toEqual(before);
    expect(email(before)).toBe('her@original.example');
    const inCopy = (await runCliOk('kith', ['--json', 'profile', 'show'], { home: copy, env: { KITH_PASSPHRASE: PASSPHRASE } })).json<ProfileJson>();
    expect(email(inCopy)).toBe('her@copy.example');
  });

  it('kith open in the copy gives no link to the original agent (agent.not_running, no token); kith status says it is not running', async () => {
    const open = await kith(copy, ['open']);
    expect(open.code).toBe(ERROR_TABLE['agent.not_running'].exit);
    expect(open.stdout).toBe('');
    expect(open.stderr).toContain('[agent.not_running]');
    expect(open.stderr).toContain('it serves another vault');
    expect(open.stderr).not.toContain(agent.token);
    const status = await runCliOk('kith', ['status'], { home: copy });
    expect(status.stdout).toMatch(/^Not running: `kith serve` starts it\.\n\(.*agent\.json names the agent at .*it serves another vault/);
    expect(status.stdout).not.toContain(agent.token);
    // And the original home's link is unchanged.
    expect((await runCliOk('kith', ['open'], { home })).stdout).toBe(`${agent.url}/login#token=${agent.token}\n`);
  });

  it('an agent.json whose token the named agent refuses is passed over too', async () => {
    writeFileSync(join(copy, 'agent.json'), `${JSON.stringify({ ...agent, token: 'not-its-token' })}\n`, { mode: 0o600 });
    const status = await runCliOk('kith', ['status'], { home: copy });
    expect(status.stdout).toContain('it does not take the token agent.json holds');
    const open = await kith(copy, ['open']);
    expect(open.code).toBe(ERROR_TABLE['agent.not_running'].exit);
  });
});
