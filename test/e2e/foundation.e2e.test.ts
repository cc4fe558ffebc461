import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { MessageView, ReceiptView, RelationshipView } from '../../src/personal/views.js';
import type { CompanyRelationship, StoredMessage } from '../../src/company/store/types.js';
import { ensureBuilt, freePort, killAllStarted, runCli, runCliOk, runCliOnTerminal, startServer, waitFor, type CliResult, type ServerHandle } from '../support/processes.js';

/**
 * The foundation, end to end: two company agents and one personal agent as REAL processes on
 * loopback ports, driven only through the two CLIs (and HTTP for readiness). The tests run in
 * order and build on each other: connect, talk, agent down, company down, mute, cut-off, export.
 */

const PASSPHRASE = 'correct horse battery staple (e2e)';
const WELCOME = 'Welcome to Acme Outfitters! (e2e welcome message)';
const STEP_TIMEOUT = 60_000;

interface CompanyFixture {
  name: string;
  home: string;
  port: number;
  server?: ServerHandle;
}

type CompanyRelationshipRow = CompanyRelationship & { messages: number };

let root: string;
let logDir: string;
let meHome: string;
let mePort: number;
let me: ServerHandle | undefined;
let acme: CompanyFixture;
let northwind: CompanyFixture;
let failed = false;

/** Shared between the ordered steps. */
let relAcme: RelationshipView;
let relNorthwind: RelationshipView;

const kith = (args: string[], env: Record<string, string | undefined> = {}, home = meHome): Promise<CliResult> =>
  runCli('kith', args, { home, env: { KITH_PASSPHRASE: PASSPHRASE, ...env } });
const kithOk = (args: string[], env: Record<string, string | undefined> = {}, home = meHome): Promise<CliResult> =>
  runCliOk('kith', args, { home, env: { KITH_PASSPHRASE: PASSPHRASE, ...env } });
const companyOk = (company: CompanyFixture, args: string[]): Promise<CliResult> => runCliOk('kith-vendor', args, { home: company.home });

async function myMessages(rel: string, held = false): Promise<MessageView[]> {
  return (await kithOk(['messages', rel, '--json', ...(held ? ['--held'] : [])])).json<MessageView[]>();
}
async function myRelationships(home = meHome, passphrase = PASSPHRASE): Promise<RelationshipView[]> {
  return (await kithOk(['relationships', '--json'], { KITH_PASSPHRASE: passphrase }, home)).json<RelationshipView[]>();
}
async function companyRelationships(company: CompanyFixture): Promise<CompanyRelationshipRow[]> {
  return (await companyOk(company, ['relationships', '--json'])).json<CompanyRelationshipRow[]>();
}
async function companyMessages(company: CompanyFixture, rel: string): Promise<StoredMessage[]> {
  return (await companyOk(company, ['messages', rel, '--json'])).json<StoredMessage[]>();
}
const contentOf = (message: StoredMessage): unknown => (message.body as { content?: unknown } | null)?.content;

