import { z } from 'zod';
import type { VaultContext } from './context.js';
import { countRowSchema, fieldNameSchema, jsonValueSchema, profileVersionSchema, timestampSchema } from './json.js';

const FIELDS = 'profile_fields';
const CHANGES = 'profile_changes';
/** Blind-index scope of `profile_fields.field_idx`; the row id in the AAD is that index. */
const FIELD_SCOPE = 'profile_fields.field';

/** A stored value is any JSON value except null: null in a change means "removed". */
const storedValueSchema = jsonValueSchema.refine((v): boolean => v !== null, { message: 'null means the field is removed' });

/** The encrypted part of a profile field: its name (the column only holds a blind index) and value. */
export const profileFieldDataSchema = z.object({
  field: fieldNameSchema,
  value: storedValueSchema,
});

/** One field of her profile, with the profile version that last set it. */
export const profileFieldSchema = profileFieldDataSchema.extend({
  version: profileVersionSchema,
  updatedAt: timestampSchema,
});
export type ProfileField = z.infer<typeof profileFieldSchema>;

/** The values set by one change (null = removed); at least one field. */
const changedFieldsSchema = z
  .record(fieldNameSchema, jsonValueSchema)
  .refine((fields) => Object.keys(fields).length > 0, { message: 'a change sets at least one field' });

/** The encrypted part of a profile change. */
export const profileChangeDataSchema = z.object({ fields: changedFieldsSchema });

/** One version of her profile: what changed, and when. */
export const profileChangeSchema = profileChangeDataSchema.extend({
  version: profileVersionSchema,
  createdAt: timestampSchema,
});
export type ProfileChange = z.infer<typeof profileChangeSchema>;

const fieldRowSchema = z.object({
  field_idx: z.string(),
  version: profileVersionSchema,
  updated_at: timestampSchema,
  data: z.instanceof(Buffer),
});

const changeRowSchema = z.object({
  version: profileVersionSchema,
  created_at: timestampSchema,
  data: z.instanceof(Buffer),
});

const SELECT_FIELD = 'SELECT field_idx, version, updated_at, data FROM profile_fields';
const SELECT_CHANGE = 'SELECT version, created_at, data FROM profile_changes';

/**
 * Her profile: the current value of each field, and a log of versioned changes. One version
 * counter covers the whole profile (docs/decisions/0009-profile-fan-out.md).
 */
export class ProfileRepo {
  readonly #ctx: VaultContext;

  constructor(ctx: VaultContext) {
    this.#ctx = ctx;
  }

