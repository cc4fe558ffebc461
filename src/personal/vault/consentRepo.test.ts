import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../core/clock.js';
import type { ConsentRecord as ConsentDocument, ConsentState as DocumentState } from '../../protocol/consentRecord.js';
import type { DisclosureRequestRecord } from './disclosureRequestRepo.js';
import type { RelationshipRecord } from './relationshipRepo.js';
import type { Vault } from './vault.js';
import { sealBehindTheVault, TEST_VAULT_PASSPHRASE, useTestVault } from '../../../test/support/testVault.js';
import { consentDocument } from '../../../test/support/documents.js';
import { codeOf } from '../../../test/support/errorCodes.js';

let vault: Vault;
let clock: ManualClock;
let rel: RelationshipRecord;
let other: RelationshipRecord;
let req: DisclosureRequestRecord;

const t = useTestVault();
beforeEach(() => {
  ({ vault, clock, rel, other } = t);
  req = vault.disclosureRequests.insert({
    relationshipId: rel.id,
    requestId: 'req-1',
    messageId: 'msg-1',
    nonce: 'bm9uY2Utbm9uY2Utbm9uY2U',
    fields: ['email'],
    purpose: 'Newsletter',
    retention: null,
    legalBasis: 'consent',
    termsRef: 'https://shop.example/terms',
    credentials: [],
  });
});

const id = (n: number): string => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
/** The record document of consent n (the vault parses it with the protocol's schema). */
const doc = (state: DocumentState, n = 1): ConsentDocument => consentDocument(id(n), { state, requestId: `req-${n}` });

describe('ConsentRepo', () => {
  it('stores a record under the shared id, with the request it answers', () => {
    const c = vault.consents.insert({ id: id(1), relationshipId: rel.id, requestId: req.id, state: 'pending', record: doc('pending') });
    expect(c).toEqual({ id: id(1), relationshipId: rel.id, requestId: req.id, state: 'pending', record: doc('pending'), createdAt: clock.now(), updatedAt: clock.now() });
    expect(vault.consents.get(id(1))).toEqual(c);
    expect(vault.consents.get(id(2))).toBeUndefined();
  });

  it('allows a record without a request', () => {
    const c = vault.consents.insert({ id: id(1), relationshipId: other.id, requestId: null, state: 'active', record: doc('active', 1), createdAt: 5 });
    expect(vault.consents.get(c.id)).toEqual({ ...c, createdAt: 5, updatedAt: 5 });
  });

  it('refuses an unknown request, a request of another relationship, a duplicate id and bad input', () => {
    vault.consents.insert({ id: id(1), relationshipId: rel.id, requestId: req.id, state: 'pending', record: doc('pending', 1) });
    expect(codeOf(() => vault.consents.insert({ id: id(2), relationshipId: rel.id, requestId: id(99), state: 'pending', record: doc('pending', 2) }))).toBe(
      'disclosure.unknown_request',
    );
    expect(codeOf(() => vault.consents.insert({ id: id(2), relationshipId: other.id, requestId: req.id, state: 'pending', record: doc('pending', 2) }))).toBe(
      'vault.corrupt',
    );
    expect(codeOf(() => vault.consents.insert({ id: id(1), relationshipId: rel.id, requestId: null, state: 'pending', record: doc('pending', 1) }))).toBe('vault.conflict');
    expect(codeOf(() => vault.consents.insert({ id: 'nope', relationshipId: rel.id, requestId: null, state: 'pending', record: doc('pending') }))).toBe('vault.corrupt');
    expect(codeOf(() => vault.consents.insert({ id: id(3), relationshipId: id(98), requestId: null, state: 'pending', record: doc('pending', 3) }))).toBe(
      'relationship.unknown',
    );
    expect(vault.consents.list()).toHaveLength(1);
  });

  it('lists oldest first, overall or for one relationship', () => {
    vault.consents.insert({ id: id(1), relationshipId: rel.id, requestId: req.id, state: 'pending', record: doc('pending', 1) });
    clock.advance(10);
    vault.consents.insert({ id: id(2), relationshipId: other.id, requestId: null, state: 'active', record: doc('active', 2) });
    vault.consents.insert({ id: id(3), relationshipId: rel.id, requestId: null, state: 'refused', record: doc('refused', 3), createdAt: clock.now() - 20 });
    expect(vault.consents.list().map((c) => c.id)).toEqual([id(3), id(1), id(2)]);
    expect(vault.consents.list(rel.id).map((c) => c.id)).toEqual([id(3), id(1)]);
    expect(vault.consents.list(other.id).map((c) => c.id)).toEqual([id(2)]);
  });

  it('updates the state and the document, and removes records', () => {
    const c = vault.consents.insert({ id: id(1), relationshipId: rel.id, requestId: req.id, state: 'pending', record: doc('pending') });
    const at = clock.now() + 1000;
    expect(vault.consents.update(id(1), 'active', doc('active'), at)).toBe(true);
    expect(vault.consents.get(id(1))).toEqual({ ...c, state: 'active', record: doc('active'), updatedAt: at });
    expect(vault.consents.update(id(2), 'active', doc('active', 2))).toBe(false);
    expect(codeOf(() => vault.consents.update(id(1), 'gone' as 'active', doc('active')))).toBe('vault.corrupt');
    expect(codeOf(() => vault.consents.update(id(1), 'active', { ...doc('active'), record_created_at: new Date() } as unknown as ConsentDocument))).toBe('vault.corrupt');
    // The document is checked with the protocol's schema.
    expect(codeOf(() => vault.consents.update(id(1), 'active', { ...doc('active'), events: [] }))).toBe('vault.corrupt');
    expect(vault.consents.get(id(1))?.record).toEqual(doc('active'));
    expect(vault.consents.remove(id(1))).toBe(true);
    expect(vault.consents.remove(id(1))).toBe(false);
    expect(vault.consents.get(id(1))).toBeUndefined();
  });

  const badDocuments: [string, (record: ConsentDocument) => unknown][] = [
    ['a list', () => ['just', 'a', 'list']],
    ['an empty object', () => ({})],
    ['another schema version', (record) => ({ ...record, schema_version: 'kith-27560/0.9' })],
    ['no events', (record) => ({ ...record, events: [] })],
  ];

  it.each(badDocuments)('reports a record whose stored document is %s as vault.corrupt on every read, and returns none of it', (_name, bad) => {
    const stored = vault.consents.insert({ id: id(1), relationshipId: rel.id, requestId: req.id, state: 'active', record: doc('active') });
    const fine = vault.consents.insert({ id: id(2), relationshipId: other.id, requestId: null, state: 'active', record: doc('active', 2) });
    sealBehindTheVault(join(t.dir, 'vault.db'), TEST_VAULT_PASSPHRASE, 'consent_records', stored.id, { record: bad(stored.record) });

    expect(codeOf(() => vault.consents.get(stored.id))).toBe('vault.corrupt');
    expect(codeOf(() => vault.consents.list(rel.id))).toBe('vault.corrupt');
    expect(codeOf(() => vault.consents.list())).toBe('vault.corrupt');
    expect(vault.consents.list(other.id)).toEqual([fine]);
  });
});
