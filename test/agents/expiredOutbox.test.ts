/**
 * A message that waited in the company's outbox longer than it lives: her agent refuses it as
 * message.expired on every push, so the company drops it (logged as outbox_expired) instead of
 * retrying it forever, and the next message still reaches her.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/core/clock.js';
import { DEFAULT_MESSAGE_TTL_MS } from '../../src/protocol/buildMessage.js';
import { connect, startCompany, startPersonal, type CompanyHandle, type PersonalHandle } from '../support/agents.js';

/** The company's clock: real time, moved back by `offset` while the test says so. */
const companyClock = { offset: 0, now(): number { return Date.now() + this.offset; } } satisfies Clock & { offset: number };

describe('an expired message in the company outbox', () => {
  let personal: PersonalHandle | undefined;
  let company: CompanyHandle | undefined;
  afterEach(async () => {
    companyClock.offset = 0;
    await personal?.cleanup();
    await company?.cleanup();
  });

  it('is dropped once her agent says message.expired, and the next message still arrives', async () => {
    personal = await startPersonal();
    company = await startCompany({ name: 'Slow Co', clock: companyClock, retry: { baseDelayMs: 1, maxDelayMs: 5 } });
    const link = await connect(personal, company);
    const rel = link.companyRelationship.id;
    await personal.agent.pickup();
    const before = personal.agent.messages(link.view.id).length;

    // Queued as if 31 days ago, and not delivered then (her agent away: the push on queueing is attempt 1).
    companyClock.offset = -(DEFAULT_MESSAGE_TTL_MS + 24 * 60 * 60 * 1000);
    await personal.stop();
    await company.agent.sendMessage(rel, 'Your order shipped.');
    companyClock.offset = 0;
    await personal.start();
    expect(await company.store.countPendingOutbox(rel)).toBe(1);

    expect(await company.agent.deliverDue()).toBe(0);
    expect(await company.store.countPendingOutbox(rel)).toBe(0);
    const logged = readFileSync(company.logPath, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(logged.filter((entry) => entry['event'] === 'outbox_expired')).toEqual([expect.objectContaining({ relationship: rel, attempts: 2 })]);
    expect(JSON.stringify(logged)).not.toContain('Your order shipped');
    expect(personal.agent.messages(link.view.id)).toHaveLength(before);

    const sent = await company.agent.sendMessage(rel, 'Your order arrived.');
    expect(sent.delivered).toBe(true);
    expect(personal.agent.messages(link.view.id).at(-1)?.content).toBe('Your order arrived.');
  });
});