  #toField(raw: unknown): ProfileField {
    const row = this.#ctx.row(FIELDS, fieldRowSchema, raw);
    const data = this.#ctx.open(FIELDS, row.field_idx, profileFieldDataSchema, row.data);
    return { field: data.field, value: data.value, version: row.version, updatedAt: row.updated_at };
  }

  #toChange(raw: unknown): ProfileChange {
    const row = this.#ctx.row(CHANGES, changeRowSchema, raw);
    const data = this.#ctx.open(CHANGES, String(row.version), profileChangeDataSchema, row.data);
    return { version: row.version, fields: data.fields, createdAt: row.created_at };
  }

  /** @returns the field's current value, or undefined if she has none. */
  get(field: string): ProfileField | undefined {
    const raw = this.#ctx.stmt(`${SELECT_FIELD} WHERE field_idx = ?`).get(this.#ctx.index(FIELD_SCOPE, field));
    const record = raw === undefined ? undefined : this.#toField(raw);
    return record?.field === field ? record : undefined;
  }

  /** Every field she has a value for, ordered by field name (code unit order). */
  all(): ProfileField[] {
    return this.#ctx
      .stmt(SELECT_FIELD)
      .all()
      .flatMap((raw) => this.#ctx.readable(() => this.#toField(raw)))
      .sort((a, b) => (a.field < b.field ? -1 : a.field > b.field ? 1 : 0));
  }

  /** The newest profile version, 0 before the first change. */
  currentVersion(): number {
    return this.#ctx.row(CHANGES, countRowSchema, this.#ctx.stmt('SELECT coalesce(max(version), 0) AS n FROM profile_changes').get()).n;
  }

  /**
   * Applies one change in one transaction: the new version is {@link currentVersion} + 1, each
   * field is set (a null value deletes the field), and the change is logged under the new version.
   * Callers compare against the current values themselves: an unchanged value still makes a version.
   * @param at when the change was made (ms): the fields' `updatedAt` and the change's `createdAt`.
   * @returns the new version.
   * @throws VaultError `vault.corrupt` if `fields` is empty, a name is empty or a value is not JSON
   * (nothing is written).
   */
  applyChange(fields: Record<string, unknown | null>, at: number = this.#ctx.clock.now()): number {
    const change = this.#ctx.check(CHANGES, profileChangeDataSchema, { fields });
    const when = this.#ctx.check(CHANGES, timestampSchema, at);
    return this.#ctx.db.transaction(() => {
      const version = this.currentVersion() + 1;
      for (const [field, value] of Object.entries(change.fields)) {
        if (value === null) {
          this.#ctx.stmt('DELETE FROM profile_fields WHERE field_idx = ?').run(this.#ctx.index(FIELD_SCOPE, field));
        } else {
          this.#writeField({ field, value, version, updatedAt: when }, true);
        }
      }
      this.#writeChange({ version, fields: change.fields, createdAt: when });
      return version;
    })();
  }

  /** One logged change, or undefined if there is no such version. */
  change(version: number): ProfileChange | undefined {
    const raw = this.#ctx.stmt(`${SELECT_CHANGE} WHERE version = ?`).get(version);
    return raw === undefined ? undefined : this.#toChange(raw);
  }

  /** Logged changes, newest first; all of them unless `limit` is given. */
  changes(limit?: number): ProfileChange[] {
    const n = limit === undefined ? -1 : Math.max(0, Math.floor(limit));
    return this.#ctx
      .stmt(`${SELECT_CHANGE} ORDER BY version DESC LIMIT ?`)
      .all(n)
      .flatMap((raw) => this.#ctx.readable(() => this.#toChange(raw)));
  }

  /**
   * Import: stores a field exactly as exported (its version and time are kept).
   * @throws VaultError `vault.corrupt` for an invalid record, `vault.conflict` if the field is already set.
   */
  restoreField(record: ProfileField): void {
    this.#writeField(this.#ctx.check(FIELDS, profileFieldSchema, record), false);
  }

  /**
   * Import: stores a logged change exactly as exported.
   * @throws VaultError `vault.corrupt` for an invalid record, `vault.conflict` if the version is taken.
   */
  restoreChange(change: ProfileChange): void {
    this.#writeChange(this.#ctx.check(CHANGES, profileChangeSchema, change));
  }

  #writeField(record: ProfileField, upsert: boolean): void {
    const idx = this.#ctx.index(FIELD_SCOPE, record.field);
    const blob = this.#ctx.seal(FIELDS, idx, profileFieldDataSchema, { field: record.field, value: record.value });
    const sql = upsert
      ? `INSERT INTO profile_fields (field_idx, version, updated_at, data) VALUES (?, ?, ?, ?)
         ON CONFLICT (field_idx) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at, data = excluded.data`
      : 'INSERT INTO profile_fields (field_idx, version, updated_at, data) VALUES (?, ?, ?, ?)';
    this.#ctx.write(FIELDS, () => this.#ctx.stmt(sql).run(idx, record.version, record.updatedAt, blob));
  }

  #writeChange(change: ProfileChange): void {
    const blob = this.#ctx.seal(CHANGES, String(change.version), profileChangeDataSchema, { fields: change.fields });
    this.#ctx.write(CHANGES, () =>
      this.#ctx.stmt('INSERT INTO profile_changes (version, created_at, data) VALUES (?, ?, ?)').run(change.version, change.createdAt, blob),
    );
  }
}
