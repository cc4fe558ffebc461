import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_TABLE } from '../../src/core/errorTable.js';
import { vaultPath } from '../../src/personal/home.js';
import { Vault } from '../../src/personal/vault/vault.js';
import { REPO_ROOT, ensureBuilt, fatal, freePort, killAllStarted, runCli, runCliOk, spawnLogged, waitFor, type CliResult } from '../support/processes.js';

/**
 * A vault with one relationship record that no longer opens (issue 17): `kith serve` refuses to
 * start (or to unlock) with the code and words every command gives, naming the table and row, and
 * `kith export --salvage` saves everything else.
 */

const PASSPHRASE = 'correct horse battery staple (corrupt vault e2e)';
const env = { KITH_PASSPHRASE: PASSPHRASE };

let root: string;
let home: string;
let broken: string;
let intact: string;

beforeAll(async () => {
  ensureBuilt();
  root = mkdtempSync(join(tmpdir(), 'kith-e2e-corrupt-'));
  home = join(root, 'me');
  await runCliOk('kith', ['init'], { home, env });
  const vault = Vault.open(vaultPath(home), PASSPHRASE);
  try {
    const base = { theirDid: 'did:web:shop.example', vendorName: 'Shop', theirEndpoint: null, customerRef: null, invitationId: null };
    broken = vault.relationships.insert({ ...base, myDid: 'did:peer:2.broken', routeToken: 'route-broken' }).id;
    intact = vault.relationships.insert({ ...base, myDid: 'did:peer:2.intact', routeToken: 'route-intact' }).id;
    vault.messages.insert({ relationshipId: intact, direction: 'in', messageId: 'm1', type: 't/1', body: { content: 'kept' } });
  } finally {
    vault.close();
  }
  // Garbage in one row's encrypted blob, behind the vault's back.
  const db = new Database(vaultPath(home));
  try {
    expect(db.prepare('UPDATE relationships SET data = ? WHERE id = ?').run(Buffer.from('garbage'), broken).changes).toBe(1);
  } finally {
    db.close();
  }
}, 60_000);

afterAll(async () => {
  await killAllStarted();
  rmSync(root, { recursive: true, force: true });
});

const corruptExit = ERROR_TABLE['vault.corrupt'].exit;

function expectCorrupt(result: CliResult): void {
  expect(result.code).toBe(corruptExit);
  expect(result.stderr).toContain(`error: ${ERROR_TABLE['vault.corrupt'].cli}: `);
  expect(result.stderr).toContain('[vault.corrupt]');
}

describe('a vault with an unreadable relationship record', () => {
  it('fails a command with vault.corrupt, and a normal export too (fail closed)', async () => {
    expectCorrupt(await runCli('kith', ['relationships'], { home, env }));
    const file = join(root, 'normal.json');
    expectCorrupt(await runCli('kith', ['export', '--plain', file], { home, env }));
    expect(existsSync(file)).toBe(false);
  });

  it('kith serve refuses to start: the same code and words, naming the table and row, non-zero exit, nothing listening', async () => {
    const port = await freePort();
    const serve = spawnLogged(join(REPO_ROOT, 'bin', 'kith.js'), ['--home', home, 'serve', '--port', String(port), '--idle-lock', '0'], { name: 'serve', logDir: join(root, 'logs'), env });
    const exit = await Promise.race([serve.exited, new Promise<'running'>((done) => setTimeout(() => done('running'), 20_000))]);
    if (exit === 'running') await serve.signalAndWait('SIGKILL');
    expect(exit).toEqual({ code: corruptExit, signal: null });
    expectCorrupt({ code: corruptExit, signal: null, stdout: serve.stdout(), stderr: serve.stderr(), json: () => undefined as never });
    expect(serve.stderr()).toContain(`relationships row ${broken}`);
    expect(serve.stderr()).toContain('kith export --salvage');
    expect(existsSync(join(home, 'agent.json'))).toBe(false);
  }, 40_000);

  it('a kith serve started locked refuses to unlock it (vault.corrupt, naming the row) and stays locked', async () => {
    const port = await freePort();
    const serve = spawnLogged(join(REPO_ROOT, 'bin', 'kith.js'), ['--home', home, 'serve', '--port', String(port), '--locked', '--idle-lock', '0'], { name: 'serve-locked', logDir: join(root, 'logs') });
    const agent = await waitFor('kith serve --locked to answer', async () => {
      const exit = serve.exit();
      if (exit) throw fatal(`kith serve exited during start (${exit.code ?? exit.signal})\n${serve.stderr()}`);
      if (!existsSync(join(home, 'agent.json'))) return undefined;
      const info = JSON.parse(readFileSync(join(home, 'agent.json'), 'utf8')) as { url: string; token: string; pid: number };
      return info.pid === serve.pid ? info : undefined;
    });
    try {
      const result = await runCli('kith', ['unlock'], { home, env });
      expect(result.code).toBe(corruptExit);
      expect(result.stderr).toContain(`error: ${ERROR_TABLE['vault.corrupt'].cli}: `);
      expect(result.stderr).toContain(`relationships row ${broken}`);
      const status = (await (await fetch(`${agent.url}/api/status`, { headers: { authorization: `Bearer ${agent.token}` } })).json()) as { locked: boolean };
      expect(status.locked).toBe(true);
    } finally {
      await serve.signalAndWait('SIGTERM');
    }
  }, 40_000);

  it('kith export --salvage writes every record that opens and names the skipped one on stderr and in the document', async () => {
    const file = join(root, 'salvage.json');
    const result = await runCliOk('kith', ['export', '--salvage', '--plain', file], { home, env });
    expect(result.stderr).toContain(`skipped: relationships row ${broken}`);
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { skipped: unknown; relationships: { id: string }[]; messages: { body: unknown }[] };
    expect(doc.skipped).toEqual([{ table: 'relationships', id: broken }]);
    expect(doc.relationships.map((r) => r.id)).toEqual([intact]);
    expect(doc.messages.map((m) => m.body)).toEqual([{ content: 'kept' }]);
    // Only ids reach stderr, never a record's content.
    expect(result.stderr).not.toContain('kept');
  }, 40_000);
});
