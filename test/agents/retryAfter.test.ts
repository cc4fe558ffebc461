/**
 * A peer that answers 429 or 503 did not take the message (issue 17 item 2: acknowledged only once
 * stored), so both agents' senders keep it and try again no sooner than its Retry-After: her sent
 * messages (queued, not failed), her profile fan-out (retrying, not failed), the company's outbox.
 * The busy peer is a real listener on the stopped agent's own port; when the agent is back, the
 * retry lands the message exactly once.
 */
import { createServer, type Server } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseRetryAfter, retryLaterMs } from '../../src/protocol/agent/transport.js';
import { TransportError } from '../../src/core/errors.js';
import { answerAsk, startPair, type Pair } from '../support/agents.js';

const WAIT_SECONDS = 120;

/** Answers every request on `port` as a saturated Kith agent would, and counts them. */
function busyPeer(port: number, status: 429 | 503): Promise<{ server: Server; hits: () => number }> {
  let hits = 0;
  const code = status === 429 ? 'api.rate_limited' : 'api.overloaded';
  const server = createServer((request, response) => {
    hits += 1;
    request.resume();
    response.writeHead(status, { 'content-type': 'application/json', 'retry-after': String(WAIT_SECONDS), connection: 'close' });
    response.end(JSON.stringify({ error: { code, message: 'busy' } }));
  });
  // A moment first, so the senders' kept-alive sockets to the stopped agent have seen it close.
  return new Promise((resolve) => setTimeout(() => server.listen(port, '127.0.0.1', () => resolve({ server, hits: () => hits })), 100));
}
const closeServer = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));

describe('429 and 503 are "later", never "lost"', () => {
  let pair: Pair;
  // Her own backoff is milliseconds: any longer wait below comes from the peer's Retry-After.
  beforeEach(async () => {
    pair = await startPair({ personal: { retry: { baseDelayMs: 1, maxDelayMs: 5 } }, company: { retry: { baseDelayMs: 1, maxDelayMs: 5 } } });
  });
  afterEach(async () => {
    await pair?.cleanup();
  });
  const companyCopies = async (messageId: string) => (await pair.company.agent.messages(pair.link.companyRelationship.id)).filter((m) => m.messageId === messageId).length;
  const copiesInVault = (messageId: string) => pair.personal.vault.messages.listAll().filter((m) => m.messageId === messageId).length;

  it('her message refused 429 is queued for after Retry-After, and lands exactly once when the company takes it', async () => {
    await pair.company.stop();
    const busy = await busyPeer(pair.company.port, 429);
    const before = Date.now();
    const outcome = await pair.personal.agent.sendMessage(pair.link.view.id, 'Please call me back.');
    expect(busy.hits()).toBe(1);
    expect(outcome.status).toBe('queued');
    const [item] = pair.personal.vault.outbox.list();
    expect(item?.nextAttemptAt).toBeGreaterThanOrEqual(before + WAIT_SECONDS * 1000);
    // Not due yet: no attempt before the wait is over.
    expect(await pair.personal.agent.deliverOutbox()).toBe(0);
    expect(busy.hits()).toBe(1);

    await closeServer(busy.server);
    await pair.company.start();
    pair.personal.vault.outbox.reschedule(item!.id, Date.now(), item!.attempts);
    expect(await pair.personal.agent.deliverOutbox()).toBe(1);
    expect(await companyCopies(outcome.messageId)).toBe(1);
    expect(pair.personal.vault.messages.findByMessageId(outcome.messageId)?.status).toBe('sent');
  });

  it('her queued message refused 503 on a retry waits Retry-After again', async () => {
    await pair.company.stop();
    const outcome = await pair.personal.agent.sendMessage(pair.link.view.id, 'Still there?');
    expect(outcome.status).toBe('queued');
    const busy = await busyPeer(pair.company.port, 503);
    const [item] = pair.personal.vault.outbox.list();
    pair.personal.vault.outbox.reschedule(item!.id, Date.now(), item!.attempts);
    const before = Date.now();
    expect(await pair.personal.agent.deliverOutbox()).toBe(0);
    expect(busy.hits()).toBe(1);
    expect(pair.personal.vault.outbox.list()[0]?.nextAttemptAt).toBeGreaterThanOrEqual(before + WAIT_SECONDS * 1000);
    await closeServer(busy.server);
  });

  it('her profile update refused 429 stays pending until after Retry-After instead of failing', async () => {
    pair.personal.agent.profile.set({ name: 'Ada Lovelace', email: 'ada@example.org' });
    await answerAsk(pair.personal, pair.company, pair.link, { fields: ['email'], purpose: 'Receipts' });
    await pair.company.stop();
    const busy = await busyPeer(pair.company.port, 429);
    const change = pair.personal.agent.profile.set({ email: 'ada@lovelace.example' });
    const before = Date.now();
    expect(await pair.personal.agent.profile.deliver()).toEqual({ acked: 0, retrying: 1, failed: 0, skipped: 0 });
    const delivery = pair.personal.agent.profile.change(change!.version).deliveries[0];
    expect(delivery).toMatchObject({ state: 'pending', lastError: 'api.rate_limited' });
    expect(delivery?.nextAttemptAt).toBeGreaterThanOrEqual(before + WAIT_SECONDS * 1000);
    await closeServer(busy.server);
  });

  it('the company’s outbox item refused 503 by her agent waits Retry-After, then is delivered exactly once', async () => {
    await pair.personal.stop();
    const busy = await busyPeer(pair.personal.port, 503);
    const before = Date.now();
    const sent = await pair.company.agent.sendMessage(pair.link.companyRelationship.id, 'Your invoice is ready.');
    expect(sent.delivered).toBe(false);
    expect(busy.hits()).toBe(1);
    const [queued] = await pair.company.store.pendingOutbox(pair.link.companyRelationship.id, 10);
    expect(queued?.nextAttemptAt).toBeGreaterThanOrEqual(before + WAIT_SECONDS * 1000);
    expect(await pair.company.agent.deliverDue()).toBe(0);
    expect(busy.hits()).toBe(1);

    await closeServer(busy.server);
    await pair.personal.start();
    await pair.company.store.rescheduleOutbox(queued!.id, Date.now(), queued!.attempts);
    expect(await pair.company.agent.deliverDue()).toBe(1);
    expect(copiesInVault(sent.messageId)).toBe(1);
    expect(await pair.company.store.pendingOutbox(pair.link.companyRelationship.id, 10)).toEqual([]);
  });
});

describe('Retry-After as the senders read it', () => {
  it('reads delta-seconds and HTTP dates, ignores junk, and caps what it honours', () => {
    expect(parseRetryAfter('7')).toBe(7);
    expect(parseRetryAfter(new Date(Date.UTC(2030, 0, 1, 0, 0, 30)).toUTCString(), Date.UTC(2030, 0, 1))).toBe(30);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
    const rejected = (status: number, retryAfterSeconds?: number) => new TransportError('transport.rejected', 'x', { details: { status, ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }) } });
    expect(retryLaterMs(rejected(429, 3))).toBe(3000);
    expect(retryLaterMs(rejected(503))).toBe(0);
    expect(retryLaterMs(rejected(503, 10 ** 9))).toBe(60 * 60_000);
    expect(retryLaterMs(rejected(400, 3))).toBeUndefined();
    expect(retryLaterMs(new TransportError('transport.unreachable', 'x'))).toBeUndefined();
  });
});
