import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/clock.js';
import type { KithError } from '../../core/errors.js';
import { generateKeyPair } from '../../protocol/keys.js';
import { EXPORT_CONTENT_TYPE, exportVault, importVault, openExport, sealExport, type ExportDocument } from './export.js';
import { Vault } from './vault.js';

const FAST = { kdf: { N: 2 ** 12 } };
const PASS = 'export passphrase';
let dir: string;
let vault: Vault;
let clock: ManualClock;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kith-export-'));
  clock = new ManualClock();
  vault = Vault.create(join(dir, 'source.db'), 'vault pass', { ...FAST, clock });
  populate(vault);
});
afterEach(() => {
  vault.close();
  rmSync(dir, { recursive: true, force: true });
});

function populate(v: Vault): void {
  const base = { theirDid: 'did:web:shop.example', theirEndpoint: 'https://shop.example/in', customerRef: 'C-1', invitationId: 'inv-1' };
  const a = v.relationships.insert({ ...base, myDid: 'did:peer:2.a', routeToken: 'ra', vendorName: 'Shop', notes: { pinned: true } });
  clock.advance(1000);
  const b = v.relationships.insert({ ...base, myDid: 'did:peer:2.b', routeToken: 'rb', vendorName: null });
  v.relationships.setState(a.id, 'active', clock.now());
  v.relationships.setState(b.id, 'cut_off', clock.now());
  v.keys.insert({ kid: 'did:peer:2.a#key-1', relationshipId: a.id, purpose: 'authentication', ...generateKeyPair('Ed25519') });
  v.keys.insert({ kid: 'did:peer:2.a#key-2', relationshipId: a.id, purpose: 'keyAgreement', ...generateKeyPair('X25519') });
  v.keys.insert({ kid: 'agent#key-1', relationshipId: null, purpose: 'authentication', ...generateKeyPair('Ed25519') });
  clock.advance(1000);
  v.messages.insert({ relationshipId: a.id, direction: 'in', messageId: 'm1', type: 't/1', body: { content: 'hello' }, thid: 'm1' });
  v.messages.insert({ relationshipId: a.id, direction: 'in', messageId: 'm2', type: 't/1', body: [1, 2], status: 'held' });
  v.messages.insert({ relationshipId: a.id, direction: 'out', messageId: 'm3', type: 't/1', body: null, status: 'sent' });
  v.receipts.insert({ relationshipId: b.id, kind: 'erasure', jws: '{"payload":"e30","signatures":[]}', body: { ok: true } });
  v.outbox.enqueue({ relationshipId: a.id, messageId: 'm4', plaintext: { id: 'm4' }, attempts: 3, nextAttemptAt: clock.now() + 5000 });
  v.settings.set('theme', 'dark');
  v.settings.set('profile', { name: 'Ada' });
}

async function codeOfAsync(fn: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await fn();
  } catch (err) {
    return (err as KithError).code;
  }
  return undefined;
}

/** The path a restore would use; the tests check that nothing appears there on failure. */
const target = (): string => join(dir, 'restored.db');
const restore = async (text: string, passphrase: string): Promise<Vault> =>
  importVault(target(), 'new vault pass', await openExport(text, passphrase), FAST);

function withoutTime(doc: ExportDocument): Omit<ExportDocument, 'exportedAt'> {
  const { exportedAt: _exportedAt, ...rest } = doc;
  return rest;
}

describe('exporting', () => {
  it('produces a document with every record, valid against the schema', () => {
    const doc = exportVault(vault);
    expect(doc).toMatchObject({ format: 'kith-export', version: 1, exportedAt: new Date(clock.now()).toISOString() });
    expect(doc.relationships.map((r) => r.state)).toEqual(['active', 'cut_off']);
    expect([doc.keys.length, doc.messages.length, doc.receipts.length, doc.outbox.length]).toEqual([3, 3, 1, 1]);
    expect(doc.settings).toEqual({ theme: 'dark', profile: { name: 'Ada' } });
  });

  it('encrypts by default as a General JSON JWE with PBES2 and our content type', async () => {
    const text = await sealExport(exportVault(vault), PASS);
    const jwe = JSON.parse(text) as { protected: string; recipients: unknown[] };
    expect(jwe.recipients).toHaveLength(1);
    const header = JSON.parse(Buffer.from(jwe.protected, 'base64url').toString('utf8')) as Record<string, unknown>;
    expect(header).toMatchObject({ alg: 'PBES2-HS512+A256KW', enc: 'A256GCM', cty: EXPORT_CONTENT_TYPE, p2c: 600000 });
    expect(Buffer.from(String(header['p2s']), 'base64url').length).toBeGreaterThanOrEqual(16);
    expect(text).not.toContain('did:peer:2.a');
    expect(text).not.toContain('hello');
  });

  it('writes plain JSON only when asked', async () => {
    const doc = exportVault(vault);
    const text = await sealExport(doc, '', { plain: true });
    expect(JSON.parse(text)).toEqual(doc);
    expect(await openExport(text, 'ignored')).toEqual(doc);
  });
});

