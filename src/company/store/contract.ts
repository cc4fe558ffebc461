import { createHash } from 'node:crypto';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { withEvent } from '../../protocol/consentRecord.js';
import { agreementUri, consentDocument, demandDocument, loadTestDocuments, type TestDocuments } from '../../../test/support/documents.js';
import type {
  ConnectorAttempt,
  ConnectorEvent,
  DataRightsRequestRow,
  ConsentRecordRow,
  DisclosureRequest,
  HeldField,
  OfferRow,
  OutboxItem,
  Presentation,
  ReceivedIntent,
  StoredMessage,
  TermsAgreementRow,
  CompanyRelationship,
  CompanyStore,
  CallerVerificationRow,
  ServiceCaseEntry,
  ServiceCaseRow,
  AuditEntry,
} from './types.js';
import { snapshotOf } from './testing.js';

// Behaviour every CompanyStore must show, whatever database is underneath. Each test gets a fresh,
// empty store from `open` and closes it afterwards.

/**
 * Sets one JSON column of one row to `json` (JSON text) behind the store's back, as another program
 * or an older Kith could have written it: for the tests of a stored document the store cannot parse.
 */
export type WriteJsonColumn = (
  store: CompanyStore,
  table: 'consent_records' | 'terms_agreements' | 'intents' | 'offers',
  column: 'record' | 'signed' | 'obligations' | 'demand',
  id: string,
  json: string,
) => Promise<void>;

const T0 = 1_700_000_000_000;
const LEASE = 60_000;

