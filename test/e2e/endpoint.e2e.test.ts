import { createServer, type Server } from 'node:http';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, ensureBuilt, freePort, isListening, killAllStarted, runCli, runCliOk, spawnLogged, startServer, waitFor } from '../support/processes.js';

/**
 * Endpoints that cannot silently be wrong (issue 17 item 5), with the real CLIs: a `serve --port`
 * that contradicts the endpoint published in the agent's DIDs is refused naming both; a
 * consistent start works; and at start-up the published endpoint must answer as this very
 * process, so another program listening there is caught.
 */

let root: string;
const servers: Server[] = [];

beforeAll(() => {
  ensureBuilt();
  root = mkdtempSync(join(tmpdir(), 'kith-e2e-endpoint-'));
}, 180_000);

afterAll(async () => {
  await killAllStarted();
  for (const server of servers) server.close();
  rmSync(root, { recursive: true, force: true });
});

/** Another program on a port: answers every request 200 with JSON, as a careless health check would accept. */
async function impostor(port: number): Promise<void> {
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'));
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  servers.push(server);
}

describe('kith-vendor serve and its published endpoint', () => {
  it('refuses a --port other than the one its DID publishes, naming both, and starts on the published one', { timeout: 90_000 }, async () => {
    const home = join(root, 'acme');
    const [published, other] = [await freePort(), await freePort()];
    await runCliOk('kith-vendor', ['init', '--name', 'Port Ltd', '--port', String(published)], { home });

    const refused = await runCli('kith-vendor', ['serve', '--port', String(other)], { home });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('[config.endpoint_mismatch]');
    expect(refused.stderr).toContain(`--port ${other}`);
    expect(refused.stderr).toContain(`http://127.0.0.1:${published}/didcomm`);
    expect(refused.stderr).toContain('--no-endpoint-check');
    expect(await isListening(other)).toBe(false);

    // Consistent: the same port (given, or from the config) starts, and the endpoint answers as it.
    const server = await startServer('kith-vendor', { home, port: published, logDir: root });
    const instance = (await (await fetch(`${server.url}/.well-known/kith-instance`)).json()) as { instance: string };
    expect(instance.instance).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(server.process.stderr()).not.toContain('endpoint_check_skipped');
  });

  it('refuses to start when another process answers at the published URL', { timeout: 90_000 }, async () => {
    const home = join(root, 'proxied');
    const [published, own] = [await freePort(), await freePort()];
    // The public URL is set explicitly (as behind a proxy), so the port alone proves nothing.
    await runCliOk('kith-vendor', ['init', '--name', 'Proxied Ltd', '--port', String(own), '--public-url', `http://127.0.0.1:${published}/`], { home });

    const nothing = await runCli('kith-vendor', ['serve'], { home });
    expect([nothing.code, nothing.stderr]).toEqual([1, expect.stringContaining('[config.endpoint_unreachable]')]);
    expect(nothing.stderr).toContain(`http://127.0.0.1:${published}`);

    await impostor(published);
    const other = await runCli('kith-vendor', ['serve'], { home });
    expect([other.code, other.stderr]).toEqual([1, expect.stringContaining('[config.endpoint_not_ours]')]);
    expect(other.stderr).toContain(`http://127.0.0.1:${published}`);
    expect(await isListening(own)).toBe(false);

    // The operator says the published URL is served by something else on purpose: it starts, and warns.
    const skipped = await startServer('kith-vendor', { home, port: own, logDir: root, name: 'proxied-skip', serveArgs: ['--no-endpoint-check'] });
    expect(skipped.process.stderr()).toContain('endpoint_check_skipped');
  });

  it('tells another Kith agent answering at the published URL from itself', { timeout: 90_000 }, async () => {
    const [first, second] = [join(root, 'first'), join(root, 'second')];
    const [taken, own] = [await freePort(), await freePort()];
    await runCliOk('kith-vendor', ['init', '--name', 'First Ltd', '--port', String(taken)], { home: first });
    await startServer('kith-vendor', { home: first, port: taken, logDir: root, name: 'first' });
    // The second company's public URL points at the first agent: a 200 with an instance id, but not its own.
    await runCliOk('kith-vendor', ['init', '--name', 'Second Ltd', '--port', String(own), '--public-url', `http://127.0.0.1:${taken}/`], { home: second });
    const refused = await runCli('kith-vendor', ['serve'], { home: second });
    expect([refused.code, refused.stderr]).toEqual([1, expect.stringContaining('[config.endpoint_not_ours]')]);
    expect(refused.stderr).toContain('Another Kith agent process');
  });
});

