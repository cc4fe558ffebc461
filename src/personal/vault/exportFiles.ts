import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ExportError } from '../../core/errors.js';
import { ensurePrivateDir, writePrivateFile } from '../../core/privateFiles.js';
import type { ExportDocument } from './exportDocument.js';

/*
 * A plain export keeps her documents as files beside the JSON, so the JSON stays readable and
 * the documents open with any program: `<export>.files/<document id>`, each file byte for byte
 * as kept, checked against the SHA-256 in its record on import. A sealed export has them inside.
 */

/** The directory beside a plain export that holds its documents' files. */
export function exportFilesDir(exportFile: string): string {
  return `${exportFile}.files`;
}

/**
 * Writes a plain export: each document's file into `<file>.files/` (0700, files 0600), the JSON
 * naming each by its path relative to the JSON's directory.
 * @returns how many documents went beside it.
 */
export function writePlainExport(file: string, doc: ExportDocument): number {
  const dir = exportFilesDir(file);
  const withFiles = doc.attachments.filter((a) => a.content !== undefined);
  if (withFiles.length > 0) ensurePrivateDir(dir);
  const attachments = doc.attachments.map(({ content, ...record }) => {
    if (content === undefined) return record;
    writePrivateFile(join(dir, record.id), Buffer.from(content, 'base64'));
    return { ...record, file: `${basename(dir)}/${record.id}` };
  });
  writePrivateFile(file, `${JSON.stringify({ ...doc, attachments }, null, 2)}\n`);
  return withFiles.length;
}

/**
 * Reads the files beside a plain export back into its document (the file references were checked
 * by the schema: a name under `<something>.files/`, never a path out of the directory).
 * @throws ExportError `export.corrupted` when a file is missing.
 */
export function inlineExportFiles(exportFile: string, doc: ExportDocument): ExportDocument {
  const base = dirname(exportFile);
  const attachments = doc.attachments.map(({ file, ...record }) => {
    if (file === undefined) return record;
    const path = join(base, file);
    if (!existsSync(path)) throw new ExportError('export.corrupted', `A document's file is missing beside the export: ${file}`, { details: { id: record.id } });
    return { ...record, content: readFileSync(path).toString('base64') };
  });
  return { ...doc, attachments };
}
