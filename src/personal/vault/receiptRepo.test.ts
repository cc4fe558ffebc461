import { beforeEach, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../core/clock.js';
import type { KithError } from '../../core/errors.js';
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

describe('ReceiptRepo', () => {
  it('keeps the JWS text exactly as received and lists receipts per relationship or overall', () => {
    const jws = '{"payload":"eyJhIjoxfQ","signatures":[{"protected":"eyJhbGciOiJFZERTQSJ9","signature":"c2ln"}]}';
    const r1 = vault.receipts.insert({ relationshipId: rel.id, kind: 'erasure', jws, body: { erased: true } });
    clock.advance(1);
    const r2 = vault.receipts.insert({ relationshipId: other.id, kind: 'erasure', jws, body: { erased: false } });
    expect(vault.receipts.list(rel.id)).toEqual([r1]);
    expect(vault.receipts.list()).toEqual([r1, r2]);
    expect(vault.receipts.list(rel.id)[0]?.jws).toBe(jws);
  });

  it('accepts only short machine words as kinds, since the kind is stored in plaintext', () => {
    let code: string | undefined;
    try {
      vault.receipts.insert({ relationshipId: rel.id, kind: 'Erasure for Ada Lovelace', jws: 'x', body: null });
    } catch (err) {
      code = (err as KithError).code;
    }
    expect(code).toBe('vault.corrupt');
    expect(vault.receipts.list()).toEqual([]);
  });
});
