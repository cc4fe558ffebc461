import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { VaultError } from '../../core/errors.js';

/**
 * Row-level cryptography of the vault: per-purpose subkeys, the AEAD blob format and blind indexes.
 * Kept free of SQLite so the format can be reviewed (and tested) on its own.
 */

/** Version byte that starts every row blob; bump it if the blob layout or cipher ever changes. */
export const ROW_BLOB_VERSION = 1;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

/** HKDF `info` strings: one subkey per purpose so a key never serves two algorithms. */
export const ROW_KEY_INFO = 'kith/vault/rows/v1';
export const INDEX_KEY_INFO = 'kith/vault/index/v1';

export interface RowKeys {
  /** AES-256-GCM key for the `data` column of every table. */
  rowKey: Buffer;
  /** HMAC-SHA256 key for blind indexes. */
  indexKey: Buffer;
}

/**
 * Derives the per-purpose subkeys from the 32-byte data key. No salt: the data key is already
 * uniformly random, which is the case HKDF's extract step exists to handle anyway.
 */
export function deriveRowKeys(dataKey: Buffer): RowKeys {
  return {
    rowKey: Buffer.from(hkdfSync('sha256', dataKey, Buffer.alloc(0), ROW_KEY_INFO, KEY_BYTES)),
    indexKey: Buffer.from(hkdfSync('sha256', dataKey, Buffer.alloc(0), INDEX_KEY_INFO, KEY_BYTES)),
  };
}

/** Associated data binding a blob to its row, so a blob copied into another row fails to decrypt. */
export function rowAssociatedData(table: string, rowId: string): Buffer {
  return Buffer.from(`${table}:${rowId}`, 'utf8');
}

/** Encrypts one row payload: version (1 byte) || nonce (12) || ciphertext || tag (16). */
export function sealRow(rowKey: Buffer, table: string, rowId: string, plaintext: Buffer): Buffer {
  // A fresh random nonce per write: with 96-bit nonces the collision risk stays negligible for
  // far more writes than a personal vault will ever see.
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', rowKey, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(rowAssociatedData(table, rowId));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([Buffer.from([ROW_BLOB_VERSION]), nonce, ciphertext, cipher.getAuthTag()]);
}

/**
 * Decrypts a blob written by {@link sealRow} for the same table and row id.
 * @throws VaultError `vault.corrupt` if the blob is malformed, belongs to another row, or was altered.
 */
export function openRow(rowKey: Buffer, table: string, rowId: string, blob: Buffer): Buffer {
  if (blob.length < 1 + NONCE_BYTES + TAG_BYTES || blob[0] !== ROW_BLOB_VERSION) {
    throw new VaultError('vault.corrupt', 'A vault record has an unknown format', { details: { table, id: rowId } });
  }
  const nonce = blob.subarray(1, 1 + NONCE_BYTES);
  const tag = blob.subarray(blob.length - TAG_BYTES);
  const ciphertext = blob.subarray(1 + NONCE_BYTES, blob.length - TAG_BYTES);
  try {
    const decipher = createDecipheriv('aes-256-gcm', rowKey, nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(rowAssociatedData(table, rowId));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch (cause) {
    throw new VaultError('vault.corrupt', 'A vault record failed to decrypt', {
      cause,
      details: { table, id: rowId },
    });
  }
}

/**
 * Blind index: a keyed hash that allows equality lookups without storing the value. The scope
 * (e.g. `relationships.my_did`) separates columns, so equal values in two columns do not link.
 */
export function blindIndex(indexKey: Buffer, scope: string, value: string): string {
  return createHmac('sha256', indexKey).update(scope, 'utf8').update('\0').update(value, 'utf8').digest('hex');
}
