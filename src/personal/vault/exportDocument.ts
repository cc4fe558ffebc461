import { z } from 'zod';
import { ExportError } from '../../core/errors.js';
import { describeZodIssues } from '../../core/json.js';
import { agreementEntrySchema } from './agreementRepo.js';
import { consentRecordSchema } from './consentRepo.js';
import { credentialRecordSchema } from './credentialRepo.js';
import { deliveryRecordSchema } from './deliveryRepo.js';
import { disclosedFieldSchema } from './disclosedFieldRepo.js';
import { disclosureRequestRecordSchema } from './disclosureRequestRepo.js';
import { intentRecipientRecordSchema } from './intentRecipientRepo.js';
import { intentRecordSchema } from './intentRepo.js';
import { jsonValueSchema } from './json.js';
import { keyRecordSchema } from './keyRepo.js';
import { messageRecordSchema } from './messageRepo.js';
import { offerRecordSchema } from './offerRepo.js';
import { outboxRecordSchema } from './outboxRepo.js';
import { personaRecordSchema } from './personaRepo.js';
import { profileChangeSchema, profileFieldSchema } from './profileRepo.js';
import { receiptRecordSchema } from './receiptRepo.js';
import { relationshipRecordSchema } from './relationshipRepo.js';
import { seenEntrySchema } from './seenRepo.js';
import { verificationRecordSchema } from './verificationRepo.js';
import { accountIdRecordSchema } from './accountIdRepo.js';
import { thingRecordSchema } from './thingRepo.js';
import { attachmentRecordSchema } from './attachmentRepo.js';
import { serviceCaseRecordSchema } from './serviceCaseRepo.js';
import { thingReceiptRecordSchema } from './thingReceiptRepo.js';

/** The plain export document (docs/protocol/export-format.md). */
export const EXPORT_FORMAT = 'kith-export';
/** The version written. */
export const EXPORT_VERSION = 10;
/** Every version read (older ones are upgraded on reading: their missing sections are empty). */
export const EXPORT_READABLE_VERSIONS: readonly number[] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
/** `cty` of the JWE that seals an export: how an encrypted export is recognised as ours. */
export const EXPORT_CONTENT_TYPE = 'application/vnd.kith.export+json';

/** The sections of version 1 (schema version 1 of the vault). */
const v1Sections = {
  format: z.literal(EXPORT_FORMAT),
  exportedAt: z.iso.datetime(),
  relationships: z.array(relationshipRecordSchema),
  keys: z.array(keyRecordSchema),
  messages: z.array(messageRecordSchema),
  receipts: z.array(receiptRecordSchema),
  outbox: z.array(outboxRecordSchema),
  settings: z.record(z.string(), jsonValueSchema),
};

/** Version 1 documents, still read (and upgraded by {@link upgradeExportDocument}). */
export const exportDocumentV1Schema = z.object({ ...v1Sections, version: z.literal(1) });
export type ExportDocumentV1 = z.infer<typeof exportDocumentV1Schema>;

/** The sections version 2 added (schema version 2 of the vault). */
const v2Sections = {
  profile: z.object({
    /** Ordered by field name. */
    fields: z.array(profileFieldSchema),
    /** Oldest version first. */
    changes: z.array(profileChangeSchema),
  }),
  deliveries: z.array(deliveryRecordSchema),
  disclosureRequests: z.array(disclosureRequestRecordSchema),
  consentRecords: z.array(consentRecordSchema),
  disclosedFields: z.array(disclosedFieldSchema),
  credentials: z.array(credentialRecordSchema),
};

/** Version 2 documents, still read (and upgraded by {@link upgradeExportDocument}). */
export const exportDocumentV2Schema = z.object({ ...v1Sections, ...v2Sections, version: z.literal(2) });
export type ExportDocumentV2 = z.infer<typeof exportDocumentV2Schema>;

/** The section version 3 added (schema version 3 of the vault): her terms agreement records. */
const v3Sections = {
  /** Oldest first. */
  agreements: z.array(agreementEntrySchema),
};

/** Version 3 documents, still read (and upgraded by {@link upgradeExportDocument}). */
export const exportDocumentV3Schema = z.object({ ...v1Sections, ...v2Sections, ...v3Sections, version: z.literal(3) });
export type ExportDocumentV3 = z.infer<typeof exportDocumentV3Schema>;

/** The sections version 4 added (schema version 4 of the vault): her intents, their recipients and the offers. */
const v4Sections = {
  /** Oldest first. */
  intents: z.array(intentRecordSchema),
  /** Oldest first. */
  intentRecipients: z.array(intentRecipientRecordSchema),
  /** By `createdAt`, then id. */
  offers: z.array(offerRecordSchema),
};

