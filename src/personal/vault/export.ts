import { createHash } from 'node:crypto';
import { ExportError, isKithError } from '../../core/errors.js';
import { describeZodIssues } from '../../core/json.js';
import {
  anyExportDocumentSchema,
  EXPORT_FORMAT,
  EXPORT_VERSION,
  upgradeExportDocument,
  type AnyExportDocument,
  type ExportDocument,
  type ExportedAttachment,
} from './exportDocument.js';
import { removeVaultFiles } from './files.js';
import { FIRST_PERSONA_ID } from './personaRepo.js';
import { Vault, type VaultOptions } from './vault.js';

export {
  anyExportDocumentSchema,
  EXPORT_CONTENT_TYPE,
  EXPORT_FORMAT,
  EXPORT_READABLE_VERSIONS,
  EXPORT_VERSION,
  exportDocumentSchema,
  exportDocumentV1Schema,
  exportDocumentV2Schema,
  exportDocumentV3Schema,
  exportDocumentV4Schema,
  exportDocumentV5Schema,
  exportDocumentV6Schema,
  exportDocumentV7Schema,
  exportDocumentV8Schema,
  exportDocumentV9Schema,
  exportedAttachmentSchema,
  exportFilesKeySchema,
  exportFileRefSchema,
  parseExportDocument,
  upgradeExportDocument,
  type AnyExportDocument,
  type ExportDocument,
  type ExportDocumentV1,
  type ExportDocumentV2,
  type ExportDocumentV3,
  type ExportDocumentV4,
  type ExportDocumentV5,
  type ExportDocumentV6,
  type ExportDocumentV7,
  type ExportDocumentV8,
  type ExportDocumentV9,
  type ExportedAttachment,
} from './exportDocument.js';
export { EXPORT_KEY_ALG, EXPORT_CONTENT_ENC, EXPORT_P2C, openExport, sealExport, type SealOptions } from './exportSeal.js';

/**
 * Everything she owns in the vault as one plain document (decrypted: seal it before writing it
 * anywhere). Read in one transaction so the export is a consistent snapshot. The replay cache
 * travels as its message ids (`seen`), so a message accepted before the export is still a replay
 * in the new vault.
 * @throws VaultError `vault.locked` after close, `vault.corrupt` if a record does not decrypt.
 */
export function exportVault(vault: Vault): ExportDocument {
  return vault.transaction(() => exportSections(vault));
}

/**
 * What can be saved of a vault with unreadable records (`kith export --salvage`): every record
 * that opens, and `skipped`, the table and row id of each one that does not (never its content).
 * Records that point at a skipped one (a relationship's messages, say) are kept: they are hers
 * and readable, though such a document does not import until the references are mended.
 * @throws VaultError `vault.locked` after close.
 */
export function salvageVault(vault: Vault): ExportDocument {
  const { value, skipped } = vault.salvaging(() => exportSections(vault));
  return { ...value, skipped };
}

function exportSections(vault: Vault): ExportDocument {
  const doc: Record<string, unknown> = {};
  for (const [key, read] of exportSectionReaders(vault)) doc[key] = read();
  return doc as ExportDocument;
}

/**
 * The document's members in their order, each read only when called: {@link exportVault} reads
 * them all into one object, the streaming writer (exportStream.ts) reads and writes them one by
 * one, so both produce the same members in the same order. `attachments` here carries each file
 * inline; the streaming writer reads the files one at a time instead.
 */
