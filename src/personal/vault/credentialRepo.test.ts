import { beforeEach, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../core/clock.js';
import { generateKeyPair } from '../../protocol/keys.js';
import type { KeyRecord } from './keyRepo.js';
import type { RelationshipRecord } from './relationshipRepo.js';
import type { Vault } from './vault.js';
import { useTestVault } from '../../../test/support/testVault.js';
import { codeOf } from '../../../test/support/errorCodes.js';

let vault: Vault;
let clock: ManualClock;
let rel: RelationshipRecord;
let holder: KeyRecord;

const t = useTestVault();
beforeEach(() => {
  ({ vault, clock, rel } = t);
  holder = vault.keys.insertHolderKey(generateKeyPair('Ed25519'));
});

const SD_JWT = 'eyJhbGciOiJFZERTQSJ9.eyJ2Y3QiOiJ1cm46ZXhhbXBsZTphZ2UifQ.c2ln~WyJzYWx0IiwiYWdlX292ZXJfMTgiLHRydWVd~';

function credential(overrides: Record<string, unknown> = {}) {
  return { sdJwt: SD_JWT, issuer: 'did:web:issuer.example', vct: 'urn:example:age', claims: ['age_over_18', 'birthdate'], holderKeyId: holder.id, ...overrides };
}

describe('CredentialRepo', () => {
  it('stores a credential bound to a holder key and lists credentials oldest first', () => {
    const a = vault.credentials.insert(credential());
    expect(a).toEqual({ id: a.id, createdAt: clock.now(), ...credential() });
    expect(vault.credentials.get(a.id)).toEqual(a);
    clock.advance(5);
    const b = vault.credentials.insert(credential({ vct: 'urn:example:licence' }));
    const c = vault.credentials.insert(credential({ createdAt: clock.now() - 50, id: '00000000-0000-4000-8000-0000000000cc' }));
    expect(vault.credentials.list().map((r) => r.id)).toEqual([c.id, a.id, b.id]);
  });

  it('refuses a credential whose holder key is missing or belongs to a relationship', () => {
    const before = vault.snapshot();
    expect(codeOf(() => vault.credentials.insert(credential({ holderKeyId: '00000000-0000-4000-8000-000000000000' })))).toBe('vault.corrupt');
    const pairwise = vault.keys.insert({ kid: 'did:peer:2.a#key-1', relationshipId: rel.id, purpose: 'authentication', ...generateKeyPair('Ed25519') });
    const withPairwise = vault.snapshot();
    expect(codeOf(() => vault.credentials.insert(credential({ holderKeyId: pairwise.id })))).toBe('vault.corrupt');
    expect(codeOf(() => vault.credentials.insert(credential({ sdJwt: '' })))).toBe('vault.corrupt');
    expect(vault.snapshot()).toEqual(withPairwise);
    expect(before['credentials']).toEqual([]);
  });

  it('removes a credential and keeps its holder key', () => {
    const a = vault.credentials.insert(credential());
    expect(vault.credentials.remove(a.id)).toBe(true);
    expect(vault.credentials.remove(a.id)).toBe(false);
    expect(vault.credentials.get(a.id)).toBeUndefined();
    expect(vault.keys.getById(holder.id)).toEqual(holder);
  });
});
