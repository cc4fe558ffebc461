import { z } from 'zod';
import { ExportError } from '../../core/errors.js';
import { describeZodIssues } from '../../core/json.js';
import { jsonValueSchema } from './json.js';
import { keyRecordSchema } from './keyRepo.js';
import { messageRecordSchema } from './messageRepo.js';
import { outboxRecordSchema } from './outboxRepo.js';
import { receiptRecordSchema } from './receiptRepo.js';
import { relationshipRecordSchema } from './relationshipRepo.js';

/** The plain export document (docs/protocol/export-format.md). */
export const EXPORT_FORMAT = 'kith-export';
export const EXPORT_VERSION = 1;
/** `cty` of the JWE that seals an export: how an encrypted export is recognised as ours. */
export const EXPORT_CONTENT_TYPE = 'application/vnd.kith.export+json';

export const exportDocumentSchema = z.object({
  format: z.literal(EXPORT_FORMAT),
  version: z.literal(EXPORT_VERSION),
  exportedAt: z.iso.datetime(),
  relationships: z.array(relationshipRecordSchema),
  keys: z.array(keyRecordSchema),
  messages: z.array(messageRecordSchema),
  receipts: z.array(receiptRecordSchema),
  outbox: z.array(outboxRecordSchema),
  settings: z.record(z.string(), jsonValueSchema),
});
export type ExportDocument = z.infer<typeof exportDocumentSchema>;

/**
 * Checks a parsed JSON value, in order: is it ours at all, is it a version we read, is it valid.
 * @throws ExportError `export.foreign` if `format` is not 'kith-export', `export.unsupported_version`
 * for another version number, `export.corrupted` if it does not match the schema.
 */
export function parseExportDocument(value: unknown): ExportDocument {
  if (typeof value !== 'object' || value === null || (value as { format?: unknown }).format !== EXPORT_FORMAT) {
    throw new ExportError('export.foreign', 'This is not a Kith export');
  }
  const version = (value as { version?: unknown }).version;
  if (typeof version === 'number' && version !== EXPORT_VERSION) {
    throw new ExportError('export.unsupported_version', 'This Kith export version is not supported', {
      details: { version, supported: EXPORT_VERSION },
    });
  }
  const parsed = exportDocumentSchema.safeParse(value);
  if (!parsed.success) {
    throw new ExportError('export.corrupted', 'The export does not match its format', {
      details: { issues: describeZodIssues(parsed.error) },
    });
  }
  return parsed.data;
}
