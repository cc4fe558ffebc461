/**
 * Her relationship list is kept between calls (with 10,000 relationships building it was most of a
 * refresh: bench/vault.ts). These tests change the vault by every kind of path a view reads, some
 * of them plain SQL statements outside the repositories' write wrapper, and check that the next
 * list shows each change at once.
 */
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { createPersonalAgent, type PersonalAgent } from './createPersonalAgent.js';
import { Vault } from './vault/vault.js';
import { TEST_VAULT_PASSPHRASE, useTestVault } from '../../test/support/testVault.js';

const t = useTestVault();
let agent: PersonalAgent;
beforeEach(() => {
  agent = createPersonalAgent({ vault: t.vault, inboundBaseUrl: () => 'http://127.0.0.1:9' });
});

const viewOf = (id: string) => agent.relationships().find((view) => view.id === id)!;

describe('her relationship list, kept between calls', () => {
  it('hands out the same views while nothing changed, each call its own array', () => {
    const first = agent.relationships();
    const second = agent.relationships();
    expect(second).toEqual(first);
    expect(second).not.toBe(first);
    second.pop();
    expect(agent.relationships()).toHaveLength(2);
  });

  it('shows a state change, a message, a queued item, a held field and a persona at once', () => {
    expect(viewOf(t.rel.id)).toMatchObject({ state: 'pending', messages: 0, queued: 0, holds: expect.any(Array) });
    t.vault.relationships.setState(t.rel.id, 'muted');
    expect(viewOf(t.rel.id).state).toBe('muted');
    t.vault.messages.insert({ relationshipId: t.rel.id, direction: 'in', messageId: 'm1', type: 'https://didcomm.org/basicmessage/2.0/message', body: { content: 'hi' } });
    expect(viewOf(t.rel.id).messages).toBe(1);
    const queued = t.vault.outbox.enqueue({ relationshipId: t.rel.id, messageId: 'o1', plaintext: { id: 'o1' } });
    expect(viewOf(t.rel.id).queued).toBe(1);
    t.vault.outbox.remove(queued.id);
    expect(viewOf(t.rel.id).queued).toBe(0);
    t.vault.disclosed.upsert({ relationshipId: t.rel.id, field: 'email', value: 'ada@example.org', version: 1, source: 'self', issuer: null, consentRecordId: '00000000-0000-4000-8000-0000000000c1', purpose: 'service-delivery', retention: null, disclosedAt: 1 });
    expect(viewOf(t.rel.id).holds.map((held) => held.field)).toContain('email');
    const work = agent.personas.create({ label: 'work' });
    t.vault.relationships.update(t.rel.id, { persona: work.id });
    expect(viewOf(t.rel.id).persona).toEqual({ id: work.id, label: 'work' });
    agent.personas.update(work.id, { label: 'studio' });
    expect(viewOf(t.rel.id).persona.label).toBe('studio');
  });

  it('shows another connection’s commit to the same vault', () => {
    expect(viewOf(t.other.id).state).toBe('pending');
    const second = Vault.open(join(t.dir, 'vault.db'), TEST_VAULT_PASSPHRASE, { clock: t.clock });
    try {
      second.relationships.setState(t.other.id, 'cut_off');
    } finally {
      second.close();
    }
    expect(viewOf(t.other.id).state).toBe('cut_off');
  });

  it('keeps nothing read inside a transaction that rolls back', () => {
    expect(() =>
      t.vault.transaction(() => {
        t.vault.relationships.setState(t.rel.id, 'active');
        expect(viewOf(t.rel.id).state).toBe('active');
        throw new Error('rolled back');
      }),
    ).toThrow('rolled back');
    expect(viewOf(t.rel.id).state).toBe('pending');
  });
});
