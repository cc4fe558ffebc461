import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../core/clock.js';
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

const PROOF = { messageId: 'list-message-1', jws: 'eyJhbGciOiJFZERTQSJ9.e30.c2ln' };
const customerNumber = { kind: 'customer_number' as const, value: 'C-12345678', issuedAt: '2026-01-01T09:00:00.000Z' };
const policy = { kind: 'policy_number' as const, value: '88-123', label: 'Home insurance', issuedAt: '2026-01-01T09:14:00.000Z' };

describe('AccountIdRepo', () => {
  it("keeps a company's list with its proof, replaces it with a newer one, and ignores an older one arriving late", () => {
    expect(vault.accountIds.companySequence(rel.id)).toBeNull();
    expect(vault.accountIds.replaceCompanyList(rel.id, 1, [customerNumber], PROOF)).toBe(true);
    const hers = vault.accountIds.addHers(rel.id, { kind: 'loyalty_number', value: 'LOY-9' });
    clock.advance(10);
    expect(vault.accountIds.replaceCompanyList(rel.id, 2, [customerNumber, policy], { ...PROOF, messageId: 'list-message-2' })).toBe(true);
    const listed = vault.accountIds.list(rel.id);
    expect(listed.map((r) => [r.source, r.kind, r.value, r.sequence])).toEqual([
      ['her', 'loyalty_number', 'LOY-9', null],
      ['company', 'customer_number', 'C-12345678', 2],
      ['company', 'policy_number', '88-123', 2],
    ]);
    expect(listed[2]).toMatchObject({ label: 'Home insurance', issuedAt: policy.issuedAt, proof: { messageId: 'list-message-2', jws: PROOF.jws } });
    expect(listed[0]).toEqual(hers);

    const before = vault.snapshot();
    expect(vault.accountIds.replaceCompanyList(rel.id, 1, [customerNumber], PROOF)).toBe(false);
    expect(vault.accountIds.replaceCompanyList(rel.id, 2, [customerNumber], PROOF)).toBe(false);
    expect(vault.snapshot()).toEqual(before);
    // Another relationship's lists are its own.
    expect(vault.accountIds.list(other.id)).toEqual([]);
  });

  it('finds a value on every relationship through the normalised blind index, and nothing for a near miss', () => {
    vault.accountIds.replaceCompanyList(rel.id, 1, [customerNumber, policy], PROOF);
    vault.accountIds.addHers(other.id, { kind: 'contract_number', value: '88 123' });
    expect(vault.accountIds.find('88123').map((r) => [r.relationshipId, r.kind])).toEqual([
      [rel.id, 'policy_number'],
      [other.id, 'contract_number'],
    ]);
    expect(vault.accountIds.find('c-12345678').map((r) => r.value)).toEqual(['C-12345678']);
    expect(vault.accountIds.find('88-124')).toEqual([]);
    expect(vault.accountIds.find(' - ')).toEqual([]);
  });

  it('keeps the values out of the file in plaintext', () => {
    vault.accountIds.replaceCompanyList(rel.id, 1, [{ ...policy, value: 'POLICY-SECRET-4711' }], PROOF);
    vault.accountIds.addHers(rel.id, { kind: 'account_login', value: 'ada.lovelace.login' });
    // Open: what was written sits in the database file or its WAL.
    const files = ['vault.db', 'vault.db-wal'].flatMap((name) => (existsSync(join(t.dir, name)) ? [readFileSync(join(t.dir, name))] : []));
    const bytes = Buffer.concat(files).toString('latin1');
    expect(bytes.length).toBeGreaterThan(0);
    expect(bytes).not.toContain('POLICY-SECRET-4711');
    expect(bytes).not.toContain('ada.lovelace.login');
    expect(vault.accountIds.find('policy-secret-4711')).toHaveLength(1);
  });

  it('refuses her second entry of the same identifier, removing a company one, and an unknown id, changing nothing', () => {
    vault.accountIds.replaceCompanyList(rel.id, 1, [customerNumber, policy], PROOF);
    const hers = vault.accountIds.addHers(rel.id, { kind: 'membership_number', value: 'M-1' });
    const company = vault.accountIds.list(rel.id).find((r) => r.source === 'company');
    const before = vault.snapshot();
    expect(codeOf(() => vault.accountIds.addHers(rel.id, { kind: 'policy_number', value: '88 123' }))).toBe('account.exists');
    expect(codeOf(() => vault.accountIds.addHers(rel.id, { kind: 'membership_number', value: 'm-1' }))).toBe('account.exists');
    expect(codeOf(() => vault.accountIds.removeHers(company!.id))).toBe('account.company_issued');
    expect(codeOf(() => vault.accountIds.removeHers('00000000-0000-4000-8000-000000000000'))).toBe('account.unknown');
    expect(codeOf(() => vault.accountIds.addHers('00000000-0000-4000-8000-000000000000', { kind: 'other', value: 'x' }))).toBe('relationship.unknown');
    expect(codeOf(() => vault.accountIds.addHers(rel.id, { kind: 'other', value: 'x'.repeat(101) }))).toBe('vault.corrupt');
    expect(vault.snapshot()).toEqual(before);
    // The same value under another kind, or on another relationship, is another identifier.
    vault.accountIds.addHers(rel.id, { kind: 'contract_number', value: '88-123' });
    vault.accountIds.addHers(other.id, { kind: 'policy_number', value: '88-123' });
    expect(vault.accountIds.removeHers(hers.id)).toEqual(hers);
    expect(vault.accountIds.get(hers.id)).toBeUndefined();
  });
});