export function exportSectionReaders(vault: Vault): [keyof ExportDocument, () => unknown][] {
  return [
    ['format', () => EXPORT_FORMAT],
    ['version', () => EXPORT_VERSION],
    ['exportedAt', () => new Date(vault.clock.now()).toISOString()],
    ['relationships', () => vault.relationships.list()],
    ['keys', () => vault.keys.list()],
    ['messages', () => vault.messages.listAll()],
    ['receipts', () => vault.receipts.list()],
    ['outbox', () => vault.outbox.list()],
    ['settings', () => vault.settings.entries()],
    ['profile', () => ({ fields: vault.profile.everyPersona(), changes: vault.profile.changes().reverse() })],
    ['deliveries', () => vault.deliveries.list()],
    ['disclosureRequests', () => vault.disclosureRequests.list()],
    ['consentRecords', () => vault.consents.list()],
    ['disclosedFields', () => vault.disclosed.listAll()],
    ['credentials', () => vault.credentials.list()],
    ['agreements', () => vault.agreements.all()],
    ['intents', () => vault.intents.list()],
    ['intentRecipients', () => vault.intentRecipients.all()],
    ['offers', () => vault.offers.all()],
    ['verifications', () => vault.verifications.list()],
    ['accountIds', () => vault.accountIds.list()],
    ['things', () => vault.things.list()],
    ['attachments', () => vault.attachments.listWithContent().map(({ content, ...record }) => ({ ...record, content: content.toString('base64') }))],
    ['seen', () => vault.seen.unexpired()],
    ['personas', () => vault.personas.list()],
    ['thingReceipts', () => vault.thingReceipts.list()],
    ['serviceCases', () => vault.serviceCases.list()],
  ];
}

/**
 * Restores an export into a NEW vault at `path` (new data key, ids preserved). All or nothing:
 * one transaction, and on any failure the new files are deleted. An older document version is
 * accepted and restored with empty new sections.
 * @returns the open vault (the caller closes it).
 * @throws VaultError `vault.exists` if something is already at `path` (it is left alone),
 * `vault.passphrase_required`; ExportError `export.corrupted` if the document is invalid or
 * inconsistent (e.g. a message for a relationship it does not contain, a delivery of a profile
 * version it does not log, a consent record answering a request it does not contain, a credential
 * whose holder key it does not contain, an agreement of a relationship it does not contain or a
 * second `agreed` agreement of one relationship, an intent recipient of an intent or relationship it
 * does not contain, an offer whose recipient it does not contain, an intent whose accepted offer is
 * not one of its offers).
 */
export function importVault(path: string, passphrase: string, doc: ExportDocument | AnyExportDocument, options?: VaultOptions, files?: ExportFileSource): Vault {
  const parsed = anyExportDocumentSchema.safeParse(doc);
  if (!parsed.success) {
    throw new ExportError('export.corrupted', 'The export does not match its format', {
      details: { issues: describeZodIssues(parsed.error) },
    });
  }
  const data = upgradeExportDocument(parsed.data);
  checkProfileVersions(data);
  checkPersonas(data);
  checkAcceptedOffers(data);
  const vault = Vault.create(path, passphrase, options);
  try {
    vault.transaction(() => {
      if (data.personas.length > 0) {
        // The export's personas replace the one a new vault starts with.
        vault.personas.delete(FIRST_PERSONA_ID);
        for (const p of data.personas) vault.personas.insert(p);
      }
      for (const r of data.relationships) vault.relationships.insert(r);
      for (const a of data.agreements) vault.agreements.insert(a);
      for (const k of data.keys) vault.keys.insert(k);
      for (const m of data.messages) vault.messages.insert(m);
      for (const r of data.receipts) vault.receipts.insert(r);
      for (const o of data.outbox) vault.outbox.enqueue(o);
      for (const [key, value] of Object.entries(data.settings)) vault.settings.set(key, value);
      for (const c of data.profile.changes) vault.profile.restoreChange(c);
      for (const f of data.profile.fields) vault.profile.restoreField(f);
      for (const d of data.deliveries) vault.deliveries.create(d);
      for (const r of data.disclosureRequests) vault.disclosureRequests.insert(r);
      for (const c of data.consentRecords) vault.consents.insert(c);
      for (const f of data.disclosedFields) vault.disclosed.insert(f);
      for (const c of data.credentials) vault.credentials.insert(c);
      for (const i of data.intents) vault.intents.insert(i);
      for (const r of data.intentRecipients) vault.intentRecipients.insert(r);
      for (const o of data.offers) vault.offers.insert(o);
      for (const v of data.verifications) vault.verifications.insert(v);
      for (const a of data.accountIds) vault.accountIds.insert(a);
      for (const t of data.things) vault.things.insert(t);
      for (const r of data.thingReceipts) vault.thingReceipts.insert(r);
      for (const a of data.attachments) restoreAttachment(vault, a, files);
      for (const c of data.serviceCases) vault.serviceCases.insert(c);
      for (const entry of data.seen) vault.seen.record(entry.messageId, entry.expiresAt);
    });
    return vault;
  } catch (err) {
    vault.close();
    removeVaultFiles(vault.path);
    if (isKithError(err) && err.code.startsWith('export.')) throw err;
    throw new ExportError('export.corrupted', 'The export could not be restored', { cause: err });
  }
}

