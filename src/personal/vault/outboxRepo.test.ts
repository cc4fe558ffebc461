import { beforeEach, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../core/clock.js';
import type { RelationshipRecord } from './relationshipRepo.js';
import type { Vault } from './vault.js';
import { useTestVault } from '../../../test/support/testVault.js';

let vault: Vault;
let clock: ManualClock;
let rel: RelationshipRecord;
let other: RelationshipRecord;

const t = useTestVault();
beforeEach(() => {
  ({ vault, clock, rel, other } = t);
});

describe('OutboxRepo', () => {
  it('enqueues items due now with no attempts yet', () => {
    const item = vault.outbox.enqueue({ relationshipId: rel.id, messageId: 'm1', plaintext: { body: 'hi' } });
    expect(item).toMatchObject({ attempts: 0, nextAttemptAt: clock.now(), createdAt: clock.now() });
    expect(vault.outbox.due(clock.now(), 10)).toEqual([item]);
  });

  it('returns due items earliest first, up to the limit, and skips future ones', () => {
    const now = clock.now();
    const later = vault.outbox.enqueue({ relationshipId: rel.id, messageId: 'm1', plaintext: 1, nextAttemptAt: now - 10 });
    const first = vault.outbox.enqueue({ relationshipId: rel.id, messageId: 'm2', plaintext: 2, nextAttemptAt: now - 20 });
    vault.outbox.enqueue({ relationshipId: rel.id, messageId: 'm3', plaintext: 3, nextAttemptAt: now + 1000 });
    expect(vault.outbox.due(now, 10)).toEqual([first, later]);
    expect(vault.outbox.due(now, 1)).toEqual([first]);
  });

  it('reschedules with a new attempt count and removes delivered items', () => {
    const item = vault.outbox.enqueue({ relationshipId: rel.id, messageId: 'm1', plaintext: null });
    expect(vault.outbox.reschedule(item.id, clock.now() + 60_000, 1)).toBe(true);
    expect(vault.outbox.due(clock.now(), 10)).toEqual([]);
    expect(vault.outbox.due(clock.now() + 60_000, 10)).toEqual([{ ...item, attempts: 1, nextAttemptAt: clock.now() + 60_000 }]);
    expect(vault.outbox.remove(item.id)).toBe(true);
    expect(vault.outbox.remove(item.id)).toBe(false);
    expect(vault.outbox.reschedule(item.id, 0, 2)).toBe(false);
  });

  it('counts pending items per relationship and overall', () => {
    vault.outbox.enqueue({ relationshipId: rel.id, messageId: 'm1', plaintext: 1 });
    vault.outbox.enqueue({ relationshipId: rel.id, messageId: 'm2', plaintext: 2 });
    vault.outbox.enqueue({ relationshipId: other.id, messageId: 'm3', plaintext: 3 });
    expect(vault.outbox.countPending(rel.id)).toBe(2);
    expect(vault.outbox.countPending(other.id)).toBe(1);
    expect(vault.outbox.countPending()).toBe(3);
  });
});
