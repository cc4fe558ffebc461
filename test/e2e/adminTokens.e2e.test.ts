import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, freePort, killAllStarted, runCli, runCliOk, startServer } from '../support/processes.js';

/**
 * `kith-vendor token create | list | revoke` against a running `kith-vendor serve`: the token is
 * printed once and kept as a hash, works at once with its scopes only, and stops working when
 * revoked, with no restart; the home's admin-token keeps every scope.
 */

let root: string;

beforeAll(() => {
  ensureBuilt();
  root = mkdtempSync(join(tmpdir(), 'kith-e2e-tokens-'));
}, 180_000);

afterAll(async () => {
  await killAllStarted();
  rmSync(root, { recursive: true, force: true });
});

describe('kith-vendor token', () => {
  it('creates, lists and revokes scoped tokens a running agent honours', { timeout: 90_000 }, async () => {
    const home = join(root, 'company');
    const port = await freePort();
    await runCliOk('kith-vendor', ['init', '--name', 'Tokens Ltd', '--port', String(port)], { home });
    const adminToken = readFileSync(join(home, 'admin-token'), 'utf8').trim();
    const server = await startServer('kith-vendor', { home, port, logDir: root });
    const call = async (method: string, path: string, token: string, body?: unknown) => {
      const response = await fetch(`${server.url}${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
      return [response.status, ((await response.json().catch(() => ({}))) as { error?: { code?: string } }).error?.code ?? 'ok'];
    };

    const created = (await runCliOk('kith-vendor', ['token', 'create', '--scopes', 'read', '--name', 'dashboard', '--json'], { home })).json<{ name: string; scopes: string[]; token: string }>();
    expect(created).toMatchObject({ name: 'dashboard', scopes: ['read'] });
    expect(statSync(join(home, 'tokens.json')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(home, 'tokens.json'), 'utf8')).not.toContain(created.token);
    const human = await runCliOk('kith-vendor', ['token', 'create', '--scopes', 'read,write'], { home });
    expect(human.stdout).toMatch(/^Token "token-[A-Za-z0-9]+" \(read, write\):\n[A-Za-z0-9_-]{43}\nShown once/);

    const listed = (await runCliOk('kith-vendor', ['token', 'list', '--json'], { home })).json<{ name: string; scopes: string[] }[]>();
    expect(listed.map((t) => [t.name, t.scopes.join(',')])).toEqual([['dashboard', 'read'], [expect.stringMatching(/^token-/), 'read,write']]);
    expect(JSON.stringify(listed)).not.toContain(created.token);

    // Made while it runs: honoured at once, with its scope only.
    expect(await call('GET', '/admin/relationships', created.token)).toEqual([200, 'ok']);
    expect(await call('GET', '/metrics', created.token)).toEqual([200, 'ok']);
    expect(await call('POST', '/admin/relationships/nobody/messages', created.token, { content: 'hi' })).toEqual([403, 'api.insufficient_scope']);
    expect(await call('POST', '/admin/relationships/nobody/messages', adminToken, { content: 'hi' })).toEqual([404, 'relationship.unknown']);

    // Bad input: its code, nothing changed.
    const before = readFileSync(join(home, 'tokens.json'), 'utf8');
    const duplicate = await runCli('kith-vendor', ['token', 'create', '--scopes', 'read', '--name', 'dashboard'], { home });
    expect([duplicate.code, duplicate.stderr]).toEqual([1, expect.stringContaining('[api.token_exists]')]);
    const unknownScope = await runCli('kith-vendor', ['token', 'create', '--scopes', 'read,root'], { home });
    expect([unknownScope.code, unknownScope.stderr]).toEqual([1, expect.stringContaining('[api.bad_request]')]);
    const unknownName = await runCli('kith-vendor', ['token', 'revoke', 'nobody'], { home });
    expect([unknownName.code, unknownName.stderr]).toEqual([1, expect.stringContaining('[api.token_unknown]')]);
    expect(readFileSync(join(home, 'tokens.json'), 'utf8')).toBe(before);

    await runCliOk('kith-vendor', ['token', 'revoke', 'dashboard'], { home });
    expect(await call('GET', '/admin/relationships', created.token)).toEqual([401, 'api.unauthorized']);
    expect(await call('GET', '/admin/relationships', adminToken)).toEqual([200, 'ok']);
    expect((await runCliOk('kith-vendor', ['token', 'list', '--json'], { home })).json<unknown[]>()).toHaveLength(1);

    await server.stop();
    const logs = server.process.stderr() + server.process.stdout();
    for (const secret of [created.token, adminToken]) expect(logs).not.toContain(secret);
  });
});
