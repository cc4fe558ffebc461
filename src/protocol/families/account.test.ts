import { describe, expect, it } from 'vitest';
import { Account, IDENTIFIER_KINDS, MAX_IDENTIFIERS, normaliseIdentifierValue } from './account.js';

const SUBJECT = 'did:peer:2.Ez6LSexample';
const ID = { kind: 'policy_number', value: '88-123', label: 'Home insurance', issued_at: '2026-01-01T09:14:00.000Z' };
const LIST = { subject: SUBJECT, sequence: 1, identifiers: [ID] };

describe('account 1.0', () => {
  it('takes every kind of the list and no other', () => {
    const body = Account.identifiers.body;
    for (const kind of IDENTIFIER_KINDS) expect(body.safeParse({ ...LIST, identifiers: [{ ...ID, kind }] }).success, kind).toBe(true);
    for (const kind of ['passport_number', 'POLICY_NUMBER', '', null]) expect(body.safeParse({ ...LIST, identifiers: [{ ...ID, kind }] }).success, String(kind)).toBe(false);
  });

  it('refuses values and labels that are empty, blank, too long, or carry control or bidi characters', () => {
    const body = Account.identifiers.body;
    expect(body.safeParse({ ...LIST, identifiers: [{ ...ID, value: 'x'.repeat(100) }] }).success).toBe(true);
    for (const value of ['', '   ', 'x'.repeat(101), '88\n123', '88\u0000123', '88\u202e321', '88\u0085123', '\u200b']) {
      expect(body.safeParse({ ...LIST, identifiers: [{ ...ID, value }] }).success, JSON.stringify(value)).toBe(false);
    }
    for (const label of ['', 'x'.repeat(101), 'a\u001b[31m']) expect(body.safeParse({ ...LIST, identifiers: [{ ...ID, label }] }).success, JSON.stringify(label)).toBe(false);
  });

  it('refuses an empty list, one longer than the limit, the same identifier twice (after normalising), and a bad sequence or date', () => {
    const body = Account.identifiers.body;
    const many = (n: number) => Array.from({ length: n }, (_, i) => ({ ...ID, value: `V-${i}` }));
    expect(body.safeParse({ ...LIST, identifiers: many(MAX_IDENTIFIERS) }).success).toBe(true);
    expect(body.safeParse({ ...LIST, identifiers: many(MAX_IDENTIFIERS + 1) }).success).toBe(false);
    expect(body.safeParse({ ...LIST, identifiers: [] }).success).toBe(false);
    expect(body.safeParse({ ...LIST, identifiers: [ID, { ...ID, value: '88 123' }] }).success).toBe(false);
    // The same value under another kind is another identifier.
    expect(body.safeParse({ ...LIST, identifiers: [ID, { ...ID, kind: 'contract_number' }] }).success).toBe(true);
    for (const sequence of [0, -1, 1.5, '1']) expect(body.safeParse({ ...LIST, sequence }).success, String(sequence)).toBe(false);
    expect(body.safeParse({ ...LIST, identifiers: [{ ...ID, issued_at: 'yesterday' }] }).success).toBe(false);
    expect(body.safeParse({ ...LIST, subject: '' }).success).toBe(false);
  });

  it('normalises values for lookup: case, width, spaces and separators do not matter', () => {
    expect(normaliseIdentifierValue('88-123')).toBe('88123');
    expect(normaliseIdentifierValue(' 88 123 ')).toBe('88123');
    expect(normaliseIdentifierValue('ao-100042')).toBe(normaliseIdentifierValue('AO 100042'));
    expect(normaliseIdentifierValue('ＡＯ１００')).toBe('AO100');
    expect(normaliseIdentifierValue('88/123.4_5')).toBe('8812345');
    expect(normaliseIdentifierValue('88-124')).not.toBe(normaliseIdentifierValue('88-123'));
  });

  it('acknowledges with a positive whole list number', () => {
    const body = Account.ack.body;
    expect(body.safeParse({ sequence: 3 }).success).toBe(true);
    for (const sequence of [0, 2.5, undefined]) expect(body.safeParse({ sequence }).success).toBe(false);
  });
});
