import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/clock.js';
import type { NewRelationship } from './relationshipRepo.js';
import { Vault } from './vault.js';
import { codeOf } from '../../../test/support/errorCodes.js';

let dir: string;
let vault: Vault;
let clock: ManualClock;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kith-vault-'));
  clock = new ManualClock();
  vault = Vault.create(join(dir, 'vault.db'), 'pw', { kdf: { N: 2 ** 12 }, clock });
});
afterEach(() => {
  vault.close();
  rmSync(dir, { recursive: true, force: true });
});

function rel(n: number, overrides: Partial<NewRelationship> = {}): NewRelationship {
  return {
    myDid: `did:peer:2.me${n}`,
    theirDid: 'did:web:shop.example',
    vendorName: 'Shop',
    theirEndpoint: 'https://shop.example/didcomm',
    routeToken: `route-${n}`,
    customerRef: null,
    invitationId: null,
    ...overrides,
  };
}

describe('RelationshipRepo', () => {
  it('inserts a pending relationship with a random id and the clock time', () => {
    const r = vault.relationships.insert(rel(1, { notes: { colour: 'blue' } }));
    expect(r.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(r).toMatchObject({ state: 'pending', createdAt: clock.now(), updatedAt: clock.now(), notes: { colour: 'blue' } });
    expect(vault.relationships.get(r.id)).toEqual(r);
  });

  it('finds relationships by my DID, by route token and by their DID', () => {
    const a = vault.relationships.insert(rel(1));
    const b = vault.relationships.insert(rel(2));
    vault.relationships.insert(rel(3, { theirDid: 'did:web:other.example' }));
    expect(vault.relationships.findByMyDid('did:peer:2.me2')).toEqual(b);
    expect(vault.relationships.findByRouteToken('route-1')).toEqual(a);
    expect(vault.relationships.findByTheirDid('did:web:shop.example')).toEqual([a, b]);
    expect(vault.relationships.findByMyDid('did:peer:2.nobody')).toBeUndefined();
    expect(vault.relationships.findByRouteToken('nope')).toBeUndefined();
    expect(vault.relationships.get('00000000-0000-4000-8000-000000000000')).toBeUndefined();
  });

  it('lists relationships in creation order', () => {
    const a = vault.relationships.insert(rel(1));
    clock.advance(1000);
    const b = vault.relationships.insert(rel(2));
    const c = vault.relationships.insert(rel(3, { createdAt: clock.now() - 5000 }));
    expect(vault.relationships.list().map((r) => r.id)).toEqual([c.id, a.id, b.id]);
  });

  it('updates data fields, keeps the rest and moves the blind indexes along', () => {
    const r = vault.relationships.insert(rel(1));
    clock.advance(10);
    const updated = vault.relationships.update(r.id, { routeToken: 'route-new', vendorName: undefined, customerRef: 'C-42' });
    expect(updated).toEqual({ ...r, routeToken: 'route-new', customerRef: 'C-42', updatedAt: r.createdAt + 10 });
    expect(vault.relationships.get(r.id)).toEqual(updated);
    expect(vault.relationships.findByRouteToken('route-new')).toEqual(updated);
    expect(vault.relationships.findByRouteToken('route-1')).toBeUndefined();
  });

  it('sets the state and records when it changed', () => {
    const r = vault.relationships.insert(rel(1));
    const at = clock.now() + 5000;
    expect(vault.relationships.setState(r.id, 'active', at)).toMatchObject({ state: 'active', updatedAt: at });
    expect(vault.relationships.get(r.id)?.state).toBe('active');
  });

  it('reports an unknown relationship on update and setState', () => {
    const id = '00000000-0000-4000-8000-000000000000';
    expect(codeOf(() => vault.relationships.update(id, { vendorName: 'x' }))).toBe('relationship.unknown');
    expect(codeOf(() => vault.relationships.setState(id, 'active'))).toBe('relationship.unknown');
  });

  it('refuses a second relationship with the same DID of mine or the same route token', () => {
    vault.relationships.insert(rel(1));
    expect(codeOf(() => vault.relationships.insert(rel(2, { myDid: 'did:peer:2.me1' })))).toBe('vault.conflict');
    expect(codeOf(() => vault.relationships.insert(rel(2, { routeToken: 'route-1' })))).toBe('vault.conflict');
    expect(vault.relationships.list()).toHaveLength(1);
  });

  it('refuses invalid input without writing anything', () => {
    const before = vault.snapshot();
    expect(codeOf(() => vault.relationships.insert(rel(1, { id: 'not-a-uuid' })))).toBe('vault.corrupt');
    expect(codeOf(() => vault.relationships.insert(rel(1, { myDid: '' })))).toBe('vault.corrupt');
    expect(codeOf(() => vault.relationships.insert(rel(1, { notes: { when: new Date() } })))).toBe('vault.corrupt');
    expect(vault.snapshot()).toEqual(before);
  });
});

describe('RelationshipRepo: the decrypted list kept between calls', () => {
  it('follows its own writes: insert, update and state changes show in the next list', () => {
    const a = vault.relationships.insert(rel(1));
    expect(vault.relationships.list().map((r) => r.vendorName)).toEqual(['Shop']);
    vault.relationships.update(a.id, { vendorName: 'Shop Renamed' });
    vault.relationships.setState(a.id, 'active');
    vault.relationships.insert(rel(2, { vendorName: 'Other' }));
    expect(vault.relationships.list().map((r) => [r.vendorName, r.state])).toEqual([
      ['Shop Renamed', 'active'],
      ['Other', 'pending'],
    ]);
  });

  it('follows another connection’s commits to the same file', () => {
    vault.relationships.insert(rel(1));
    expect(vault.relationships.list()).toHaveLength(1);
    const other = Vault.open(join(dir, 'vault.db'), 'pw', { clock });
    try {
      other.relationships.insert(rel(2));
    } finally {
      other.close();
    }
    expect(vault.relationships.list()).toHaveLength(2);
  });

  it('is not built from a transaction that rolls back', () => {
    vault.relationships.insert(rel(1));
    expect(() =>
      vault.transaction(() => {
        vault.relationships.insert(rel(2));
        expect(vault.relationships.list()).toHaveLength(2);
        throw new Error('rolled back');
      }),
    ).toThrow('rolled back');
    expect(vault.relationships.list()).toHaveLength(1);
  });

  it('hands out records callers cannot change under each other', () => {
    vault.relationships.insert(rel(1));
    const [first] = vault.relationships.list();
    expect(() => Object.assign(first!, { vendorName: 'Mallory' })).toThrow(TypeError);
    expect(vault.relationships.list()[0]!.vendorName).toBe('Shop');
  });
});

describe('RelationshipRepo: records kept for get and findByMyDid', () => {
  it('follows its own writes: a new endpoint, a new persona, a cut-off', () => {
    const a = vault.relationships.insert(rel(1));
    vault.relationships.setState(a.id, 'active');
    expect(vault.relationships.get(a.id)?.theirEndpoint).toBe('https://shop.example/didcomm');
    expect(vault.relationships.findByMyDid('did:peer:2.me1')?.state).toBe('active');
    vault.relationships.update(a.id, { theirEndpoint: 'https://moved.example/didcomm', persona: '00000000-0000-4000-8000-0000000000aa' });
    expect(vault.relationships.get(a.id)).toMatchObject({ theirEndpoint: 'https://moved.example/didcomm', persona: '00000000-0000-4000-8000-0000000000aa' });
    expect(vault.relationships.findByMyDid('did:peer:2.me1')?.theirEndpoint).toBe('https://moved.example/didcomm');
    vault.relationships.setState(a.id, 'cut_off');
    expect(vault.relationships.get(a.id)?.state).toBe('cut_off');
    expect(vault.relationships.findByMyDid('did:peer:2.me1')?.state).toBe('cut_off');
  });

  it('follows a change of my DID: the old one no longer finds the relationship', () => {
    const a = vault.relationships.insert(rel(1));
    expect(vault.relationships.findByMyDid('did:peer:2.me1')?.id).toBe(a.id);
    vault.relationships.update(a.id, { myDid: 'did:peer:2.rotated' });
    expect(vault.relationships.findByMyDid('did:peer:2.me1')).toBeUndefined();
    expect(vault.relationships.findByMyDid('did:peer:2.rotated')?.id).toBe(a.id);
  });

  it('follows another connection’s commits to the same file', () => {
    const a = vault.relationships.insert(rel(1));
    expect(vault.relationships.get(a.id)?.state).toBe('pending');
    expect(vault.relationships.findByMyDid('did:peer:2.me1')?.state).toBe('pending');
    const other = Vault.open(join(dir, 'vault.db'), 'pw', { clock });
    try {
      other.relationships.setState(a.id, 'cut_off');
    } finally {
      other.close();
    }
    expect(vault.relationships.get(a.id)?.state).toBe('cut_off');
    expect(vault.relationships.findByMyDid('did:peer:2.me1')?.state).toBe('cut_off');
  });

  it('keeps nothing from a transaction that rolls back', () => {
    const a = vault.relationships.insert(rel(1));
    expect(vault.relationships.get(a.id)?.state).toBe('pending');
    expect(() =>
      vault.transaction(() => {
        vault.relationships.setState(a.id, 'cut_off');
        expect(vault.relationships.get(a.id)?.state).toBe('cut_off');
        expect(vault.relationships.findByMyDid('did:peer:2.me1')?.state).toBe('cut_off');
        throw new Error('rolled back');
      }),
    ).toThrow('rolled back');
    expect(vault.relationships.get(a.id)?.state).toBe('pending');
    expect(vault.relationships.findByMyDid('did:peer:2.me1')?.state).toBe('pending');
  });

  it('hands each caller its own copy', () => {
    const a = vault.relationships.insert(rel(1, { notes: { colour: 'blue' } }));
    const first = vault.relationships.get(a.id)!;
    first.vendorName = 'Mallory';
    (first.notes as Record<string, unknown>)['colour'] = 'red';
    expect(vault.relationships.get(a.id)).toMatchObject({ vendorName: 'Shop', notes: { colour: 'blue' } });
    expect(vault.relationships.findByMyDid('did:peer:2.me1')).toMatchObject({ vendorName: 'Shop', notes: { colour: 'blue' } });
  });
});
