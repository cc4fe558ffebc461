/**
 * Locking while a call is in flight (issue 17 item 6c): the call ends with vault.locked, not an
 * internal error or a closed-database crash, and her vault holds no half-written answer.
 */
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isKithError } from '../../src/core/errors.js';
import { startPersonalServer, type RunningPersonalAgent } from '../../src/personal/server.js';
import { Vault } from '../../src/personal/vault/vault.js';
import { vaultPath } from '../../src/personal/home.js';
import { MEDIA_TYPE } from '../../src/protocol/envelope/format.js';
import { fileLogger, startCompany, type CompanyHandle } from '../support/agents.js';

const PASSPHRASE = 'correct horse battery staple (lock in flight)';

/** Stands in for the company on its own port: holds each post until released, then lets the company answer it. */
function holdingServer(company: CompanyHandle): { server: Server; arrived: Promise<void>; release(): void } {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let arrive!: () => void;
  const arrived = new Promise<void>((resolve) => (arrive = resolve));
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      arrive();
      void released.then(async () => {
        const { reply } = await company.agent.receive(Buffer.concat(chunks).toString('utf8'));
        res.writeHead(reply ? 200 : 202, reply ? { 'content-type': MEDIA_TYPE.encrypted } : {});
        res.end(reply ?? '');
      });
    });
  });
  return { server, arrived, release };
}

describe('locking while a call is in flight', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('an approve waiting on the company ends with vault.locked; after unlock her vault shows no half-written answer', async () => {
    const home = mkdtempSync(join(tmpdir(), 'kith-lock-'));
    cleanups.push(() => rmSync(home, { recursive: true, force: true }));
    const company = await startCompany();
    cleanups.push(() => company.cleanup());
    const vault = Vault.create(vaultPath(home), PASSPHRASE, { kdf: { N: 2 ** 12 } });
    const running: RunningPersonalAgent = await startPersonalServer({ home, vault, port: 0, logger: fileLogger(join(home, 'log'), 'personal'), idleLockMs: 0, pickupIntervalMs: 60_000 });
    cleanups.push(() => running.stop());
    const agent = running.access.current();
    agent.profile.set({ name: 'Ada Lovelace', email: 'ada@example.org' });
    const view = await agent.connect(company.agent.invitationUrl());
    const companyRel = (await company.store.findRelationshipByDid(view.myDid))!;
    const sent = await company.agent.requestDisclosure(companyRel.id, { fields: ['name'], purpose: 'Orders', retention: 'P1Y' });
    const id = agent.vault.disclosureRequests.list().find((r) => r.requestId === sent.request.id)!.id;

    // The company's port now holds her post until the test lets it through.
    await company.stop();
    const holding = holdingServer(company);
    await new Promise<void>((resolve) => holding.server.listen(company.port, '127.0.0.1', resolve));

    const approving = agent.disclosure.approve(id).then(
      () => 'resolved',
      (error: unknown) => (isKithError(error) ? error.code : `not a Kith error: ${String(error)}`),
    );
    await holding.arrived;
    await running.access.lock();
    holding.release();
    expect(await approving).toBe('vault.locked');

    // The company stored her answer; her agent could not record its ack while locked.
    const companyConsents = (await company.store.listConsentRecords(companyRel.id)).map((c) => [c.id, c.state]);
    expect(companyConsents.map(([, state]) => state)).toEqual(['active']);

    // Unlocked, nothing is left half-way: the request is hers to answer again, her record of what
    // she may have disclosed is still there (pending) under the id the company has.
    await running.access.unlock(PASSPHRASE);
    const again = running.access.current();
    expect(again.disclosure.requests().map((r) => [r.id, r.state])).toEqual([[id, 'pending']]);
    expect(again.disclosure.consents().map((c) => [c.id, c.state])).toEqual([[companyConsents[0]![0], 'pending']]);

    // Answering again settles it on both sides, once.
    await new Promise<void>((resolve) => holding.server.close(() => resolve()));
    await company.start();
    const outcome = await again.disclosure.approve(id);
    expect(outcome.consentRecordId).toBe(companyConsents[0]![0]);
    expect(again.disclosure.consents().map((c) => [c.id, c.state])).toEqual(companyConsents);
    expect((await company.store.listConsentRecords(companyRel.id)).map((c) => [c.id, c.state])).toEqual(companyConsents);
  });
});
