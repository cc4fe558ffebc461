import { closeSync, chmodSync, openSync, rmSync, writeSync } from 'node:fs';
import { basename, join } from 'node:path';
import { createCipheriv, createDecipheriv, pbkdf2, randomBytes, type CipherGCM } from 'node:crypto';
import { promisify } from 'node:util';
import { ExportError, VaultError } from '../../core/errors.js';
import { tryParseJson } from '../../core/json.js';
import { ensurePrivateDir, PRIVATE_FILE_MODE, writePrivateFile } from '../../core/privateFiles.js';
import { exportSectionReaders } from './export.js';
import { exportFilesDir, removeExportFiles } from './exportFiles.js';
import { EXPORT_CONTENT_ENC, EXPORT_KEY_ALG, EXPORT_P2C } from './exportSeal.js';
import { EXPORT_CONTENT_TYPE } from './exportDocument.js';
import type { Vault } from './vault.js';

const pbkdf2Async = promisify(pbkdf2);

/*
 * Writing an export to disk with bounded memory (ADR 0025). A plain export's JSON goes to its file
 * member by member and row by row, byte for byte what `writePlainExport(file, exportVault(vault))`
 * writes, and each document's file beside it as it is read from the vault, one at a time. A sealed
 * export (version 10) keeps its JSON one PBES2 JWE, as before, but without the documents: each goes
 * beside it as `<export>.files/<id>.jwe`, a compact JWE (`dir`, A256GCM) under a random key carried
 * inside the sealed JSON (`filesKey`), so the passphrase protects everything and PBES2 runs once.
 */

/** The protected header of each sealed document file. */
export const EXPORT_FILE_ALG = 'dir';
export const EXPORT_FILE_ENC = 'A256GCM';
/** `cty` of a sealed document file: what it is, for a reader with only the file. */
export const EXPORT_FILE_CONTENT_TYPE = 'application/vnd.kith.export-file';

export interface StreamExportOptions {
  /** Seal under this passphrase (required unless `plain`). */
  passphrase?: string;
  /** Write the plain JSON document (documents as plain files beside it). */
  plain?: boolean;
  /** Called after each document's file is written: documents written so far, and in all. */
  onProgress?: (written: number, total: number) => void;
}

export interface StreamExportResult {
  format: 'plain' | 'jwe';
  /** Documents written beside the export. */
  documents: number;
}

/**
 * Writes the whole vault to `file` (and its documents to `<file>.files/`), read in one transaction
 * so the export is a consistent snapshot. Only one document's bytes are in memory at a time, and
 * one message; the other members are read one at a time as they are written. A sealed export's JWE
 * is encrypted as the JSON is produced ({@link StreamSeal}).
 * @throws VaultError `vault.passphrase_required` for a sealed export without a passphrase,
 * `vault.corrupt` if a record does not decrypt (what was written is removed); ExportError
 * `export.unwritable` when the file or its documents' directory cannot be written (no such
 * directory, no permission, a directory in the way, a full or read-only disk).
 */
export async function writeExportFile(vault: Vault, file: string, options: StreamExportOptions = {}): Promise<StreamExportResult> {
  // Before anything is touched: a refused export leaves whatever is at `file` alone.
  if (!options.plain && (options.passphrase === undefined || options.passphrase.length === 0)) {
    throw new VaultError('vault.passphrase_required', 'A passphrase is required to encrypt an export');
  }
  let fd: number;
  try {
    fd = openSync(file, 'w', PRIVATE_FILE_MODE);
  } catch (error) {
    // Nothing was written, so nothing is removed (a file there that cannot be opened stays).
    throw unwritable(error, file) ?? error;
  }
  try {
    return await writeExport(vault, file, fd, options);
  } catch (error) {
    // Half an export is no export: what was written goes (the directory's export names only).
    rmSync(file, { force: true });
    removeExportFiles(exportFilesDir(file));
    throw unwritable(error, file) ?? error;
  } finally {
    closeSync(fd);
  }
}

