import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ThingError, VaultError } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import { attachmentKindSchema } from '../../protocol/things/fields.js';
import { ATTACHMENT_MEDIA_TYPES, isAttachmentMediaType, matchesMediaType, type AttachmentMediaType } from '../../protocol/things/media.js';
import { KeptRead, type VaultContext } from './context.js';
import { countRowSchema, recordIdSchema, timestampSchema } from './json.js';

const TABLE = 'thing_attachments';
/** The content blob's own scope, so the metadata blob and the file of one row cannot be swapped. */
const CONTENT_SCOPE = 'thing_attachments.content';

/** How large her documents may be: one file, and all of them together. */
export interface AttachmentLimits {
  maxFileBytes: number;
  maxTotalBytes: number;
}

/** 10 MiB a file (a scanned receipt, a phone photo, a manual), 1 GiB in all: the vault is one SQLite file she backs up. */
export const DEFAULT_ATTACHMENT_LIMITS: Readonly<AttachmentLimits> = { maxFileBytes: 10 * 1024 * 1024, maxTotalBytes: 1024 * 1024 * 1024 };

/** A file name as she gave it, reduced to what is safe in a Content-Disposition header and on any disk. */
export const fileNameSchema = z
  .string()
  .min(1)
  .max(200)
  .refine((name) => !/[\u0000-\u001f\u007f/\\]/.test(name) && name !== '.' && name !== '..', { message: 'a file name without path separators or control characters' });

