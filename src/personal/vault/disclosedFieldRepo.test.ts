import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeEach, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../core/clock.js';
import type { DisclosedFieldInput } from './disclosedFieldRepo.js';
import type { RelationshipRecord } from './relationshipRepo.js';
import { Vault } from './vault.js';
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

function held(relationshipId: string, field: string, overrides: Partial<DisclosedFieldInput> = {}): DisclosedFieldInput {
  return {
    relationshipId,
    field,
    value: `${field}-value`,
    version: 1,
    source: 'self',
    issuer: null,
    consentRecordId: CONSENT,
    purpose: 'Delivery',
    retention: 'P1Y',
    disclosedAt: 1000,
    ...overrides,
  };
}

describe('DisclosedFieldRepo', () => {
  it('records what a company holds and replaces it on upsert', () => {
    vault.disclosed.upsert(held(rel.id, 'email'));
    expect(vault.disclosed.get(rel.id, 'email')).toEqual({ ...held(rel.id, 'email'), updatedAt: clock.now() });
    vault.disclosed.upsert({ ...held(rel.id, 'email'), value: 'new@example.org', version: 3, updatedAt: 77 });
    expect(vault.disclosed.get(rel.id, 'email')).toMatchObject({ value: 'new@example.org', version: 3, updatedAt: 77 });
    expect(vault.disclosed.list(rel.id)).toHaveLength(1);
    expect(vault.disclosed.get(other.id, 'email')).toBeUndefined();
    expect(vault.disclosed.get(rel.id, 'name')).toBeUndefined();
  });

  it('lists one company by field name and everything by relationship, then field', () => {
    vault.disclosed.upsert(held(other.id, 'name'));
    vault.disclosed.upsert(held(rel.id, 'phone_number'));
    vault.disclosed.upsert(held(rel.id, 'address', { value: { locality: 'Hove' } }));
    vault.disclosed.upsert(held(rel.id, 'age_over_18', { value: true, source: 'credential', issuer: 'did:web:issuer.example' }));
    expect(vault.disclosed.list(rel.id).map((f) => f.field)).toEqual(['address', 'age_over_18', 'phone_number']);
    expect(vault.disclosed.listAll().map((f) => `${f.relationshipId === rel.id ? 'rel' : 'other'}:${f.field}`)).toEqual([
      'rel:address',
      'rel:age_over_18',
      'rel:phone_number',
      'other:name',
    ]);
  });

  it('finds the live holders of changed fields, leaving out cut-off companies and credential claims', () => {
    const third = vault.relationships.insert({
      myDid: 'did:peer:2.c',
      theirDid: 'did:web:third.example',
      vendorName: null,
      theirEndpoint: null,
      routeToken: 'rc',
      customerRef: null,
      invitationId: null,
    });
    vault.disclosed.upsert(held(rel.id, 'email'));
    vault.disclosed.upsert(held(rel.id, 'name'));
    vault.disclosed.upsert(held(rel.id, 'phone_number'));
    vault.disclosed.upsert(held(other.id, 'email', { source: 'credential', issuer: 'did:web:issuer.example' }));
    vault.disclosed.upsert(held(other.id, 'name'));
    vault.disclosed.upsert(held(third.id, 'email'));
    vault.relationships.setState(third.id, 'cut_off');

    const holders = vault.disclosed.holdersOf(['name', 'email', 'birthdate']);
    expect([...holders.entries()]).toEqual([
      [rel.id, ['email', 'name']],
      [other.id, ['name']],
    ]);
    expect(vault.disclosed.holdersOf(['birthdate']).size).toBe(0);
    expect(vault.disclosed.holdersOf([]).size).toBe(0);
  });

  it('forgets everything one company held', () => {
    vault.disclosed.upsert(held(rel.id, 'email'));
    vault.disclosed.upsert(held(rel.id, 'name'));
    vault.disclosed.upsert(held(other.id, 'name'));
    expect(vault.disclosed.removeForRelationship(rel.id)).toBe(2);
    expect(vault.disclosed.list(rel.id)).toEqual([]);
    expect(vault.disclosed.list(other.id)).toHaveLength(1);
    expect(vault.disclosed.removeForRelationship(rel.id)).toBe(0);
  });

  it('refuses bad input and unknown relationships; insert refuses to replace', () => {
    const before = vault.snapshot();
    expect(codeOf(() => vault.disclosed.upsert(held(rel.id, '')))).toBe('vault.corrupt');
    expect(codeOf(() => vault.disclosed.upsert(held(rel.id, 'email', { source: 'guess' as 'self' })))).toBe('vault.corrupt');
    expect(codeOf(() => vault.disclosed.upsert(held(rel.id, 'email', { consentRecordId: 'nope' })))).toBe('vault.corrupt');
    expect(codeOf(() => vault.disclosed.upsert(held('00000000-0000-4000-8000-000000000000', 'email')))).toBe('relationship.unknown');
    expect(vault.snapshot()).toEqual(before);
    vault.disclosed.insert({ ...held(rel.id, 'email'), updatedAt: 1 });
    expect(codeOf(() => vault.disclosed.insert({ ...held(rel.id, 'email'), updatedAt: 2 }))).toBe('vault.conflict');
  });

  it('decrypts only the rows of the asked fields in live relationships when finding holders', () => {
    vault.disclosed.upsert(held(rel.id, 'email'));
    vault.disclosed.upsert(held(rel.id, 'name'));
    vault.disclosed.upsert(held(other.id, 'email'));
    vault.relationships.setState(other.id, 'cut_off');
    vault.close();
    const db = new Database(join(t.dir, 'vault.db'));
    // Damage every blob except rel's email: reading any of them would fail with vault.corrupt.
    db.prepare("UPDATE disclosed_fields SET data = x'00' WHERE NOT (relationship_id = ? AND field_idx = ?)").run(rel.id, fieldIdx(db, rel.id, 0));
    db.close();
    const reopened = Vault.open(join(t.dir, 'vault.db'), 'pw');
    try {
      expect([...reopened.disclosed.holdersOf(['email', 'phone_number']).entries()]).toEqual([[rel.id, ['email']]]);
      expect(codeOf(() => reopened.disclosed.holdersOf(['name']))).toBe('vault.corrupt');
    } finally {
      reopened.close();
    }
  });

  it('binds each blob to its company and field: a blob moved to another row does not decrypt', () => {
    vault.disclosed.upsert(held(rel.id, 'email'));
    vault.disclosed.upsert(held(other.id, 'email', { value: 'other@example.org' }));
    vault.disclosed.upsert(held(rel.id, 'name'));
    vault.close();
    const db = new Database(join(t.dir, 'vault.db'));
    // Company to company, and field to field.
    const move = db.prepare(
      `UPDATE disclosed_fields SET data = (SELECT data FROM disclosed_fields WHERE relationship_id = ? AND field_idx = ?)
       WHERE relationship_id = ? AND field_idx = ?`,
    );
    move.run(rel.id, fieldIdx(db, rel.id, 0), other.id, fieldIdx(db, other.id, 0));
    move.run(rel.id, fieldIdx(db, rel.id, 0), rel.id, fieldIdx(db, rel.id, 1));
    db.close();
    const reopened = Vault.open(join(t.dir, 'vault.db'), 'pw');
    try {
      expect(codeOf(() => reopened.disclosed.get(other.id, 'email'))).toBe('vault.corrupt');
      expect(codeOf(() => reopened.disclosed.get(rel.id, 'name'))).toBe('vault.corrupt');
      expect(reopened.disclosed.get(rel.id, 'email')?.value).toBe('email-value');
    } finally {
      reopened.close();
    }
  });
});

