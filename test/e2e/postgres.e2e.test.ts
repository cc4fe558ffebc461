import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { MessageView, RelationshipView } from '../../src/personal/views.js';
import type { StoredMessage, CompanyRelationship } from '../../src/company/store/types.js';
import { ensureBuilt, freePort, killAllStarted, runCliOk, startServer, waitFor, type ServerHandle } from '../support/processes.js';

/**
 * The company agent as a real process on PostgreSQL: the database URL comes from KITH_VENDOR_DB
 * (never argv, it may carry a password), in a schema of its own inside the throwaway cluster.
 */
const postgresUrl = inject('postgresUrl');
const PASSPHRASE = 'postgres e2e passphrase';

if (!postgresUrl) {
  console.warn('PostgreSQL not available: SKIPPING the company-on-PostgreSQL e2e suite (install PostgreSQL 15 or set KITH_TEST_POSTGRES_URL)');
}

describe.skipIf(!postgresUrl)('a company agent serving from PostgreSQL', () => {
  let root: string;
  let company: ServerHandle;
  let me: ServerHandle;
  let db: string;
  const companyEnv = () => ({ KITH_VENDOR_DB: db });

  beforeAll(async () => {
    ensureBuilt();
    root = mkdtempSync(join(tmpdir(), 'kith-pg-e2e-'));
    const schema = `kith_e2e_${process.pid}_${Date.now()}`;
    // search_path through libpq options: the store's tables land in a schema this test drops.
    const { default: pg } = await import('pg');
    const admin = new pg.Client({ connectionString: postgresUrl });
    await admin.connect();
    await admin.query(`create schema ${schema}`);
    await admin.end();
    db = `${postgresUrl}${postgresUrl!.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
    const companyPort = await freePort();
    await runCliOk('kith-vendor', ['init', '--name', 'Pg Outfitters', '--port', String(companyPort)], { home: join(root, 'company'), env: companyEnv() });
    company = await startServer('kith-vendor', { home: join(root, 'company'), port: companyPort, logDir: root, env: companyEnv() });
    await runCliOk('kith', ['init'], { home: join(root, 'me'), env: { KITH_PASSPHRASE: PASSPHRASE } });
    me = await startServer('kith', { home: join(root, 'me'), port: await freePort(), logDir: root, env: { KITH_PASSPHRASE: PASSPHRASE } });
  }, 60_000);

  afterAll(async () => {
    await killAllStarted();
    rmSync(root, { recursive: true, force: true });
  });

  it('connects, carries messages both ways and erases on cut-off, all stored in PostgreSQL', async () => {
    const kith = (args: string[]) => runCliOk('kith', [...args, '--json'], { home: join(root, 'me'), env: { KITH_PASSPHRASE: PASSPHRASE } });
    const companyCli = (args: string[]) => runCliOk('kith-vendor', [...args, '--json'], { home: join(root, 'company'), env: companyEnv() });

    const { url } = (await companyCli(['invite'])).json<{ url: string }>();
    const relationship = (await kith(['connect', url])).json<RelationshipView>();
    expect(relationship.company).toBe('Pg Outfitters');

    await kith(['message', 'pg', 'Stored in PostgreSQL, please']);
    const [theirs] = (await companyCli(['relationships'])).json<CompanyRelationship[]>();
    expect(theirs?.theirDid).toBe(relationship.myDid);
    const inbound = (await companyCli(['messages', theirs!.id])).json<StoredMessage[]>();
    expect(inbound.map((m) => (m.body as { content: string }).content)).toEqual(['Stored in PostgreSQL, please']);

    await companyCli(['message', theirs!.id, 'Answer from PostgreSQL']);
    await waitFor('the answer', async () => {
      const messages = (await kith(['messages', 'pg'])).json<MessageView[]>();
      return messages.some((m) => m.content === 'Answer from PostgreSQL') ? true : undefined;
    });

    // Nothing went to a SQLite file beside the config: the store is the PostgreSQL schema.
    expect(existsSync(join(root, 'company', 'vendor.db'))).toBe(false);

    await kith(['cutoff', relationship.id, '--yes']);
    const [erased] = (await companyCli(['relationships'])).json<CompanyRelationship[]>();
    expect(erased?.state).toBe('cut_off');
    expect(erased?.theirDid).not.toBe(relationship.myDid);
    await expect(company.stop()).resolves.toBeUndefined();
    await expect(me.stop()).resolves.toBeUndefined();
  }, 60_000);
});
