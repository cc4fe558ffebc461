import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../core/clock.js';
import type { SignedAgreement } from '../../protocol/terms/agreementRecord.js';
import type { NewAgreement } from './agreementRepo.js';
import type { RelationshipRecord } from './relationshipRepo.js';
import type { Vault } from './vault.js';
import { sealBehindTheVault, TEST_VAULT_PASSPHRASE, useTestVault } from '../../../test/support/testVault.js';
import { agreementUri, loadTestDocuments, type TestDocuments } from '../../../test/support/documents.js';
import { codeOf } from '../../../test/support/errorCodes.js';

let vault: Vault;
let clock: ManualClock;
let rel: RelationshipRecord;
let other: RelationshipRecord;

const t = useTestVault();
beforeEach(() => {
  ({ vault, clock, rel, other } = t);
});

// Real documents (the vault parses them with the protocol's schemas): record n, signed by her or by both.
let documents: TestDocuments;
beforeAll(async () => {
  documents = await loadTestDocuments();
});

const id = (n: number): string => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const SERVICE_ONLY = agreementUri('service-only');
const THREAD = 'urn:uuid:proffer-thread-visible-77';
const signed = (n: number, by: 'person' | 'both' = 'person'): SignedAgreement => documents.agreement(id(n), { signedBy: by });
const obligations = () => documents.obligations('service-only');

function entry(n: number, overrides: Partial<NewAgreement> = {}): NewAgreement {
  return {
    id: id(n),
    relationshipId: rel.id,
    proposedBy: 'person',
    state: 'proffered',
    threadId: THREAD,
    agreementId: SERVICE_ONLY,
    signed: signed(n),
    obligations: obligations(),
    reason: null,
    ...overrides,
  };
}