/** Her own documents come back whatever the limits (the export is hers); their types and hashes are checked still. */
const NO_LIMITS = { maxFileBytes: Number.POSITIVE_INFINITY, maxTotalBytes: Number.POSITIVE_INFINITY };

/**
 * Where an import reads the files of documents that are not inline (exportFiles.ts: beside a plain
 * export, or sealed beside a version 10 one), one at a time.
 */
export interface ExportFileSource {
  /** A document's bytes. @throws ExportError `export.corrupted` when its file is missing or does not decrypt. */
  read(attachment: ExportedAttachment): Buffer;
}

function restoreAttachment(vault: Vault, attachment: ExportedAttachment, files?: ExportFileSource): void {
  const { content, file, sha256, size, ...record } = attachment;
  let bytes: Buffer;
  if (content !== undefined) bytes = Buffer.from(content, 'base64');
  else if (file !== undefined && files !== undefined) bytes = files.read(attachment);
  else throw new ExportError('export.corrupted', 'A document’s file is not in the export: import a plain export with its files beside it (`kith import`)', { details: { id: attachment.id } });
  // Checked before it is kept: a file that differs from its record never reaches the vault.
  if (bytes.byteLength !== size || createHash('sha256').update(bytes).digest('hex') !== sha256) {
    throw new ExportError('export.corrupted', 'A document’s file differs from its record (size or SHA-256)', { details: { id: attachment.id } });
  }
  vault.attachments.insert({ ...record, bytes }, NO_LIMITS);
}

/** Every profile value belongs to a persona the export has (an older export's all to the first). */
function checkPersonas(doc: ExportDocument): void {
  const known = new Set(doc.personas.length > 0 ? doc.personas.map((p) => p.id) : [FIRST_PERSONA_ID]);
  const orphans = doc.profile.fields.filter((f) => !known.has(f.persona)).map((f) => f.field);
  if (orphans.length > 0) {
    throw new ExportError('export.corrupted', 'A profile value belongs to a persona the export does not have', { details: { fields: orphans } });
  }
}

/**
 * A profile field must not be newer than the newest logged change: the next change would reuse a
 * version a company may already hold. (Foreign keys and the repositories check the other references.)
 */
function checkProfileVersions(doc: ExportDocument): void {
  const newest = doc.profile.changes.reduce((max, c) => Math.max(max, c.version), 0);
  const ahead = doc.profile.fields.filter((f) => f.version > newest).map((f) => f.version);
  if (ahead.length > 0) {
    throw new ExportError('export.corrupted', 'A profile field is newer than every logged profile change', {
      details: { versions: ahead, newest },
    });
  }
}

/**
 * An intent's accepted offer must be one of its offers. (The intent repository cannot check this on
 * insert: intents are restored before their offers.)
 */
function checkAcceptedOffers(doc: ExportDocument): void {
  const offers = new Map(doc.offers.map((o) => [o.id, o.intentId]));
  const dangling = doc.intents.filter((i) => i.acceptedOfferId !== null && offers.get(i.acceptedOfferId) !== i.id).map((i) => i.id);
  if (dangling.length > 0) {
    throw new ExportError('export.corrupted', 'An intent names an accepted offer that is not one of its offers', {
      details: { intents: dangling },
    });
  }
}
