import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ExportError } from '../../core/errors.js';
import { ensurePrivateDir, writePrivateFile } from '../../core/privateFiles.js';
import type { ExportDocument, ExportedAttachment } from './exportDocument.js';
import type { ExportFileSource } from './export.js';
import { openExportFile } from './exportStream.js';

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
  // An earlier export to the same name may have left files this one does not have (an import refuses them).
  removeExportFiles(dir);
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

/**
 * Where an import reads the documents beside an export, one at a time (bounded memory, ADR 0025):
 * a plain file as it is, a sealed one (`<id>.jwe`, version 10) decrypted under the document's
 * `filesKey`. Checked first, before anything is restored: every file in the directories the
 * document names must be one of its documents' (a stray file means the export is not what was
 * written).
 * @throws ExportError `export.corrupted` for a file no document names, a sealed file in an export
 * without `filesKey`, or a file named for another document; `read` for a missing file or one that
 * does not decrypt.
 */
export function exportFileSource(exportFile: string, doc: ExportDocument): ExportFileSource {
  const base = dirname(exportFile);
  const named = new Set<string>();
  const dirs = new Set<string>();
  for (const a of doc.attachments) {
    if (a.file === undefined) continue;
    const [dir = '', name = ''] = a.file.split('/');
    if (name !== a.id && name !== `${a.id}.jwe`) throw new ExportError('export.corrupted', 'A document’s file is named for another document', { details: { id: a.id } });
    if (name.endsWith('.jwe') && doc.filesKey === undefined) throw new ExportError('export.corrupted', 'A sealed document file without the export’s files key', { details: { id: a.id } });
    named.add(a.file);
    dirs.add(dir);
  }
  for (const dir of dirs) {
    if (!existsSync(join(base, dir))) continue;
    const stray = readdirSync(join(base, dir)).filter((name) => !named.has(`${dir}/${name}`));
    if (stray.length > 0) throw new ExportError('export.corrupted', 'A file beside the export belongs to no document in it', { details: { files: stray.slice(0, 10) } });
  }
  const key = doc.filesKey === undefined ? undefined : Buffer.from(doc.filesKey, 'base64url');
  return {
    read(attachment: ExportedAttachment): Buffer {
      const file = attachment.file ?? '';
      const path = join(base, file);
      if (!existsSync(path)) throw new ExportError('export.corrupted', `A document's file is missing beside the export: ${file}`, { details: { id: attachment.id } });
      if (!file.endsWith('.jwe')) return readFileSync(path);
      if (key === undefined) throw new ExportError('export.corrupted', 'A sealed document file without the export’s files key', { details: { id: attachment.id } });
      return openExportFile(readFileSync(path, 'utf8'), key, attachment.id);
    },
  };
}

/** Removes the files an export writes in `dir` (names `<document id>` and `<document id>.jwe`), nothing else. */
export function removeExportFiles(dir: string): void {
  if (existsSync(dir)) for (const name of readdirSync(dir)) if (/^[0-9a-f-]{36}(\.jwe)?$/.test(name)) rmSync(join(dir, name), { force: true });
}