async function writeExport(vault: Vault, file: string, fd: number, options: StreamExportOptions): Promise<StreamExportResult> {
  const dir = exportFilesDir(file);
  const ref = (name: string) => `${basename(dir)}/${name}`;
  // An earlier export to the same name may have left documents this one does not have: an import
  // refuses a file no document names, so they go (only names an export writes, nothing else).
  removeExportFiles(dir);
  const sealed = options.plain ? undefined : await StreamSeal.begin(options.passphrase ?? '');
  const filesKey = randomBytes(32);
  try {
    chmodSync(file, PRIVATE_FILE_MODE);
    const flush = sealed === undefined ? (text: string) => writeSync(fd, text) : (text: string) => sealed.write(fd, text);
    // Pieces gathered to about 256 KB before each write: fewer system calls and cipher calls, and
    // far fewer small buffers for the collector to chase.
    let pending: string[] = [];
    let pendingLength = 0;
    const drain = () => {
      if (pending.length > 0) flush(pending.join(''));
      pending = [];
      pendingLength = 0;
    };
    const sink = (text: string) => {
      pending.push(text);
      pendingLength += text.length;
      if (pendingLength >= 256 * 1024) drain();
    };
    if (sealed !== undefined) sealed.open(fd);
    const documents = vault.transaction(() => {
      const out = new JsonWriter(sink);
      let written = 0;
      let total = 0;
      for (const [key, read] of exportSectionReaders(vault)) {
        if (key === 'messages') {
          // The largest section after the documents: one message at a time too.
          out.rows(key, mapIterable(vault.messages.eachAll(), (m) => () => m));
          continue;
        }
        if (key !== 'attachments') {
          const value = read();
          // A list goes out row by row: one JSON text of 10,000 signed agreements was the peak.
          if (Array.isArray(value)) out.rows(key, value.map((row: unknown) => () => row));
          else out.member(key, value);
          continue;
        }
        const records = vault.attachments.list();
        total = records.length;
        if (records.length > 0) ensurePrivateDir(dir);
        out.rows(
          key,
          records.map((record) => () => {
            // What came before this document is on disk before its file is (a document is large).
            drain();
            const bytes = documentBytes(vault, record.id);
            const name = sealed === undefined ? record.id : `${record.id}.jwe`;
            writePrivateFile(join(dir, name), sealed === undefined ? bytes : sealExportFile(bytes, filesKey));
            written += 1;
            options.onProgress?.(written, records.length);
            return { ...record, file: ref(name) };
          }),
        );
      }
      // The key to the documents' files, inside the sealed document only (and only with files).
      if (sealed !== undefined && total > 0) out.member('filesKey', filesKey.toString('base64url'));
      out.end();
      drain();
      return written;
    });
    if (sealed !== undefined) sealed.close(fd);
    return { format: sealed === undefined ? 'plain' : 'jwe', documents };
  } finally {
    filesKey.fill(0);
  }
}

/** The file system's refusal as `export.unwritable` (naming the file and why), else undefined. */
function unwritable(error: unknown, file: string): ExportError | undefined {
  const code = error instanceof Error && 'code' in error ? error.code : undefined;
  if (typeof code !== 'string' || !UNWRITABLE.has(code)) return undefined;
  return new ExportError('export.unwritable', `The export cannot be written to ${file} (${code})`, { details: { file, reason: code }, cause: error });
}

const UNWRITABLE = new Set(['ENOENT', 'EACCES', 'EPERM', 'EISDIR', 'ENOTDIR', 'EROFS', 'ENOSPC', 'EDQUOT']);

function* mapIterable<T, U>(items: Iterable<T>, fn: (item: T) => U): Generator<U> {
  for (const item of items) yield fn(item);
}

/**
 * The sealed export's JWE written as its plaintext is produced: the same General JSON JWE
 * `sealExport` makes (PBES2-HS512+A256KW, A256GCM, our `cty`; exportSeal.ts), with AES-GCM run over
 * the document piece by piece and the ciphertext written as base64url as it comes, the tag last.
 * Any JOSE library opens it (openExport does, with jose). The key derivation runs once, before the
 * vault is read.
 */
class StreamSeal {
  readonly #header: string;
  readonly #encryptedKey: string;
  readonly #iv: Buffer;
  readonly #cipher: CipherGCM;
  /** Ciphertext bytes not yet written: base64url goes out in multiples of 3 bytes. */
  #pending: Buffer = Buffer.alloc(0);

  private constructor(header: string, encryptedKey: string, iv: Buffer, cipher: CipherGCM) {
    this.#header = header;
    this.#encryptedKey = encryptedKey;
    this.#iv = iv;
    this.#cipher = cipher;
  }

  static async begin(passphrase: string): Promise<StreamSeal> {
    const p2s = randomBytes(16);
    const salt = Buffer.concat([Buffer.from(EXPORT_KEY_ALG, 'utf8'), Buffer.from([0]), p2s]);
    const kek = await pbkdf2Async(Buffer.from(passphrase.normalize('NFC'), 'utf8'), salt, EXPORT_P2C, 32, 'sha512');
    const cek = randomBytes(32);
    try {
      const wrap = createCipheriv('id-aes256-wrap', kek, Buffer.from('A6A6A6A6A6A6A6A6', 'hex'));
      const encryptedKey = Buffer.concat([wrap.update(cek), wrap.final()]).toString('base64url');
      const header = Buffer.from(JSON.stringify({ alg: EXPORT_KEY_ALG, enc: EXPORT_CONTENT_ENC, cty: EXPORT_CONTENT_TYPE, p2s: p2s.toString('base64url'), p2c: EXPORT_P2C })).toString('base64url');
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', cek, iv);
      cipher.setAAD(Buffer.from(header, 'ascii'));
      return new StreamSeal(header, encryptedKey, iv, cipher);
    } finally {
      kek.fill(0);
      cek.fill(0);
    }
  }