/** Deterministic UUID-shaped ids, so ordering by id is predictable. */
function uid(n: number): string {
  return `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
}

function relationship(n: number, overrides: Partial<CompanyRelationship> = {}): CompanyRelationship {
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

/** Nested JSON with non-ASCII text, quotes and backslashes: what must come back exactly as written. */
const TRICKY_JSON = {
  name: 'Zoë Ångström-山田 🌸',
  quote: 'she said "hi" \\ back\nslash',
  nested: { list: [1, 'two', null, true, { deep: ['ü', 2.5, -7] }], empty: {}, none: [] },
};

function disclosureRequest(n: number, relationshipId: string, overrides: Partial<DisclosureRequest> = {}): DisclosureRequest {
  return {
    id: uid(4000 + n),
    relationshipId,
    messageId: `req-msg-${n}`,
    nonce: `nonce-${n}`,
    fields: ['email', 'given_name', 'straße'],
    credentials: [{ vct: 'https://issuer.example/age', claims: ['age_over_18'], issuers: ['did:peer:2.issuer'] }, { vct: 'https://issuer.example/x', claims: ['a', 'b'] }],
    purpose: `Order updates ${n} — délivery`,
    retention: 'P1Y6M',
    legalBasis: 'consent',
    termsRef: 'https://shop.example/terms#v3',
    state: 'pending',
    createdAt: T0 + n,
    updatedAt: T0 + n,
    ...overrides,
  };
}

/** Real signed agreements and obligations (of the bundled roster), loaded once per suite: the store parses what it reads. */
let documents: TestDocuments;

/** A consent record document whose free text (controller name, purpose, terms reference) is tricky JSON. */
function consentRecordDocument(n: number, overrides: Parameters<typeof consentDocument>[1] = {}) {
  return consentDocument(uid(5000 + n), {
    principalDid: `did:peer:2.customer${n}`,
    controller: { name: TRICKY_JSON.name, did: 'did:web:shop.example' },
    requestId: `req-${n}`,
    termsRef: 'https://shop.example/terms#v3',
    purpose: TRICKY_JSON.quote,
    retention: 'P1Y6M',
    requestedAt: T0 + n,
    answeredAt: T0 + n + 1,
    ...overrides,
  });
}

function consentRecord(n: number, relationshipId: string, overrides: Partial<ConsentRecordRow> = {}): ConsentRecordRow {
  return {
    id: uid(5000 + n),
    relationshipId,
    requestId: uid(4000 + n),
    state: 'active',
    record: consentRecordDocument(n),
    createdAt: T0 + n,
    updatedAt: T0 + n,
    ...overrides,
  };
}

function termsAgreement(n: number, relationshipId: string, overrides: Partial<TermsAgreementRow> = {}): TermsAgreementRow {
  return {
    id: uid(8000 + n),
    relationshipId,
    proposedBy: 'person',
    agreementId: agreementUri('service-only'),
    state: 'proffered',
    threadId: `proffer-msg-${n}`,
    signed: documents.agreement(uid(8000 + n)),
    obligations: documents.obligations('service-only'),
    reason: null,
    createdAt: T0 + n,
    updatedAt: T0 + n,
    ...overrides,
  };
}

function heldField(field: string, relationshipId: string, overrides: Partial<HeldField> = {}): HeldField {
  return {
    relationshipId,
    field,
    value: `value of ${field} — ✓`,
    version: 1,
    consentRecordId: uid(5001),
    source: 'self',
    issuer: null,
    updatedAt: T0,
    ...overrides,
  };
}

function presentation(n: number, relationshipId: string, overrides: Partial<Presentation> = {}): Presentation {
  return {
    id: uid(6000 + n),
    relationshipId,
    messageId: `pres-msg-${n}`,
    kind: 'disclosure',
    sdJwt: `eyJhbGciOiJFZERTQSJ9.eyJuIjo${n}fQ.sig~WyJzYWx0IiwiZW1haWwiLCJhQGIuZXhhbXBsZSJd~kb.jwt.${n}`,
    receivedAt: T0 + n,
    ...overrides,
  };
}

function connectorEvent(n: number, relationshipId: string | null, overrides: Partial<ConnectorEvent> = {}): ConnectorEvent {
  return {
    id: uid(7000 + n),
    relationshipId,
    type: 'profile.disclosed',
    payload: { n, relationshipId, fields: TRICKY_JSON },
    createdAt: T0 + n,
    nextAttemptAt: T0 + n,
    attempts: 0,
    dispatchedAt: null,
    ...overrides,
  };
}

function receivedIntent(n: number, relationshipId: string, overrides: Partial<ReceivedIntent> = {}): ReceivedIntent {
  return {
    id: uid(9000 + n),
    relationshipId,
    messageId: `cast-msg-${n}`,
    demand: demandDocument({ description: `${TRICKY_JSON.quote} — ${TRICKY_JSON.name} ${n}` }),
    outcome: 'Warm feet on a winter hike — "dry" ones',
    currencyRequired: true,
    expiresAt: T0 + 7 * 24 * 3600 * 1000,
    state: 'open',
    createdAt: T0 + n,
    updatedAt: T0 + n,
    ...overrides,
  };
}

function offerRow(n: number, intentId: string, relationshipId: string, overrides: Partial<OfferRow> = {}): OfferRow {
  return {
    id: uid(9500 + n),
    intentId,
    relationshipId,
    signed: documents.offer(uid(9500 + n), intentId, { conditions: `${TRICKY_JSON.quote} ${n}` }),
    state: 'offered',
    createdAt: T0 + n,
    updatedAt: T0 + n,
    ...overrides,
  };
}

function serviceCase(n: number, relationshipId: string, overrides: Partial<ServiceCaseRow> = {}): ServiceCaseRow {
  return {
    id: uid(9600 + n),
    relationshipId,
    caseId: uid(9700 + n),
    state: 'open',
    warrantyClaim: n % 2 === 1,
    details: { thing: { name: `Fridge ${n} — ❄`, serialNumber: `SN-${n}`, purchaseDate: '2026-03-15' }, identifier: n % 2 === 1 ? { kind: 'customer_number', value: `AO-${n}` } : null },
    createdAt: T0 + n,
    updatedAt: T0 + n,
    ...overrides,
  };
}

function caseEntry(n: number, row: ServiceCaseRow, overrides: Partial<ServiceCaseEntry> = {}): ServiceCaseEntry {
  return { id: uid(9800 + n), caseRowId: row.id, relationshipId: row.relationshipId, messageId: `case-msg-${n}`, author: 'person', kind: 'reply', text: `Text ${n}`, createdAt: T0 + n, ...overrides };
}

function verification(n: number, relationshipId: string, overrides: Partial<CallerVerificationRow> = {}): CallerVerificationRow {
  return {
    id: uid(9000 + n),
    relationshipId,
    messageId: `challenge-${n}`,
    code: 'K7Q4MX',
    operator: `Operator ${n} — ✓`,
    state: 'pending',
    expiresAt: T0 + 300_000,
    createdAt: T0 + n,
    answeredAt: null,
    answerMessageId: null,
    signerKid: null,
    answerJws: null,
    ...overrides,
  };
}

function auditEntry(n: number, relationshipId: string | null, overrides: Partial<AuditEntry> = {}): AuditEntry {
  return { id: uid(9500 + n), operator: `Sam ${n}`, relationshipId, action: 'console.view', at: T0 + n, ...overrides };
}

function ids(items: { id: string }[]): string[] {
  return items.map((item) => item.id);
}

export function companyStoreContract(name: string, open: () => Promise<CompanyStore>, writeJsonColumn: WriteJsonColumn): void {
  describe(`${name} company store`, () => {
    let store: CompanyStore;

    beforeAll(async () => {
      documents ??= await loadTestDocuments();
    });

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
        expect((await snapshotOf(store))['agent_identity']).toHaveLength(1);
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

      it('records a seen id and finds the sender\'s relationship in one call, or finds none and still records the id', async () => {
        const known = relationship(1);
        await store.createRelationship(known);
        expect(await store.recordSeenAndFindRelationship('m-1', T0 + 1000, known.theirDid)).toEqual(known);
        expect(await store.hasSeenMessage('m-1')).toBe(true);
        expect(await store.recordSeenAndFindRelationship('m-2', T0 + 1000, 'did:example:nobody')).toBeUndefined();
        expect(await store.hasSeenMessage('m-2')).toBe(true);
        // A replay fails the whole call, as recordSeenMessage does, and inside a transaction undoes nothing else.
        await expect(store.recordSeenAndFindRelationship('m-1', T0 + 2000, known.theirDid)).rejects.toMatchObject({ code: 'store.conflict' });
        await expect(store.transaction(async (tx) => tx.recordSeenAndFindRelationship('m-1', T0, known.theirDid))).rejects.toMatchObject({ code: 'store.conflict' });
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
        const before = await snapshotOf(store);
        const rel = relationship(2);

        await expect(
          store.transaction(async (tx) => {
            await tx.createRelationship(rel);
            await tx.addMessage(message(1, rel.id));
            await tx.recordSeenMessage('m-1', T0);
            throw new Error('boom');
          }),
        ).rejects.toThrow('boom');

        expect(await snapshotOf(store)).toEqual(before);
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
        const before = await snapshotOf(store);
        await expect(
          store.transaction(async (tx) => {
            await tx.transaction(async (inner) => {
              await inner.createRelationship(relationship(1));
            });
            expect(await tx.listRelationships()).toHaveLength(1);
            throw new Error('outer failure');
          }),
        ).rejects.toThrow('outer failure');
        expect(await snapshotOf(store)).toEqual(before);
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

      it('claims one relationship’s due items when asked, under the same lease as a claim of all', async () => {
        const [a, b] = [relationship(1), relationship(2)];
        for (const rel of [a, b]) await store.createRelationship(rel);
        await store.enqueueOutbox(outbox(1, a.id, { nextAttemptAt: T0 }));
        await store.enqueueOutbox(outbox(2, b.id, { nextAttemptAt: T0 }));
        await store.enqueueOutbox(outbox(3, b.id, { nextAttemptAt: T0 + 1 }));

        const claimed = await store.claimDueOutbox(T0, 10, LEASE, { relationshipId: b.id });
        expect(ids(claimed)).toEqual([uid(3002)]);
        // Leased: neither a scoped nor a general claim gets it again within the lease.
        expect(await store.claimDueOutbox(T0, 10, LEASE, { relationshipId: b.id })).toEqual([]);
        expect(ids(await store.claimDueOutbox(T0, 10, LEASE))).toEqual([uid(3001)]);
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
        // All relationships': the queue depth.
        expect(await store.countPendingOutbox()).toBe(4);
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

    describe('disclosure requests', () => {
      it('reads a request back with every field by id, by nonce and in the list ordered by createdAt then id', async () => {
        const rel = relationship(1);
        const other = relationship(2);
        await store.createRelationship(rel);
        await store.createRelationship(other);
        const third = disclosureRequest(3, rel.id, { createdAt: T0 + 50, updatedAt: T0 + 60, state: 'withdrawn' });
        const tieHigh = disclosureRequest(2, rel.id, { createdAt: T0 + 10, retention: null, termsRef: null, fields: [] });
        const tieLow = disclosureRequest(1, rel.id, { createdAt: T0 + 10, fields: ['email'] });
        for (const request of [third, tieHigh, tieLow]) await store.createDisclosureRequest(request);
        await store.createDisclosureRequest(disclosureRequest(4, other.id));

        expect(await store.getDisclosureRequest(third.id)).toEqual(third);
        expect(await store.getDisclosureRequest(tieHigh.id)).toEqual(tieHigh);
        expect(await store.findDisclosureRequestByNonce(tieLow.nonce)).toEqual(tieLow);
        expect(await store.listDisclosureRequests(rel.id)).toEqual([tieLow, tieHigh, third]);
        expect(await store.listDisclosureRequests(uid(9))).toEqual([]);
      });

      it('returns undefined for an unknown request id or nonce', async () => {
        expect(await store.getDisclosureRequest(uid(9))).toBeUndefined();
        expect(await store.findDisclosureRequestByNonce('no-such-nonce')).toBeUndefined();
      });

      it('rejects a request for an unknown relationship with relationship.unknown', async () => {
        await expect(store.createDisclosureRequest(disclosureRequest(1, uid(9)))).rejects.toMatchObject({ code: 'relationship.unknown' });
      });

      it('rejects a second request with the same id or the same nonce with store.conflict', async () => {
        const rel = relationship(1);
        await store.createRelationship(rel);
        const first = disclosureRequest(1, rel.id);
        await store.createDisclosureRequest(first);

        await expect(store.createDisclosureRequest(disclosureRequest(2, rel.id, { id: first.id }))).rejects.toMatchObject({ code: 'store.conflict' });
        await expect(store.createDisclosureRequest(disclosureRequest(3, rel.id, { nonce: first.nonce }))).rejects.toMatchObject({ code: 'store.conflict' });
        expect(await store.listDisclosureRequests(rel.id)).toEqual([first]);
      });

      it('settles a pending request once: a second settle returns false and changes nothing', async () => {
        const rel = relationship(1);
        await store.createRelationship(rel);
        const request = disclosureRequest(1, rel.id);
        await store.createDisclosureRequest(request);

        expect(await store.settleDisclosureRequest(request.id, 'fulfilled', T0 + 100)).toBe(true);
        expect(await store.getDisclosureRequest(request.id)).toEqual({ ...request, state: 'fulfilled', updatedAt: T0 + 100 });

        const before = await snapshotOf(store);
        expect(await store.settleDisclosureRequest(request.id, 'declined', T0 + 200)).toBe(false);
        expect(await store.settleDisclosureRequest(request.id, 'fulfilled', T0 + 300)).toBe(false);
        expect(await store.settleDisclosureRequest(uid(9), 'withdrawn', T0 + 300)).toBe(false);
        expect(await snapshotOf(store)).toEqual(before);
      });

      it('lets exactly one of concurrent settles of the same request win', async () => {
        const rel = relationship(1);
        await store.createRelationship(rel);
        const request = disclosureRequest(1, rel.id);
        await store.createDisclosureRequest(request);

        const results = await Promise.all([
          store.settleDisclosureRequest(request.id, 'fulfilled', T0 + 1),
          store.settleDisclosureRequest(request.id, 'declined', T0 + 2),
          store.settleDisclosureRequest(request.id, 'withdrawn', T0 + 3),
        ]);
        expect(results.filter(Boolean)).toHaveLength(1);
        const winner = (['fulfilled', 'declined', 'withdrawn'] as const)[results.indexOf(true)];
        expect(await store.getDisclosureRequest(request.id)).toEqual({ ...request, state: winner, updatedAt: T0 + 1 + results.indexOf(true) });
      });

      it('lets exactly one of concurrent transactions settling the same request win', async () => {
        const rel = relationship(1);
        await store.createRelationship(rel);
        const request = disclosureRequest(1, rel.id);
        await store.createDisclosureRequest(request);

        const settle = (n: number) =>
          store.transaction(async (tx) => {
            const won = await tx.settleDisclosureRequest(request.id, 'fulfilled', T0 + n);
            if (won) await tx.saveConsentRecord(consentRecord(n, rel.id));
            return won;
          });
        const results = await Promise.all([settle(1), settle(2), settle(3)]);
        expect(results.filter(Boolean)).toHaveLength(1);
        expect(await store.listConsentRecords(rel.id)).toHaveLength(1);
      });
    });

    describe('consent records', () => {
      it('reads records back with nested JSON intact, by id and in the list ordered by createdAt then id', async () => {
        const rel = relationship(1);
        const other = relationship(2);
        await store.createRelationship(rel);
        await store.createRelationship(other);
        const later = consentRecord(3, rel.id, { createdAt: T0 + 50, state: 'refused' });
        const tieHigh = consentRecord(2, rel.id, {
          createdAt: T0 + 10,
          requestId: null,
          state: 'refused',
          record: consentRecordDocument(2, {
            requestId: null,
            state: 'refused',
            legalBasis: 'legitimate-interest',
            retention: null,
            categories: [
              { category: 'email', source: 'pii_principal', issuer: null },
              { category: 'age_over_18', source: 'issuer', issuer: 'did:peer:2.issuer' },
            ],
          }),
        });
        const tieLow = consentRecord(1, rel.id, { createdAt: T0 + 10 });
        for (const record of [later, tieHigh, tieLow]) await store.saveConsentRecord(record);
        await store.saveConsentRecord(consentRecord(4, other.id));

        expect(await store.getConsentRecord(tieLow.id)).toEqual(tieLow);
        expect(await store.getConsentRecord(tieHigh.id)).toEqual(tieHigh);
        expect(await store.listConsentRecords(rel.id)).toEqual([tieLow, tieHigh, later]);
        expect(await store.getConsentRecord(uid(9))).toBeUndefined();
      });

      it('rejects a record for an unknown relationship and a duplicate id', async () => {
        await expect(store.saveConsentRecord(consentRecord(1, uid(9)))).rejects.toMatchObject({ code: 'relationship.unknown' });
        const rel = relationship(1);
        await store.createRelationship(rel);
        const first = consentRecord(1, rel.id);
        await store.saveConsentRecord(first);
        await expect(store.saveConsentRecord({ ...first, state: 'withdrawn' })).rejects.toMatchObject({ code: 'store.conflict' });
        expect(await store.listConsentRecords(rel.id)).toEqual([first]);
      });

      it('updates the state and record of a record, and reports false for an unknown id', async () => {
        const rel = relationship(1);
        await store.createRelationship(rel);
        const record = consentRecord(1, rel.id);
        await store.saveConsentRecord(record);

        const withdrawn = withEvent(record.record, 'withdrawn', T0 + 100, 'pii_principal');
        expect(await store.updateConsentRecord(record.id, 'withdrawn', withdrawn, T0 + 100)).toBe(true);
        expect(await store.getConsentRecord(record.id)).toEqual({ ...record, state: 'withdrawn', record: withdrawn, updatedAt: T0 + 100 });

        const before = await snapshotOf(store);
        expect(await store.updateConsentRecord(uid(9), 'expired', withdrawn, T0 + 200)).toBe(false);
        expect(await snapshotOf(store)).toEqual(before);
      });
    });

    describe('terms agreements', () => {
      it('reads agreements back with nested JSON intact, by id and in the list ordered by createdAt then id', async () => {
        const rel = relationship(1);
        const other = relationship(2);
        await store.createRelationship(rel);
        await store.createRelationship(other);
        const later = termsAgreement(3, rel.id, { createdAt: T0 + 50, updatedAt: T0 + 70, state: 'rejected', proposedBy: 'company', reason: 'Not the térms we offer — "sorry"' });
        // A counter both signed, of another agreement: another shape of both documents.
        const tieHigh = termsAgreement(2, rel.id, {
          createdAt: T0 + 10,
          proposedBy: 'company',
          agreementId: agreementUri('intent-only-contact'),
          signed: documents.agreement(uid(8002), { agreement: 'intent-only-contact', proffered: 'service-only', signedBy: 'both' }),
          obligations: documents.obligations('intent-only-contact'),
        });
        const tieLow = termsAgreement(1, rel.id, { createdAt: T0 + 10 });
        for (const row of [later, tieHigh, tieLow]) await store.createTermsAgreement(row);
        await store.createTermsAgreement(termsAgreement(4, other.id));

        expect(await store.getTermsAgreement(tieLow.id)).toEqual(tieLow);
        expect(await store.getTermsAgreement(tieHigh.id)).toEqual(tieHigh);
        expect(await store.getTermsAgreement(later.id)).toEqual(later);
        expect(await store.listTermsAgreements(rel.id)).toEqual([tieLow, tieHigh, later]);
        expect(await store.getTermsAgreement(uid(9))).toBeUndefined();
        expect(await store.listTermsAgreements(uid(9))).toEqual([]);
      });

      it('rejects a duplicate id with store.conflict and an unknown relationship with relationship.unknown, changing nothing', async () => {
        const rel = relationship(1);
        await store.createRelationship(rel);
        const first = termsAgreement(1, rel.id);
        await store.createTermsAgreement(first);
        const before = await snapshotOf(store);

        await expect(store.createTermsAgreement({ ...termsAgreement(2, rel.id), id: first.id })).rejects.toMatchObject({ code: 'store.conflict' });
        await expect(store.createTermsAgreement(termsAgreement(3, uid(9)))).rejects.toMatchObject({ code: 'relationship.unknown' });
        expect(await snapshotOf(store)).toEqual(before);
        expect(await store.listTermsAgreements(rel.id)).toEqual([first]);
      });

      it('returns as current only the agreement in state agreed, per relationship', async () => {
        const rel = relationship(1);
        const other = relationship(2);
        await store.createRelationship(rel);
        await store.createRelationship(other);
        expect(await store.currentTermsAgreement(rel.id)).toBeUndefined();

        await store.createTermsAgreement(termsAgreement(1, rel.id, { state: 'superseded' }));
        await store.createTermsAgreement(termsAgreement(2, rel.id, { state: 'proffered' }));
        expect(await store.currentTermsAgreement(rel.id)).toBeUndefined();

        const agreed = termsAgreement(3, rel.id, { state: 'agreed', proposedBy: 'company' });
        await store.createTermsAgreement(agreed);
        await store.createTermsAgreement(termsAgreement(4, rel.id, { state: 'countered', proposedBy: 'company' }));
        const otherAgreed = termsAgreement(5, other.id, { state: 'agreed' });
        await store.createTermsAgreement(otherAgreed);

        expect(await store.currentTermsAgreement(rel.id)).toEqual(agreed);
        expect(await store.currentTermsAgreement(other.id)).toEqual(otherAgreed);
        expect(await store.currentTermsAgreement(uid(9))).toBeUndefined();
      });

      it('refuses a second agreed agreement for the same relationship with store.conflict, changing nothing', async () => {
        const rel = relationship(1);
        await store.createRelationship(rel);
        const agreed = termsAgreement(1, rel.id, { state: 'agreed' });
        const proffered = termsAgreement(2, rel.id);
        await store.createTermsAgreement(agreed);
        await store.createTermsAgreement(proffered);
        const before = await snapshotOf(store);

        await expect(store.createTermsAgreement(termsAgreement(3, rel.id, { state: 'agreed' }))).rejects.toMatchObject({ code: 'store.conflict' });
        await expect(store.updateTermsAgreement(proffered.id, { state: 'agreed', signed: documents.agreement(proffered.id, { signedBy: 'both' }) }, T0 + 100)).rejects.toMatchObject({
          code: 'store.conflict',
        });
        expect(await snapshotOf(store)).toEqual(before);
        expect(await store.currentTermsAgreement(rel.id)).toEqual(agreed);

        // Superseding the one in force first, in one transaction, lets the next take its place.
        await store.transaction(async (tx) => {
          expect(await tx.updateTermsAgreement(agreed.id, { state: 'superseded' }, T0 + 200)).toBe(true);
          expect(await tx.updateTermsAgreement(proffered.id, { state: 'agreed' }, T0 + 200)).toBe(true);
        });
        expect(await store.currentTermsAgreement(rel.id)).toEqual({ ...proffered, state: 'agreed', updatedAt: T0 + 200 });
        expect(await store.getTermsAgreement(agreed.id)).toEqual({ ...agreed, state: 'superseded', updatedAt: T0 + 200 });
      });

      it('finds the agreements of one thread of one relationship, ordered by createdAt then id', async () => {
        const rel = relationship(1);
        const other = relationship(2);
        await store.createRelationship(rel);
        await store.createRelationship(other);
        const counter = termsAgreement(3, rel.id, { threadId: 'thread-a', proposedBy: 'company', state: 'countered', createdAt: T0 + 20 });
        const proffer = termsAgreement(2, rel.id, { threadId: 'thread-a', state: 'superseded', createdAt: T0 + 10 });
        const elsewhere = termsAgreement(1, rel.id, { threadId: 'thread-b', createdAt: T0 + 5 });
        for (const row of [counter, proffer, elsewhere]) await store.createTermsAgreement(row);
        await store.createTermsAgreement(termsAgreement(4, other.id, { threadId: 'thread-a' }));

        expect(await store.findTermsAgreementsByThread(rel.id, 'thread-a')).toEqual([proffer, counter]);
        expect(await store.findTermsAgreementsByThread(rel.id, 'thread-b')).toEqual([elsewhere]);
        expect(await store.findTermsAgreementsByThread(rel.id, 'thread-c')).toEqual([]);
        expect(ids(await store.findTermsAgreementsByThread(other.id, 'thread-a'))).toEqual([uid(8004)]);
      });

      it('updates state, signed, obligations and reason where given and sets updatedAt, keeping what is left out', async () => {
        const rel = relationship(1);
        await store.createRelationship(rel);
        const row = termsAgreement(1, rel.id);
        await store.createTermsAgreement(row);

        const bothSigned = documents.agreement(row.id, { signedBy: 'both' });
        expect(bothSigned).not.toEqual(row.signed);
        expect(await store.updateTermsAgreement(row.id, { state: 'agreed', signed: bothSigned }, T0 + 100)).toBe(true);
        const agreed = { ...row, state: 'agreed' as const, signed: bothSigned, updatedAt: T0 + 100 };
        expect(await store.getTermsAgreement(row.id)).toEqual(agreed);

        const obligations = documents.obligations('data-for-research');
        expect(obligations).not.toEqual(row.obligations);
        expect(await store.updateTermsAgreement(row.id, { state: 'superseded', obligations, reason: 'Replaced — by v2' }, T0 + 200)).toBe(true);
        const superseded = { ...agreed, state: 'superseded' as const, obligations, reason: 'Replaced — by v2', updatedAt: T0 + 200 };
        expect(await store.getTermsAgreement(row.id)).toEqual(superseded);

        expect(await store.updateTermsAgreement(row.id, { state: 'declined', reason: null }, T0 + 300)).toBe(true);
        expect(await store.getTermsAgreement(row.id)).toEqual({ ...superseded, state: 'declined', reason: null, updatedAt: T0 + 300 });
      });

      it('reports false for updating an unknown agreement and changes nothing', async () => {
        const rel = relationship(1);
        await store.createRelationship(rel);
        await store.createTermsAgreement(termsAgreement(1, rel.id));
        const before = await snapshotOf(store);

        const signed = documents.agreement(uid(9), { signedBy: 'both' });
        expect(await store.updateTermsAgreement(uid(9), { state: 'agreed', signed, obligations: documents.obligations('loyalty-program'), reason: 'no' }, T0 + 100)).toBe(false);
        expect(await snapshotOf(store)).toEqual(before);
      });

      it('erases the agreements of an erased relationship, counting them, and leaves other relationships\' untouched', async () => {
        const doomed = relationship(1);
        const kept = relationship(2);
        await store.createRelationship(doomed);
        await store.createRelationship(kept);
        await store.createTermsAgreement(termsAgreement(1, doomed.id, { state: 'superseded' }));
        await store.createTermsAgreement(termsAgreement(2, doomed.id, { state: 'agreed', threadId: 'shared-thread' }));
        await store.createTermsAgreement(termsAgreement(3, doomed.id, { state: 'rejected', reason: 'no' }));
        await store.createTermsAgreement(termsAgreement(4, kept.id, { state: 'agreed', threadId: 'shared-thread' }));
        await store.createTermsAgreement(termsAgreement(5, kept.id));
        const keptRows = await store.listTermsAgreements(kept.id);
        expect(keptRows).toHaveLength(2);

        const summary = await store.eraseRelationship(doomed.id, T0 + 999);

        expect(summary.erased).toContainEqual({ category: 'terms_agreements', count: 3 });
        expect(summary.erased.map((entry) => entry.category).indexOf('terms_agreements')).toBe(
          summary.erased.map((entry) => entry.category).indexOf('consent_records') + 1,
        );
        expect(await store.listTermsAgreements(doomed.id)).toEqual([]);
        expect(await store.currentTermsAgreement(doomed.id)).toBeUndefined();
        expect(await store.findTermsAgreementsByThread(doomed.id, 'shared-thread')).toEqual([]);
        expect(await store.getTermsAgreement(uid(8001))).toBeUndefined();
        expect(await store.listTermsAgreements(kept.id)).toEqual(keptRows);
        expect(await store.currentTermsAgreement(kept.id)).toEqual(keptRows[0]);
        expect((await snapshotOf(store))['terms_agreements']).toHaveLength(2);

        const again = await store.eraseRelationship(doomed.id, T0 + 1000);
        expect(again.erased).toContainEqual({ category: 'terms_agreements', count: 0 });
      });
    });

    describe('intents and offers', () => {
      it('reads intents back with every field, by id and in lists ordered by createdAt then id, filtered by relationship and state', async () => {
        const rel = relationship(1);
        const other = relationship(2);
        await store.createRelationship(rel);
        await store.createRelationship(other);
        const later = receivedIntent(3, rel.id, { createdAt: T0 + 50, updatedAt: T0 + 60, state: 'declined' });
        const tieHigh = receivedIntent(2, rel.id, {
          createdAt: T0 + 10,
          outcome: null,
          currencyRequired: false,
          demand: demandDocument({ category: 'home-services', priceSpecification: { minPrice: '10', maxPrice: '10.5', priceCurrency: 'CHF' }, eligibleQuantity: { value: 3, unitText: 'hours' }, eligibleRegion: { addressCountry: 'CH', addressRegion: 'Zürich', postalCode: '8001' } }),
        });
        const tieLow = receivedIntent(1, rel.id, { createdAt: T0 + 10, demand: { '@type': 'Demand', description: TRICKY_JSON.name, category: 'books' } });
        const elsewhere = receivedIntent(4, other.id, { createdAt: T0 + 20 });
        for (const intent of [later, tieHigh, tieLow, elsewhere]) await store.createReceivedIntent(intent);

        expect(await store.getReceivedIntent(tieLow.id)).toEqual(tieLow);
        expect(await store.getReceivedIntent(tieHigh.id)).toEqual(tieHigh);
        expect(await store.getReceivedIntent(later.id)).toEqual(later);
        expect(await store.listReceivedIntents()).toEqual([tieLow, tieHigh, elsewhere, later]);
        expect(await store.listReceivedIntents({})).toEqual([tieLow, tieHigh, elsewhere, later]);
        expect(await store.listReceivedIntents({ relationshipId: rel.id })).toEqual([tieLow, tieHigh, later]);
        expect(await store.listReceivedIntents({ state: 'open' })).toEqual([tieLow, tieHigh, elsewhere]);
        expect(await store.listReceivedIntents({ relationshipId: rel.id, state: 'declined' })).toEqual([later]);
        expect(await store.listReceivedIntents({ relationshipId: other.id, state: 'declined' })).toEqual([]);
        expect(await store.listReceivedIntents({ relationshipId: uid(9) })).toEqual([]);
      });

      it('returns undefined for an unknown intent or offer id, and no offers for an unknown intent', async () => {
        expect(await store.getReceivedIntent(uid(9))).toBeUndefined();
        expect(await store.getOffer(uid(9))).toBeUndefined();
        expect(await store.listOffers(uid(9))).toEqual([]);
      });

      it('rejects an intent for an unknown relationship with relationship.unknown and a taken id with store.conflict, changing nothing', async () => {
        const rel = relationship(1);
        await store.createRelationship(rel);
        const first = receivedIntent(1, rel.id);
        await store.createReceivedIntent(first);
        const before = await snapshotOf(store);

        await expect(store.createReceivedIntent(receivedIntent(2, uid(9)))).rejects.toMatchObject({ code: 'relationship.unknown' });
        await expect(store.createReceivedIntent({ ...receivedIntent(3, rel.id), id: first.id })).rejects.toMatchObject({ code: 'store.conflict' });
        expect(await snapshotOf(store)).toEqual(before);
      });

      it('settles an open intent once: a second settle returns false and changes nothing', async () => {
        const rel = relationship(1);
        await store.createRelationship(rel);
        const intent = receivedIntent(1, rel.id);
        await store.createReceivedIntent(intent);

        expect(await store.settleReceivedIntent(intent.id, 'accepted', T0 + 100)).toBe(true);
        expect(await store.getReceivedIntent(intent.id)).toEqual({ ...intent, state: 'accepted', updatedAt: T0 + 100 });

        const before = await snapshotOf(store);
        expect(await store.settleReceivedIntent(intent.id, 'closed', T0 + 200)).toBe(false);
        expect(await store.settleReceivedIntent(intent.id, 'accepted', T0 + 300)).toBe(false);
        expect(await store.settleReceivedIntent(uid(9), 'expired', T0 + 300)).toBe(false);
        expect(await snapshotOf(store)).toEqual(before);
      });

      it('lets exactly one of concurrent settles of the same intent win', async () => {
        const rel = relationship(1);
        await store.createRelationship(rel);
        const intent = receivedIntent(1, rel.id);
        await store.createReceivedIntent(intent);

        const states = ['accepted', 'declined', 'closed', 'expired'] as const;
        const results = await Promise.all(states.map((state, i) => store.settleReceivedIntent(intent.id, state, T0 + 1 + i)));
        expect(results.filter(Boolean)).toHaveLength(1);
        const winner = results.indexOf(true);
        expect(await store.getReceivedIntent(intent.id)).toEqual({ ...intent, state: states[winner], updatedAt: T0 + 1 + winner });
      });

      it('lets exactly one of concurrent transactions accepting offers of the same intent win', async () => {
        const rel = relationship(1);
        await store.createRelationship(rel);
        const intent = receivedIntent(1, rel.id);
        await store.createReceivedIntent(intent);
        const offers = [1, 2, 3].map((n) => offerRow(n, intent.id, rel.id));
        for (const offer of offers) await store.createOffer(offer);

        const accept = (offer: OfferRow, n: number) =>
          store.transaction(async (tx) => {
            const won = await tx.settleReceivedIntent(intent.id, 'accepted', T0 + n);
            if (won) expect(await tx.settleOffer(offer.id, 'accepted', T0 + n)).toBe(true);
            return won;
          });
        const results = await Promise.all(offers.map((offer, i) => accept(offer, i + 1)));
        expect(results.filter(Boolean)).toHaveLength(1);
        const states = (await store.listOffers(intent.id)).map((offer) => offer.state);
        expect(states.filter((state) => state === 'accepted')).toHaveLength(1);
        expect(states.filter((state) => state === 'offered')).toHaveLength(2);
      });

      it('reads offers back with the signed document intact, by id and per intent ordered by createdAt then id', async () => {
        const rel = relationship(1);
        await store.createRelationship(rel);
        const intent = receivedIntent(1, rel.id);
        const other = receivedIntent(2, rel.id);
        await store.createReceivedIntent(intent);
        await store.createReceivedIntent(other);
        const later = offerRow(3, intent.id, rel.id, { createdAt: T0 + 50, updatedAt: T0 + 60, state: 'withdrawn' });
        const tieHigh = offerRow(2, intent.id, rel.id, {
          createdAt: T0 + 10,
          signed: documents.offer(uid(9502), intent.id, { price: '0.5', priceCurrency: 'CHF', availability: 'PreOrder', deliveryDate: '2027-02-01', areaServed: { addressCountry: 'CH', postalCode: '8001' }, eligibleQuantity: { value: 2 } }),
        });
        const tieLow = offerRow(1, intent.id, rel.id, { createdAt: T0 + 10 });
        const elsewhere = offerRow(4, other.id, rel.id, { createdAt: T0 + 20 });
        for (const offer of [later, tieHigh, tieLow, elsewhere]) await store.createOffer(offer);

        expect(await store.getOffer(tieLow.id)).toEqual(tieLow);
        expect(await store.getOffer(tieHigh.id)).toEqual(tieHigh);
        expect(await store.getOffer(later.id)).toEqual(later);
        expect(await store.listOffers(intent.id)).toEqual([tieLow, tieHigh, later]);
        expect(await store.listOffers(other.id)).toEqual([elsewhere]);
      });

      it('rejects an offer for an unknown relationship, an unknown intent, another relationship\'s intent or a taken id, changing nothing', async () => {
        const rel = relationship(1);
        const other = relationship(2);
        await store.createRelationship(rel);
        await store.createRelationship(other);
        const intent = receivedIntent(1, rel.id);
        const othersIntent = receivedIntent(2, other.id);
        await store.createReceivedIntent(intent);
        await store.createReceivedIntent(othersIntent);
        const first = offerRow(1, intent.id, rel.id);
        await store.createOffer(first);
        const before = await snapshotOf(store);

        await expect(store.createOffer(offerRow(2, intent.id, uid(9)))).rejects.toMatchObject({ code: 'relationship.unknown' });
        await expect(store.createOffer(offerRow(3, uid(9), rel.id))).rejects.toMatchObject({ code: 'intent.unknown' });
        await expect(store.createOffer(offerRow(4, othersIntent.id, rel.id))).rejects.toMatchObject({ code: 'intent.unknown' });
        await expect(store.createOffer({ ...offerRow(5, intent.id, rel.id), id: first.id })).rejects.toMatchObject({ code: 'store.conflict' });
        expect(await snapshotOf(store)).toEqual(before);
      });

      it('refuses with intent.unknown an offer whose intent an erasure removes while it is being written', async () => {
        const rel = relationship(1);
        await store.createRelationship(rel);
        const intent = receivedIntent(1, rel.id);
        await store.createReceivedIntent(intent);

        let release!: () => void;
        const gate = new Promise<void>((resolve) => (release = resolve));
        let erased!: () => void;
        const erasedYet = new Promise<void>((resolve) => (erased = resolve));
        const erasure = store.transaction(async (tx) => {
          await tx.eraseRelationship(rel.id, T0 + 999);
          erased();
          await gate;
        });
        await erasedYet;
        // Written while the erasure is not committed yet: it waits for it (the connection lock on
        // SQLite, the intent's row lock on PostgreSQL), then finds the intent gone.
        const offer = store.createOffer(offerRow(1, intent.id, rel.id));
        setTimeout(release, 200);

        await expect(offer).rejects.toMatchObject({ code: 'intent.unknown' });
        await erasure;
        expect(await store.getReceivedIntent(intent.id)).toBeUndefined();
        expect((await snapshotOf(store))['offers']).toEqual([]);
      });

      it('takes offers for an intent whatever its state: whether it still takes them is the caller\'s rule', async () => {
        const rel = relationship(1);
        await store.createRelationship(rel);
        const intent = receivedIntent(1, rel.id, { state: 'expired' });
        await store.createReceivedIntent(intent);
        const offer = offerRow(1, intent.id, rel.id);
        await store.createOffer(offer);
        expect(await store.listOffers(intent.id)).toEqual([offer]);
      });

      it('settles an offer once: a second settle returns false and changes nothing', async () => {
        const rel = relationship(1);
        await store.createRelationship(rel);
        const intent = receivedIntent(1, rel.id);
        await store.createReceivedIntent(intent);
        const offer = offerRow(1, intent.id, rel.id);
        await store.createOffer(offer);

        expect(await store.settleOffer(offer.id, 'withdrawn', T0 + 100)).toBe(true);
        expect(await store.getOffer(offer.id)).toEqual({ ...offer, state: 'withdrawn', updatedAt: T0 + 100 });

        const before = await snapshotOf(store);
        expect(await store.settleOffer(offer.id, 'accepted', T0 + 200)).toBe(false);
        expect(await store.settleOffer(offer.id, 'withdrawn', T0 + 300)).toBe(false);
        expect(await store.settleOffer(uid(9), 'declined', T0 + 300)).toBe(false);
        expect(await snapshotOf(store)).toEqual(before);
      });

      it('lets exactly one of concurrent settles of the same offer win', async () => {
        const rel = relationship(1);
        await store.createRelationship(rel);
        const intent = receivedIntent(1, rel.id);
        await store.createReceivedIntent(intent);
        const offer = offerRow(1, intent.id, rel.id);
        await store.createOffer(offer);

        const states = ['accepted', 'declined', 'withdrawn', 'closed'] as const;
        const results = await Promise.all(states.map((state, i) => store.settleOffer(offer.id, state, T0 + 1 + i)));
        expect(results.filter(Boolean)).toHaveLength(1);
        const winner = results.indexOf(true);
        expect(await store.getOffer(offer.id)).toEqual({ ...offer, state: states[winner], updatedAt: T0 + 1 + winner });
      });

      it('erases the intents and offers of an erased relationship, counting them last, and leaves other relationships\' untouched', async () => {
        const doomed = relationship(1);
        const kept = relationship(2);
        await store.createRelationship(doomed);
        await store.createRelationship(kept);
        const doomedIntents = [receivedIntent(1, doomed.id), receivedIntent(2, doomed.id, { state: 'accepted' })];
        const keptIntent = receivedIntent(3, kept.id);
        for (const intent of [...doomedIntents, keptIntent]) await store.createReceivedIntent(intent);
        await store.createOffer(offerRow(1, doomedIntents[0]!.id, doomed.id));
        await store.createOffer(offerRow(2, doomedIntents[0]!.id, doomed.id, { state: 'declined' }));
        await store.createOffer(offerRow(3, doomedIntents[1]!.id, doomed.id, { state: 'accepted' }));
        const keptOffer = offerRow(4, keptIntent.id, kept.id);
        await store.createOffer(keptOffer);

        const summary = await store.eraseRelationship(doomed.id, T0 + 999);

        // Offers, then intents, just before the caller verifications (and the categories added after them).
        const verifications = summary.erased.findIndex((e) => e.category === 'caller_verifications');
        expect(summary.erased.slice(verifications - 2, verifications)).toEqual([
          { category: 'offers', count: 3 },
          { category: 'intents', count: 2 },
        ]);
        expect(await store.listReceivedIntents({ relationshipId: doomed.id })).toEqual([]);
        expect(await store.getReceivedIntent(doomedIntents[0]!.id)).toBeUndefined();
        expect(await store.listOffers(doomedIntents[0]!.id)).toEqual([]);
        expect(await store.getOffer(uid(9503))).toBeUndefined();
        expect(await store.listReceivedIntents()).toEqual([keptIntent]);
        expect(await store.listOffers(keptIntent.id)).toEqual([keptOffer]);
        const everything = JSON.stringify(await snapshotOf(store));
        expect(everything).not.toContain(doomedIntents[0]!.demand.description);
        expect(everything).not.toContain('cast-msg-1');

        const again = await store.eraseRelationship(doomed.id, T0 + 1000);
        expect(again.erased.slice(verifications - 2)).toEqual([
          { category: 'offers', count: 0 },
          { category: 'intents', count: 0 },
          { category: 'caller_verifications', count: 0 },
          { category: 'thing_receipts', count: 0 },
          { category: 'thing_registrations', count: 0 },
          { category: 'service_case_entries', count: 0 },
          { category: 'service_cases', count: 0 },
        ]);
      });
    });

    describe('stored documents that do not parse', () => {
      // Never in an error: the rows hold personal data.
      const MARKER = 'personal-value-in-a-bad-document';

      /** What a read of a row with a bad document must do: reject as a malformed row naming the column, without the value. */
      async function expectMalformed(read: Promise<unknown>, column: string): Promise<void> {
        const error: unknown = await read.then(
          () => 'returned',
          (err: unknown) => err,
        );
        expect(error).toMatchObject({ code: 'internal' });
        const issues = (error as { details?: { issues?: unknown } }).details?.issues;
        expect(issues, JSON.stringify(issues)).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`^${column}(\\.|:)`))]));
        expect(JSON.stringify(error)).not.toContain(MARKER);
      }

      const badTerms: [string, 'signed' | 'obligations', (row: TermsAgreementRow) => unknown][] = [
        ['a signed agreement that is a list', 'signed', () => ['just', 'a', 'list', MARKER]],
        ['a signed agreement without its signatures', 'signed', (row) => ({ record: row.signed.record })],
        ['a signed agreement with a member too many', 'signed', (row) => ({ ...row.signed, note: MARKER })],
        ['a signed agreement whose record is of another type', 'signed', (row) => ({ ...row.signed, record: { ...row.signed.record, type: MARKER } })],
        ['obligations of another shape', 'obligations', () => ({ retention: 'P30D', purposes: [MARKER] })],
        ['obligations with a purpose outside the vocabulary', 'obligations', (row) => ({ ...row.obligations, allowedPurposes: [MARKER] })],
        ['no obligations', 'obligations', () => null],
      ];

      it.each(badTerms)('reports a terms agreement with %s as a malformed row on every read, and returns none of it', async (_name, column, bad) => {
        const rel = relationship(1);
        const other = relationship(2);
        await store.createRelationship(rel);
        await store.createRelationship(other);
        const row = termsAgreement(1, rel.id, { state: 'agreed', threadId: 'thread-a' });
        const fine = termsAgreement(2, other.id, { state: 'agreed', threadId: 'thread-a' });
        await store.createTermsAgreement(row);
        await store.createTermsAgreement(fine);
        await writeJsonColumn(store, 'terms_agreements', column, row.id, JSON.stringify(bad(row)));

        await expectMalformed(store.getTermsAgreement(row.id), column);
        await expectMalformed(store.listTermsAgreements(rel.id), column);
        await expectMalformed(store.currentTermsAgreement(rel.id), column);
        await expectMalformed(store.findTermsAgreementsByThread(rel.id, 'thread-a'), column);
        // Only the row with the bad document fails; writing a good one back mends it.
        expect(await store.listTermsAgreements(other.id)).toEqual([fine]);
        expect(await store.currentTermsAgreement(other.id)).toEqual(fine);
        expect(await store.updateTermsAgreement(row.id, { state: 'agreed', signed: row.signed, obligations: row.obligations }, row.updatedAt)).toBe(true);
        expect(await store.getTermsAgreement(row.id)).toEqual(row);
      });

      const badConsents: [string, (row: ConsentRecordRow) => unknown][] = [
        ['a list', () => ['just', 'a', 'list', MARKER]],
        ['an empty object', () => ({})],
        ['another schema version', (row) => ({ ...row.record, schema_version: MARKER })],
        ['a state outside the consent states', (row) => ({ ...row.record, state: MARKER })],
        ['no events', (row) => ({ ...row.record, events: [] })],
      ];

      it.each(badConsents)('reports a consent record whose document is %s as a malformed row on every read, and returns none of it', async (_name, bad) => {
        const rel = relationship(1);
        const other = relationship(2);
        await store.createRelationship(rel);
        await store.createRelationship(other);
        const record = consentRecord(1, rel.id);
        const fine = consentRecord(2, other.id);
        await store.saveConsentRecord(record);
        await store.saveConsentRecord(fine);
        await writeJsonColumn(store, 'consent_records', 'record', record.id, JSON.stringify(bad(record)));

        await expectMalformed(store.getConsentRecord(record.id), 'record');
        await expectMalformed(store.listConsentRecords(rel.id), 'record');
        expect(await store.listConsentRecords(other.id)).toEqual([fine]);
        expect(await store.updateConsentRecord(record.id, record.state, record.record, record.updatedAt)).toBe(true);
        expect(await store.getConsentRecord(record.id)).toEqual(record);
      });

      const badDemands: [string, (row: ReceivedIntent) => unknown][] = [
        ['a list', () => ['just', 'a', 'list', MARKER]],
        ['another schema.org type', (row) => ({ ...row.demand, '@type': 'Offer', description: MARKER })],
        ['a member too many', (row) => ({ ...row.demand, note: MARKER })],
        ['a category outside the shipped list', (row) => ({ ...row.demand, category: MARKER })],
        ['a minimum price above its maximum', (row) => ({ ...row.demand, priceSpecification: { minPrice: '200', maxPrice: '100', priceCurrency: 'EUR' }, description: MARKER })],
        ['no demand', () => null],
      ];

      it.each(badDemands)('reports an intent whose demand is %s as a malformed row on every read, and returns none of it', async (_name, bad) => {
        const rel = relationship(1);
        const other = relationship(2);
        await store.createRelationship(rel);
        await store.createRelationship(other);
        const intent = receivedIntent(1, rel.id);
        const fine = receivedIntent(2, other.id);
        await store.createReceivedIntent(intent);
        await store.createReceivedIntent(fine);
        await writeJsonColumn(store, 'intents', 'demand', intent.id, JSON.stringify(bad(intent)));

        await expectMalformed(store.getReceivedIntent(intent.id), 'demand');
        await expectMalformed(store.listReceivedIntents({ relationshipId: rel.id }), 'demand');
        await expectMalformed(store.listReceivedIntents(), 'demand');
        // Only the row with the bad document fails; the document written back mends it.
        expect(await store.listReceivedIntents({ relationshipId: other.id })).toEqual([fine]);
        await writeJsonColumn(store, 'intents', 'demand', intent.id, JSON.stringify(intent.demand));
        expect(await store.getReceivedIntent(intent.id)).toEqual(intent);
      });

      const badOffers: [string, (row: OfferRow) => unknown][] = [
        ['a list', () => ['just', 'a', 'list', MARKER]],
        ['an offer without its signature', (row) => ({ offer: row.signed.offer })],
        ['a member too many', (row) => ({ ...row.signed, note: MARKER })],
        ['an offer with a price that is a float', (row) => ({ ...row.signed, offer: { ...row.signed.offer, price: 129.9, conditions: MARKER } })],
        ['an offer of another schema.org type', (row) => ({ ...row.signed, offer: { ...row.signed.offer, '@type': 'Demand', conditions: MARKER } })],
      ];

      it.each(badOffers)('reports an offer whose signed document is %s as a malformed row on every read, and returns none of it', async (_name, bad) => {
        const rel = relationship(1);
        await store.createRelationship(rel);
        const intent = receivedIntent(1, rel.id);
        const other = receivedIntent(2, rel.id);
        await store.createReceivedIntent(intent);
        await store.createReceivedIntent(other);
        const offer = offerRow(1, intent.id, rel.id);
        const fine = offerRow(2, other.id, rel.id);
        await store.createOffer(offer);
        await store.createOffer(fine);
        await writeJsonColumn(store, 'offers', 'signed', offer.id, JSON.stringify(bad(offer)));

        await expectMalformed(store.getOffer(offer.id), 'signed');
        await expectMalformed(store.listOffers(intent.id), 'signed');
        expect(await store.listOffers(other.id)).toEqual([fine]);
        // The intent it answers is still read, and the document written back mends the offer.
        expect(await store.getReceivedIntent(intent.id)).toEqual(intent);
        await writeJsonColumn(store, 'offers', 'signed', offer.id, JSON.stringify(offer.signed));
        expect(await store.getOffer(offer.id)).toEqual(offer);
      });
    });

    describe('held fields and profile versions', () => {
      it('lists the held fields of a relationship ordered by field, with JSON values intact', async () => {
        const rel = relationship(1);
        const other = relationship(2);
        await store.createRelationship(rel);
        await store.createRelationship(other);
        const phone = heldField('phone', rel.id, { value: '+49 30 1234567' });
        const address = heldField('address', rel.id, { value: { street: 'Chaussée d’Ixelles 12', city: 'Bruxelles', lines: ['a', 'b'] }, version: 3 });
        const birth = heldField('birthdate', rel.id, {
          value: TRICKY_JSON,
          source: 'credential',
          issuer: 'did:web:issuer.example',
          consentRecordId: uid(5002),
          updatedAt: T0 + 7,
        });
        const age = heldField('age_over_18', rel.id, { value: true });
        // Byte order on both dialects, whatever the database's collation: '_' < 'b' and 'Z' < 'a'.
        const underscore = heldField('a_c', rel.id, { value: 0 });
        const upper = heldField('Zip', rel.id, { value: ['1', 2] });
        for (const field of [phone, address, birth, age, underscore, upper]) await store.upsertHeldField(field);
        await store.upsertHeldField(heldField('phone', other.id, { value: 'other' }));

        expect(await store.listHeldFields(rel.id)).toEqual([upper, underscore, address, age, birth, phone]);
        expect(await store.listHeldFields(uid(9))).toEqual([]);
      });

      it('replaces the row of a field on a second upsert, leaving the same field of other relationships alone', async () => {
        const rel = relationship(1);
        const other = relationship(2);
        await store.createRelationship(rel);
        await store.createRelationship(other);
        const otherEmail = heldField('email', other.id, { value: 'o@example.org' });
        await store.upsertHeldField(heldField('email', rel.id, { value: 'old@example.org' }));
        await store.upsertHeldField(otherEmail);

        const replaced = heldField('email', rel.id, {
          value: { address: 'new@example.org' },
          version: 2,
          consentRecordId: uid(5009),
          source: 'credential',
          issuer: 'did:web:issuer.example',
          updatedAt: T0 + 100,
        });
        await store.upsertHeldField(replaced);
        expect(await store.listHeldFields(rel.id)).toEqual([replaced]);
        expect(await store.listHeldFields(other.id)).toEqual([otherEmail]);

        const back = heldField('email', rel.id, { value: null, version: 3, updatedAt: T0 + 200 });
        await store.upsertHeldField(back);
        expect(await store.listHeldFields(rel.id)).toEqual([back]);
        expect((await snapshotOf(store))['held_fields']).toHaveLength(2);
      });

      it('deletes the named fields of one relationship and says which it held', async () => {
        const rel = relationship(1);
        const other = relationship(2);
        await store.createRelationship(rel);
        await store.createRelationship(other);
        const name = heldField('name', rel.id, { value: 'Ada' });
        for (const field of ['phone', 'email', 'name']) await store.upsertHeldField(field === 'name' ? name : heldField(field, rel.id));
        const otherPhone = heldField('phone', other.id);
        await store.upsertHeldField(otherPhone);

        expect(await store.deleteHeldFields(rel.id, ['phone', 'email', 'address'])).toEqual(['email', 'phone']);
        expect(await store.listHeldFields(rel.id)).toEqual([name]);
        expect(await store.listHeldFields(other.id)).toEqual([otherPhone]);
        expect(await store.deleteHeldFields(rel.id, ['phone'])).toEqual([]);
        expect(await store.deleteHeldFields(rel.id, [])).toEqual([]);
        expect(await store.deleteHeldFields(uid(9), ['name'])).toEqual([]);
      });

      it('rejects a held field for an unknown relationship', async () => {
        await expect(store.upsertHeldField(heldField('email', uid(9)))).rejects.toMatchObject({ code: 'relationship.unknown' });
      });

      it('reports profile version 0 until one is set, then the latest one set', async () => {
        const rel = relationship(1);
        const other = relationship(2);
        await store.createRelationship(rel);
        await store.createRelationship(other);
        expect(await store.getProfileVersion(rel.id)).toBe(0);

        await store.setProfileVersion(rel.id, 3, T0 + 1);
        expect(await store.getProfileVersion(rel.id)).toBe(3);
        await store.setProfileVersion(rel.id, 2 ** 40, T0 + 2);
        expect(await store.getProfileVersion(rel.id)).toBe(2 ** 40);
        expect(await store.getProfileVersion(other.id)).toBe(0);
        expect((await snapshotOf(store))['profile_versions']).toEqual([{ relationship_id: rel.id, version: 2 ** 40, updated_at: T0 + 2 }]);
      });

      it('refuses a profile version for an unknown relationship', async () => {
        await expect(store.setProfileVersion(uid(9), 1, T0)).rejects.toMatchObject({ code: 'relationship.unknown' });
      });
    });

    describe('presentations', () => {
      it('lists the presentations of a relationship ordered by receivedAt then id, exactly as received', async () => {
        const rel = relationship(1);
        const other = relationship(2);
        await store.createRelationship(rel);
        await store.createRelationship(other);
        const later = presentation(3, rel.id, { receivedAt: T0 + 50, kind: 'update' });
        const tieHigh = presentation(2, rel.id, { receivedAt: T0 + 10 });
        const tieLow = presentation(1, rel.id, { receivedAt: T0 + 10, sdJwt: 'a'.repeat(20_000) });
        for (const p of [later, tieHigh, tieLow]) await store.addPresentation(p);
        await store.addPresentation(presentation(4, other.id));

        expect(await store.listPresentations(rel.id)).toEqual([tieLow, tieHigh, later]);
        expect(await store.listPresentations(uid(9))).toEqual([]);
      });

      it('replaces a presentation with its redacted form or deletes it, and says when there is none', async () => {
        const rel = relationship(1);
        await store.createRelationship(rel);
        const first = presentation(1, rel.id);
        const second = presentation(2, rel.id, { receivedAt: T0 + 5 });
        await store.addPresentation(first);
        await store.addPresentation(second);

        expect(await store.replacePresentation(first.id, 'redacted~')).toBe(true);
        expect(await store.replacePresentation(second.id, null)).toBe(true);
        expect(await store.listPresentations(rel.id)).toEqual([{ ...first, sdJwt: 'redacted~' }]);
        expect(await store.replacePresentation(second.id, 'x~')).toBe(false);
        expect(await store.replacePresentation(uid(9), null)).toBe(false);
      });

      it('rejects a presentation for an unknown relationship and a duplicate id', async () => {
        await expect(store.addPresentation(presentation(1, uid(9)))).rejects.toMatchObject({ code: 'relationship.unknown' });
        const rel = relationship(1);
        await store.createRelationship(rel);
        await store.addPresentation(presentation(1, rel.id));
        await expect(store.addPresentation(presentation(1, rel.id, { messageId: 'another' }))).rejects.toMatchObject({ code: 'store.conflict' });
        expect(await store.listPresentations(rel.id)).toEqual([presentation(1, rel.id)]);
      });
    });

    describe('connector events', () => {
      it('lists events with every field intact, ordered by createdAt then id, filtered by relationship and dispatch', async () => {
        const rel = relationship(1);
        const other = relationship(2);
        await store.createRelationship(rel);
        await store.createRelationship(other);
        const dispatched = connectorEvent(3, rel.id, { createdAt: T0 + 50, attempts: 2, dispatchedAt: T0 + 60, type: 'relationship.erased' });
        const tieHigh = connectorEvent(2, rel.id, { createdAt: T0 + 10, payload: 'plain string' });
        const tieLow = connectorEvent(1, rel.id, { createdAt: T0 + 10, nextAttemptAt: T0 + 5000, attempts: 4 });
        const unbound = connectorEvent(4, null, { createdAt: T0 + 20, payload: null });
        const otherEvent = connectorEvent(5, other.id, { createdAt: T0 + 30 });
        for (const event of [dispatched, tieHigh, tieLow, unbound, otherEvent]) await store.enqueueEvent(event);

        expect(await store.listEvents()).toEqual([tieLow, tieHigh, unbound, otherEvent, dispatched]);
        expect(await store.listEvents({})).toEqual([tieLow, tieHigh, unbound, otherEvent, dispatched]);
        expect(await store.listEvents({ relationshipId: rel.id })).toEqual([tieLow, tieHigh, dispatched]);
        expect(await store.listEvents({ undispatchedOnly: true })).toEqual([tieLow, tieHigh, unbound, otherEvent]);
        expect(await store.listEvents({ relationshipId: rel.id, undispatchedOnly: true })).toEqual([tieLow, tieHigh]);
        expect(await store.countUndispatchedEvents()).toBe(4);
        expect(await store.listEvents({ relationshipId: uid(9) })).toEqual([]);
      });

      it('accepts events for relationships it does not know, and rejects a duplicate id', async () => {
        const event = connectorEvent(1, uid(9));
        await store.enqueueEvent(event);
        expect(await store.listEvents()).toEqual([event]);
        await expect(store.enqueueEvent(connectorEvent(1, null, { type: 'other' }))).rejects.toMatchObject({ code: 'store.conflict' });
        expect(await store.listEvents()).toEqual([event]);
      });

      it('claims only undispatched, due events, oldest first, up to the limit, with the leased attempt time', async () => {
        const newest = connectorEvent(3, null, { createdAt: T0 + 3, nextAttemptAt: T0 });
        const oldest = connectorEvent(1, uid(1001), { createdAt: T0 + 1, nextAttemptAt: T0 - 5, attempts: 2 });
        const middle = connectorEvent(2, uid(1002), { createdAt: T0 + 2, nextAttemptAt: T0 - 10 });
        const notDue = connectorEvent(4, null, { createdAt: T0, nextAttemptAt: T0 + 1 });
        const done = connectorEvent(5, null, { createdAt: T0 - 100, nextAttemptAt: T0 - 100, dispatchedAt: T0 - 50 });
        for (const event of [newest, oldest, middle, notDue, done]) await store.enqueueEvent(event);

        expect(await store.claimDueEvents(T0, 0, LEASE)).toEqual([]);
        const claimed = await store.claimDueEvents(T0, 2, LEASE);
        expect(claimed).toEqual([
          { ...oldest, nextAttemptAt: T0 + LEASE },
          { ...middle, nextAttemptAt: T0 + LEASE },
        ]);
        expect(ids(await store.claimDueEvents(T0, 10, LEASE))).toEqual([newest.id]);
        expect(await store.claimDueEvents(T0, 10, LEASE)).toEqual([]);
      });

      it('leases claimed events so they are not claimed again before the lease ends', async () => {
        const event = connectorEvent(1, null, { nextAttemptAt: T0 });
        await store.enqueueEvent(event);

        expect(ids(await store.claimDueEvents(T0, 10, LEASE))).toEqual([event.id]);
        expect(await store.claimDueEvents(T0 + LEASE - 1, 10, LEASE)).toEqual([]);
        expect(await store.listEvents()).toEqual([{ ...event, nextAttemptAt: T0 + LEASE }]);
        expect(await store.claimDueEvents(T0 + LEASE, 10, LEASE)).toEqual([{ ...event, nextAttemptAt: T0 + 2 * LEASE }]);
      });

      it('never claims an event again once it is marked dispatched', async () => {
        const first = connectorEvent(1, null, { nextAttemptAt: T0 });
        const second = connectorEvent(2, null, { nextAttemptAt: T0 });
        await store.enqueueEvent(first);
        await store.enqueueEvent(second);
        await store.claimDueEvents(T0, 10, LEASE);

        await store.markEventDispatched(first.id, T0 + 10);
        await store.markEventDispatched(uid(9), T0 + 10);

        expect(ids(await store.claimDueEvents(T0 + 10 * LEASE, 10, LEASE))).toEqual([second.id]);
        expect(await store.listEvents({ undispatchedOnly: true })).toEqual([{ ...second, nextAttemptAt: T0 + 11 * LEASE }]);
        expect(await store.listEvents()).toContainEqual({ ...first, nextAttemptAt: T0 + LEASE, dispatchedAt: T0 + 10 });
      });

      it('replaces an event payload, and says when there is no such event', async () => {
        const rel = relationship(1);
        await store.createRelationship(rel);
        const event = connectorEvent(1, rel.id, { payload: { relationshipId: rel.id, customerRef: 'c', fields: { email: 'a@example.org', name: 'Ada' } } });
        await store.enqueueEvent(event);
        expect(await store.replaceEventPayload(event.id, { relationshipId: rel.id, customerRef: 'c', fields: { name: 'Ada' } })).toBe(true);
        expect(await store.listEvents({ relationshipId: rel.id })).toEqual([{ ...event, payload: { relationshipId: rel.id, customerRef: 'c', fields: { name: 'Ada' } } }]);
        expect(await store.replaceEventPayload(uid(9), {})).toBe(false);
      });

      it('replaces the payload with a redacted one when marking an event dispatched', async () => {
        const event = connectorEvent(1, null, { nextAttemptAt: T0, payload: { relationshipId: 'r', customerRef: 'C-12345678' } });
        await store.enqueueEvent(event);
        await store.markEventDispatched(event.id, T0 + 10, { relationshipId: 'r', customerRef: null });
        expect(await store.listEvents()).toEqual([{ ...event, payload: { relationshipId: 'r', customerRef: null }, dispatchedAt: T0 + 10 }]);
        expect(JSON.stringify(await snapshotOf(store))).not.toContain('C-12345678');
      });

      it('reschedules an event with a new attempt time and attempt count', async () => {
        const event = connectorEvent(1, null, { nextAttemptAt: T0 });
        await store.enqueueEvent(event);
        await store.claimDueEvents(T0, 10, LEASE);

        await store.rescheduleEvent(event.id, T0 + 5000, 3);
        expect(await store.listEvents()).toEqual([{ ...event, nextAttemptAt: T0 + 5000, attempts: 3 }]);
        expect(await store.claimDueEvents(T0 + 4999, 10, LEASE)).toEqual([]);
        expect(ids(await store.claimDueEvents(T0 + 5000, 10, LEASE))).toEqual([event.id]);
      });

      it('never hands the same event to two concurrent claims', async () => {
        for (let n = 1; n <= 20; n++) await store.enqueueEvent(connectorEvent(n, null, { nextAttemptAt: T0 }));

        const [a, b] = await Promise.all([store.claimDueEvents(T0, 15, LEASE), store.claimDueEvents(T0, 15, LEASE)]);

        const claimedA = new Set(ids(a));
        expect(ids(b).filter((id) => claimedA.has(id))).toEqual([]);
        expect(new Set([...ids(a), ...ids(b)]).size).toBe(20);
      });
    });

    describe('connector deliveries and dead letters', () => {
      const attempt = (eventN: number, connectorId: string, overrides: Partial<ConnectorAttempt> = {}): ConnectorAttempt => ({
        eventId: uid(7000 + eventN),
        connectorId,
        state: 'failed',
        attempts: 1,
        nextAttemptAt: T0 + 100,
        lastError: 'connector.unreachable: connection refused',
        updatedAt: T0 + 10,
        ...overrides,
      });

      it('keeps one row per event and connector, replaced on each attempt, and lists them in order', async () => {
        for (const n of [1, 2]) await store.enqueueEvent(connectorEvent(n, null));
        await store.saveConnectorAttempt(attempt(1, 'webhook'));
        await store.saveConnectorAttempt(attempt(1, 'crm-scim', { state: 'delivered', nextAttemptAt: null, lastError: null }));
        await store.saveConnectorAttempt(attempt(2, 'webhook', { state: 'delivered', nextAttemptAt: null, lastError: null }));
        const second = attempt(1, 'webhook', { attempts: 2, nextAttemptAt: T0 + 300, updatedAt: T0 + 20, lastError: 'connector.failed: HTTP 503' });
        await store.saveConnectorAttempt(second);

        expect(await store.listConnectorAttempts([uid(7001)])).toEqual([attempt(1, 'crm-scim', { state: 'delivered', nextAttemptAt: null, lastError: null }), second]);
        expect((await store.listConnectorAttempts([uid(7002), uid(7001)])).map((a) => [a.eventId, a.connectorId])).toEqual([
          [uid(7001), 'crm-scim'],
          [uid(7001), 'webhook'],
          [uid(7002), 'webhook'],
        ]);
        expect(await store.listConnectorAttempts([])).toEqual([]);
        expect(await store.countConnectorDeliveries()).toEqual([
          { connectorId: 'crm-scim', state: 'delivered', count: 1 },
          { connectorId: 'webhook', state: 'delivered', count: 1 },
          { connectorId: 'webhook', state: 'failed', count: 1 },
        ]);
      });

      it('settles an event in one call: each connector\'s state recorded and the event dispatched, redacted when asked', async () => {
        for (const n of [1, 2]) await store.enqueueEvent(connectorEvent(n, null, { payload: { relationshipId: 'r', customerRef: 'C-87654321' } }));
        await store.saveConnectorAttempt(attempt(1, 'webhook'));
        const delivered = attempt(1, 'webhook', { state: 'delivered', attempts: 2, nextAttemptAt: null, lastError: null, updatedAt: T0 + 50 });
        const dead = attempt(1, 'crm-scim', { state: 'dead', attempts: 1, nextAttemptAt: null, lastError: 'connector.rejected: HTTP 400', updatedAt: T0 + 50 });
        await store.settleEvent(uid(7001), [delivered, dead], T0 + 60, { relationshipId: 'r', customerRef: null });
        await store.settleEvent(uid(7002), [], T0 + 70);

        expect(await store.listConnectorAttempts([uid(7001)])).toEqual([dead, delivered]);
        const events = await store.listEvents();
        expect(events.map((e) => [e.id, e.dispatchedAt, e.payload])).toEqual([
          [uid(7001), T0 + 60, { relationshipId: 'r', customerRef: null }],
          [uid(7002), T0 + 70, { relationshipId: 'r', customerRef: 'C-87654321' }],
        ]);
        expect(await store.countUndispatchedEvents()).toBe(0);
        // An event that is gone gets no delivery rows and no error.
        await store.settleEvent(uid(7009), [attempt(9, 'webhook', { state: 'delivered' })], T0 + 80);
        expect(await store.listConnectorAttempts([uid(7009)])).toEqual([]);
      });

      it('records nothing for an event that is gone (erased while it was being delivered)', async () => {
        await store.saveConnectorAttempt(attempt(9, 'webhook'));
        expect(await store.listConnectorAttempts([uid(7009)])).toEqual([]);
      });

      it('lists dead letters with their events, most recent first, and replays one back into line', async () => {
        const rel = relationship(1);
        await store.createRelationship(rel);
        for (const n of [1, 2, 3]) await store.enqueueEvent(connectorEvent(n, rel.id, { payload: { relationshipId: rel.id, customerRef: 'c', fields: { n } } }));
        await store.markEventDispatched(uid(7001), T0 + 50);
        await store.markEventDispatched(uid(7002), T0 + 50);
        await store.saveConnectorAttempt(attempt(1, 'webhook', { state: 'dead', attempts: 10, nextAttemptAt: null, updatedAt: T0 + 40 }));
        await store.saveConnectorAttempt(attempt(2, 'webhook', { state: 'dead', attempts: 3, nextAttemptAt: null, updatedAt: T0 + 45, lastError: 'connector.rejected: HTTP 400' }));
        await store.saveConnectorAttempt(attempt(2, 'crm-scim', { state: 'dead', attempts: 1, nextAttemptAt: null, updatedAt: T0 + 30 }));
        await store.saveConnectorAttempt(attempt(3, 'webhook', { state: 'failed' }));

        const dead = await store.listDeadLetters();
        expect(dead.map((d) => [d.event.id, d.attempt.connectorId, d.attempt.attempts])).toEqual([
          [uid(7002), 'webhook', 3],
          [uid(7001), 'webhook', 10],
          [uid(7002), 'crm-scim', 1],
        ]);
        expect(dead[0]!.event).toEqual({ ...connectorEvent(2, rel.id, { payload: { relationshipId: rel.id, customerRef: 'c', fields: { n: 2 } } }), dispatchedAt: T0 + 50 });
        expect(dead[0]!.attempt.lastError).toBe('connector.rejected: HTTP 400');
        expect((await store.listDeadLetters({ connectorId: 'crm-scim' })).map((d) => d.event.id)).toEqual([uid(7002)]);
        expect(await store.listDeadLetters({ limit: 1 })).toHaveLength(1);

        expect(await store.replayDeadLetter(uid(7002), 'webhook', T0 + 500)).toBe(true);
        const [replayed] = (await store.listConnectorAttempts([uid(7002)])).filter((a) => a.connectorId === 'webhook');
        expect(replayed).toEqual(attempt(2, 'webhook', { state: 'failed', attempts: 0, nextAttemptAt: T0 + 500, lastError: null, updatedAt: T0 + 500 }));
        expect((await store.listEvents({ undispatchedOnly: true })).map((e) => [e.id, e.nextAttemptAt])).toEqual([
          [uid(7002), T0 + 500],
          [uid(7003), T0 + 3],
        ]);
        // Only dead letters replay: a second replay, a live delivery or an unknown pair change nothing.
        expect(await store.replayDeadLetter(uid(7002), 'webhook', T0 + 600)).toBe(false);
        expect(await store.replayDeadLetter(uid(7003), 'webhook', T0 + 600)).toBe(false);
        expect(await store.replayDeadLetter(uid(9), 'webhook', T0 + 600)).toBe(false);
        expect((await store.listDeadLetters()).map((d) => [d.event.id, d.attempt.connectorId])).toEqual([
          [uid(7001), 'webhook'],
          [uid(7002), 'crm-scim'],
        ]);
      });

      it('goes with its event when the relationship is erased', async () => {
        const rel = relationship(1);
        await store.createRelationship(rel);
        await store.enqueueEvent(connectorEvent(1, rel.id));
        await store.saveConnectorAttempt(attempt(1, 'webhook', { state: 'dead' }));
        await store.eraseRelationship(rel.id, T0 + 999);
        expect(await store.listConnectorAttempts([uid(7001)])).toEqual([]);
        expect(await store.listDeadLetters()).toEqual([]);
      });
    });

    describe('data rights requests', () => {
      const request = (n: number, relationshipId: string, overrides: Partial<DataRightsRequestRow> = {}): DataRightsRequestRow => ({
        id: uid(8800 + n),
        relationshipId,
        requestId: uid(8900 + n),
        exercise: 'access',
        status: 'fulfilled',
        reason: null,
        receivedAt: T0 + n,
        updatedAt: T0 + n,
        ...overrides,
      });

      it('keeps each request once per relationship and request id, lists newest first and counts by exercise and time', async () => {
        const a = request(1, 'rel-a');
        const b = request(2, 'rel-a', { exercise: 'deletion' });
        const c = request(3, 'rel-b', { status: 'denied', reason: 'too_many_requests' });
        for (const row of [a, b, c]) expect(await store.saveDataRightsRequest(row)).toBe(true);
        // A resend (same relationship and request id) changes nothing.
        expect(await store.saveDataRightsRequest({ ...a, id: uid(8899), status: 'denied' })).toBe(false);
        // The same request id on another relationship is another request.
        expect(await store.saveDataRightsRequest(request(4, 'rel-b', { requestId: a.requestId }))).toBe(true);

        expect((await store.listDataRightsRequests()).map((r) => r.id)).toEqual([uid(8804), c.id, b.id, a.id]);
        expect(await store.listDataRightsRequests({ relationshipId: 'rel-a' })).toEqual([b, a]);
        expect(await store.getDataRightsRequest('rel-a', a.requestId)).toEqual(a);
        expect(await store.getDataRightsRequest('rel-b', a.requestId)).toEqual(request(4, 'rel-b', { requestId: a.requestId }));
        expect(await store.getDataRightsRequest('rel-a', uid(1))).toBeUndefined();
        expect(await store.listDataRightsRequests({ limit: 1 })).toHaveLength(1);
        expect(await store.countDataRightsRequests('rel-a', 'access', T0)).toBe(1);
        expect(await store.countDataRightsRequests('rel-a', 'access', T0 + 2)).toBe(0);
        expect(await store.countDataRightsRequests('rel-b', 'access', T0)).toBe(2);
      });

      it('outlives the erasure of the relationship it is about (it is the record that she was answered)', async () => {
        const rel = relationship(1);
        await store.createRelationship(rel);
        await store.saveDataRightsRequest(request(1, rel.id));
        await store.eraseRelationship(rel.id, T0 + 999);
        expect(await store.listDataRightsRequests({ relationshipId: rel.id })).toEqual([request(1, rel.id)]);
      });
    });

    describe('keyset pages', () => {
      /** Every page of `size` rows, each after the previous page's last key, until a short page. */
      async function walk<R, K>(list: (after: K | undefined, limit: number) => Promise<R[]>, keyOf: (row: R) => K, size: number): Promise<R[][]> {
        const pages: R[][] = [];
        let after: K | undefined;
        for (;;) {
          const page = await list(after, size);
          expect(page.length).toBeLessThanOrEqual(size);
          pages.push(page);
          if (page.length < size) return pages;
          after = keyOf(page.at(-1)!);
        }
      }
      const created = (row: { createdAt: number; id: string }) => ({ createdAt: row.createdAt, id: row.id });
      // Ids that tie on time and sort differently by locale than by bytes: 'Z' < '_' < 'a' in byte order.
      const tricky = ['k-a', 'k-Z', 'k_b'];

      it('pages relationships in createdAt then byte order of id, each row once, and a later page is unmoved by rows added before it', async () => {
        const rels = [relationship(1, { createdAt: T0 + 5 }), ...tricky.map((id, n) => relationship(10 + n, { id, createdAt: T0 + 20 })), relationship(3, { createdAt: T0 + 30 })];
        for (const rel of rels) await store.createRelationship(rel);
        const all = await store.listRelationships();
        expect(all.map((r) => r.id)).toEqual([rels[0]!.id, 'k-Z', 'k-a', 'k_b', rels[4]!.id]);
        const pages = await walk((after, limit) => store.listRelationships({ ...(after ? { after } : {}), limit }), created, 2);
        expect(pages.map((p) => p.length)).toEqual([2, 2, 1]);
        expect(pages.flat()).toEqual(all);
        expect(await store.listRelationships({ limit: 0 })).toEqual([]);
        expect(await store.listRelationships({ after: created(all.at(-1)!) })).toEqual([]);

        const first = await store.listRelationships({ limit: 2 });
        await store.createRelationship(relationship(4, { createdAt: T0 }));
        expect(await store.listRelationships({ after: created(first.at(-1)!), limit: 2 })).toEqual(all.slice(2, 4));
      });

      it('pages a relationship’s messages', async () => {
        const rel = relationship(1);
        const other = relationship(2);
        await store.createRelationship(rel);
        await store.createRelationship(other);
        const messages = [message(1, rel.id, { createdAt: T0 + 1 }), ...tricky.map((id, n) => message(10 + n, rel.id, { id, createdAt: T0 + 2 })), message(3, rel.id, { createdAt: T0 + 3 })];
        for (const m of messages) await store.addMessage(m);
        await store.addMessage(message(4, other.id, { createdAt: T0 + 2 }));
        const all = await store.listMessages(rel.id);
        expect(all).toHaveLength(5);
        const pages = await walk((after, limit) => store.listMessages(rel.id, { ...(after ? { after } : {}), limit }), created, 2);
        expect(pages.flat()).toEqual(all);
        expect(pages.flat().map((m) => m.id).slice(1, 4)).toEqual(['k-Z', 'k-a', 'k_b']);
      });

      it('pages connector events, with the relationship and dispatch filters', async () => {
        const rel = relationship(1);
        await store.createRelationship(rel);
        const events = [connectorEvent(1, rel.id, { createdAt: T0 + 1 }), ...tricky.map((id, n) => connectorEvent(10 + n, n === 1 ? null : rel.id, { id, createdAt: T0 + 2 })), connectorEvent(3, rel.id, { createdAt: T0 + 3 })];
        for (const e of events) await store.enqueueEvent(e);
        await store.markEventDispatched('k-a', T0 + 9);
        for (const filter of [{}, { relationshipId: rel.id }, { undispatchedOnly: true }, { relationshipId: rel.id, undispatchedOnly: true }]) {
          const all = await store.listEvents(filter);
          const pages = await walk((after, limit) => store.listEvents({ ...filter, ...(after ? { after } : {}), limit }), created, 2);
          expect(pages.flat(), JSON.stringify(filter)).toEqual(all);
        }
        expect((await store.listEvents({ relationshipId: rel.id, undispatchedOnly: true, limit: 10 })).map((e) => e.id)).toEqual([uid(7001), 'k_b', uid(7003)]);
      });

      it('pages intents, with the relationship and state filters', async () => {
        const rel = relationship(1);
        const other = relationship(2);
        await store.createRelationship(rel);
        await store.createRelationship(other);
        const intents = [receivedIntent(1, rel.id, { createdAt: T0 + 1 }), ...tricky.map((id, n) => receivedIntent(10 + n, n === 2 ? other.id : rel.id, { id, createdAt: T0 + 2, state: n === 0 ? 'closed' : 'open' })), receivedIntent(3, rel.id, { createdAt: T0 + 3 })];
        for (const intent of intents) await store.createReceivedIntent(intent);
        for (const filter of [{}, { relationshipId: rel.id }, { state: 'open' as const }, { relationshipId: rel.id, state: 'open' as const }]) {
          const all = await store.listReceivedIntents(filter);
          const pages = await walk((after, limit) => store.listReceivedIntents({ ...filter, ...(after ? { after } : {}), limit }), created, 2);
          expect(pages.flat(), JSON.stringify(filter)).toEqual(all);
        }
        expect((await store.listReceivedIntents({ relationshipId: rel.id, state: 'open' })).map((i) => i.id)).toEqual([intents[0]!.id, 'k-Z', intents[4]!.id]);
      });

      it('pages dead letters, most recent first, ties broken by event then connector (byte order, descending)', async () => {
        for (const id of ['e-a', 'e-Z', 'e_b']) await store.enqueueEvent(connectorEvent(0, null, { id }));
        const dead = (eventId: string, connectorId: string, updatedAt: number): ConnectorAttempt => ({ eventId, connectorId, state: 'dead', attempts: 1, nextAttemptAt: null, lastError: 'connector.rejected: HTTP 400', updatedAt });
        for (const [eventId, connectorId, at] of [['e-a', 'webhook', T0 + 5], ['e-a', 'crm', T0 + 5], ['e-Z', 'webhook', T0 + 5], ['e_b', 'webhook', T0 + 9], ['e_b', 'Crm', T0 + 1]] as const) {
          await store.saveConnectorAttempt(dead(eventId, connectorId, at));
        }
        const key = (d: { attempt: ConnectorAttempt }) => ({ updatedAt: d.attempt.updatedAt, eventId: d.attempt.eventId, connectorId: d.attempt.connectorId });
        const all = await store.listDeadLetters({ limit: 1000 });
        expect(all.map((d) => `${d.attempt.eventId}/${d.attempt.connectorId}`)).toEqual(['e_b/webhook', 'e-a/webhook', 'e-a/crm', 'e-Z/webhook', 'e_b/Crm']);
        const pages = await walk((after, limit) => store.listDeadLetters({ ...(after ? { after } : {}), limit }), key, 2);
        expect(pages.map((p) => p.length)).toEqual([2, 2, 1]);
        expect(pages.flat()).toEqual(all);
        const ofWebhook = await walk((after, limit) => store.listDeadLetters({ connectorId: 'webhook', ...(after ? { after } : {}), limit }), key, 1);
        expect(ofWebhook.flat().map((d) => d.attempt.eventId)).toEqual(['e_b', 'e-a', 'e-Z']);
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
            { category: 'disclosure_requests', count: 0 },
            { category: 'consent_records', count: 0 },
            { category: 'terms_agreements', count: 0 },
            { category: 'held_fields', count: 0 },
            { category: 'profile_versions', count: 0 },
            { category: 'presentations', count: 0 },
            { category: 'connector_events', count: 0 },
            { category: 'offers', count: 0 },
            { category: 'intents', count: 0 },
            { category: 'caller_verifications', count: 0 },
            { category: 'thing_receipts', count: 0 },
            { category: 'thing_registrations', count: 0 },
            { category: 'service_case_entries', count: 0 },
            { category: 'service_cases', count: 0 },
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

        const snapshot = await snapshotOf(store);
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

      it('erases the disclosure bookkeeping of a relationship, reporting each category after the original ones', async () => {
        const rel = relationship(1);
        await store.createRelationship(rel);
        await store.createDisclosureRequest(disclosureRequest(1, rel.id));
        await store.createDisclosureRequest(disclosureRequest(2, rel.id));
        await store.saveConsentRecord(consentRecord(1, rel.id));
        await store.createTermsAgreement(termsAgreement(1, rel.id, { state: 'agreed' }));
        await store.upsertHeldField(heldField('email', rel.id));
        await store.upsertHeldField(heldField('given_name', rel.id));
        await store.upsertHeldField(heldField('family_name', rel.id));
        await store.setProfileVersion(rel.id, 4, T0);
        await store.addPresentation(presentation(1, rel.id));
        await store.addPresentation(presentation(2, rel.id, { kind: 'update' }));
        await store.enqueueEvent(connectorEvent(1, rel.id));
        await store.enqueueEvent(connectorEvent(2, rel.id, { dispatchedAt: T0 + 50 }));
        await store.addMessage(message(1, rel.id));

        const summary = await store.eraseRelationship(rel.id, T0 + 999);

        expect(summary.erased).toEqual([
          { category: 'messages', count: 1 },
          { category: 'outbox', count: 0 },
          { category: 'relationship', count: 1 },
          { category: 'disclosure_requests', count: 2 },
          { category: 'consent_records', count: 1 },
          { category: 'terms_agreements', count: 1 },
          { category: 'held_fields', count: 3 },
          { category: 'profile_versions', count: 1 },
          { category: 'presentations', count: 2 },
          { category: 'connector_events', count: 2 },
          { category: 'offers', count: 0 },
          { category: 'intents', count: 0 },
          { category: 'caller_verifications', count: 0 },
          { category: 'thing_receipts', count: 0 },
          { category: 'thing_registrations', count: 0 },
          { category: 'service_case_entries', count: 0 },
          { category: 'service_cases', count: 0 },
        ]);
        expect(await store.listDisclosureRequests(rel.id)).toEqual([]);
        expect(await store.getDisclosureRequest(uid(4001))).toBeUndefined();
        expect(await store.findDisclosureRequestByNonce('nonce-1')).toBeUndefined();
        expect(await store.listConsentRecords(rel.id)).toEqual([]);
        expect(await store.listHeldFields(rel.id)).toEqual([]);
        expect(await store.getProfileVersion(rel.id)).toBe(0);
        expect(await store.listPresentations(rel.id)).toEqual([]);
        expect(await store.listEvents({ relationshipId: rel.id })).toEqual([]);
        const everything = JSON.stringify(await snapshotOf(store));
        expect(everything).not.toContain(TRICKY_JSON.name);
        expect(everything).not.toContain('nonce-1');
      });

      it('leaves the disclosure bookkeeping of other relationships untouched when erasing one', async () => {
        const doomed = relationship(1);
        const kept = relationship(2);
        await store.createRelationship(doomed);
        await store.createRelationship(kept);
        for (const rel of [doomed, kept]) {
          const n = rel === doomed ? 1 : 2;
          await store.createDisclosureRequest(disclosureRequest(n, rel.id));
          await store.saveConsentRecord(consentRecord(n, rel.id));
          await store.upsertHeldField(heldField('email', rel.id));
          await store.setProfileVersion(rel.id, n, T0);
          await store.addPresentation(presentation(n, rel.id));
          await store.enqueueEvent(connectorEvent(n, rel.id));
        }
        await store.enqueueEvent(connectorEvent(3, null, { type: 'company.started' }));
        const keptState = async () => ({
          requests: await store.listDisclosureRequests(kept.id),
          consents: await store.listConsentRecords(kept.id),
          held: await store.listHeldFields(kept.id),
          version: await store.getProfileVersion(kept.id),
          presentations: await store.listPresentations(kept.id),
          events: await store.listEvents({ relationshipId: kept.id }),
        });
        const before = await keptState();
        expect(before.requests).toHaveLength(1);

        await store.eraseRelationship(doomed.id, T0 + 999);

        expect(await keptState()).toEqual(before);
        expect(ids(await store.listEvents())).toEqual([uid(7002), uid(7003)]);
      });

      it('keeps an event enqueued after the erasure in the same transaction, and undoes the erasure if the transaction fails', async () => {
        const rel = relationship(1);
        await store.createRelationship(rel);
        await store.upsertHeldField(heldField('email', rel.id));
        await store.enqueueEvent(connectorEvent(1, rel.id));
        const before = await snapshotOf(store);

        await expect(
          store.transaction(async (tx) => {
            await tx.eraseRelationship(rel.id, T0 + 999);
            throw new Error('boom');
          }),
        ).rejects.toThrow('boom');
        expect(await snapshotOf(store)).toEqual(before);

        const erasedEvent = connectorEvent(2, rel.id, { type: 'relationship.erased', payload: { relationshipId: rel.id } });
        await store.transaction(async (tx) => {
          await tx.eraseRelationship(rel.id, T0 + 999);
          await tx.enqueueEvent(erasedEvent);
        });
        expect(await store.listEvents({ relationshipId: rel.id })).toEqual([erasedEvent]);
        expect(await store.listHeldFields(rel.id)).toEqual([]);
      });

      it('counts zeros when erasing an already erased relationship', async () => {
        const rel = relationship(1);
        await store.createRelationship(rel);
        await store.eraseRelationship(rel.id, T0 + 1);
        const before = await snapshotOf(store);

        const again = await store.eraseRelationship(rel.id, T0 + 2);
        expect(again.erased.every((entry) => entry.count === 0)).toBe(true);
        expect(await snapshotOf(store)).toEqual(before);
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

    describe('service cases', () => {
      it('creates a case once per relationship and case id (a resend changes nothing), and reads it back by either id', async () => {
        const rel = relationship(1);
        const other = relationship(2);
        await store.createRelationship(rel);
        await store.createRelationship(other);
        const row = serviceCase(1, rel.id);
        expect(await store.createServiceCase(row)).toBe(true);
        expect(await store.createServiceCase({ ...row, id: uid(9650), state: 'answered' })).toBe(false);
        // The same case id on another relationship is another case.
        expect(await store.createServiceCase(serviceCase(2, other.id, { caseId: row.caseId }))).toBe(true);
        expect(await store.getServiceCase(row.id)).toEqual(row);
        expect(await store.getServiceCase(uid(9650))).toBeUndefined();
        expect(await store.findServiceCase(rel.id, row.caseId)).toEqual(row);
        expect((await store.findServiceCase(other.id, row.caseId))?.id).toBe(uid(9602));
        expect(await store.findServiceCase(rel.id, uid(1))).toBeUndefined();
        await expect(store.createServiceCase(serviceCase(3, uid(9)))).rejects.toMatchObject({ code: 'relationship.unknown' });
        await expect(store.createServiceCase({ ...serviceCase(4, rel.id), id: row.id })).rejects.toMatchObject({ code: 'store.conflict' });
        expect(ids(await store.listServiceCases())).toEqual([uid(9602), uid(9601)]);
      });

      it('lists by state and relationship, most recently changed first, and moves state until resolved', async () => {
        const rel = relationship(1);
        const other = relationship(2);
        await store.createRelationship(rel);
        await store.createRelationship(other);
        const first = serviceCase(1, rel.id);
        const second = serviceCase(2, rel.id);
        const third = serviceCase(3, other.id);
        for (const row of [first, second, third]) await store.createServiceCase(row);
        expect(await store.setServiceCaseState(first.id, 'answered', T0 + 100)).toBe(true);
        expect(ids(await store.listServiceCases())).toEqual([first.id, third.id, second.id]);
        expect(ids(await store.listServiceCases({ state: 'open' }))).toEqual([third.id, second.id]);
        expect(ids(await store.listServiceCases({ state: 'open', relationshipId: rel.id }))).toEqual([second.id]);
        expect(ids(await store.listServiceCases({ limit: 1 }))).toEqual([first.id]);
        expect(await store.setServiceCaseState(first.id, 'resolved', T0 + 200)).toBe(true);
        expect(await store.setServiceCaseState(first.id, 'open', T0 + 300)).toBe(false);
        expect(await store.getServiceCase(first.id)).toEqual({ ...first, state: 'resolved', updatedAt: T0 + 200 });
        expect(await store.setServiceCaseState(uid(9999), 'open', T0)).toBe(false);
      });

      it('keeps each case\'s thread in order, and erases cases and threads with the relationship', async () => {
        const rel = relationship(1);
        const kept = relationship(2);
        await store.createRelationship(rel);
        await store.createRelationship(kept);
        const row = serviceCase(1, rel.id);
        const keptRow = serviceCase(2, kept.id);
        await store.createServiceCase(row);
        await store.createServiceCase(keptRow);
        await store.addServiceCaseEntry(caseEntry(2, row, { author: 'company' }));
        await store.addServiceCaseEntry(caseEntry(1, row, { kind: 'open' }));
        await store.addServiceCaseEntry(caseEntry(3, row, { kind: 'resolve', text: null }));
        await store.addServiceCaseEntry(caseEntry(4, keptRow));
        await expect(store.addServiceCaseEntry(caseEntry(1, row))).rejects.toMatchObject({ code: 'store.conflict' });
        expect(await store.listServiceCaseEntries(row.id)).toEqual([caseEntry(1, row, { kind: 'open' }), caseEntry(2, row, { author: 'company' }), caseEntry(3, row, { kind: 'resolve', text: null })]);
        const summary = await store.eraseRelationship(rel.id, T0 + 1000);
        expect(summary.erased.slice(-2)).toEqual([
          { category: 'service_case_entries', count: 3 },
          { category: 'service_cases', count: 1 },
        ]);
        expect(await store.getServiceCase(row.id)).toBeUndefined();
        expect(await store.listServiceCaseEntries(row.id)).toEqual([]);
        expect(await store.getServiceCase(keptRow.id)).toEqual(keptRow);
        expect(JSON.stringify(await snapshotOf(store))).not.toContain('SN-1');
      });
    });

    describe('caller verifications and the audit log', () => {
      const answer = (n: number) => ({ state: 'approved' as const, answeredAt: T0 + 100 + n, answerMessageId: `answer-${n}`, signerKid: 'did:peer:2.customer1#key-2', answerJws: `{"payload":"p${n}","signatures":[]}` });

      it('creates, reads and lists verifications per relationship, newest first', async () => {
        const rel = relationship(1);
        const other = relationship(2);
        await store.createRelationship(rel);
        await store.createRelationship(other);
        const first = verification(1, rel.id);
        const second = verification(2, rel.id);
        await store.createVerification(first);
        await store.createVerification(second);
        await store.createVerification(verification(3, other.id));
        expect(await store.getVerification(first.id)).toEqual(first);
        expect(await store.getVerification(uid(9999))).toBeUndefined();
        expect(ids(await store.listVerifications(rel.id))).toEqual([second.id, first.id]);
        expect(await store.listVerifications(uid(9))).toEqual([]);
      });

      it('refuses a verification of an unknown relationship or with a taken id, changing nothing', async () => {
        const rel = relationship(1);
        await store.createRelationship(rel);
        await store.createVerification(verification(1, rel.id));
        const before = await snapshotOf(store);
        await expect(store.createVerification(verification(2, uid(9)))).rejects.toMatchObject({ code: 'relationship.unknown' });
        await expect(store.createVerification(verification(1, rel.id, { code: 'AAAAAA' }))).rejects.toMatchObject({ code: 'store.conflict' });
        expect(await snapshotOf(store)).toEqual(before);
      });

      it('records an answer once: a second answer changes nothing and returns false', async () => {
        const rel = relationship(1);
        await store.createRelationship(rel);
        const row = verification(1, rel.id);
        await store.createVerification(row);
        expect(await store.answerVerification(row.id, answer(1))).toBe(true);
        const answered = { ...row, ...answer(1) };
        expect(await store.getVerification(row.id)).toEqual(answered);
        const before = await snapshotOf(store);
        expect(await store.answerVerification(row.id, { ...answer(2), state: 'refused' })).toBe(false);
        expect(await store.answerVerification(uid(9999), answer(3))).toBe(false);
        expect(await snapshotOf(store)).toEqual(before);
      });

      it('lets exactly one of concurrent answers win', async () => {
        const rel = relationship(1);
        await store.createRelationship(rel);
        const row = verification(1, rel.id);
        await store.createVerification(row);
        const results = await Promise.all([1, 2, 3, 4].map((n) => store.answerVerification(row.id, answer(n))));
        expect(results.filter(Boolean)).toHaveLength(1);
      });

      it('erases a relationship\'s verifications with it, and keeps the audit log', async () => {
        const rel = relationship(1);
        const kept = relationship(2);
        await store.createRelationship(rel);
        await store.createRelationship(kept);
        await store.createVerification(verification(1, rel.id));
        await store.answerVerification(uid(9001), answer(1));
        await store.createVerification(verification(2, rel.id));
        await store.createVerification(verification(3, kept.id));
        await store.addAuditEntry(auditEntry(1, rel.id));
        const summary = await store.eraseRelationship(rel.id, T0 + 999);
        expect(summary.erased.find((e) => e.category === 'caller_verifications')).toEqual({ category: 'caller_verifications', count: 2 });
        expect(await store.listVerifications(rel.id)).toEqual([]);
        expect(ids(await store.listVerifications(kept.id))).toEqual([uid(9003)]);
        expect(JSON.stringify(await snapshotOf(store))).not.toContain('"payload":"p1"');
        expect(await store.listAuditEntries({ relationshipId: rel.id })).toEqual([auditEntry(1, rel.id)]);
      });

      it('appends to the audit log and lists it newest first, all or per relationship, with a limit', async () => {
        const rel = relationship(1);
        await store.createRelationship(rel);
        await store.addAuditEntry(auditEntry(1, rel.id));
        await store.addAuditEntry(auditEntry(2, null, { action: 'console.search' }));
        await store.addAuditEntry(auditEntry(3, rel.id, { action: 'console.verify' }));
        // An entry may name a relationship the store does not have (it outlives erasure, and is not a foreign key).
        await store.addAuditEntry(auditEntry(4, uid(9)));
        expect(ids(await store.listAuditEntries())).toEqual([uid(9504), uid(9503), uid(9502), uid(9501)]);
        expect(await store.listAuditEntries({ relationshipId: rel.id })).toEqual([auditEntry(3, rel.id, { action: 'console.verify' }), auditEntry(1, rel.id)]);
        expect(ids(await store.listAuditEntries({ limit: 2 }))).toEqual([uid(9504), uid(9503)]);
        await expect(store.addAuditEntry(auditEntry(1, null))).rejects.toMatchObject({ code: 'store.conflict' });
      });

      it('finds relationships by a held string value, ignoring ASCII case, and never by part of one or by an object', async () => {
        const a = relationship(1);
        const b = relationship(2);
        const c = relationship(3);
        for (const rel of [a, b, c]) await store.createRelationship(rel);
        await store.upsertHeldField(heldField('email', b.id, { value: 'Ada@Example.com' }));
        await store.upsertHeldField(heldField('email', a.id, { value: 'ada@example.com' }));
        await store.upsertHeldField(heldField('phone_number', a.id, { value: '+44 20 7946 0000' }));
        await store.upsertHeldField(heldField('address', c.id, { value: { street_address: 'ada@example.com' } }));
        expect(await store.findRelationshipsByHeldValue('ADA@example.COM')).toEqual([a.id, b.id].sort());
        expect(await store.findRelationshipsByHeldValue('+44 20 7946 0000')).toEqual([a.id]);
        expect(await store.findRelationshipsByHeldValue('ada@')).toEqual([]);
        expect(await store.findRelationshipsByHeldValue('%')).toEqual([]);
        expect(await store.findRelationshipsByHeldValue('')).toEqual([]);
      });
    });

    describe('her things: receipts and registrations', () => {
      const signed = (n: number) => ({
        receipt: {
          receipt_id: uid(7000 + n),
          seller: 'did:web:shop.example',
          seller_name: 'Shop',
          buyer: `did:peer:2.customer${n}`,
          issued_at: '2026-03-15T10:00:00.000Z',
          purchase_date: '2026-03-15',
          price: { amount: '899.00', currency: 'EUR' },
          product: { name: 'Trail bike', gtin: '4006381333931', serialNumber: `SN-${n}` },
          warranty: { start: '2026-03-15', duration: 'P2Y' },
        },
        signature: 'eyJhbGciOiJFZERTQSJ9..c2ln',
      });
      const receipt = (n: number, relationshipId: string) => ({ id: uid(7000 + n), relationshipId, messageId: `receipt-${n}`, signed: signed(n), state: 'sent' as const, createdAt: T0 + n, answeredAt: null });
      const registration = (n: number, relationshipId: string, product: { gtin?: string; model?: string }) => ({
        id: uid(7100 + n),
        relationshipId,
        consentRecordId: uid(7200 + n),
        messageId: `register-${n}`,
        gtin: product.gtin ?? null,
        model: product.model ?? null,
        claims: { ...product, serial_number: `SN-${n}` },
        sdJwt: `sd-jwt-${n}~`,
        createdAt: T0 + n,
      });

      it('keeps receipts as sent and records her answer once', async () => {
        const rel = relationship(1);
        await store.createRelationship(rel);
        await store.createThingReceipt(receipt(1, rel.id));
        expect(await store.getThingReceipt(uid(7001))).toEqual(receipt(1, rel.id));
        expect(await store.answerThingReceipt(uid(7001), 'accepted', T0 + 50)).toBe(true);
        expect(await store.answerThingReceipt(uid(7001), 'declined', T0 + 60)).toBe(false);
        expect(await store.getThingReceipt(uid(7001))).toEqual({ ...receipt(1, rel.id), state: 'accepted', answeredAt: T0 + 50 });
        expect(ids(await store.listThingReceipts(rel.id))).toEqual([uid(7001)]);
        expect(await store.listThingReceipts(uid(9))).toEqual([]);
      });

      it('refuses a receipt of an unknown relationship or with a taken id, changing nothing', async () => {
        const rel = relationship(1);
        await store.createRelationship(rel);
        await store.createThingReceipt(receipt(1, rel.id));
        const before = await snapshotOf(store);
        await expect(store.createThingReceipt(receipt(2, uid(9)))).rejects.toMatchObject({ code: 'relationship.unknown' });
        await expect(store.createThingReceipt(receipt(1, rel.id))).rejects.toMatchObject({ code: 'store.conflict' });
        expect(await snapshotOf(store)).toEqual(before);
      });

      it('finds registrations by GTIN, model or relationship, and erases them with the relationship', async () => {
        const a = relationship(1);
        const b = relationship(2);
        await store.createRelationship(a);
        await store.createRelationship(b);
        await store.addThingRegistration(registration(1, a.id, { gtin: '4006381333931' }));
        await store.addThingRegistration(registration(2, b.id, { model: 'X1' }));
        expect(await store.getThingRegistration(uid(7101))).toEqual(registration(1, a.id, { gtin: '4006381333931' }));
        expect(ids(await store.listThingRegistrations({ gtin: '4006381333931' }))).toEqual([uid(7101)]);
        expect(ids(await store.listThingRegistrations({ model: 'X1' }))).toEqual([uid(7102)]);
        expect(ids(await store.listThingRegistrations({ relationshipId: b.id }))).toEqual([uid(7102)]);
        expect(ids(await store.listThingRegistrations())).toEqual([uid(7101), uid(7102)]);
        const summary = await store.eraseRelationship(a.id, T0 + 100);
        expect(summary.erased.find((e) => e.category === 'thing_registrations')).toEqual({ category: 'thing_registrations', count: 1 });
        expect(ids(await store.listThingRegistrations())).toEqual([uid(7102)]);
      });
    });

    describe('snapshot', () => {
      it('starts with every table present and empty', async () => {
        const snapshot = await snapshotOf(store);
        expect(Object.keys(snapshot).sort()).toEqual(
          [
            'agent_identity',
            'messages',
            'outbox',
            'relationships',
            'seen_messages',
            'tombstones',
            'disclosure_requests',
            'consent_records',
            'terms_agreements',
            'held_fields',
            'profile_versions',
            'presentations',
            'connector_events',
            'connector_deliveries',
            'data_rights_requests',
            'intents',
            'offers',
            'caller_verifications',
            'audit_log',
            'thing_receipts',
            'thing_registrations',
            'service_cases',
            'service_case_entries',
          ].sort(),
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

        const snapshot = await snapshotOf(store);
        expect(snapshot['relationships']).toEqual([
          expect.objectContaining({ id: a.id, their_did: a.theirDid }),
          expect.objectContaining({ id: b.id, their_did: b.theirDid }),
        ]);
        expect(snapshot['messages']).toEqual([expect.objectContaining({ id: uid(2001), body: { hello: 'world' } })]);
        expect(snapshot['seen_messages']).toEqual([{ message_id: 'm-1', expires_at: T0 }]);
        expect(await snapshotOf(store)).toEqual(snapshot);
      });
    });
  });
}
