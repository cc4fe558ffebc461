import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initCompanyHome, openCompanyHome } from '../../src/company/home.js';
import { writeRunningAgent } from '../../src/personal/home.js';
import { Vault } from '../../src/personal/vault/vault.js';
import type { RelationshipView } from '../../src/personal/views.js';
import { ensureBuilt, freePort, killAllStarted, runCliOk, startServer } from '../support/processes.js';
import { everyPath, looseModes } from '../support/fileModes.js';

/**
 * Every file holding personal data or secrets, on both sides, is its owner's only (0600, in
 * directories of 0700): the company's store with its -wal and -shm, its config and admin token,
 * her vault with its -wal and -shm, agent.json, the exports the CLI writes. Under a umask of 022,
 * which alone would leave them readable by every local user, and with files an older version left
 * readable.
 */

const PASSPHRASE = 'file modes e2e passphrase';


const names = (dir: string): string[] => everyPath(dir).map((path) => path.slice(dir.length + 1)).sort();

let root: string;
let umask: number;

beforeAll(() => {
  ensureBuilt();
  root = mkdtempSync(join(tmpdir(), 'kith-e2e-modes-'));
  // The usual default, which the CLIs inherit: new files 0644, new directories 0755.
  umask = process.umask(0o022);
}, 180_000);

afterAll(async () => {
  await killAllStarted();
  process.umask(umask);
  rmSync(root, { recursive: true, force: true });
});

describe('files of both sides are their owner’s only', () => {
  it('after init, serve, a connection, messages and exports through the real CLIs', { timeout: 90_000 }, async () => {
    const meHome = join(root, 'me');
    const companyHome = join(root, 'company');
    const companyPort = await freePort();
    await runCliOk('kith-vendor', ['init', '--name', 'Modes Ltd', '--port', String(companyPort)], { home: companyHome });
    await runCliOk('kith', ['init'], { home: meHome, env: { KITH_PASSPHRASE: PASSPHRASE } });
    // What an older version left: a store, an agent.json and an export readable by everyone.
    chmodSync(join(companyHome, 'vendor.db'), 0o644);
    writeFileSync(join(meHome, 'agent.json'), '{}\n', { mode: 0o644 });
    chmodSync(join(meHome, 'agent.json'), 0o644);
    writeFileSync(join(meHome, 'export.json'), 'old\n', { mode: 0o644 });
    chmodSync(join(meHome, 'export.json'), 0o644);

    const company = await startServer('kith-vendor', { home: companyHome, port: companyPort, logDir: root });
    const me = await startServer('kith', { home: meHome, port: await freePort(), logDir: root, env: { KITH_PASSPHRASE: PASSPHRASE } });
    const kith = (args: string[]) => runCliOk('kith', args, { home: meHome, env: { KITH_PASSPHRASE: PASSPHRASE, KITH_EXPORT_PASSPHRASE: 'export passphrase' } });
    const { url } = (await runCliOk('kith-vendor', ['invite', '--json'], { home: companyHome })).json<{ url: string }>();
    const relationship = (await kith(['connect', url, '--json'])).json<RelationshipView>();
    await kith(['message', relationship.id, 'A message in both stores']);
    await kith(['profile', 'set', 'email', 'modes@example.org', '--no-wait']);
    await kith(['export', join(meHome, 'export.json'), '--plain']);
    await kith(['export', join(meHome, 'export.jwe')]);
    await kith(['profile', 'export', join(meHome, 'me.vcf')]);

    expect(names(companyHome)).toEqual(expect.arrayContaining(['admin-token', 'config.json', 'vendor.db', 'vendor.db-shm', 'vendor.db-wal']));
    expect(names(meHome)).toEqual(expect.arrayContaining(['agent.json', 'export.json', 'export.jwe', 'me.vcf', 'vault.db', 'vault.db-shm', 'vault.db-wal']));
    expect(looseModes(companyHome)).toEqual([]);
    expect(looseModes(meHome)).toEqual([]);

    await me.stop();
    await company.stop();
  });

  it('through the home functions alone, where no CLI set the umask', async () => {
    const companyHome = join(root, 'company-in-process');
    const created = await initCompanyHome(companyHome, { name: 'In Process Ltd', port: 1 });
    await created.store.close();
    // Loosened as an older version would have left them: opening the home tightens them again.
    for (const name of ['vendor.db', 'config.json', 'admin-token']) chmodSync(join(companyHome, name), 0o644);
    const opened = await openCompanyHome(companyHome);
    expect(names(companyHome)).toEqual(expect.arrayContaining(['admin-token', 'config.json', 'vendor.db', 'vendor.db-shm', 'vendor.db-wal']));
    expect(looseModes(companyHome)).toEqual([]);
    await opened.store.close();

    const meHome = join(root, 'me-in-process');
    const vaultFile = join(meHome, 'vault.db');
    Vault.create(vaultFile, PASSPHRASE, { kdf: { N: 2 ** 12 } }).close();
    chmodSync(vaultFile, 0o644);
    const vault = Vault.open(vaultFile, PASSPHRASE, { kdf: { N: 2 ** 12 } });
    writeFileSync(join(meHome, 'agent.json'), '{}\n', { mode: 0o644 });
    writeRunningAgent(meHome, { url: 'http://127.0.0.1:1', port: 1, token: 'secret', pid: process.pid });
    expect(names(meHome)).toEqual(expect.arrayContaining(['agent.json', 'vault.db', 'vault.db-shm', 'vault.db-wal']));
    expect(looseModes(meHome)).toEqual([]);
    vault.close();
  });
});
