import { beforeEach, describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../protocol/keys.js';
import { jwkThumbprintUri, type NewKey } from './keyRepo.js';
import type { RelationshipRecord } from './relationshipRepo.js';
import type { Vault } from './vault.js';
import { useTestVault } from '../../../test/support/testVault.js';
import { codeOf } from '../../../test/support/errorCodes.js';

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
    expect(codeOf(() => vault.keys.insert(key('a#1', relA.id)))).toBe('vault.conflict');
    expect(codeOf(() => vault.keys.insert(key('x#1', '00000000-0000-4000-8000-000000000000')))).toBe('relationship.unknown');
    const mixed = { ...key('a#3', relA.id), publicJwk: generateKeyPair('Ed25519').publicJwk };
    expect(codeOf(() => vault.keys.insert(mixed))).toBe('vault.corrupt');
  });

  it('stores holder keys without a relationship, kid = JWK thumbprint URI, and finds them by id', () => {
    const pair = generateKeyPair('Ed25519');
    const holder = vault.keys.insertHolderKey(pair);
    expect(holder).toMatchObject({ relationshipId: null, purpose: 'authentication', privateJwk: pair.privateJwk, publicJwk: pair.publicJwk });
    expect(holder.kid).toBe(jwkThumbprintUri(pair.publicJwk));
    expect(holder.kid).toMatch(/^urn:ietf:params:oauth:jwk-thumbprint:sha-256:[A-Za-z0-9_-]{43}$/);
    expect(vault.keys.getById(holder.id)).toEqual(holder);
    expect(vault.keys.getById('00000000-0000-4000-8000-000000000000')).toBeUndefined();
    expect(vault.keys.getByKid(holder.kid)).toEqual(holder);
  });

  it('lists holder keys apart from pairwise and other agent keys, and keeps them when a relationship is cut off', () => {
    const h1 = vault.keys.insertHolderKey(generateKeyPair('Ed25519'));
    vault.keys.insert(key('agent#1', null));
    vault.keys.insert(key('a#1', relA.id));
    const h2 = vault.keys.insertHolderKey(generateKeyPair('Ed25519'));
    expect(vault.keys.listHolderKeys()).toEqual([h1, h2]);
    vault.keys.destroyForRelationship(relA.id);
    expect(vault.keys.listHolderKeys()).toEqual([h1, h2]);
  });

  it('refuses an X25519 holder key, mismatched halves and the same holder key twice', () => {
    const pair = generateKeyPair('Ed25519');
    vault.keys.insertHolderKey(pair);
    expect(codeOf(() => vault.keys.insertHolderKey(pair))).toBe('vault.conflict');
    expect(codeOf(() => vault.keys.insertHolderKey(generateKeyPair('X25519')))).toBe('vault.corrupt');
    expect(codeOf(() => vault.keys.insertHolderKey({ ...pair, publicJwk: generateKeyPair('Ed25519').publicJwk }))).toBe('vault.corrupt');
  });

  it('computes the RFC 7638 thumbprint of the RFC 8037 example key', () => {
    // RFC 8037 appendix A.3.
    expect(jwkThumbprintUri({ crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' })).toBe(
      'urn:ietf:params:oauth:jwk-thumbprint:sha-256:kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k',
    );
  });
});
