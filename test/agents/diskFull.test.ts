/**
 * Disk full (issue 17 item 7): her vault and the company's SQLite store on a 2 MB tmpfs, filled
 * while they write. Each write that cannot be stored fails with a clear code (vault.disk_full,
 * store.full), the process goes on, nothing acknowledged is lost, and after space is freed the
 * vault opens with every earlier write and the store passes SQLite's integrity check.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { isKithError } from '../../src/core/errors.js';
import { createPersonalAgent } from '../../src/personal/createPersonalAgent.js';
import { Vault } from '../../src/personal/vault/vault.js';
import { openSqliteCompanyStore } from '../../src/company/store/sqlite.js';
import { connect, startCompany, startPersonal } from '../support/agents.js';
import { mountSmallDisk, type SmallDisk } from '../support/tmpfs.js';

const FAST = { kdf: { N: 2 ** 12 } };
const disk = mountSmallDisk(2 * 1024 * 1024);
const mounted = 'dir' in disk ? disk : undefined;

function codeOf(fn: () => unknown): string {
  try {
    fn();
    return 'no error';
  } catch (error) {
    return isKithError(error) ? error.code : `not a Kith error: ${String(error)}`;
  }
}

describe.skipIf(!mounted)('disk full', () => {
  const small = mounted as SmallDisk;
  afterAll(() => small.unmount());

  it('her vault: a write on a full disk is vault.disk_full, the agent goes on, and after freeing space every acknowledged write is there', () => {
    const path = join(small.dir, 'vault.db');
    const vault = Vault.create(path, 'pw', FAST);
    const agent = createPersonalAgent({ vault, inboundBaseUrl: () => 'http://127.0.0.1:1' });
    const acknowledged: Record<string, string> = {};
    agent.profile.set({ name: 'Ada Lovelace' });
    acknowledged['name'] = 'Ada Lovelace';
    small.fill();
    let refused = 'none';
    for (let i = 0; i < 200 && refused === 'none'; i++) {
      const note = `note ${i} ${'x'.repeat(3900)}`;
      const code = codeOf(() => agent.profile.set({ note }));
      if (code === 'no error') acknowledged['note'] = note;
      else refused = code;
    }
    expect(refused).toBe('vault.disk_full');
    // Still up: reads work, and so does a write once there is room.
    expect(agent.profile.profile().fields.find((f) => f.field === 'name')?.value).toBe('Ada Lovelace');
    small.free();
    agent.profile.set({ nickname: 'Ada' });
    acknowledged['nickname'] = 'Ada';
    vault.close();

    const reopened = Vault.open(path, 'pw', FAST);
    for (const [field, value] of Object.entries(acknowledged)) expect(reopened.profile.get(field)?.value).toBe(value);
    reopened.close();
    const db = new Database(path, { readonly: true });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
  });

  it('the company store: receiving on a full disk is refused 503 store.full, her agent queues and retries, and every message is stored once', async () => {
    const dbPath = join(small.dir, 'company.db');
    const company = await startCompany({ openStore: () => openSqliteCompanyStore(dbPath) });
    const personal = await startPersonal();
    try {
      const link = await connect(personal, company);
      const rel = link.companyRelationship.id;
      small.fill();
      const outcomes: { text: string; status: string }[] = [];
      for (let i = 0; i < 60 && outcomes.filter((o) => o.status === 'queued').length < 3; i++) {
        const text = `message ${i} ${'y'.repeat(1500)}`;
        const outcome = await personal.agent.sendMessage(link.view.id, text);
        outcomes.push({ text, status: outcome.status });
      }
      // The disk filled up: some were refused and queued, none failed outright, and the process answers.
      expect(outcomes.filter((o) => o.status === 'queued').length).toBeGreaterThan(0);
      const probe = await fetch(`${company.url}/health`);
      expect(probe.status).toBe(200);
      company.rejectionLog.flush();
      const log = readFileSync(company.logPath, 'utf8');
      expect(log).toContain('store.full');
      expect(log).not.toContain('"internal"');
      // Nothing acknowledged that was not stored: every message her agent saw accepted is in the store.
      const stored = () => company.store.listMessages(rel).then((ms) => ms.filter((m) => m.direction === 'in').map((m) => (m.body as { content: string }).content));
      const acknowledged = outcomes.filter((o) => o.status === 'sent').map((o) => o.text);
      expect(await stored()).toEqual(acknowledged);

      small.free();
      await personal.agent.deliverOutbox();
      for (let i = 0; i < 20 && personal.vault.outbox.list().length > 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        await personal.agent.deliverOutbox();
      }
      expect(personal.vault.outbox.list()).toEqual([]);
      expect((await stored()).sort()).toEqual(outcomes.map((o) => o.text).sort());
    } finally {
      await personal.cleanup();
      await company.cleanup();
    }
    const db = new Database(dbPath, { readonly: true });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
  });
});