describe('importing', () => {
  it('restores every relationship, key, message, receipt, outbox item and setting from an encrypted export', async () => {
    const doc = exportVault(vault);
    const restored = await restore(await sealExport(doc, PASS), PASS);
    expect(withoutTime(exportVault(restored))).toEqual(withoutTime(doc));
    const [a] = doc.relationships;
    expect(restored.relationships.findByMyDid('did:peer:2.a')).toEqual(a);
    expect(restored.keys.getByKid('did:peer:2.a#key-2')).toEqual(doc.keys[1]);
    expect(restored.messages.findByMessageId('m2')).toEqual(doc.messages[1]);
    expect(restored.messages.list(a?.id ?? '')).toHaveLength(2);
    expect(restored.outbox.due(clock.now() + 5000, 10)).toEqual(doc.outbox);
    expect(restored.receipts.list()).toEqual(doc.receipts);
    expect(restored.settings.get('profile')).toEqual({ name: 'Ada' });
    restored.close();
    Vault.open(target(), 'new vault pass').close();
  });

  it('restores from a plain export too', async () => {
    const doc = exportVault(vault);
    const restored = await restore(await sealExport(doc, '', { plain: true }), '');
    expect(withoutTime(exportVault(restored))).toEqual(withoutTime(doc));
    restored.close();
  });

  it('refuses to import over an existing vault and leaves it alone', async () => {
    const doc = exportVault(vault);
    const existing = Vault.create(target(), 'pw', FAST);
    existing.close();
    expect(await codeOfAsync(async () => importVault(target(), 'pw', doc, FAST))).toBe('vault.exists');
    const reopened = Vault.open(target(), 'pw');
    expect(reopened.relationships.list()).toEqual([]);
    reopened.close();
  });

  it('is all or nothing: an inconsistent export leaves no file behind', async () => {
    const doc = exportVault(vault);
    const broken: ExportDocument = {
      ...doc,
      messages: [...doc.messages, { ...doc.messages[0]!, id: '00000000-0000-4000-8000-000000000001', messageId: 'orphan', relationshipId: '00000000-0000-4000-8000-000000000009' }],
    };
    expect(await codeOfAsync(async () => importVault(target(), 'pw', broken, FAST))).toBe('export.corrupted');
    expect(readdirSync(dir).filter((f) => f.startsWith('restored'))).toEqual([]);
  });
});

describe('reading damaged or foreign files', () => {
  it('reports a flipped ciphertext byte as corrupted and creates no vault', async () => {
    const jwe = JSON.parse(await sealExport(exportVault(vault), PASS)) as { ciphertext: string };
    const bytes = Buffer.from(jwe.ciphertext, 'base64url');
    bytes[10] = (bytes[10] ?? 0) ^ 0x01;
    const text = JSON.stringify({ ...jwe, ciphertext: bytes.toString('base64url') });
    expect(await codeOfAsync(() => restore(text, PASS))).toBe('export.corrupted');
    expect(existsSync(target())).toBe(false);
  });

  it('reports a truncated export as corrupted and creates no vault', async () => {
    const text = await sealExport(exportVault(vault), PASS);
    expect(await codeOfAsync(() => restore(text.slice(0, Math.floor(text.length / 2)), PASS))).toBe('export.corrupted');
    const jwe = JSON.parse(text) as { ciphertext: string };
    const shortened = JSON.stringify({ ...jwe, ciphertext: jwe.ciphertext.slice(0, 40) });
    expect(await codeOfAsync(() => restore(shortened, PASS))).toBe('export.corrupted');
    expect(existsSync(target())).toBe(false);
  });

  it('reports a wrong passphrase as vault.wrong_passphrase', async () => {
    const text = await sealExport(exportVault(vault), PASS);
    expect(await codeOfAsync(() => restore(text, 'not the passphrase'))).toBe('vault.wrong_passphrase');
    expect(existsSync(target())).toBe(false);
  });

  it('reports JSON that is not ours as foreign', async () => {
    expect(await codeOfAsync(() => openExport('{"hello":"world"}', PASS))).toBe('export.foreign');
    expect(await codeOfAsync(() => openExport('[1,2,3]', PASS))).toBe('export.foreign');
    const foreignHeader = Buffer.from(JSON.stringify({ alg: 'dir', enc: 'A256GCM', cty: 'text/plain', p2s: 'x', p2c: 1 })).toString('base64url');
    const foreignJwe = JSON.stringify({ protected: foreignHeader, iv: 'a', ciphertext: 'b', tag: 'c', recipients: [{}] });
    expect(await codeOfAsync(() => openExport(foreignJwe, PASS))).toBe('export.foreign');
  });

  it('reports another export version as unsupported and an invalid document as corrupted', async () => {
    const doc = exportVault(vault);
    expect(await codeOfAsync(() => openExport(JSON.stringify({ ...doc, version: 2 }), PASS))).toBe('export.unsupported_version');
    expect(await codeOfAsync(() => openExport(JSON.stringify({ ...doc, keys: 'none' }), PASS))).toBe('export.corrupted');
  });

  it('reports text that is not JSON at all as corrupted', async () => {
    expect(await codeOfAsync(() => openExport('not json', PASS))).toBe('export.corrupted');
  });
});
