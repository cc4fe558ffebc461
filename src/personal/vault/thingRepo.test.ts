import Database from 'better-sqlite3';
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

const fridge = () => ({
  name: 'Fridge',
  brand: 'Coolco',
  model: 'CF-300',
  gtin: '4006381333931',
  serialNumber: 'SN-1234',
  purchaseDate: '2026-03-15',
  price: { amount: '899.00', currency: 'EUR' },
  contracts: [{ id: '00000000-0000-4000-8000-0000000000c1', kind: 'warranty' as const, start: '2026-03-15', duration: 'P2Y', provider: 'Coolco' }],
});

describe('ThingRepo', () => {
  it('keeps a thing with its contracts and links, encrypted, and lists them oldest first', () => {
    const a = vault.things.insert({ ...fridge(), links: [{ relationshipId: rel.id, role: 'maker' }, { relationshipId: other.id, role: 'seller' }] });
    clock.advance(1);
    const b = vault.things.insert({ name: 'Bike' });
    expect(a).toMatchObject({ name: 'Fridge', contracts: fridge().contracts, reminded: [], registrations: [], links: [{ relationshipId: rel.id, role: 'maker' }, { relationshipId: other.id, role: 'seller' }] });
    expect(vault.things.get(a.id)).toEqual(a);
    expect(vault.things.list()).toEqual([a, b]);
    expect(vault.things.ids()).toEqual([a.id, b.id]);
    expect(vault.things.idsForRelationship(other.id)).toEqual([a.id]);
    // Nothing personal in plaintext: the serial number and the brand are only in the blob.
    const rows = JSON.stringify(vault.snapshot()['things']);
    expect(rows).not.toContain('SN-1234');
    expect(rows).not.toContain(Buffer.from('Coolco').toString('hex'));
  });

  it('edits a thing whole, links included, and keeps its creation time', () => {
    const a = vault.things.insert({ ...fridge(), links: [{ relationshipId: rel.id, role: 'maker' }] });
    clock.advance(10);
    const edited = vault.things.update({ ...a, location: 'Kitchen', links: [{ relationshipId: other.id, role: 'servicer' }] });
    expect(edited).toMatchObject({ location: 'Kitchen', createdAt: a.createdAt, updatedAt: a.createdAt + 10, links: [{ relationshipId: other.id, role: 'servicer' }] });
    expect(vault.things.get(a.id)).toEqual(edited);
    expect(vault.things.idsForRelationship(rel.id)).toEqual([]);
    expect(vault.things.update({ ...a, id: '00000000-0000-4000-8000-00000000dead' })).toBeUndefined();
  });

  it('refuses malformed things and unknown relationships, writing nothing', () => {
    vault.things.insert(fridge());
    const before = vault.snapshot();
    const dead = '00000000-0000-4000-8000-00000000dead';
    const bad: [string, unknown][] = [
      ['bad GTIN', { ...fridge(), gtin: '4006381333932' }],
      ['negative price', { ...fridge(), price: { amount: '-1.00', currency: 'EUR' } }],
      ['unknown currency', { ...fridge(), price: { amount: '1.00', currency: 'EUX' } }],
      ['bad duration', { ...fridge(), contracts: [{ ...fridge().contracts[0], duration: 'two years' }] }],
      ['unknown role', { ...fridge(), links: [{ relationshipId: rel.id, role: 'owner' }] }],
      ['unknown field', { ...fridge(), colour: 'white' }],
    ];
    for (const [, input] of bad) expect(codeOf(() => vault.things.insert(input as never))).toBe('vault.corrupt');
    expect(codeOf(() => vault.things.insert({ ...fridge(), links: [{ relationshipId: dead, role: 'maker' }] }))).toBe('relationship.unknown');
    // A link given twice is refused whole: the thing is not left behind without its links.
    expect(codeOf(() => vault.things.insert({ ...fridge(), links: [{ relationshipId: rel.id, role: 'maker' }, { relationshipId: rel.id, role: 'maker' }] }))).toBe('vault.conflict');
    expect(vault.snapshot()).toEqual(before);
  });

  it('keeps its list between calls, yet sees every change: its own writes, a cascade, another connection', () => {
    const a = vault.things.insert(fridge());
    vault.attachments.insert({ thingId: a.id, kind: 'receipt', fileName: 'r.txt', contentType: 'text/plain', bytes: Buffer.from('paid') });
    expect(vault.things.list()).toHaveLength(1);
    expect(vault.attachments.list()).toHaveLength(1);
    // Deleting the thing deletes its documents in SQL (ON DELETE CASCADE): the kept list must not survive it.
    vault.things.remove(a.id);
    expect(vault.attachments.list()).toEqual([]);
    const b = vault.things.insert({ name: 'Bike' });
    expect(vault.things.list().map((t) => t.id)).toEqual([b.id]);
    const db = new Database(vault.path);
    db.prepare('DELETE FROM things WHERE id = ?').run(b.id);
    db.close();
    expect(vault.things.list()).toEqual([]);
  });

  it('removes a thing with its links and documents', () => {
    const a = vault.things.insert({ ...fridge(), links: [{ relationshipId: rel.id, role: 'maker' }] });
    vault.attachments.insert({ thingId: a.id, kind: 'receipt', fileName: 'r.txt', contentType: 'text/plain', bytes: Buffer.from('paid') });
    expect(vault.things.remove(a.id)).toBe(true);
    expect(vault.things.remove(a.id)).toBe(false);
    const snapshot = vault.snapshot();
    expect([snapshot['things'], snapshot['thing_links'], snapshot['thing_attachments']]).toEqual([[], [], []]);
  });
});