/** Version 4 documents, still read (and upgraded by {@link upgradeExportDocument}). */
export const exportDocumentV4Schema = z.object({ ...v1Sections, ...v2Sections, ...v3Sections, ...v4Sections, version: z.literal(4) });
export type ExportDocumentV4 = z.infer<typeof exportDocumentV4Schema>;

/** The section version 5 added (schema version 5 of the vault): the caller verifications companies asked her for. */
const v5Sections = {
  /** Oldest first. */
  verifications: z.array(verificationRecordSchema),
};

/** Version 5 documents, still read (and upgraded by {@link upgradeExportDocument}). */
export const exportDocumentV5Schema = z.object({ ...v1Sections, ...v2Sections, ...v3Sections, ...v4Sections, ...v5Sections, version: z.literal(5) });
export type ExportDocumentV5 = z.infer<typeof exportDocumentV5Schema>;

/**
 * A path relative to the export file's directory, to a document's file written beside the export:
 * `<export>.files/<document id>` beside a plain export, `<export>.files/<document id>.jwe` (a
 * compact JWE under the export's `filesKey`, version 10) beside a sealed one. No absolute path, no
 * `..`, so an export cannot make an import read files elsewhere.
 */
export const exportFileRefSchema = z
  .string()
  .min(1)
  .max(300)
  .regex(/^[^/\\\u0000-\u001f]+\.files\/[0-9a-f-]{36}(\.jwe)?$/, 'a relative path <export file name>.files/<document id>[.jwe]');

/**
 * A document in an export: its record and either its file inline (`content`, base64: a sealed
 * export, or one over the API) or where its file is beside a plain export (`file`).
 */
export const exportedAttachmentSchema = attachmentRecordSchema
  .extend({ content: z.base64().optional(), file: exportFileRefSchema.optional() })
  .refine((a) => (a.content === undefined) !== (a.file === undefined), { message: 'a document has its content or its file, one of them' });
export type ExportedAttachment = z.infer<typeof exportedAttachmentSchema>;

/**
 * The sections version 6 added: schema version 6 added her things and their documents, schema
 * version 7 the administrative identities each company knows her by, and schema version 8 keeps
 * the replay cache's ids, so they travel too.
 */
const v6Sections = {
  /** Oldest first: the company's identifiers with their signed list as proof, and hers. */
  accountIds: z.array(accountIdRecordSchema),
  /** Oldest first, each with its links (and, since the thing family, its proof of purchase, registrations and recalls). */
  things: z.array(thingRecordSchema),
  /** Oldest first. */
  attachments: z.array(exportedAttachmentSchema),
  /** The replay cache: DIDComm message ids already accepted and until when, soonest to expire first. */
  seen: z.array(seenEntrySchema).max(1_000_000),
};

/**
 * Only in a salvage export (`kith export --salvage`): the records left out because they did not
 * open, by table and row id. Absent from a normal export, which has none to leave out.
 */
const skippedSchema = z.array(z.object({ table: z.string().min(1), id: z.string().min(1) })).optional();

/** Version 6 documents, still read (and upgraded by {@link upgradeExportDocument}). */
export const exportDocumentV6Schema = z.object({ ...v1Sections, ...v2Sections, ...v3Sections, ...v4Sections, ...v5Sections, ...v6Sections, version: z.literal(6), skipped: skippedSchema });
export type ExportDocumentV6 = z.infer<typeof exportDocumentV6Schema>;

/**
 * The section version 7 added (schema version 9): her personas; each profile field and change names
 * its persona, each relationship the persona it uses.
 */
const v7Sections = {
  /** Oldest first. Empty in an upgraded older export: everything there belongs to the first persona. */
  personas: z.array(personaRecordSchema).max(1000),
};

/** Version 7 documents, still read (and upgraded by {@link upgradeExportDocument}). */
export const exportDocumentV7Schema = z.object({ ...v1Sections, ...v2Sections, ...v3Sections, ...v4Sections, ...v5Sections, ...v6Sections, ...v7Sections, version: z.literal(7), skipped: skippedSchema });
export type ExportDocumentV7 = z.infer<typeof exportDocumentV7Schema>;

/** The section version 8 added (schema version 10): the signed receipts sellers sent her, pending or answered (docs/protocol/thing.md). */
const v8Sections = {
  /** Oldest first: the signed receipts sellers sent her, each as received, with her answer. */
  thingReceipts: z.array(thingReceiptRecordSchema),
};

/** Version 8 documents, still read (and upgraded by {@link upgradeExportDocument}). */
export const exportDocumentV8Schema = z.object({ ...v1Sections, ...v2Sections, ...v3Sections, ...v4Sections, ...v5Sections, ...v6Sections, ...v7Sections, ...v8Sections, version: z.literal(8), skipped: skippedSchema });
export type ExportDocumentV8 = z.infer<typeof exportDocumentV8Schema>;

