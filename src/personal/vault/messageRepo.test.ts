import { join } from 'node:path';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { ManualClock } from '../../core/clock.js';
import type { NewMessage } from './messageRepo.js';
import type { RelationshipRecord } from './relationshipRepo.js';
import { VaultContext } from './context.js';
import { Vault } from './vault.js';
import { TEST_VAULT_PASSPHRASE, useTestVault } from '../../../test/support/testVault.js';
import { codeOf } from '../../../test/support/errorCodes.js';

let vault: Vault;
let clock: ManualClock;
let rel: RelationshipRecord;
let other: RelationshipRecord;

const t = useTestVault();
beforeEach(() => {
  ({ vault, clock, rel, other } = t);
});

function msg(messageId: string, overrides: Partial<NewMessage> = {}): NewMessage {
  return {
    relationshipId: rel.id,
    direction: 'in',
    messageId,
    type: 'https://kith.example/basicmessage/1.0/message',
    body: { content: `text of ${messageId}` },
    ...overrides,
  };
}

describe('MessageRepo', () => {
  it('defaults incoming messages to shown and outgoing ones to queued', () => {
    expect(vault.messages.insert(msg('m1')).status).toBe('shown');
    expect(vault.messages.insert(msg('m2', { direction: 'out' })).status).toBe('queued');
  });

  it('keeps thid and from when given and omits them otherwise', () => {
    const withThread = vault.messages.insert(msg('m1', { thid: 't1', from: 'did:web:shop.example' }));
    const plain = vault.messages.insert(msg('m2'));
    expect(vault.messages.get(withThread.id)).toMatchObject({ thid: 't1', from: 'did:web:shop.example' });
    expect(vault.messages.get(plain.id)).not.toHaveProperty('thid');
  });

  it('lists a relationship\'s messages in order and hides held ones unless asked', () => {
    const m1 = vault.messages.insert(msg('m1'));
    clock.advance(1);
    const m2 = vault.messages.insert(msg('m2', { status: 'held' }));
    clock.advance(1);
    const m3 = vault.messages.insert(msg('m3', { direction: 'out', status: 'sent' }));
    vault.messages.insert(msg('m4', { relationshipId: other.id }));
    expect(vault.messages.list(rel.id)).toEqual([m1, m3]);
    expect(vault.messages.list(rel.id, { includeHeld: true })).toEqual([m1, m2, m3]);
    expect(vault.messages.countByRelationship(rel.id)).toBe(3);
    expect(vault.messages.countByRelationship(other.id)).toBe(1);
  });

  it('finds a message by its DIDComm id', () => {
    const m = vault.messages.insert(msg('urn:uuid:1234'));
    expect(vault.messages.findByMessageId('urn:uuid:1234')).toEqual(m);
    expect(vault.messages.findByMessageId('urn:uuid:9999')).toBeUndefined();
  });

  it('changes a status and reports unknown ids', () => {
    const m = vault.messages.insert(msg('m1', { direction: 'out' }));
    expect(vault.messages.setStatus(m.id, 'sent')).toBe(true);
    expect(vault.messages.get(m.id)?.status).toBe('sent');
    expect(vault.messages.setStatus('00000000-0000-4000-8000-000000000000', 'sent')).toBe(false);
  });

  it('releases held messages of one relationship only', () => {
    vault.messages.insert(msg('m1', { status: 'held' }));
    vault.messages.insert(msg('m2', { status: 'held' }));
    vault.messages.insert(msg('m3', { relationshipId: other.id, status: 'held' }));
    expect(vault.messages.releaseHeld(rel.id)).toBe(2);
    expect(vault.messages.list(rel.id)).toHaveLength(2);
    expect(vault.messages.list(other.id)).toHaveLength(0);
  });

  it('refuses a duplicate DIDComm id, an unknown relationship and a body that is not JSON', () => {
    vault.messages.insert(msg('m1'));
    expect(codeOf(() => vault.messages.insert(msg('m1')))).toBe('vault.conflict');
    expect(codeOf(() => vault.messages.insert(msg('m2', { relationshipId: '00000000-0000-4000-8000-000000000000' })))).toBe(
      'relationship.unknown',
    );
    expect(codeOf(() => vault.messages.insert(msg('m3', { body: undefined })))).toBe('vault.corrupt');
    expect(codeOf(() => vault.messages.insert(msg('m4', { body: { n: Number.NaN } })))).toBe('vault.corrupt');
  });
});

describe('MessageRepo: the counts kept between calls', () => {
  const counts = () => Object.fromEntries(vault.messages.countsByRelationship());

  it('follows its own writes: a message added, a refused one removed', () => {
    vault.messages.insert(msg('m1'));
    expect(counts()).toEqual({ [rel.id]: 1 });
    const out = vault.messages.insert(msg('m2', { relationshipId: other.id, direction: 'out' }));
    expect(counts()).toEqual({ [rel.id]: 1, [other.id]: 1 });
    expect(vault.messages.removeRefused(out.id)).toBe(true);
    expect(counts()).toEqual({ [rel.id]: 1 });
  });

  it('follows another connection’s commits to the same file', () => {
    vault.messages.insert(msg('m1'));
    expect(counts()).toEqual({ [rel.id]: 1 });
    const second = Vault.open(join(t.dir, 'vault.db'), TEST_VAULT_PASSPHRASE, { clock });
    try {
      second.messages.insert(msg('m2'));
    } finally {
      second.close();
    }
    expect(counts()).toEqual({ [rel.id]: 2 });
  });

  it('carries nothing over when another connection committed between its read and its write', () => {
    vault.messages.insert(msg('m1'));
    expect(counts()).toEqual({ [rel.id]: 1 });
    const second = Vault.open(join(t.dir, 'vault.db'), TEST_VAULT_PASSPHRASE, { clock });
    const write = VaultContext.prototype.write;
    let raced = false;
    const spy = vi.spyOn(VaultContext.prototype, 'write').mockImplementation(function (this: VaultContext, table, fn) {
      // The other process's message lands just before this connection's own insert runs.
      if (table === 'messages' && !raced) {
        raced = true;
        second.messages.insert(msg('theirs', { relationshipId: other.id }));
      }
      return write.call(this, table, fn);
    });
    try {
      vault.messages.insert(msg('m2'));
    } finally {
      spy.mockRestore();
      second.close();
    }
    expect(raced).toBe(true);
    expect(counts()).toEqual({ [rel.id]: 2, [other.id]: 1 });
  });

  it('keeps nothing from a transaction that rolls back', () => {
    vault.messages.insert(msg('m1'));
    expect(counts()).toEqual({ [rel.id]: 1 });
    expect(() =>
      vault.transaction(() => {
        vault.messages.insert(msg('m2'));
        expect(counts()).toEqual({ [rel.id]: 2 });
        throw new Error('rolled back');
      }),
    ).toThrow('rolled back');
    expect(counts()).toEqual({ [rel.id]: 1 });
  });
});
