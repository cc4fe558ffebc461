import { beforeEach, describe, expect, it } from 'vitest';
import type { KithError } from '../../core/errors.js';
import { generateKeyPair } from '../../protocol/keys.js';
import type { NewKey } from './keyRepo.js';
import type { RelationshipRecord } from './relationshipRepo.js';
import type { Vault } from './vault.js';
import { useTestVault } from '../../../test/support/testVault.js';

let vault: Vault;
let relA: RelationshipRecord;
let relB: RelationshipRecord;

const t = useTestVault();
beforeEach(() => {
  ({ vault, rel: relA, other: relB } = t);
});

function key(kid: string, relationshipId: string | null, purpose: NewKey['purpose'] = 'authentication'): NewKey {
  const pair = generateKeyPair(purpose === 'authentication' ? 'Ed25519' : 'X25519');
  return { kid, relationshipId, purpose, ...pair };
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return (err as KithError).code;
  }
  return undefined;
}

describe('KeyRepo', () => {
  it('stores a key pair and finds it by kid', () => {
    const k = vault.keys.insert(key('did:peer:2.a#key-1', relA.id));
    expect(vault.keys.getByKid('did:peer:2.a#key-1')).toEqual(k);
    expect(vault.keys.getByKid('did:peer:2.a#key-2')).toBeUndefined();
  });

  it('lists the keys of one relationship and keeps unbound keys apart', () => {
    const a1 = vault.keys.insert(key('a#1', relA.id));
    const a2 = vault.keys.insert(key('a#2', relA.id, 'keyAgreement'));
    vault.keys.insert(key('b#1', relB.id));
    const free = vault.keys.insert(key('agent#1', null));
    expect(vault.keys.listForRelationship(relA.id)).toEqual([a1, a2]);
    expect(vault.keys.list()).toContainEqual(free);
  });

  it('destroys exactly the keys of one relationship', () => {
    vault.keys.insert(key('a#1', relA.id));
    vault.keys.insert(key('a#2', relA.id, 'keyAgreement'));
    const b1 = vault.keys.insert(key('b#1', relB.id));
    expect(vault.keys.destroyForRelationship(relA.id)).toBe(2);
    expect(vault.keys.listForRelationship(relA.id)).toEqual([]);
    expect(vault.keys.getByKid('a#1')).toBeUndefined();
    expect(vault.keys.listForRelationship(relB.id)).toEqual([b1]);
    expect(vault.keys.destroyForRelationship(relA.id)).toBe(0);
  });

  it('can destroy keys inside a transaction (the WAL is scrubbed when it commits)', () => {
    vault.keys.insert(key('a#1', relA.id));
    const n = vault.transaction(() => {
      const destroyed = vault.keys.destroyForRelationship(relA.id);
      vault.relationships.setState(relA.id, 'cut_off');
      return destroyed;
    });
    expect(n).toBe(1);
    expect(vault.relationships.get(relA.id)?.state).toBe('cut_off');
  });

  it('refuses a duplicate kid, an unknown relationship and mismatched key halves', () => {
    vault.keys.insert(key('a#1', relA.id));
    expect(codeOf(() => vault.keys.insert(key('a#1', relA.id)))).toBe('vault.exists');
    expect(codeOf(() => vault.keys.insert(key('x#1', '00000000-0000-4000-8000-000000000000')))).toBe('relationship.unknown');
    const mixed = { ...key('a#3', relA.id), publicJwk: generateKeyPair('Ed25519').publicJwk };
    expect(codeOf(() => vault.keys.insert(mixed))).toBe('vault.corrupt');
  });
});