describe('AgreementRepo', () => {
  it('stores an entry under its own id and reads it back', () => {
    const a = vault.agreements.insert(entry(1, { signed: signed(1, 'both') }));
    expect(a).toEqual({ ...entry(1, { signed: signed(1, 'both') }), createdAt: clock.now(), updatedAt: clock.now() });
    expect(vault.agreements.get(id(1))).toEqual(a);
    expect(vault.agreements.get(id(2))).toBeUndefined();
    const given = vault.agreements.insert(entry(2, { relationshipId: other.id, proposedBy: 'company', state: 'rejected', reason: 'no', createdAt: 5 }));
    expect(vault.agreements.get(id(2))).toEqual({ ...given, createdAt: 5, updatedAt: 5 });
  });

  it('refuses a duplicate id, an unknown relationship and bad input, writing nothing', () => {
    vault.agreements.insert(entry(1));
    expect(codeOf(() => vault.agreements.insert(entry(1, { relationshipId: other.id })))).toBe('vault.conflict');
    expect(codeOf(() => vault.agreements.insert(entry(2, { relationshipId: id(98) })))).toBe('relationship.unknown');
    expect(codeOf(() => vault.agreements.insert(entry(3, { id: 'nope' })))).toBe('vault.corrupt');
    expect(codeOf(() => vault.agreements.insert(entry(4, { state: 'pending' as 'agreed' })))).toBe('vault.corrupt');
    expect(codeOf(() => vault.agreements.insert(entry(5, { proposedBy: 'vendor' as 'company' })))).toBe('vault.corrupt');
    expect(codeOf(() => vault.agreements.insert(entry(6, { signed: new Date() as unknown as SignedAgreement })))).toBe('vault.corrupt');
    expect(codeOf(() => vault.agreements.insert(entry(7, { threadId: '' })))).toBe('vault.corrupt');
    // Documents are checked with the protocol's schemas: a signed agreement without signatures, obligations without a purpose.
    expect(codeOf(() => vault.agreements.insert(entry(8, { signed: { record: signed(8).record } as SignedAgreement })))).toBe('vault.corrupt');
    expect(codeOf(() => vault.agreements.insert(entry(9, { obligations: { ...obligations(), allowedPurposes: [] } })))).toBe('vault.corrupt');
    expect(vault.agreements.all().map((a) => a.id)).toEqual([id(1)]);
  });

  it('lists oldest first, per relationship, per thread and overall', () => {
    vault.agreements.insert(entry(1));
    clock.advance(10);
    vault.agreements.insert(entry(2, { relationshipId: other.id }));
    vault.agreements.insert(entry(3, { state: 'countered', createdAt: clock.now() - 20 }));
    vault.agreements.insert(entry(4, { threadId: 'another-thread' }));
    expect(vault.agreements.list(rel.id).map((a) => a.id)).toEqual([id(3), id(1), id(4)]);
    expect(vault.agreements.list(other.id).map((a) => a.id)).toEqual([id(2)]);
    expect(vault.agreements.all().map((a) => a.id)).toEqual([id(3), id(1), id(2), id(4)]);
    expect(vault.agreements.byThread(rel.id, THREAD).map((a) => a.id)).toEqual([id(3), id(1)]);
    expect(vault.agreements.byThread(other.id, THREAD).map((a) => a.id)).toEqual([id(2)]);
    expect(vault.agreements.byThread(rel.id, 'another-thread').map((a) => a.id)).toEqual([id(4)]);
    expect(vault.agreements.byThread(rel.id, 'no-such-thread')).toEqual([]);
  });

  it('knows the agreement in force of each relationship', () => {
    expect(vault.agreements.current(rel.id)).toBeUndefined();
    vault.agreements.insert(entry(1));
    expect(vault.agreements.current(rel.id)).toBeUndefined();
    const agreed = vault.agreements.insert(entry(2, { state: 'agreed', signed: signed(2, 'both') }));
    expect(vault.agreements.current(rel.id)).toEqual(agreed);
    expect(vault.agreements.current(other.id)).toBeUndefined();
  });

  it('refuses a second agreed entry per relationship, by insert or by update, changing nothing', () => {
    vault.agreements.insert(entry(1, { state: 'agreed', signed: signed(1, 'both') }));
    vault.agreements.insert(entry(2));
    vault.agreements.insert(entry(3, { relationshipId: other.id, state: 'agreed' }));
    const before = vault.snapshot();
    clock.advance(10);
    expect(codeOf(() => vault.agreements.insert(entry(4, { state: 'agreed' })))).toBe('vault.conflict');
    expect(codeOf(() => vault.agreements.update(id(2), { state: 'agreed', signed: signed(2, 'both') }))).toBe('vault.conflict');
    expect(vault.snapshot()).toEqual(before);
    expect(vault.agreements.current(rel.id)?.id).toBe(id(1));
  });

  it('updates the state, and the documents and reason only where given', () => {
    const a = vault.agreements.insert(entry(1));
    clock.advance(100);
    expect(vault.agreements.update(id(1), { state: 'countered' })).toBe(true);
    expect(vault.agreements.get(id(1))).toEqual({ ...a, state: 'countered', updatedAt: clock.now() });
    clock.advance(100);
    const newObligations = documents.obligations('data-for-research');
    expect(vault.agreements.update(id(1), { state: 'agreed', signed: signed(1, 'both'), obligations: newObligations })).toBe(true);
    expect(vault.agreements.get(id(1))).toEqual({ ...a, state: 'agreed', signed: signed(1, 'both'), obligations: newObligations, updatedAt: clock.now() });
    expect(vault.agreements.update(id(1), { state: 'superseded', reason: 'changed terms' })).toBe(true);
    expect(vault.agreements.get(id(1))).toMatchObject({ state: 'superseded', reason: 'changed terms', signed: signed(1, 'both'), obligations: newObligations });
    expect(vault.agreements.update(id(1), { state: 'superseded', reason: null })).toBe(true);
    expect(vault.agreements.get(id(1))?.reason).toBeNull();
  });

  it('reports an unknown entry as false and refuses bad changes, writing nothing', () => {
    vault.agreements.insert(entry(1));
    const before = vault.snapshot();
    expect(vault.agreements.update(id(2), { state: 'agreed' })).toBe(false);
    expect(codeOf(() => vault.agreements.update(id(1), { state: 'gone' as 'agreed' }))).toBe('vault.corrupt');
    expect(codeOf(() => vault.agreements.update(id(1), { state: 'agreed', signed: new Date() as unknown as SignedAgreement }))).toBe('vault.corrupt');
    expect(codeOf(() => vault.agreements.update(id(1), { state: 'agreed', obligations: { ...obligations(), maxRetention: 'forever' } }))).toBe('vault.corrupt');
    expect(vault.snapshot()).toEqual(before);
  });

  it('supersedes the agreement in force, so another can become agreed', () => {
    vault.agreements.supersedeCurrent(rel.id); // nothing in force: nothing happens
    expect(vault.agreements.list(rel.id)).toEqual([]);
    vault.agreements.insert(entry(1, { state: 'agreed', signed: signed(1, 'both') }));
    vault.agreements.insert(entry(2, { relationshipId: other.id, state: 'agreed' }));
    clock.advance(50);
    vault.transaction(() => {
      vault.agreements.supersedeCurrent(rel.id);
      vault.agreements.insert(entry(3, { state: 'agreed', signed: signed(3, 'both'), threadId: 'change-thread' }));
    });
    expect(vault.agreements.get(id(1))).toMatchObject({ state: 'superseded', updatedAt: clock.now(), signed: signed(1, 'both') });
    expect(vault.agreements.current(rel.id)?.id).toBe(id(3));
    expect(vault.agreements.current(other.id)?.id).toBe(id(2));
  });

  it('removes every entry of one relationship', () => {
    vault.agreements.insert(entry(1, { state: 'agreed' }));
    vault.agreements.insert(entry(2));
    vault.agreements.insert(entry(3, { relationshipId: other.id }));
    expect(vault.agreements.removeForRelationship(rel.id)).toBe(2);
    expect(vault.agreements.removeForRelationship(rel.id)).toBe(0);
    expect(vault.agreements.all().map((a) => a.id)).toEqual([id(3)]);
  });

  it('keeps the agreement, its signed record, obligations and thread out of the files and plaintext columns', () => {
    const both = signed(1, 'both');
    vault.agreements.insert(entry(1, { state: 'agreed', signed: both, reason: 'reason-text-visible' }));
    const needles = [
      SERVICE_ONLY,
      THREAD,
      JSON.stringify(both),
      ...both.signatures.map((s) => s.jws.slice(-40)),
      documents.personDid,
      documents.companyDid,
      JSON.stringify(obligations()),
      'reason-text-visible',
    ];
    const path = join(t.dir, 'vault.db');
    const scan = (): string[] =>
      [path, `${path}-wal`, `${path}-shm`]
        .filter((f) => existsSync(f))
        .flatMap((f) => {
          const bytes = readFileSync(f);
          return needles.flatMap((n) =>
            (['utf8', 'utf16le'] as const).filter((enc) => bytes.indexOf(Buffer.from(n, enc)) !== -1).map((enc) => `${f}: ${n} (${enc})`),
          );
        });
    expect(existsSync(`${path}-wal`)).toBe(true);
    expect(scan()).toEqual([]);
    const plain = JSON.stringify((vault.snapshot()['agreements'] ?? []).map((row) => ({ ...(row as Record<string, unknown>), data: undefined })));
    for (const n of needles) expect(plain).not.toContain(n);
    // The checks above look at real data: it decrypts.
    expect(vault.agreements.byThread(rel.id, THREAD)[0]?.signed).toEqual(both);
    vault.close();
    expect(scan()).toEqual([]);
  });

  const badDocuments: [string, (data: Record<string, unknown>) => Record<string, unknown>][] = [
    ['a signed agreement that is a list', (data) => ({ ...data, signed: ['just', 'a', 'list'] })],
    ['a signed agreement without signatures', (data) => ({ ...data, signed: { record: (data['signed'] as SignedAgreement).record } })],
    ['obligations of another shape', (data) => ({ ...data, obligations: { retention: 'P30D', sharing: 'none' } })],
    ['no obligations', (data) => ({ ...data, obligations: null })],
  ];

  it.each(badDocuments)('reports an entry whose stored blob holds %s as vault.corrupt on every read, and returns none of it', (_name, bad) => {
    const stored = vault.agreements.insert(entry(1, { state: 'agreed' }));
    const fine = vault.agreements.insert(entry(2, { relationshipId: other.id, state: 'agreed' }));
    const { threadId, agreementId, signed: doc, obligations: owed, reason } = stored;
    sealBehindTheVault(join(t.dir, 'vault.db'), TEST_VAULT_PASSPHRASE, 'agreements', stored.id, bad({ threadId, agreementId, signed: doc, obligations: owed, reason }));

    expect(codeOf(() => vault.agreements.get(stored.id))).toBe('vault.corrupt');
    expect(codeOf(() => vault.agreements.list(rel.id))).toBe('vault.corrupt');
    expect(codeOf(() => vault.agreements.current(rel.id))).toBe('vault.corrupt');
    expect(codeOf(() => vault.agreements.byThread(rel.id, THREAD))).toBe('vault.corrupt');
    expect(codeOf(() => vault.agreements.all())).toBe('vault.corrupt');
    // Only that entry: the other relationship's reads as written.
    expect(vault.agreements.list(other.id)).toEqual([fine]);
  });
});

