import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/clock.js';
import { ConnectorError } from '../../core/errors.js';
import { silentLogger } from '../../core/log.js';
import { openSqliteCompanyStore } from '../store/sqlite.js';
import type { CompanyStore } from '../store/types.js';
import { ConnectorDispatcher } from './dispatcher.js';
import type { Connector, ConnectorDelivery } from './types.js';

/*
 * The dispatcher over a real SQLite store, with connectors that stand for company systems which
 * take, refuse or throttle what they are given (the real connectors have their own suites against
 * real HTTP servers: webhook, SCIM).
 */

const RETRY = { baseDelayMs: 1_000, maxDelayMs: 60_000, leaseMs: 30_000 };

/** A company system that fails the first `failures` deliveries (with `error`), then takes every event. */
function system(id: string, failures = 0, error: () => Error = () => new ConnectorError('connector.unreachable', 'connection refused')) {
  const received: ConnectorDelivery[] = [];
  let calls = 0;
  const connector: Connector = {
    id,
    type: 'test',
    async deliver(event) {
      calls += 1;
      if (calls <= failures) throw error();
      received.push(event);
    },
  };
  return { connector, received, calls: () => calls };
}

describe('the connector dispatcher: delivery state per connector, retries, dead letters', () => {
  let dir: string;
  let store: CompanyStore;
  let clock: ManualClock;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kith-dispatcher-'));
    store = await openSqliteCompanyStore(join(dir, 'vendor.db'));
    clock = new ManualClock();
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function enqueue(n: number, type = 'profile.updated', payload: Record<string, unknown> = { relationshipId: 'r', customerRef: 'C-1', fields: { name: 'Ada' }, version: n }) {
    const id = `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
    await store.enqueueEvent({ id, relationshipId: null, type, payload, createdAt: clock.now(), nextAttemptAt: clock.now(), attempts: 0, dispatchedAt: null });
    return id;
  }

  it('delivers to the systems that are up once, and retries only the one that is down until it takes the event', async () => {
    const crm = system('crm');
    const hook = system('hook', 2);
    const dispatcher = new ConnectorDispatcher(store, [crm.connector, hook.connector], clock, silentLogger, RETRY);
    const id = await enqueue(1);

    expect(await dispatcher.dispatchRound()).toEqual({ settled: 0, delivered: { crm: 1 }, failed: { hook: 1 }, dead: {} });
    const [waiting] = await store.listEvents({ undispatchedOnly: true });
    expect(waiting?.id).toBe(id);
    const hookState = (await store.listConnectorAttempts([id])).find((a) => a.connectorId === 'hook')!;
    expect(hookState).toMatchObject({ state: 'failed', attempts: 1, lastError: 'connector.unreachable: connection refused' });
    // Backoff: nothing is due before the hook's next attempt, and the CRM is not asked again.
    expect(waiting!.nextAttemptAt).toBe(hookState.nextAttemptAt);
    expect(await dispatcher.dispatchRound()).toEqual({ settled: 0, delivered: {}, failed: {}, dead: {} });

    clock.set(hookState.nextAttemptAt!);
    expect((await dispatcher.dispatchRound()).failed).toEqual({ hook: 1 });
    clock.set((await store.listConnectorAttempts([id])).find((a) => a.connectorId === 'hook')!.nextAttemptAt!);
    expect(await dispatcher.dispatchRound()).toEqual({ settled: 1, delivered: { hook: 1 }, failed: {}, dead: {} });

    expect([crm.calls(), hook.calls()]).toEqual([1, 3]);
    expect(crm.received.map((e) => e.id)).toEqual([id]);
    expect(hook.received.map((e) => e.id)).toEqual([id]);
    expect(await store.listEvents({ undispatchedOnly: true })).toEqual([]);
    expect((await store.listConnectorAttempts([id])).map((a) => [a.connectorId, a.state, a.attempts])).toEqual([
      ['crm', 'delivered', 1],
      ['hook', 'delivered', 3],
    ]);
  });

  it('gives up after maxAttempts: the event is a dead letter of that connector only, and a replay delivers it there alone', async () => {
    const crm = system('crm');
    const hook = system('hook', 3);
    const dispatcher = new ConnectorDispatcher(store, [{ connector: crm.connector, maxAttempts: 5 }, { connector: hook.connector, maxAttempts: 3 }], clock, silentLogger, RETRY);
    const id = await enqueue(1);

    for (let round = 0; round < 3; round++) {
      await dispatcher.dispatchRound();
      clock.advance(RETRY.maxDelayMs);
    }
    expect(await store.listEvents({ undispatchedOnly: true })).toEqual([]);
    const [dead, ...others] = await store.listDeadLetters();
    expect(others).toEqual([]);
    expect(dead).toMatchObject({ event: { id }, attempt: { connectorId: 'hook', state: 'dead', attempts: 3, nextAttemptAt: null, lastError: 'connector.unreachable: connection refused' } });
    expect(await store.countConnectorDeliveries()).toEqual([
      { connectorId: 'crm', state: 'delivered', count: 1 },
      { connectorId: 'hook', state: 'dead', count: 1 },
    ]);

    // The hook is fixed; the operator replays the dead letter: only the hook gets it, once.
    expect(await store.replayDeadLetter(id, 'hook', clock.now())).toBe(true);
    expect(await dispatcher.dispatchRound()).toEqual({ settled: 1, delivered: { hook: 1 }, failed: {}, dead: {} });
    expect([crm.calls(), hook.calls()]).toEqual([1, 4]);
    expect(hook.received.map((e) => e.id)).toEqual([id]);
    expect(await store.listDeadLetters()).toEqual([]);
  });

  it('sends a refusal (not retryable) straight to the dead letters', async () => {
    const scim = system('scim', 1, () => new ConnectorError('connector.rejected', 'HTTP 400 invalidValue'));
    const dispatcher = new ConnectorDispatcher(store, [scim.connector], clock, silentLogger, RETRY);
    await enqueue(1);
    expect(await dispatcher.dispatchRound()).toEqual({ settled: 1, delivered: {}, failed: {}, dead: { scim: 1 } });
    expect((await store.listDeadLetters())[0]?.attempt).toMatchObject({ attempts: 1, lastError: 'connector.rejected: HTTP 400 invalidValue' });
  });

  it('waits as long as a throttled system asks (Retry-After) when that is longer than its backoff', async () => {
    const hook = system('hook', 1, () => new ConnectorError('connector.throttled', 'HTTP 429', { retryAfterMs: 120_000 }));
    const dispatcher = new ConnectorDispatcher(store, [hook.connector], clock, silentLogger, RETRY);
    const id = await enqueue(1);
    const start = clock.now();
    await dispatcher.dispatchRound();
    const [state] = await store.listConnectorAttempts([id]);
    expect(state!.nextAttemptAt).toBe(start + 120_000);
    clock.set(start + 119_999);
    await dispatcher.dispatchRound();
    expect(hook.calls()).toBe(1);
    clock.set(start + 120_000);
    expect((await dispatcher.dispatchRound()).settled).toBe(1);
  });

  it('keeps an erasure event’s customer number until every connector is done with it, then blanks it', async () => {
    const crm = system('crm');
    const hook = system('hook', 1);
    const dispatcher = new ConnectorDispatcher(store, [crm.connector, hook.connector], clock, silentLogger, RETRY);
    const id = await enqueue(1, 'relationship.erased', { relationshipId: 'r', customerRef: 'C-1' });
    await dispatcher.dispatchRound();
    expect((await store.listEvents())[0]?.payload).toEqual({ relationshipId: 'r', customerRef: 'C-1' });
    clock.advance(RETRY.maxDelayMs);
    await dispatcher.dispatchRound();
    expect(hook.received[0]?.payload.customerRef).toBe('C-1');
    expect((await store.listEvents())[0]).toMatchObject({ id, payload: { relationshipId: 'r', customerRef: null } });
  });

  it('stops a round before its claim’s lease runs out, and puts what is left back in line at once', async () => {
    // A slow company system: each delivery takes 20 s of the 30 s lease.
    const slow: Connector = {
      id: 'slow',
      type: 'test',
      async deliver() {
        clock.advance(20_000);
      },
    };
    const dispatcher = new ConnectorDispatcher(store, [slow], clock, silentLogger, RETRY);
    const ids = [await enqueue(1), await enqueue(2), await enqueue(3)];
    expect((await dispatcher.dispatchRound()).delivered).toEqual({ slow: 1 });
    const waiting = await store.listEvents({ undispatchedOnly: true });
    expect(waiting.map((e) => e.id)).toEqual(ids.slice(1));
    // Due now, not at the end of the lease: another process (or the next round) takes them.
    expect(waiting.every((e) => e.nextAttemptAt <= clock.now())).toBe(true);
    expect((await dispatcher.dispatchRound()).delivered).toEqual({ slow: 1 });
    expect((await dispatcher.dispatchRound()).delivered).toEqual({ slow: 1 });
    expect(await store.listEvents({ undispatchedOnly: true })).toEqual([]);
  });

  it('makes a row no connector can read a dead letter of each, without calling any', async () => {
    const crm = system('crm');
    const dispatcher = new ConnectorDispatcher(store, [crm.connector], clock, silentLogger, RETRY);
    await enqueue(1, 'no.such.type');
    expect(await dispatcher.dispatchRound()).toEqual({ settled: 1, delivered: {}, failed: {}, dead: { crm: 1 } });
    expect(crm.calls()).toBe(0);
    expect((await store.listDeadLetters())[0]?.attempt.lastError).toBe('internal: malformed event');
  });

  it("delivers different relationships' events side by side, and one relationship's in the order they were written", async () => {
    // A receiver that takes a while per event, noting how many it holds at once and the order per relationship.
    let inFlight = 0;
    let peak = 0;
    const order = new Map<string, number[]>();
    const slow: Connector = {
      id: 'crm',
      type: 'test',
      async deliver(event) {
        inFlight += 1;
        peak = Math.max(peak, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 5));
        const { relationshipId, version } = event.payload as { relationshipId: string; version: number };
        order.set(relationshipId, [...(order.get(relationshipId) ?? []), version]);
        inFlight -= 1;
      },
    };
    let n = 0;
    for (let version = 1; version <= 4; version += 1) {
      for (const relationshipId of ['r1', 'r2', 'r3']) {
        n += 1;
        await enqueue(n, 'profile.updated', { relationshipId, customerRef: null, fields: { name: 'Ada' }, version });
      }
    }
    const dispatcher = new ConnectorDispatcher(store, [slow], clock, silentLogger, RETRY);

    expect(await dispatcher.dispatchRound()).toEqual({ settled: 12, delivered: { crm: 12 }, failed: {}, dead: {} });
    expect(peak).toBe(3);
    expect(Object.fromEntries(order)).toEqual({ r1: [1, 2, 3, 4], r2: [1, 2, 3, 4], r3: [1, 2, 3, 4] });
  });
});
