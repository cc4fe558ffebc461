import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { OutboxItem, StoredMessage, VendorRelationship, VendorStore } from './types.js';

// Behaviour every VendorStore must show, whatever database is underneath. Each test gets a fresh,
// empty store from `open` and closes it afterwards.

const T0 = 1_700_000_000_000;
const LEASE = 60_000;

/** Deterministic UUID-shaped ids, so ordering by id is predictable. */
function uid(n: number): string {
  return `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
}

function relationship(n: number, overrides: Partial<VendorRelationship> = {}): VendorRelationship {
  return {
    id: uid(1000 + n),
    theirDid: `did:peer:2.customer${n}`,
    customerRef: `cust-${n}`,
    state: 'active',
    createdAt: T0 + n,
    updatedAt: T0 + n,
    ...overrides,
  };
}

function message(n: number, relationshipId: string, overrides: Partial<StoredMessage> = {}): StoredMessage {
  return {
    id: uid(2000 + n),
    relationshipId,
    messageId: `msg-${n}`,
    direction: 'in',
    type: 'https://kith.example/protocols/test/1.0/ping',
    body: { n, nested: { list: [1, 'two', null, true] } },
    createdAt: T0 + n,
    ...overrides,
  };
}

function outbox(n: number, relationshipId: string, overrides: Partial<OutboxItem> = {}): OutboxItem {
  return {
    id: uid(3000 + n),
    relationshipId,
    messageId: `out-${n}`,
    packed: `{"protected":"e30","ciphertext":"c${n}"}`,
    createdAt: T0 + n,
    nextAttemptAt: T0 + n,
    attempts: 0,
    ...overrides,
  };
}

function ids(items: { id: string }[]): string[] {
  return items.map((item) => item.id);
}

export function vendorStoreContract(name: string, open: () => Promise<VendorStore>): void {
  describe(`${name} vendor store`, () => {
    let store: VendorStore;

    beforeEach(async () => {
      store = await open();
    });

    afterEach(async () => {
      await store.close();
    });

    describe('identity', () => {
      it('has no identity until one is saved', async () => {
        expect(await store.getIdentity()).toBeUndefined();
      });

      it('saves the identity and replaces it on a second save, keeping a single row', async () => {
        await store.saveIdentity({ did: 'did:web:shop.example', keys: { kty: 'OKP', list: [1, 2] }, createdAt: T0 });
        expect(await store.getIdentity()).toEqual({
          did: 'did:web:shop.example',
          keys: { kty: 'OKP', list: [1, 2] },
          createdAt: T0,
        });

        await store.saveIdentity({ did: 'did:web:shop2.example', keys: ['rotated'], createdAt: T0 + 1 });
        expect(await store.getIdentity()).toEqual({ did: 'did:web:shop2.example', keys: ['rotated'], createdAt: T0 + 1 });
        expect((await store.snapshot())['agent_identity']).toHaveLength(1);
      });
    });

    describe('relationships', () => {
      it('creates a relationship and reads it back by id, by DID and in the list ordered by creation time', async () => {
        const later = relationship(2);
        const earlier = relationship(1);
        await store.createRelationship(later);
        await store.createRelationship(earlier);

        expect(await store.getRelationship(earlier.id)).toEqual(earlier);
        expect(await store.findRelationshipByDid(later.theirDid)).toEqual(later);
        expect(await store.listRelationships()).toEqual([earlier, later]);
      });

      it('returns undefined for an unknown relationship id or DID', async () => {
        expect(await store.getRelationship(uid(9))).toBeUndefined();
        expect(await store.findRelationshipByDid('did:peer:2.nobody')).toBeUndefined();
      });

      it('rejects a second relationship for the same DID with store.conflict', async () => {
        const first = relationship(1);
        await store.createRelationship(first);
        await expect(store.createRelationship(relationship(2, { theirDid: first.theirDid }))).rejects.toMatchObject({
          code: 'store.conflict',
        });
        expect(await store.listRelationships()).toEqual([first]);
      });

      it('changes the state of a relationship and its updatedAt', async () => {
        const rel = relationship(1);
        await store.createRelationship(rel);
        await store.setRelationshipState(rel.id, 'muted', T0 + 100);
        expect(await store.getRelationship(rel.id)).toEqual({ ...rel, state: 'muted', updatedAt: T0 + 100 });
        await store.setRelationshipState(rel.id, 'cut_off', T0 + 200);
        expect((await store.getRelationship(rel.id))?.state).toBe('cut_off');
      });

      it('refuses to change the state of an unknown relationship', async () => {
        await expect(store.setRelationshipState(uid(9), 'muted', T0)).rejects.toMatchObject({
          code: 'relationship.unknown',
        });
      });
    });

    describe('seen messages', () => {
      it('records a seen message id and reports it as seen', async () => {
        expect(await store.hasSeenMessage('m-1')).toBe(false);
        await store.recordSeenMessage('m-1', T0 + 1000);
        expect(await store.hasSeenMessage('m-1')).toBe(true);
        expect(await store.hasSeenMessage('m-2')).toBe(false);
      });

      it('rejects recording the same message id twice with store.conflict', async () => {
        await store.recordSeenMessage('m-1', T0 + 1000);
        await expect(store.recordSeenMessage('m-1', T0 + 2000)).rejects.toMatchObject({ code: 'store.conflict' });
      });

      it('lets exactly one of two concurrent recordings of the same message id win', async () => {
        const results = await Promise.allSettled([
          store.recordSeenMessage('m-1', T0 + 1000),
          store.recordSeenMessage('m-1', T0 + 1000),
        ]);
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        const rejected = results.find((r) => r.status === 'rejected');
        expect(rejected?.reason).toMatchObject({ code: 'store.conflict' });
      });

      it('prunes only the message ids that expired before now and returns how many', async () => {
        await store.recordSeenMessage('old-1', T0 - 2);
        await store.recordSeenMessage('old-2', T0 - 1);
        await store.recordSeenMessage('boundary', T0);
        await store.recordSeenMessage('fresh', T0 + 1);

        expect(await store.pruneSeenMessages(T0)).toBe(2);
        expect(await store.hasSeenMessage('old-1')).toBe(false);
        expect(await store.hasSeenMessage('old-2')).toBe(false);
        expect(await store.hasSeenMessage('boundary')).toBe(true);
        expect(await store.hasSeenMessage('fresh')).toBe(true);
        expect(await store.pruneSeenMessages(T0)).toBe(0);
      });
    });

    describe('messages', () => {
      it('lists the messages of a relationship ordered by createdAt then id, with JSON bodies intact', async () => {
        const rel = relationship(1);
        const other = relationship(2);
        await store.createRelationship(rel);
        await store.createRelationship(other);
        const third = message(3, rel.id, { createdAt: T0 + 50, direction: 'out', body: ['a', 1] });
        const tieHigh = message(2, rel.id, { createdAt: T0 + 10, body: 'just a string' });
        const tieLow = message(1, rel.id, { createdAt: T0 + 10, body: null });
        await store.addMessage(third);
        await store.addMessage(tieHigh);
        await store.addMessage(tieLow);
        await store.addMessage(message(4, other.id));

        expect(await store.listMessages(rel.id)).toEqual([tieLow, tieHigh, third]);
      });

      it('rejects a message for an unknown relationship', async () => {
        await expect(store.addMessage(message(1, uid(9)))).rejects.toMatchObject({ code: 'relationship.unknown' });
      });
    });

    describe('transactions', () => {
      it('commits what a transaction wrote when its function returns', async () => {
        const rel = relationship(1);
        const result = await store.transaction(async (tx) => {
          await tx.createRelationship(rel);
          await tx.addMessage(message(1, rel.id));
          expect(await tx.getRelationship(rel.id)).toEqual(rel);
          return 'done';
        });
        expect(result).toBe('done');
        expect(await store.getRelationship(rel.id)).toEqual(rel);
        expect(await store.listMessages(rel.id)).toHaveLength(1);
      });

      it('rolls back everything a transaction wrote when its function throws', async () => {
        await store.createRelationship(relationship(1));
        const before = await store.snapshot();
        const rel = relationship(2);

        await expect(
          store.transaction(async (tx) => {
            await tx.createRelationship(rel);
            await tx.addMessage(message(1, rel.id));
            await tx.recordSeenMessage('m-1', T0);
            throw new Error('boom');
          }),
        ).rejects.toThrow('boom');

        expect(await store.snapshot()).toEqual(before);
      });

      it('keeps concurrent transactions independent: the one that throws is undone, the others are kept', async () => {
        await store.createRelationship(relationship(1));
        const rel = relationship(1);
        const results = await Promise.allSettled([
          store.transaction(async (tx) => tx.recordSeenMessage('kept-1', T0)),
          store.transaction(async (tx) => {
            await tx.recordSeenMessage('undone', T0);
            await tx.addMessage(message(9, rel.id));
            throw new Error('boom');
          }),
          store.transaction(async (tx) => tx.recordSeenMessage('kept-2', T0)),
        ]);

        expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
        expect(await store.hasSeenMessage('kept-1')).toBe(true);
        expect(await store.hasSeenMessage('kept-2')).toBe(true);
        expect(await store.hasSeenMessage('undone')).toBe(false);
        expect(await store.listMessages(rel.id)).toEqual([]);
      });

      it('reuses the outer transaction for nested calls, so an outer throw undoes the inner writes', async () => {
        const before = await store.snapshot();
        await expect(
          store.transaction(async (tx) => {
            await tx.transaction(async (inner) => {
              await inner.createRelationship(relationship(1));
            });
            expect(await tx.listRelationships()).toHaveLength(1);
            throw new Error('outer failure');
          }),
        ).rejects.toThrow('outer failure');
        expect(await store.snapshot()).toEqual(before);
      });
    });

    describe('outbox', () => {
      it('claims only due items, oldest first, up to the limit', async () => {
        const rel = relationship(1);
        await store.createRelationship(rel);
        const newest = outbox(3, rel.id, { createdAt: T0 + 3, nextAttemptAt: T0 });
        const oldest = outbox(1, rel.id, { createdAt: T0 + 1, nextAttemptAt: T0 - 5 });
        const middle = outbox(2, rel.id, { createdAt: T0 + 2, nextAttemptAt: T0 - 10 });
        const notDue = outbox(4, rel.id, { createdAt: T0, nextAttemptAt: T0 + 1 });
        for (const item of [newest, oldest, middle, notDue]) await store.enqueueOutbox(item);

        const claimed = await store.claimDueOutbox(T0, 2, LEASE);
        expect(ids(claimed)).toEqual([oldest.id, middle.id]);
        expect(claimed[0]).toEqual({ ...oldest, nextAttemptAt: T0 + LEASE });

        expect(ids(await store.claimDueOutbox(T0, 10, LEASE))).toEqual([newest.id]);
      });

      it('does not claim items of relationships that are muted or cut off', async () => {
        const active = relationship(1);
        const muted = relationship(2, { state: 'muted' });
        const cutOff = relationship(3, { state: 'cut_off' });
        for (const rel of [active, muted, cutOff]) await store.createRelationship(rel);
        await store.enqueueOutbox(outbox(1, active.id));
        await store.enqueueOutbox(outbox(2, muted.id));
        await store.enqueueOutbox(outbox(3, cutOff.id));

        expect(ids(await store.claimDueOutbox(T0 + 100, 10, LEASE))).toEqual([uid(3001)]);
      });

      it('leases claimed items so a second claim within the lease returns nothing', async () => {
        const rel = relationship(1);
        await store.createRelationship(rel);
        await store.enqueueOutbox(outbox(1, rel.id, { nextAttemptAt: T0 }));

        expect(await store.claimDueOutbox(T0, 10, LEASE)).toHaveLength(1);
        expect(await store.claimDueOutbox(T0 + LEASE - 1, 10, LEASE)).toEqual([]);
        expect(ids(await store.claimDueOutbox(T0 + LEASE, 10, LEASE))).toEqual([uid(3001)]);
      });

      it('never hands the same item to two concurrent claims', async () => {
        const rel = relationship(1);
        await store.createRelationship(rel);
        for (let n = 1; n <= 20; n++) await store.enqueueOutbox(outbox(n, rel.id, { nextAttemptAt: T0 }));

        const [a, b] = await Promise.all([store.claimDueOutbox(T0, 15, LEASE), store.claimDueOutbox(T0, 15, LEASE)]);

        const claimedA = new Set(ids(a));
        expect(ids(b).filter((id) => claimedA.has(id))).toEqual([]);
        expect(new Set([...ids(a), ...ids(b)]).size).toBe(20);
      });

      it('returns pending items for a relationship regardless of their next attempt time, oldest first', async () => {
        const rel = relationship(1);
        const other = relationship(2);
        await store.createRelationship(rel);
        await store.createRelationship(other);
        const future = outbox(2, rel.id, { nextAttemptAt: T0 + 1_000_000 });
        const due = outbox(1, rel.id, { nextAttemptAt: T0 - 1 });
        const third = outbox(3, rel.id, { nextAttemptAt: T0 + 5 });
        for (const item of [future, third, due]) await store.enqueueOutbox(item);
        await store.enqueueOutbox(outbox(4, other.id));

        expect(await store.pendingOutbox(rel.id, 10)).toEqual([due, future, third]);
        expect(await store.pendingOutbox(rel.id, 2)).toEqual([due, future]);
        expect(await store.countPendingOutbox(rel.id)).toBe(3);
        expect(await store.countPendingOutbox(uid(9))).toBe(0);
      });

      it('removes delivered items by message id, scoped to the relationship', async () => {
        const rel = relationship(1);
        const other = relationship(2);
        await store.createRelationship(rel);
        await store.createRelationship(other);
        await store.enqueueOutbox(outbox(1, rel.id, { messageId: 'shared' }));
        await store.enqueueOutbox(outbox(2, rel.id, { messageId: 'keep' }));
        await store.enqueueOutbox(outbox(3, other.id, { messageId: 'shared' }));

        expect(await store.removeOutbox(rel.id, ['shared', 'unknown'])).toBe(1);
        expect(await store.removeOutbox(rel.id, [])).toBe(0);
        expect(ids(await store.pendingOutbox(rel.id, 10))).toEqual([uid(3002)]);
        expect(ids(await store.pendingOutbox(other.id, 10))).toEqual([uid(3003)]);
      });

      it('reschedules an item with a new attempt time and attempt count', async () => {
        const rel = relationship(1);
        await store.createRelationship(rel);
        const item = outbox(1, rel.id, { nextAttemptAt: T0 });
        await store.enqueueOutbox(item);

        await store.rescheduleOutbox(item.id, T0 + 5000, 3);
        expect(await store.pendingOutbox(rel.id, 10)).toEqual([{ ...item, nextAttemptAt: T0 + 5000, attempts: 3 }]);
        expect(await store.claimDueOutbox(T0 + 4999, 10, LEASE)).toEqual([]);
        expect(ids(await store.claimDueOutbox(T0 + 5000, 10, LEASE))).toEqual([item.id]);
      });
    });

    describe('erasure', () => {
      it('erases the messages and outbox of a relationship, tombstones its DID and reports the counts', async () => {
        const rel = relationship(1);
        await store.createRelationship(rel);
        await store.addMessage(message(1, rel.id));
        await store.addMessage(message(2, rel.id));
        await store.enqueueOutbox(outbox(1, rel.id));

        const summary = await store.eraseRelationship(rel.id, T0 + 999);

        expect(summary).toEqual({
          relationshipId: rel.id,
          erasedAt: T0 + 999,
          erased: [
            { category: 'messages', count: 2 },
            { category: 'outbox', count: 1 },
            { category: 'relationship', count: 1 },
          ],
        });
        expect(await store.listMessages(rel.id)).toEqual([]);
        expect(await store.pendingOutbox(rel.id, 10)).toEqual([]);
        const erased = await store.getRelationship(rel.id);
        expect(erased).toMatchObject({ id: rel.id, state: 'cut_off', updatedAt: T0 + 999 });
        expect(erased?.theirDid).not.toBe(rel.theirDid);
        expect(await store.findRelationshipByDid(rel.theirDid)).toBeUndefined();
        expect(await store.isTombstoned(rel.theirDid)).toBe(true);
        expect(await store.isTombstoned('did:peer:2.someone-else')).toBe(false);

        const snapshot = await store.snapshot();
        const everything = JSON.stringify(snapshot);
        expect(everything).not.toContain(rel.theirDid);
        expect(everything).not.toContain(rel.customerRef);
        const didHash = createHash('sha256').update(rel.theirDid).digest('hex');
        expect(snapshot['tombstones']).toEqual([expect.objectContaining({ did_sha256: didHash })]);
      });

      it('leaves other relationships untouched when erasing one', async () => {
        const doomed = relationship(1);
        const kept = relationship(2);
        await store.createRelationship(doomed);
        await store.createRelationship(kept);
        await store.addMessage(message(1, doomed.id));
        await store.addMessage(message(2, kept.id));
        await store.enqueueOutbox(outbox(1, doomed.id));
        await store.enqueueOutbox(outbox(2, kept.id));
        const keptMessages = await store.listMessages(kept.id);
        const keptOutbox = await store.pendingOutbox(kept.id, 10);

        await store.eraseRelationship(doomed.id, T0 + 999);

        expect(await store.getRelationship(kept.id)).toEqual(kept);
        expect(await store.listMessages(kept.id)).toEqual(keptMessages);
        expect(await store.pendingOutbox(kept.id, 10)).toEqual(keptOutbox);
        expect(await store.isTombstoned(kept.theirDid)).toBe(false);
      });

      it('counts zeros when erasing an already erased relationship', async () => {
        const rel = relationship(1);
        await store.createRelationship(rel);
        await store.eraseRelationship(rel.id, T0 + 1);
        const before = await store.snapshot();

        const again = await store.eraseRelationship(rel.id, T0 + 2);
        expect(again.erased.every((entry) => entry.count === 0)).toBe(true);
        expect(await store.snapshot()).toEqual(before);
      });

      it('refuses to erase an unknown relationship', async () => {
        await expect(store.eraseRelationship(uid(9), T0)).rejects.toMatchObject({ code: 'relationship.unknown' });
      });

      it('lets a customer whose relationship was erased start a new one', async () => {
        const rel = relationship(1);
        await store.createRelationship(rel);
        await store.eraseRelationship(rel.id, T0 + 1);

        const fresh = relationship(2, { theirDid: rel.theirDid });
        await store.createRelationship(fresh);
        expect(await store.findRelationshipByDid(rel.theirDid)).toEqual(fresh);
        expect(await store.isTombstoned(rel.theirDid)).toBe(true);
      });
    });

    describe('snapshot', () => {
      it('starts with every table present and empty', async () => {
        const snapshot = await store.snapshot();
        expect(Object.keys(snapshot).sort()).toEqual(
          ['agent_identity', 'messages', 'outbox', 'relationships', 'seen_messages', 'tombstones'].sort(),
        );
        expect(Object.values(snapshot).every((rows) => rows.length === 0)).toBe(true);
      });

      it('reflects writes, with rows sorted deterministically and JSON decoded', async () => {
        const b = relationship(2);
        const a = relationship(1);
        await store.createRelationship(b);
        await store.createRelationship(a);
        await store.addMessage(message(1, a.id, { body: { hello: 'world' } }));
        await store.recordSeenMessage('m-1', T0);

        const snapshot = await store.snapshot();
        expect(snapshot['relationships']).toEqual([
          expect.objectContaining({ id: a.id, their_did: a.theirDid }),
          expect.objectContaining({ id: b.id, their_did: b.theirDid }),
        ]);
        expect(snapshot['messages']).toEqual([expect.objectContaining({ id: uid(2001), body: { hello: 'world' } })]);
        expect(snapshot['seen_messages']).toEqual([{ message_id: 'm-1', expires_at: T0 }]);
        expect(await store.snapshot()).toEqual(snapshot);
      });
    });
  });
}