/** Message ids waiting in a company's outbox for one relationship, read straight from its SQLite store. */
function companyOutbox(company: CompanyFixture, relationshipId: string): string[] {
  const db = new Database(join(company.home, 'vendor.db'), { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT message_id FROM outbox WHERE relationship_id = ?').all(relationshipId) as { message_id: string }[]).map((row) => row.message_id);
  } finally {
    db.close();
  }
}

function startCompany(company: CompanyFixture): Promise<ServerHandle> {
  return startServer('kith-vendor', { home: company.home, port: company.port, logDir, env: { KITH_OUTBOX_INTERVAL_MS: '250' } });
}
function startMe(): Promise<ServerHandle> {
  return startServer('kith', { home: meHome, port: mePort, logDir, name: 'me', env: { KITH_PASSPHRASE: PASSPHRASE } });
}

async function distinctFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

beforeAll(async () => {
  ensureBuilt();
  root = mkdtempSync(join(tmpdir(), 'kith-e2e-foundation-'));
  logDir = join(root, 'logs');
  meHome = join(root, 'me');
  const [portA, portB, portMe] = await distinctFreePorts(3);
  acme = { name: 'Acme Outfitters', home: join(root, 'acme'), port: portA! };
  northwind = { name: 'Northwind Energy', home: join(root, 'northwind'), port: portB! };
  mePort = portMe!;

  const policyFile = join(root, 'acme-policy.json');
  writeFileSync(policyFile, JSON.stringify({ version: 1, acceptConnections: true, welcomeMessage: WELCOME }));
  const initA = (await runCliOk('kith-vendor', ['init', '--name', acme.name, '--port', String(acme.port), '--policy', policyFile, '--json'], { home: acme.home })).json<{ did: string }>();
  const initB = (await runCliOk('kith-vendor', ['init', '--name', northwind.name, '--port', String(northwind.port), '--json'], { home: northwind.home })).json<{ did: string }>();
  expect(initA.did).toMatch(/^did:peer:2\./);
  expect(initB.did).not.toBe(initA.did);
  [acme.server, northwind.server] = await Promise.all([startCompany(acme), startCompany(northwind)]);

  const init = (await kithOk(['init', '--json'])).json<{ vault: string }>();
  expect(init.vault).toBe(join(meHome, 'vault.db'));
  me = await startMe();
}, 120_000);

beforeEach((context) => {
  context.onTestFailed(() => {
    failed = true;
  });
});

afterAll(async () => {
  // Clean shutdown where possible, then make sure nothing is left running.
  for (const server of [me, acme?.server, northwind?.server]) await server?.stop().catch(() => undefined);
  await killAllStarted();
  if (!root) return;
  if (failed) console.warn(`kith e2e: a step failed; homes and process logs kept in ${root}`);
  else rmSync(root, { recursive: true, force: true });
}, 60_000);

describe('Kith foundation, end to end with real processes', { sequential: true }, () => {
  it('kith serve publishes agent.json for the CLI', () => {
    const agent = JSON.parse(readFileSync(join(meHome, 'agent.json'), 'utf8')) as { url: string; port: number; token: string; pid: number };
    expect(agent).toMatchObject({ url: `http://127.0.0.1:${mePort}`, port: mePort, pid: me!.pid });
    expect(agent.token.length).toBeGreaterThanOrEqual(20);
  });

  it('connects anonymously to two companies, each seeing its own pairwise DID', { timeout: STEP_TIMEOUT }, async () => {
    const inviteAcme = (await companyOk(acme, ['invite', '--json'])).json<{ url: string }>().url;
    const inviteNorthwind = (await companyOk(northwind, ['invite', '--json'])).json<{ url: string }>().url;
    expect(inviteAcme.startsWith(`http://127.0.0.1:${acme.port}/invite?_oob=`)).toBe(true);

    relAcme = (await kithOk(['connect', inviteAcme, '--json'])).json<RelationshipView>();
    relNorthwind = (await kithOk(['connect', inviteNorthwind, '--json'])).json<RelationshipView>();
    expect(relAcme).toMatchObject({ company: acme.name, state: 'active' });
    expect(relNorthwind).toMatchObject({ company: northwind.name, state: 'active' });
    expect(relAcme.id).not.toBe(relNorthwind.id);
    expect(relAcme.myDid).not.toBe(relNorthwind.myDid);

    const mine = await myRelationships();
    expect(mine.map((r) => [r.id, r.company, r.state]).sort()).toEqual(
      [
        [relAcme.id, acme.name, 'active'],
        [relNorthwind.id, northwind.name, 'active'],
      ].sort(),
    );

    const [atAcme, atNorthwind] = [await companyRelationships(acme), await companyRelationships(northwind)];
    expect(atAcme).toHaveLength(1);
    expect(atNorthwind).toHaveLength(1);
    expect(atAcme[0]).toMatchObject({ theirDid: relAcme.myDid, customerRef: relAcme.customerRef, state: 'active' });
    expect(atNorthwind[0]).toMatchObject({ theirDid: relNorthwind.myDid, customerRef: relNorthwind.customerRef, state: 'active' });
    // Pairwise: the two companies cannot correlate her.
    expect(atAcme[0]!.theirDid).not.toBe(atNorthwind[0]!.theirDid);
  });

  it('delivers the welcome message from the company policy (and none from the other company)', { timeout: STEP_TIMEOUT }, async () => {
    const messages = await waitFor('the welcome message', async () => {
      const list = await myMessages(relAcme.id);
      return list.some((m) => m.content === WELCOME) ? list : undefined;
    }, { timeoutMs: 15_000, intervalMs: 200 });
    expect(messages.filter((m) => m.content === WELCOME)).toHaveLength(1);
    expect(messages.find((m) => m.content === WELCOME)).toMatchObject({ direction: 'in', status: 'shown' });
    expect(await myMessages(relNorthwind.id)).toEqual([]);
  });

  it('exchanges messages both ways', { timeout: STEP_TIMEOUT }, async () => {
    // Too long: the error names the field and its limit, and nothing is sent.
    const tooLong = await kith(['message', relAcme.id, 'x'.repeat(16_001)]);
    expect(tooLong.code).toBe(1);
    expect(tooLong.stderr.trim()).toBe('error: Bad request: Invalid request body: content: at most 16000 characters [api.bad_request]');
    const outgoing = 'Hello Acme, from my own agent';
    const sent = (await kithOk(['message', relAcme.id, outgoing, '--json'])).json<{ messageId: string; status: string }>();
    expect(sent.status).toBe('sent');
    const atCompany = await companyMessages(acme, relAcme.customerRef!);
    expect(atCompany.filter((m) => contentOf(m) === outgoing && m.direction === 'in')).toHaveLength(1);

    const incoming = 'Your order has shipped';
    const result = (await companyOk(acme, ['message', relAcme.customerRef!, incoming, '--json'])).json<{ messageId: string; delivered: boolean }>();
    expect(result.delivered).toBe(true);
    const mine = await waitFor('the company message in her thread', async () => {
      const list = await myMessages(relAcme.id);
      return list.some((m) => m.content === incoming) ? list : undefined;
    });
    expect(mine.filter((m) => m.content === incoming)).toEqual([expect.objectContaining({ direction: 'in', messageId: result.messageId })]);
    expect(mine.find((m) => m.content === outgoing)).toMatchObject({ direction: 'out', status: 'sent' });
  });

  it('agent down: company messages wait, and arrive exactly once when her agent is back', { timeout: STEP_TIMEOUT }, async () => {
    await me!.stop();
    me = undefined;
    expect(existsSync(join(meHome, 'agent.json'))).toBe(false);

    const texts = ['While you were away (1)', 'While you were away (2)'];
    const results: { messageId: string; delivered: boolean }[] = [];
    for (const text of texts) results.push((await companyOk(acme, ['message', relAcme.customerRef!, text, '--json'])).json());
    expect(results.map((r) => r.delivered)).toEqual([false, false]);

    // They wait in the company's outbox, and the company's thread records them as sent by it.
    const companyRelId = (await companyRelationships(acme))[0]!.id;
    expect(companyOutbox(acme, companyRelId)).toEqual(expect.arrayContaining(results.map((r) => r.messageId)));
    const thread = await companyMessages(acme, relAcme.customerRef!);
    for (const text of texts) expect(thread.filter((m) => contentOf(m) === text && m.direction === 'out')).toHaveLength(1);
    // Her vault (opened in-process by the CLI while the agent is down) does not have them yet.
    expect((await myMessages(relAcme.id)).filter((m) => texts.includes(m.content ?? ''))).toEqual([]);

    me = await startMe();
    await waitFor('both queued messages in her thread', async () => {
      const list = await myMessages(relAcme.id);
      return texts.every((text) => list.some((m) => m.content === text)) ? true : undefined;
    }, { timeoutMs: 10_000, intervalMs: 200 });
    // Both delivery paths (her pickup at start, the company's retry) may race: the company's outbox
    // empties and her thread still holds each message once.
    await waitFor('the company outbox to drain', () => (companyOutbox(acme, companyRelId).length === 0 ? true : undefined), { timeoutMs: 10_000, intervalMs: 200 });
    const list = await myMessages(relAcme.id);
    for (const [index, text] of texts.entries()) {
      expect(list.filter((m) => m.content === text)).toEqual([expect.objectContaining({ direction: 'in', messageId: results[index]!.messageId })]);
    }
  });

  it('company down: her message is queued and arrives exactly once when the company is back', { timeout: STEP_TIMEOUT }, async () => {
    await acme.server!.stop();
    acme.server = undefined;

    const text = 'Sent while Acme was down';
    const outcome = (await kithOk(['message', relAcme.id, text, '--json'])).json<{ messageId: string; status: string }>();
    expect(outcome.status).toBe('queued');
    expect((await myMessages(relAcme.id)).find((m) => m.content === text)).toMatchObject({ direction: 'out', status: 'queued' });
    expect((await myRelationships()).find((r) => r.id === relAcme.id)?.queued).toBe(1);

    acme.server = await startCompany(acme);
    await waitFor('her queued message at the company', async () => {
      const thread = await companyMessages(acme, relAcme.customerRef!);
      return thread.some((m) => contentOf(m) === text) ? true : undefined;
    }, { timeoutMs: 25_000, intervalMs: 250 });
    await waitFor('her copy to be marked sent', async () => ((await myMessages(relAcme.id)).find((m) => m.content === text)?.status === 'sent' ? true : undefined), {
      timeoutMs: 10_000,
      intervalMs: 250,
    });
    const thread = await companyMessages(acme, relAcme.customerRef!);
    expect(thread.filter((m) => contentOf(m) === text)).toEqual([expect.objectContaining({ direction: 'in', messageId: outcome.messageId })]);
    expect((await myRelationships()).find((r) => r.id === relAcme.id)?.queued).toBe(0);
  });

  it('mute holds the company’s messages out of her thread; unmute releases them', { timeout: STEP_TIMEOUT }, async () => {
    const muted = (await kithOk(['mute', relAcme.id, '--json'])).json<RelationshipView>();
    expect(muted.state).toBe('muted');
    await waitFor('the company to see the mute', async () => ((await companyRelationships(acme))[0]?.state === 'muted' ? true : undefined));

    const text = 'Big sale this weekend!';
    const sent = (await companyOk(acme, ['message', relAcme.customerRef!, text, '--json'])).json<{ messageId: string; delivered: boolean }>();
    expect(sent.delivered).toBe(false);

    // Her agent fetches it (pickup) but keeps it out of the thread, without telling anyone.
    await waitFor('the held message', async () => {
      await kithOk(['pickup', '--json']);
      return (await myMessages(relAcme.id, true)).some((m) => m.content === text) ? true : undefined;
    }, { timeoutMs: 15_000, intervalMs: 250 });
    expect((await myMessages(relAcme.id)).some((m) => m.content === text)).toBe(false);
    expect((await myMessages(relAcme.id, true)).filter((m) => m.content === text)).toEqual([expect.objectContaining({ status: 'held', messageId: sent.messageId })]);

    const unmuted = (await kithOk(['unmute', relAcme.id, '--json'])).json<RelationshipView>();
    expect(unmuted.state).toBe('active');
    expect((await myMessages(relAcme.id)).filter((m) => m.content === text)).toEqual([expect.objectContaining({ status: 'shown', messageId: sent.messageId })]);
    await waitFor('the company to see the unmute', async () => ((await companyRelationships(acme))[0]?.state === 'active' ? true : undefined));
  });

  it('cut-off: signed erasure receipt, the company erases her, and can no longer message her', { timeout: STEP_TIMEOUT }, async () => {
    const historyBefore = await myMessages(relAcme.id);
    const companyRelId = (await companyRelationships(acme))[0]!.id;

    // It asks first: without a terminal to ask on, or with --yes and only the start of the name, it does nothing.
    const unasked = await kith(['cutoff', relAcme.id]);
    expect(unasked.code).toBe(1);
    expect(unasked.stderr).toContain('kith cutoff asks before it erases: run it in a terminal, or add --yes');
    const byPrefix = await kith(['cutoff', relAcme.company!.slice(0, 3), '--yes']);
    expect(byPrefix.code).toBe(1);
    expect(byPrefix.stderr).toContain(`with --yes, give its full id (${relAcme.id}) or its exact name`);
    // On a terminal it says what will be erased and asks; anything but yes cancels.
    const declined = await runCliOnTerminal('kith', ['cutoff', relAcme.company!.slice(0, 3)], 'n\n', { home: meHome, env: { KITH_PASSPHRASE: PASSPHRASE } });
    if (declined) {
      expect(declined.code).toBe(0);
      expect(declined.stdout).toContain(`${relAcme.company} will be asked to erase what it holds about you`);
      expect(declined.stdout).toMatch(/Cut off .+\? \[y\/N\]/);
      expect(declined.stdout).toContain('Nothing was sent; the relationship is as it was.');
    } else console.warn('util-linux script not installed: SKIPPING the cutoff prompt on a terminal');
    expect((await myRelationships()).find((r) => r.id === relAcme.id)?.state).toBe('active');

    const receipt = (await kithOk(['cutoff', relAcme.id, '--yes', '--json'])).json<ReceiptView>();
    expect(receipt).toMatchObject({ relationshipId: relAcme.id, kind: 'erasure' });
    expect(typeof receipt.jws).toBe('string');
    const erased = (receipt.body as { erased: { category: string; count: number; where: string }[] }).erased;
    expect(erased.map((e) => e.category).sort()).toEqual(
      ['caller_verifications', 'connector_events', 'consent_records', 'disclosure_requests', 'held_fields', 'intents', 'messages', 'offers', 'outbox', 'presentations', 'profile_versions', 'relationship', 'service_case_entries', 'service_cases', 'terms_agreements', 'thing_receipts', 'thing_registrations'],
    );
    expect(erased.find((e) => e.category === 'messages')!.count).toBeGreaterThan(0);
    expect(erased.find((e) => e.category === 'relationship')!.count).toBe(1);

    const atAcme = await companyRelationships(acme);
    expect(atAcme).toHaveLength(1);
    expect(atAcme[0]).toMatchObject({ id: companyRelId, state: 'cut_off', customerRef: '', messages: 0 });
    expect(atAcme[0]!.theirDid).not.toMatch(/^did:/);
    expect(JSON.stringify(atAcme)).not.toContain(relAcme.myDid);

    const refused = await runCli('kith-vendor', ['message', companyRelId, 'Are you still there?'], { home: acme.home });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('relationship.cut_off');

    // Her own history stays with her.
    const historyAfter = await myMessages(relAcme.id);
    expect(historyAfter.map((m) => m.id)).toEqual(historyBefore.map((m) => m.id));
    const mine = await myRelationships();
    expect(mine.find((r) => r.id === relAcme.id)).toMatchObject({ state: 'cut_off', company: acme.name });
    expect(mine.find((r) => r.id === relNorthwind.id)).toMatchObject({ state: 'active' });
    const receipts = (await kithOk(['receipts', '--json'])).json<ReceiptView[]>();
    expect(receipts.map((r) => r.id)).toContain(receipt.id);
    expect(receipts.find((r) => r.id === receipt.id)).toMatchObject({ relationshipId: relAcme.id, jws: receipt.jws });

    // The other company is untouched.
    expect((await companyRelationships(northwind))[0]).toMatchObject({ state: 'active', theirDid: relNorthwind.myDid });
  });

  it('export (encrypted) and import into a fresh home restore the relationships; a corrupted file is refused', { timeout: STEP_TIMEOUT }, async () => {
    const exportPassphrase = 'export secret (e2e)';
    const file = join(root, 'kith-export.jwe');
    const exported = (await kithOk(['export', file, '--json'], { KITH_EXPORT_PASSPHRASE: exportPassphrase })).json<{ file: string; format: string }>();
    expect(exported.format).toBe('jwe');
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain(acme.name);
    expect(text).not.toContain('Hello Acme');

    const restoredHome = join(root, 'restored');
    const newPassphrase = 'a different vault passphrase (e2e)';
    const imported = (await kithOk(['import', file, '--json'], { KITH_EXPORT_PASSPHRASE: exportPassphrase, KITH_PASSPHRASE: newPassphrase }, restoredHome)).json<{ relationships: number }>();
    expect(imported.relationships).toBe(2);
    const pick = (list: RelationshipView[]) => list.map((r) => ({ id: r.id, state: r.state, company: r.company, messages: r.messages })).sort((a, b) => a.id.localeCompare(b.id));
    expect(pick(await myRelationships(restoredHome, newPassphrase))).toEqual(pick(await myRelationships()));

    // Corrupted: one character of the ciphertext changed; and a truncated file.
    const corrupted = join(root, 'corrupted.jwe');
    const at = text.indexOf('"ciphertext":"') + '"ciphertext":"'.length + 10;
    expect(at).toBeGreaterThan(20);
    writeFileSync(corrupted, `${text.slice(0, at)}${text[at] === 'A' ? 'B' : 'A'}${text.slice(at + 1)}`);
    const truncated = join(root, 'truncated.jwe');
    writeFileSync(truncated, text.slice(0, Math.floor(text.length / 2)));
    for (const bad of [corrupted, truncated]) {
      const badHome = join(root, `import-${bad.endsWith('corrupted.jwe') ? 'corrupted' : 'truncated'}`);
      const result = await kith(['import', bad, '--json'], { KITH_EXPORT_PASSPHRASE: exportPassphrase }, badHome);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain('export.corrupted');
      expect(result.json<{ error: { code: string } }>().error.code).toBe('export.corrupted');
      expect(existsSync(join(badHome, 'vault.db'))).toBe(false);
    }
  });

  it('a wrong passphrase is refused with exit code 2 while the agent is stopped', { timeout: STEP_TIMEOUT }, async () => {
    await me!.stop();
    me = undefined;
    const wrong = await kith(['relationships', '--json'], { KITH_PASSPHRASE: 'not the passphrase' });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('vault.wrong_passphrase');
    expect(wrong.json<{ error: { code: string } }>().error.code).toBe('vault.wrong_passphrase');
    // The right one still opens it in-process, with everything there.
    expect((await myRelationships()).map((r) => r.state).sort()).toEqual(['active', 'cut_off']);
  });

  it('the company agents shut down cleanly on SIGTERM', { timeout: STEP_TIMEOUT }, async () => {
    for (const company of [acme, northwind]) {
      await company.server!.stop();
      company.server = undefined;
    }
  });
});