/** The encrypted metadata of a document. */
export const attachmentDataSchema = z.strictObject({
  fileName: fileNameSchema,
  contentType: z.enum(ATTACHMENT_MEDIA_TYPES as [AttachmentMediaType, ...AttachmentMediaType[]]),
  /** SHA-256 of the content, hex: what an export's files are checked against. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type AttachmentData = z.infer<typeof attachmentDataSchema>;

export const attachmentRecordSchema = attachmentDataSchema.extend({
  id: recordIdSchema,
  thingId: recordIdSchema,
  kind: attachmentKindSchema,
  size: z.number().int().nonnegative(),
  createdAt: timestampSchema,
});
export type AttachmentRecord = z.infer<typeof attachmentRecordSchema>;

export interface NewAttachment {
  thingId: string;
  kind: z.infer<typeof attachmentKindSchema>;
  fileName: string;
  /** The type it claims; its first bytes must agree. */
  contentType: string;
  bytes: Uint8Array;
  id?: string;
  createdAt?: number;
}

const rowSchema = z.object({
  id: recordIdSchema,
  thing_id: recordIdSchema,
  kind: attachmentKindSchema,
  size: z.number().int().nonnegative(),
  created_at: timestampSchema,
  data: z.instanceof(Buffer),
});

const SELECT = 'SELECT id, thing_id, kind, size, created_at, data FROM thing_attachments';

/** The documents she keeps with her things, each file encrypted in its own row. */
export class AttachmentRepo {
  readonly #ctx: VaultContext;
  readonly #kept: KeptRead<readonly AttachmentRecord[]>;
  readonly #limits: AttachmentLimits;

  constructor(ctx: VaultContext, limits: AttachmentLimits = DEFAULT_ATTACHMENT_LIMITS) {
    this.#ctx = ctx;
    this.#kept = new KeptRead(ctx);
    this.#limits = limits;
  }

  get limits(): Readonly<AttachmentLimits> {
    return this.#limits;
  }

  #toRecord(raw: unknown): AttachmentRecord {
    const row = this.#ctx.row(TABLE, rowSchema, raw);
    const data = this.#ctx.open(TABLE, row.id, attachmentDataSchema, row.data);
    return { ...data, id: row.id, thingId: row.thing_id, kind: row.kind, size: row.size, createdAt: row.created_at };
  }

  /**
   * Keeps a document, after checking, in this order, its type (one Kith takes, and what its first
   * bytes say it is), its size, and the room left; then the thing.
   * @throws ThingError `thing.attachment_type_unsupported`, `thing.attachment_type_mismatch`,
   * `thing.attachment_too_large`, `thing.attachments_full`, `thing.unknown`; VaultError
   * `vault.corrupt` for a bad file name or kind, `vault.conflict` for a taken id. Nothing is written on any of them.
   */
  insert(input: NewAttachment, limits: AttachmentLimits = this.#limits): AttachmentRecord {
    const { bytes, contentType } = input;
    if (!isAttachmentMediaType(contentType)) {
      throw new ThingError('thing.attachment_type_unsupported', `Documents may be ${ATTACHMENT_MEDIA_TYPES.join(', ')}`, { details: { accepted: ATTACHMENT_MEDIA_TYPES } });
    }
    if (!matchesMediaType(contentType, bytes)) {
      throw new ThingError('thing.attachment_type_mismatch', `The file is not ${contentType}: its first bytes say otherwise`, { details: { claimed: contentType } });
    }
    if (bytes.byteLength > limits.maxFileBytes) {
      throw new ThingError('thing.attachment_too_large', `A document may be at most ${limits.maxFileBytes} bytes`, { details: { size: bytes.byteLength, limit: limits.maxFileBytes } });
    }
    const now = this.#ctx.clock.now();
    const { id = newId(), createdAt = now } = input;
    const record = this.#ctx.check(TABLE, attachmentRecordSchema, {
      id,
      thingId: input.thingId,
      kind: input.kind,
      fileName: input.fileName,
      contentType,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      size: bytes.byteLength,
      createdAt,
    });
    const data = this.#ctx.seal(TABLE, id, attachmentDataSchema, { fileName: record.fileName, contentType: record.contentType, sha256: record.sha256 });
    const content = this.#ctx.sealBytes(CONTENT_SCOPE, id, bytes);
    this.#ctx.write(TABLE, () =>
      this.#ctx.db.transaction(() => {
        // Inside the transaction, so two documents added at once cannot both squeeze past the limit.
        const used = this.totalBytes();
        if (used + bytes.byteLength > limits.maxTotalBytes) {
          throw new ThingError('thing.attachments_full', `Your documents may take at most ${limits.maxTotalBytes} bytes in all`, { details: { used, size: bytes.byteLength, limit: limits.maxTotalBytes } });
        }
        if (this.#ctx.stmt('SELECT 1 FROM things WHERE id = ?').get(record.thingId) === undefined) throw new ThingError('thing.unknown', 'No such thing');
        this.#ctx
          .stmt('INSERT INTO thing_attachments (id, thing_id, kind, size, created_at, data, content) VALUES (?, ?, ?, ?, ?, ?, ?)')
          .run(id, record.thingId, record.kind, record.size, createdAt, data, content);
      })(),
    );
    return record;
  }

  /** The bytes all her documents take. */
  totalBytes(): number {
    return countRowSchema.parse(this.#ctx.stmt('SELECT coalesce(sum(size), 0) AS n FROM thing_attachments').get()).n;
  }

  get(id: string): AttachmentRecord | undefined {
    const raw = this.#ctx.stmt(`${SELECT} WHERE id = ?`).get(id);
    return raw === undefined ? undefined : this.#toRecord(raw);
  }

  /**
   * Oldest first; all, or one thing's. Metadata only: the files are read one at a time with
   * {@link content}. The whole list is kept between calls like ThingRepo's (rebuilt once the vault
   * changed, never kept from inside a transaction; records frozen).
   */
  list(thingId?: string): AttachmentRecord[] {
    if (thingId !== undefined) {
      const rows = this.#ctx.stmt(`${SELECT} WHERE thing_id = ? ORDER BY created_at, rowid`).all(thingId);
      return rows.flatMap((raw) => this.#ctx.readable(() => this.#toRecord(raw)));
    }
    return [
      ...this.#kept.get((): readonly AttachmentRecord[] =>
        this.#ctx
          .stmt(`${SELECT} ORDER BY created_at, rowid`)
          .all()
          .flatMap((raw) => this.#ctx.readable(() => Object.freeze(this.#toRecord(raw)))),
      ),
    ];
  }

  /**
   * A document's file, decrypted and checked against its recorded hash.
   * @returns undefined when there is no such document.
   * @throws VaultError `vault.corrupt` if the file does not decrypt or its hash differs.
   */
  content(id: string): Buffer | undefined {
    const record = this.get(id);
    if (record === undefined) return undefined;
    const raw = this.#ctx.stmt('SELECT content FROM thing_attachments WHERE id = ?').get(id);
    const { content } = this.#ctx.row(TABLE, z.object({ content: z.instanceof(Buffer) }), raw);
    const bytes = this.#ctx.openBytes(CONTENT_SCOPE, id, content);
    if (createHash('sha256').update(bytes).digest('hex') !== record.sha256) {
      // AES-GCM already proved the bytes are the ones written for this row; a differing hash means
      // the metadata and the file disagree, which only a bug or tampering with the key could cause.
      throw new VaultError('vault.corrupt', 'A document does not match its recorded hash', { details: { table: TABLE, id } });
    }
    return bytes;
  }

  /**
   * Every document with its file, oldest first, for the export. In a salvage pass a document whose
   * metadata or file does not open is left out and named (context.readable).
   */
  listWithContent(): (AttachmentRecord & { content: Buffer })[] {
    const rows = this.#ctx.stmt('SELECT id, thing_id, kind, size, created_at, data, content FROM thing_attachments ORDER BY created_at, rowid').all();
    return rows.flatMap((raw) =>
      this.#ctx.readable(() => {
        const record = this.#toRecord(raw);
        const { content } = this.#ctx.row(TABLE, z.object({ content: z.instanceof(Buffer) }), raw);
        const bytes = this.#ctx.openBytes(CONTENT_SCOPE, record.id, content);
        if (createHash('sha256').update(bytes).digest('hex') !== record.sha256) {
          throw new VaultError('vault.corrupt', 'A document does not match its recorded hash', { details: { table: TABLE, id: record.id } });
        }
        return { ...record, content: bytes };
      }),
    );
  }

  /** @returns false if there was no such document. Its file is scrubbed from the WAL. */
  remove(id: string): boolean {
    const removed = this.#ctx.write(TABLE, () => this.#ctx.stmt('DELETE FROM thing_attachments WHERE id = ?').run(id).changes > 0);
    if (removed) this.#ctx.scrubWal();
    return removed;
  }
}