  open(fd: number): void {
    writeSync(fd, `{"protected":"${this.#header}","recipients":[{"encrypted_key":"${this.#encryptedKey}"}],"iv":"${this.#iv.toString('base64url')}","ciphertext":"`);
  }

  write(fd: number, text: string): void {
    const bytes = Buffer.concat([this.#pending, this.#cipher.update(text, 'utf8')]);
    const whole = bytes.length - (bytes.length % 3);
    if (whole > 0) writeSync(fd, bytes.subarray(0, whole).toString('base64url'));
    this.#pending = bytes.subarray(whole);
  }

  close(fd: number): void {
    const rest = Buffer.concat([this.#pending, this.#cipher.final()]);
    writeSync(fd, `${rest.toString('base64url')}","tag":"${this.#cipher.getAuthTag().toString('base64url')}"}\n`);
    this.#pending = Buffer.alloc(0);
  }
}

/** One document's file, decrypted and checked against its hash (AttachmentRepo.content). */
function documentBytes(vault: Vault, id: string): Buffer {
  const bytes = vault.attachments.content(id);
  if (bytes === undefined) throw new VaultError('vault.corrupt', 'A document vanished during the export', { details: { id } });
  return bytes;
}

/**
 * A document's bytes as a compact JWE (RFC 7516 §7.1): `dir` with A256GCM under `key`, the
 * protected header as the additional data, so any JOSE library opens it with the key.
 */
export function sealExportFile(bytes: Uint8Array, key: Uint8Array): string {
  const header = Buffer.from(JSON.stringify({ alg: EXPORT_FILE_ALG, enc: EXPORT_FILE_ENC, cty: EXPORT_FILE_CONTENT_TYPE })).toString('base64url');
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(header, 'ascii'));
  const ciphertext = Buffer.concat([cipher.update(bytes), cipher.final()]);
  return `${header}..${iv.toString('base64url')}.${ciphertext.toString('base64url')}.${cipher.getAuthTag().toString('base64url')}`;
}

/**
 * Opens a sealed document file. Synchronous (node:crypto, not jose's WebCrypto), so an import reads
 * each file inside its one SQLite transaction.
 * @throws ExportError `export.corrupted` when it is not such a JWE or does not decrypt under `key`.
 */
export function openExportFile(text: string, key: Uint8Array, id: string): Buffer {
  const parts = text.trim().split('.');
  const fail = (why: string) => new ExportError('export.corrupted', `A document’s sealed file ${why}`, { details: { id } });
  if (parts.length !== 5 || parts[1] !== '') throw fail('is not a compact JWE with a direct key');
  const [header = '', , iv = '', ciphertext = '', tag = ''] = parts;
  const parsed = tryParseJson(Buffer.from(header, 'base64url').toString('utf8'));
  const h = parsed.ok ? (parsed.value as { alg?: unknown; enc?: unknown }) : undefined;
  if (h === undefined || typeof h !== 'object' || h === null || h.alg !== EXPORT_FILE_ALG || h.enc !== EXPORT_FILE_ENC) throw fail('has an unexpected header');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(header, 'ascii'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]);
  } catch (cause) {
    throw new ExportError('export.corrupted', 'A document’s sealed file does not decrypt', { details: { id }, cause });
  }
}

/**
 * Writes one JSON object member by member (to a file, or through the sealing), as `JSON.stringify(object, null, 2)` lays it
 * out (so the bytes are the same), with synchronous writes: the export is read inside one SQLite
 * transaction, which cannot wait for a stream.
 */
class JsonWriter {
  readonly #sink: (text: string) => void;
  #members = 0;

  constructor(sink: (text: string) => void) {
    this.#sink = sink;
    this.#write('{');
  }

  #write(text: string): void {
    this.#sink(text);
  }

  #key(key: string): void {
    this.#write(`${this.#members === 0 ? '\n' : ',\n'}  ${JSON.stringify(key)}: `);
    this.#members += 1;
  }

  /** A whole member (undefined is left out, as JSON.stringify does). */
  member(key: string, value: unknown): void {
    if (value === undefined) return;
    this.#key(key);
    this.#write(indent(JSON.stringify(value, null, 2), 2));
  }

  /** An array member, each row produced only when it is written. */
  rows(key: string, rows: Iterable<() => unknown>): void {
    this.#key(key);
    let count = 0;
    for (const row of rows) {
      this.#write(`${count === 0 ? '[\n' : ',\n'}    ${indent(JSON.stringify(row() ?? null, null, 2), 4)}`);
      count += 1;
    }
    this.#write(count === 0 ? '[]' : '\n  ]');
  }

  end(): void {
    this.#write(this.#members === 0 ? '}\n' : '\n}\n');
  }
}

function indent(json: string, spaces: number): string {
  return json.replace(/\n/g, `\n${' '.repeat(spaces)}`);
}

