import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { blindIndex, deriveRowKeys, openRow, ROW_BLOB_VERSION, sealRow } from './crypto.js';

const keys = deriveRowKeys(randomBytes(32));
const plaintext = Buffer.from('{"hello":"world"}');

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
}

describe('row encryption', () => {
  it('round-trips a payload and lays the blob out as version, nonce, ciphertext, tag', () => {
    const blob = sealRow(keys.rowKey, 'messages', 'row-1', plaintext);
    expect(blob[0]).toBe(ROW_BLOB_VERSION);
    expect(blob.length).toBe(1 + 12 + plaintext.length + 16);
    expect(openRow(keys.rowKey, 'messages', 'row-1', blob)).toEqual(plaintext);
  });

  it('uses a fresh nonce for every write, so equal payloads give different blobs', () => {
    expect(sealRow(keys.rowKey, 't', 'r', plaintext).equals(sealRow(keys.rowKey, 't', 'r', plaintext))).toBe(false);
  });

  it('refuses a blob presented as another row or another table', () => {
    const blob = sealRow(keys.rowKey, 'messages', 'row-1', plaintext);
    expect(codeOf(() => openRow(keys.rowKey, 'messages', 'row-2', blob))).toBe('vault.corrupt');
    expect(codeOf(() => openRow(keys.rowKey, 'receipts', 'row-1', blob))).toBe('vault.corrupt');
  });

  it('refuses an altered, truncated or unknown-version blob', () => {
    const blob = sealRow(keys.rowKey, 't', 'r', plaintext);
    const flipped = Buffer.from(blob);
    flipped[20] = (flipped[20] ?? 0) ^ 1;
    const versioned = Buffer.from(blob);
    versioned[0] = 2;
    expect(codeOf(() => openRow(keys.rowKey, 't', 'r', flipped))).toBe('vault.corrupt');
    expect(codeOf(() => openRow(keys.rowKey, 't', 'r', blob.subarray(0, 20)))).toBe('vault.corrupt');
    expect(codeOf(() => openRow(keys.rowKey, 't', 'r', versioned))).toBe('vault.corrupt');
  });

  it('derives distinct subkeys for rows and indexes, deterministically from the data key', () => {
    const dataKey = randomBytes(32);
    const a = deriveRowKeys(dataKey);
    const b = deriveRowKeys(dataKey);
    expect(a.rowKey.equals(b.rowKey)).toBe(true);
    expect(a.rowKey.equals(a.indexKey)).toBe(false);
    expect(a.rowKey.equals(dataKey)).toBe(false);
  });
});

describe('blind indexes', () => {
  it('are stable hex HMACs separated by scope and by key', () => {
    const idx = blindIndex(keys.indexKey, 'relationships.my_did', 'did:example:1');
    expect(idx).toMatch(/^[0-9a-f]{64}$/);
    expect(blindIndex(keys.indexKey, 'relationships.my_did', 'did:example:1')).toBe(idx);
    expect(blindIndex(keys.indexKey, 'relationships.their_did', 'did:example:1')).not.toBe(idx);
    expect(blindIndex(deriveRowKeys(randomBytes(32)).indexKey, 'relationships.my_did', 'did:example:1')).not.toBe(idx);
  });
});
