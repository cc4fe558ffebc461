import { beforeEach, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../core/clock.js';
import type { NewDisclosureRequest } from './disclosureRequestRepo.js';
import type { RelationshipRecord } from './relationshipRepo.js';
import type { Vault } from './vault.js';
import { useTestVault } from '../../../test/support/testVault.js';
import { codeOf } from '../../../test/support/errorCodes.js';

let vault: Vault;
let clock: ManualClock;
let rel: RelationshipRecord;
let other: RelationshipRecord;

const t = useTestVault();
beforeEach(() => {
  ({ vault, clock, rel, other } = t);
});

const CONSENT = '00000000-0000-4000-8000-0000000000c1';

function request(relationshipId: string, requestId: string, overrides: Partial<NewDisclosureRequest> = {}): NewDisclosureRequest {
  return {
    relationshipId,
    requestId,
    messageId: `msg-${requestId}`,
    nonce: 'bm9uY2Utbm9uY2Utbm9uY2U',
    fields: ['email', 'name'],
    purpose: 'Delivery of your order',
    retention: 'P1Y',
    legalBasis: 'contract',
    termsRef: null,
    credentials: [{ vct: 'urn:example:age', claims: ['age_over_18'], issuers: ['did:web:issuer.example'] }],
    ...overrides,
  };
}

describe('DisclosureRequestRepo', () => {
  it('inserts a pending request with a local random id and finds it by id and by the company request id', () => {
    const r = vault.disclosureRequests.insert(request(rel.id, 'req-1'));
    expect(r).toMatchObject({ state: 'pending', relationshipId: rel.id, requestId: 'req-1', createdAt: clock.now(), updatedAt: clock.now() });
    expect(r.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(r).not.toHaveProperty('answeredFields');
    expect(vault.disclosureRequests.get(r.id)).toEqual(r);
    expect(vault.disclosureRequests.findByRequestId(rel.id, 'req-1')).toEqual(r);
    expect(vault.disclosureRequests.findByRequestId(other.id, 'req-1')).toBeUndefined();
    expect(vault.disclosureRequests.findByRequestId(rel.id, 'req-2')).toBeUndefined();
  });

  it('detects a redelivered request per relationship (the same id from another company is another request)', () => {
    vault.disclosureRequests.insert(request(rel.id, 'req-1'));
    expect(codeOf(() => vault.disclosureRequests.insert(request(rel.id, 'req-1', { purpose: 'again' })))).toBe('vault.conflict');
    const fromOther = vault.disclosureRequests.insert(request(other.id, 'req-1'));
    expect(vault.disclosureRequests.findByRequestId(other.id, 'req-1')).toEqual(fromOther);
    expect(vault.disclosureRequests.list()).toHaveLength(2);
  });

  it('refuses invalid input and an unknown relationship without writing anything', () => {
    const before = vault.snapshot();
    expect(codeOf(() => vault.disclosureRequests.insert(request(rel.id, '')))).toBe('vault.corrupt');
    expect(codeOf(() => vault.disclosureRequests.insert(request(rel.id, 'r', { nonce: '' })))).toBe('vault.corrupt');
    expect(codeOf(() => vault.disclosureRequests.insert(request('00000000-0000-4000-8000-000000000000', 'r')))).toBe('relationship.unknown');
    expect(vault.snapshot()).toEqual(before);
  });

  it('lists oldest first, by relationship and by state', () => {
    const a = vault.disclosureRequests.insert(request(rel.id, 'a'));
    clock.advance(10);
    const b = vault.disclosureRequests.insert(request(other.id, 'b'));
    const c = vault.disclosureRequests.insert(request(rel.id, 'c', { createdAt: clock.now() - 20 }));
    vault.disclosureRequests.settle(a.id, 'declined', { answeredFields: [], consentRecordId: CONSENT });
    expect(vault.disclosureRequests.list().map((r) => r.id)).toEqual([c.id, a.id, b.id]);
    expect(vault.disclosureRequests.list({ relationshipId: rel.id }).map((r) => r.id)).toEqual([c.id, a.id]);
    expect(vault.disclosureRequests.list({ state: 'pending' }).map((r) => r.id)).toEqual([c.id, b.id]);
    expect(vault.disclosureRequests.list({ relationshipId: rel.id, state: 'declined' }).map((r) => r.id)).toEqual([a.id]);
    expect(vault.disclosureRequests.list({ relationshipId: other.id, state: 'approved' })).toEqual([]);
  });

  it('settles a pending request once (compare and set), recording the answer', () => {
    const r = vault.disclosureRequests.insert(request(rel.id, 'req-1'));
    const at = clock.now() + 50;
    expect(vault.disclosureRequests.settle(r.id, 'approved', { answeredFields: ['email'], consentRecordId: CONSENT }, at)).toBe(true);
    expect(vault.disclosureRequests.get(r.id)).toEqual({ ...r, state: 'approved', updatedAt: at, answeredFields: ['email'], consentRecordId: CONSENT });
    expect(vault.disclosureRequests.settle(r.id, 'declined', { answeredFields: [], consentRecordId: CONSENT })).toBe(false);
    expect(vault.disclosureRequests.get(r.id)?.state).toBe('approved');
    expect(vault.disclosureRequests.settle('00000000-0000-4000-8000-000000000000', 'approved', { answeredFields: [], consentRecordId: CONSENT })).toBe(false);
    expect(codeOf(() => vault.disclosureRequests.settle(r.id, 'approved', { answeredFields: [], consentRecordId: 'not-a-uuid' }))).toBe('vault.corrupt');
  });

  it('reopens an answered request and forgets the answer; a pending one is left alone', () => {
    const r = vault.disclosureRequests.insert(request(rel.id, 'req-1'));
    expect(vault.disclosureRequests.reopen(r.id)).toBe(false);
    vault.disclosureRequests.settle(r.id, 'declined', { answeredFields: [], consentRecordId: CONSENT });
    const at = clock.now() + 99;
    expect(vault.disclosureRequests.reopen(r.id, at)).toBe(true);
    expect(vault.disclosureRequests.get(r.id)).toEqual({ ...r, updatedAt: at });
    expect(vault.disclosureRequests.reopen(r.id)).toBe(false);
    expect(vault.disclosureRequests.settle(r.id, 'approved', { answeredFields: ['name'], consentRecordId: CONSENT })).toBe(true);
  });
});