/** Her vault's files, byte for byte (the database and its WAL). */
function vaultDigest(home: string): string {
  const hash = createHash('sha256');
  for (const file of ['vault.db', 'vault.db-wal']) if (existsSync(join(home, file))) hash.update(readFileSync(join(home, file)));
  return hash.digest('hex');
}

describe('kith serve and the endpoint her relationships publish', () => {
  const PASSPHRASE = 'endpoint check passphrase';
  const env = { KITH_PASSPHRASE: PASSPHRASE };

  it('refuses a --port her relationships do not publish, naming both and how many use the old one; a plain serve uses theirs', { timeout: 120_000 }, async () => {
    const me = join(root, 'me');
    const company = join(root, 'shop');
    const [companyPort, herPort, otherPort] = [await freePort(), await freePort(), await freePort()];
    await runCliOk('kith-vendor', ['init', '--name', 'Endpoint Shop', '--port', String(companyPort)], { home: company });
    await runCliOk('kith', ['init'], { home: me, env });
    await startServer('kith-vendor', { home: company, port: companyPort, logDir: root, name: 'shop' });
    const first = await startServer('kith', { home: me, port: herPort, logDir: root, env, name: 'me-first' });
    const { url } = (await runCliOk('kith-vendor', ['invite', '--json', '--no-qr'], { home: company })).json<{ url: string }>();
    await runCliOk('kith', ['connect', url], { home: me, env });
    await first.stop();

    const before = vaultDigest(me);
    const refused = await runCli('kith', ['serve', '--port', String(otherPort)], { home: me, env });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('[config.endpoint_mismatch]');
    expect(refused.stderr).toContain(`--port ${otherPort}`);
    expect(refused.stderr).toContain(`http://127.0.0.1:${herPort}/didcomm (1 relationship)`);
    expect(refused.stderr).toContain(`--port ${herPort}`);
    expect(await isListening(otherPort)).toBe(false);
    expect(vaultDigest(me)).toBe(before);

    // Started locked, the port is checked when she unlocks: the unlock is refused, the vault stays locked.
    const locked = await startServer('kith', { home: me, port: otherPort, logDir: root, name: 'me-locked', serveArgs: ['--locked', '--idle-lock', '0'] });
    const unlock = await runCli('kith', ['unlock'], { home: me, env });
    expect([unlock.code, unlock.stderr]).toEqual([1, expect.stringContaining('[config.endpoint_mismatch]')]);
    const status = (await (await fetch(`${locked.url}/api/status`, { headers: { authorization: `Bearer ${locked.agent!.token}` } })).json()) as { locked: boolean };
    expect(status.locked).toBe(true);
    await locked.stop();

    // Without --port she is served where her relationships reach her, and the check passes.
    const plain = spawnLogged(join(REPO_ROOT, 'bin', 'kith.js'), ['--home', me, 'serve', '--idle-lock', '0'], { name: 'me-plain', logDir: root, env });
    const info = await waitFor('her agent on the published port', () => {
      if (plain.exit()) throw new Error(`kith serve exited: ${plain.stderr()}`);
      const text = existsSync(join(me, 'agent.json')) ? readFileSync(join(me, 'agent.json'), 'utf8') : '';
      const parsed = text ? (JSON.parse(text) as { port: number; pid: number }) : undefined;
      return parsed?.pid === plain.pid ? parsed : undefined;
    });
    expect(info.port).toBe(herPort);
    expect(plain.stderr()).not.toContain('endpoint');
  });
});