describe('AgreementRepo: where each relationship’s terms stand', () => {
  const standings = () => Object.fromEntries(vault.agreements.standings());

  it('names the entry in force, else the last state, and whether a company proffer waits for her', () => {
    vault.agreements.insert(entry(1));
    vault.agreements.insert(entry(2, { relationshipId: other.id, proposedBy: 'company', state: 'proffered', threadId: 'urn:uuid:t2' }));
    expect(standings()).toEqual({
      [rel.id]: { inForce: null, lastState: 'proffered', awaitingHer: false },
      [other.id]: { inForce: null, lastState: 'proffered', awaitingHer: true },
    });
    clock.advance(5);
    vault.agreements.update(id(1), { state: 'agreed', signed: signed(1, 'both') });
    const inForce = { id: id(1), agreementId: SERVICE_ONLY, outcome: 'accepted', since: clock.now() };
    expect(standings()[rel.id]).toEqual({ inForce, lastState: null, awaitingHer: false });
    expect(vault.agreements.standing(rel.id)).toEqual({ inForce, lastState: null, awaitingHer: false });
    expect(vault.agreements.standing(other.id)).toEqual(standings()[other.id]);
    vault.agreements.update(id(2), { state: 'rejected', reason: 'no' });
    expect(standings()[other.id]).toEqual({ inForce: null, lastState: 'rejected', awaitingHer: false });
  });

  it('follows its own writes and keeps nothing from a transaction that rolls back', () => {
    vault.agreements.insert(entry(1));
    expect(Object.keys(standings())).toEqual([rel.id]);
    expect(() =>
      vault.transaction(() => {
        vault.agreements.insert(entry(2, { relationshipId: other.id }));
        expect(Object.keys(standings())).toEqual([rel.id, other.id]);
        throw new Error('rolled back');
      }),
    ).toThrow('rolled back');
    expect(Object.keys(standings())).toEqual([rel.id]);
    vault.agreements.removeForRelationship(rel.id);
    expect(standings()).toEqual({});
  });

  it('hands out standings callers cannot change under each other', () => {
    vault.agreements.insert(entry(1));
    const standing = vault.agreements.standings().get(rel.id)!;
    expect(() => Object.assign(standing, { awaitingHer: true })).toThrow(TypeError);
    expect(vault.agreements.standings().get(rel.id)!.awaitingHer).toBe(false);
  });
});
