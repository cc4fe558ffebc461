import { closeSync, chmodSync, existsSync, openSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { basename, join } from 'node:path';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { ExportError, VaultError } from '../../core/errors.js';
import { tryParseJson } from '../../core/json.js';
import { ensurePrivateDir, PRIVATE_FILE_MODE, writePrivateFile } from '../../core/privateFiles.js';
import { exportSectionReaders } from './export.js';
import type { ExportDocument } from './exportDocument.js';
import { exportFilesDir } from './exportFiles.js';
import { sealExport } from './exportSeal.js';
import type { Vault } from './vault.js';

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
 * so the export is a consistent snapshot. Only one document's bytes are in memory at a time; the
 * other members are read one at a time as they are written (a sealed export's JSON is sealed whole,
 * as before, but holds no document).
 * @throws VaultError `vault.passphrase_required` for a sealed export without a passphrase,
 * `vault.corrupt` if a record does not decrypt (nothing useful is left: the caller removes `file`).
 */
export async function writeExportFile(vault: Vault, file: string, options: StreamExportOptions = {}): Promise<StreamExportResult> {
  try {
    return await writeExport(vault, file, options);
  } catch (error) {
    // Half an export is no export: what was written goes (the directory's export names only).
    rmSync(file, { force: true });
    removeExportFiles(exportFilesDir(file));
    throw error;
  }
}

/** Removes the files an export writes in `dir` (names `<document id>` and `<document id>.jwe`), nothing else. */
function removeExportFiles(dir: string): void {
  if (existsSync(dir)) for (const name of readdirSync(dir)) if (/^[0-9a-f-]{36}(\.jwe)?$/.test(name)) rmSync(join(dir, name), { force: true });
}

async function writeExport(vault: Vault, file: string, options: StreamExportOptions): Promise<StreamExportResult> {
  if (!options.plain && (options.passphrase === undefined || options.passphrase.length === 0)) {
    throw new VaultError('vault.passphrase_required', 'A passphrase is required to encrypt an export');
  }
  const dir = exportFilesDir(file);
  const ref = (name: string) => `${basename(dir)}/${name}`;
  // An earlier export to the same name may have left documents this one does not have: an import
  // refuses a file no document names, so they go (only names an export writes, nothing else).
  removeExportFiles(dir);
  if (options.plain) {
    const documents = vault.transaction(() => {
      const out = new JsonWriter(file);
      try {
        let written = 0;
        for (const [key, read] of exportSectionReaders(vault)) {
          if (key !== 'attachments') {
            out.member(key, read());
            continue;
          }
          const records = vault.attachments.list();
          if (records.length > 0) ensurePrivateDir(dir);
          out.rows(
            key,
            records.map((record) => () => {
              writePrivateFile(join(dir, record.id), documentBytes(vault, record.id));
              written += 1;
              options.onProgress?.(written, records.length);
              return { ...record, file: ref(record.id) };
            }),
          );
        }
        out.end();
        return written;
      } finally {
        out.close();
      }
    });
    return { format: 'plain', documents };
  }
  const filesKey = randomBytes(32);
  try {
    const doc = vault.transaction(() => {
      const value: Record<string, unknown> = {};
      for (const [key, read] of exportSectionReaders(vault)) {
        if (key !== 'attachments') {
          value[key] = read();
          continue;
        }
        const records = vault.attachments.list();
        if (records.length > 0) ensurePrivateDir(dir);
        value[key] = records.map((record, i) => {
          writePrivateFile(join(dir, `${record.id}.jwe`), sealExportFile(documentBytes(vault, record.id), filesKey));
          options.onProgress?.(i + 1, records.length);
          return { ...record, file: ref(`${record.id}.jwe`) };
        });
      }
      if ((value['attachments'] as unknown[]).length > 0) value['filesKey'] = filesKey.toString('base64url');
      return value as ExportDocument;
    });
    writePrivateFile(file, `${await sealExport(doc, options.passphrase ?? '')}`);
    return { format: 'jwe', documents: doc.attachments.length };
  } finally {
    filesKey.fill(0);
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
 * Writes one JSON object to a file member by member, as `JSON.stringify(object, null, 2)` lays it
 * out (so the bytes are the same), with synchronous writes: the export is read inside one SQLite
 * transaction, which cannot wait for a stream.
 */
class JsonWriter {
  readonly #fd: number;
  #members = 0;
  #closed = false;

  constructor(file: string) {
    this.#fd = openSync(file, 'w', PRIVATE_FILE_MODE);
    chmodSync(file, PRIVATE_FILE_MODE);
    this.#write('{');
  }

  #write(text: string): void {
    writeSync(this.#fd, text);
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

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeSync(this.#fd);
  }
}

function indent(json: string, spaces: number): string {
  return json.replace(/\n/g, `\n${' '.repeat(spaces)}`);
}