/** The field_idx of the n-th row of a relationship (raw, for tampering). */
function fieldIdx(db: Database.Database, relationshipId: string, n: number): string {
  const rows = db.prepare('SELECT field_idx FROM disclosed_fields WHERE relationship_id = ? ORDER BY rowid').all(relationshipId) as { field_idx: string }[];
  return rows[n]?.field_idx ?? '';
}

describe('DisclosedFieldRepo: the holdings by relationship kept between calls', () => {
  const holdings = () => Object.fromEntries([...vault.disclosed.byRelationship()].map(([r, list]) => [r, list.map((d) => `${d.field}=${String(d.value)}`)]));

  it('follows its own writes: a value shared, changed and withdrawn', () => {
    vault.disclosed.upsert(held(rel.id, 'email'));
    expect(holdings()).toEqual({ [rel.id]: ['email=email-value'] });
    vault.disclosed.upsert(held(rel.id, 'email', { value: 'new@example.org', version: 2 }));
    vault.disclosed.upsert(held(other.id, 'phone'));
    expect(holdings()).toEqual({ [rel.id]: ['email=new@example.org'], [other.id]: ['phone=phone-value'] });
    vault.disclosed.removeFields(rel.id, ['email']);
    expect(holdings()).toEqual({ [other.id]: ['phone=phone-value'] });
  });

  it('follows another connection’s commits to the same file', () => {
    vault.disclosed.upsert(held(rel.id, 'email'));
    expect(holdings()).toEqual({ [rel.id]: ['email=email-value'] });
    const second = Vault.open(join(t.dir, 'vault.db'), 'pw', { clock });
    try {
      second.disclosed.upsert(held(rel.id, 'phone'));
    } finally {
      second.close();
    }
    expect(holdings()).toEqual({ [rel.id]: ['email=email-value', 'phone=phone-value'] });
  });
});
