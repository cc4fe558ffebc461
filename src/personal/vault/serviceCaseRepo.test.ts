import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../core/clock.js';
import type { RelationshipRecord } from './relationshipRepo.js';
import type { ServiceCaseRecord } from './serviceCaseRepo.js';
import type { Vault } from './vault.js';
import { useTestVault } from '../../../test/support/testVault.js';
import { codeOf } from '../../../test/support/errorCodes.js';

let vault: Vault;
let clock: ManualClock;
let rel: RelationshipRecord;

const t = useTestVault();
beforeEach(() => {
  ({ vault, clock, rel } = t);
});

const CASE_ID = '00000000-0000-4000-8000-0000000000d1';

function newCase(thingId: string | null, overrides: Partial<ServiceCaseRecord> = {}): Omit<ServiceCaseRecord, 'createdAt' | 'updatedAt'> {
  return {
    id: CASE_ID,
    thingId,
    relationshipId: rel.id,
    state: 'open',
    warrantyClaim: true,
    thingName: 'Fridge',
    shared: { serialNumber: 'SN-SECRET-1234', model: 'CF-300' },
    identifier: { kind: 'customer_number', value: 'AO-100042' },
    thread: [{ author: 'her', kind: 'open', text: 'The freezer is warm.', messageId: 'open-1', at: clock.now() }],
    ...overrides,
  };
}

describe('ServiceCaseRepo', () => {
  it('keeps a case with its thread sealed: ids, state and flag in plaintext, the rest encrypted', () => {
    const thing = vault.things.insert({ name: 'Fridge' });
    const stored = vault.serviceCases.insert(newCase(thing.id));
    expect(vault.serviceCases.get(CASE_ID)).toEqual(stored);
    expect(vault.serviceCases.list({ thingId: thing.id })).toEqual([stored]);
    expect(vault.serviceCases.list({ relationshipId: rel.id })).toEqual([stored]);
    expect(vault.serviceCases.list({ relationshipId: t.other.id })).toEqual([]);
    expect(vault.serviceCases.ids()).toEqual([CASE_ID]);
    const files = ['vault.db', 'vault.db-wal'].flatMap((name) => (existsSync(join(t.dir, name)) ? [readFileSync(join(t.dir, name))] : []));
    for (const file of files) {
      expect(file.includes('SN-SECRET-1234')).toBe(false);
      expect(file.includes('The freezer is warm')).toBe(false);
      expect(file.includes('AO-100042')).toBe(false);
    }
  });

  it('appends to the thread and moves the state', () => {
    const thing = vault.things.insert({ name: 'Fridge' });
    vault.serviceCases.insert(newCase(thing.id));
    clock.advance(1000);
    const answered = vault.serviceCases.append(CASE_ID, { author: 'company', kind: 'reply', text: 'A technician comes on Monday.', messageId: 'reply-1', at: clock.now() }, 'answered');
    expect(answered).toMatchObject({ state: 'answered', updatedAt: clock.now() });
    expect(vault.serviceCases.get(CASE_ID)?.thread.map((e) => [e.author, e.kind])).toEqual([
      ['her', 'open'],
      ['company', 'reply'],
    ]);
    expect(vault.serviceCases.append('00000000-0000-4000-8000-0000000000ff', { author: 'company', kind: 'resolve', text: null, messageId: 'x', at: clock.now() }, 'resolved')).toBeUndefined();
  });

  it('refuses a case of an unknown relationship, a taken id or a malformed record, changing nothing', () => {
    const thing = vault.things.insert({ name: 'Fridge' });
    vault.serviceCases.insert(newCase(thing.id));
    const before = vault.snapshot();
    expect(codeOf(() => vault.serviceCases.insert(newCase(thing.id, { id: '00000000-0000-4000-8000-0000000000d2', relationshipId: '00000000-0000-4000-8000-00000000ffff' })))).toBe('relationship.unknown');
    expect(codeOf(() => vault.serviceCases.insert(newCase(thing.id)))).toBe('vault.conflict');
    expect(codeOf(() => vault.serviceCases.insert(newCase(thing.id, { id: '00000000-0000-4000-8000-0000000000d3', thread: [] })))).toBe('vault.corrupt');
    expect(codeOf(() => vault.serviceCases.insert(newCase(thing.id, { id: '00000000-0000-4000-8000-0000000000d4', shared: { colour: 'red' } as never })))).toBe('vault.corrupt');
    expect(vault.snapshot()).toEqual(before);
  });

  it('keeps the case when she deletes the thing (its thing id becomes null), and removes a case never taken', () => {
    const thing = vault.things.insert({ name: 'Fridge' });
    vault.serviceCases.insert(newCase(thing.id));
    vault.things.remove(thing.id);
    expect(vault.serviceCases.get(CASE_ID)).toMatchObject({ thingId: null, thingName: 'Fridge' });
    expect(vault.serviceCases.remove(CASE_ID)).toBe(true);
    expect(vault.serviceCases.get(CASE_ID)).toBeUndefined();
    expect(vault.serviceCases.remove(CASE_ID)).toBe(false);
  });
});