/** The section version 9 added (schema version 11): the service cases she opened about her things, each with its thread (docs/protocol/service.md). */
const v9Sections = {
  /** Oldest first, each with its thread (docs/protocol/service.md). */
  serviceCases: z.array(serviceCaseRecordSchema),
};

/** Version 9 documents, still read (a sealed one with its documents inline; upgraded by {@link upgradeExportDocument}). */
export const exportDocumentV9Schema = z.object({ ...v1Sections, ...v2Sections, ...v3Sections, ...v4Sections, ...v5Sections, ...v6Sections, ...v7Sections, ...v8Sections, ...v9Sections, version: z.literal(9), skipped: skippedSchema });
export type ExportDocumentV9 = z.infer<typeof exportDocumentV9Schema>;

/** A 256-bit AES key, base64url without padding (43 characters). */
export const exportFilesKeySchema = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'a 256-bit key, base64url');

/**
 * The current document (version 10: a sealed export's documents are files beside it, each a
 * compact JWE, `dir` + A256GCM, under `filesKey`, which travels inside the sealed document; ADR
 * 0025). `filesKey` is present only in a sealed export whose documents are such files.
 */
export const exportDocumentSchema = z.object({
  ...v1Sections,
  ...v2Sections,
  ...v3Sections,
  ...v4Sections,
  ...v5Sections,
  ...v6Sections,
  ...v7Sections,
  ...v8Sections,
  ...v9Sections,
  version: z.literal(EXPORT_VERSION),
  skipped: skippedSchema,
  filesKey: exportFilesKeySchema.optional(),
});
export type ExportDocument = z.infer<typeof exportDocumentSchema>;

/** Any readable version, told apart by `version`. */
export const anyExportDocumentSchema = z.discriminatedUnion('version', [exportDocumentV1Schema, exportDocumentV2Schema, exportDocumentV3Schema, exportDocumentV4Schema, exportDocumentV5Schema, exportDocumentV6Schema, exportDocumentV7Schema, exportDocumentV8Schema, exportDocumentV9Schema, exportDocumentSchema]);
export type AnyExportDocument = z.infer<typeof anyExportDocumentSchema>;

/** An older document as the current version: the sections it did not have are empty. */
export function upgradeExportDocument(doc: AnyExportDocument): ExportDocument {
  switch (doc.version) {
    case EXPORT_VERSION:
      return doc;
    case 9:
      return { ...doc, version: EXPORT_VERSION };
    case 8:
      return upgradeExportDocument({ ...doc, version: 9, serviceCases: [] });
    case 7:
      return upgradeExportDocument({ ...doc, version: 8, thingReceipts: [] });
    case 6:
      return upgradeExportDocument({ ...doc, version: 7, personas: [] });
    case 5:
      return upgradeExportDocument({ ...doc, version: 6, accountIds: [], things: [], attachments: [], seen: [] });
    case 4:
      return upgradeExportDocument({ ...doc, version: 5, verifications: [] });
    case 3:
      return upgradeExportDocument({ ...doc, version: 4, intents: [], intentRecipients: [], offers: [] });
    case 2:
      return upgradeExportDocument({ ...doc, version: 3, agreements: [] });
    case 1:
      return upgradeExportDocument({
        ...doc,
        version: 2,
        profile: { fields: [], changes: [] },
        deliveries: [],
        disclosureRequests: [],
        consentRecords: [],
        disclosedFields: [],
        credentials: [],
      });
  }
}

/**
 * Checks a parsed JSON value, in order: is it ours at all, is it a version we read, is it valid.
 * Older versions come back upgraded to the current one.
 * @throws ExportError `export.foreign` if `format` is not 'kith-export', `export.unsupported_version`
 * for a version number we do not read, `export.corrupted` if it does not match the schema.
 */
export function parseExportDocument(value: unknown): ExportDocument {
  if (typeof value !== 'object' || value === null || (value as { format?: unknown }).format !== EXPORT_FORMAT) {
    throw new ExportError('export.foreign', 'This is not a Kith export');
  }
  const version = (value as { version?: unknown }).version;
  if (typeof version === 'number' && !EXPORT_READABLE_VERSIONS.includes(version)) {
    throw new ExportError('export.unsupported_version', 'This Kith export version is not supported', {
      details: { version, supported: [...EXPORT_READABLE_VERSIONS] },
    });
  }
  const parsed = anyExportDocumentSchema.safeParse(value);
  if (!parsed.success) {
    throw new ExportError('export.corrupted', 'The export does not match its format', {
      details: { issues: describeZodIssues(parsed.error) },
    });
  }
  return upgradeExportDocument(parsed.data);
}
