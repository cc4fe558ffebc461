import { z } from 'zod';
import type { VaultContext } from './context.js';
import { countRowSchema, fieldNameSchema, jsonValueSchema, profileVersionSchema, recordIdSchema, timestampSchema } from './json.js';
import { FIRST_PERSONA_ID } from './personaRepo.js';

const FIELDS = 'profile_fields';
const CHANGES = 'profile_changes';
/** Blind-index scope of `profile_fields.field_idx`; the row id in the AAD is that index. */
const FIELD_SCOPE = 'profile_fields.field';

/** A stored value is any JSON value except null: null in a change means "removed". */
const storedValueSchema = jsonValueSchema.refine((v): boolean => v !== null, { message: 'null means the field is removed' });

/**
 * The encrypted part of a profile field: its name (the column only holds a blind index), value and
 * persona (absent: the first persona, as every field written before personas existed).
 */
export const profileFieldDataSchema = z.object({
  field: fieldNameSchema,
  value: storedValueSchema,
  persona: recordIdSchema.optional(),
});

/** One field of her profile, with the profile version that last set it. */
export const profileFieldSchema = profileFieldDataSchema.extend({
  /** Absent in exports older than format 7: the first persona. */
  persona: recordIdSchema.default(FIRST_PERSONA_ID),
  version: profileVersionSchema,
  updatedAt: timestampSchema,
});
export type ProfileField = z.infer<typeof profileFieldSchema>;

/** The values set by one change (null = removed); at least one field. */
const changedFieldsSchema = z
  .record(fieldNameSchema, jsonValueSchema)
  .refine((fields) => Object.keys(fields).length > 0, { message: 'a change sets at least one field' });

/**
 * The encrypted part of a profile change: the persona whose values changed (absent: the first), and
 * for a relationship moved to another persona, that relationship (its values are the new
 * persona's; nothing in her profile changed, only what that one company is owed).
 */
export const profileChangeDataSchema = z.object({
  fields: changedFieldsSchema,
  persona: recordIdSchema.optional(),
  moved: z.object({ relationshipId: recordIdSchema }).optional(),
});

/** One version of her profile: what changed, and when. */
export const profileChangeSchema = profileChangeDataSchema.extend({
  /** Absent in exports older than format 7: the first persona. */
  persona: recordIdSchema.default(FIRST_PERSONA_ID),
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
 * The blind-indexed key of one persona's field. The first persona's fields keep the bare name they
 * had before personas existed, so an upgraded vault rewrites nothing; another persona's include its id.
 */
function fieldKey(persona: string, field: string): string {
  return persona === FIRST_PERSONA_ID ? field : `${persona}:${field}`;
}

/**
 * Her profiles, one per persona: the current value of each field, and a log of versioned changes.
 * One version counter covers every persona (docs/decisions/0009-profile-fan-out.md, 0022-personas.md),
 * so a relationship moved from one persona to another still only ever sees its version grow.
 */
export class ProfileRepo {
  readonly #ctx: VaultContext;

  constructor(ctx: VaultContext) {
    this.#ctx = ctx;
  }

  #toField(raw: unknown): ProfileField {
    const row = this.#ctx.row(FIELDS, fieldRowSchema, raw);
    const data = this.#ctx.open(FIELDS, row.field_idx, profileFieldDataSchema, row.data);
    return { field: data.field, value: data.value, persona: data.persona ?? FIRST_PERSONA_ID, version: row.version, updatedAt: row.updated_at };
  }

  #toChange(raw: unknown): ProfileChange {
    const row = this.#ctx.row(CHANGES, changeRowSchema, raw);
    const data = this.#ctx.open(CHANGES, String(row.version), profileChangeDataSchema, row.data);
    return {
      version: row.version,
      fields: data.fields,
      persona: data.persona ?? FIRST_PERSONA_ID,
      ...(data.moved ? { moved: data.moved } : {}),
      createdAt: row.created_at,
    };
  }

  /** @returns the persona's current value of the field, or undefined if it has none. */
  get(field: string, persona: string = FIRST_PERSONA_ID): ProfileField | undefined {
    const raw = this.#ctx.stmt(`${SELECT_FIELD} WHERE field_idx = ?`).get(this.#ctx.index(FIELD_SCOPE, fieldKey(persona, field)));
    const record = raw === undefined ? undefined : this.#toField(raw);
    return record?.field === field && record.persona === persona ? record : undefined;
  }

  /** Every field the persona has a value for, ordered by field name (code unit order). */
  all(persona: string = FIRST_PERSONA_ID): ProfileField[] {
    return this.everyPersona().filter((f) => f.persona === persona);
  }

  /** Every field of every persona (export), ordered by field name. */
  everyPersona(): ProfileField[] {
    return this.#ctx
      .stmt(SELECT_FIELD)
      .all()
      .flatMap((raw) => this.#ctx.readable(() => this.#toField(raw)))
      .sort((a, b) => (a.field < b.field ? -1 : a.field > b.field ? 1 : 0));
  }

  /** Deletes every value of a persona (one being removed); its logged changes stay as history. */
  forgetPersona(persona: string): number {
    const keys = this.all(persona).map((f) => this.#ctx.index(FIELD_SCOPE, fieldKey(persona, f.field)));
    const remove = this.#ctx.stmt('DELETE FROM profile_fields WHERE field_idx = ?');
    return this.#ctx.write(FIELDS, () => keys.reduce((n, key) => n + remove.run(key).changes, 0));
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
   * @param persona whose profile changes (the first persona by default).
   * @returns the new version.
   * @throws VaultError `vault.corrupt` if `fields` is empty, a name is empty or a value is not JSON
   * (nothing is written).
   */
  applyChange(fields: Record<string, unknown | null>, at: number = this.#ctx.clock.now(), persona: string = FIRST_PERSONA_ID): number {
    const change = this.#ctx.check(CHANGES, profileChangeDataSchema, { fields, persona });
    const when = this.#ctx.check(CHANGES, timestampSchema, at);
    return this.#ctx.db.transaction(() => {
      const version = this.currentVersion() + 1;
      for (const [field, value] of Object.entries(change.fields)) {
        if (value === null) {
          this.#ctx.stmt('DELETE FROM profile_fields WHERE field_idx = ?').run(this.#ctx.index(FIELD_SCOPE, fieldKey(persona, field)));
        } else {
          this.#writeField({ field, value, persona, version, updatedAt: when }, true);
        }
      }
      this.#writeChange({ version, fields: change.fields, persona, createdAt: when });
      return version;
    })();
  }

  /**
   * Logs a version for one relationship moved to another persona: `fields` are what that company is
   * now owed (the new persona's values; null where the new persona has none, to be withdrawn).
   * Nothing in her profiles changes.
   * @returns the new version.
   */
  logMove(relationshipId: string, persona: string, fields: Record<string, unknown | null>, at: number = this.#ctx.clock.now()): number {
    const change = this.#ctx.check(CHANGES, profileChangeDataSchema, { fields, persona, moved: { relationshipId } });
    return this.#ctx.db.transaction(() => {
      const version = this.currentVersion() + 1;
      this.#writeChange({ version, fields: change.fields, persona, moved: { relationshipId }, createdAt: at });
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
  restoreField(record: z.input<typeof profileFieldSchema>): void {
    this.#writeField(this.#ctx.check(FIELDS, profileFieldSchema, record), false);
  }

  /**
   * Import: stores a logged change exactly as exported.
   * @throws VaultError `vault.corrupt` for an invalid record, `vault.conflict` if the version is taken.
   */
  restoreChange(change: z.input<typeof profileChangeSchema>): void {
    this.#writeChange(this.#ctx.check(CHANGES, profileChangeSchema, change));
  }

  #writeField(record: ProfileField, upsert: boolean): void {
    const idx = this.#ctx.index(FIELD_SCOPE, fieldKey(record.persona, record.field));
    // The first persona's blobs stay as they were before personas: no persona inside.
    const data = record.persona === FIRST_PERSONA_ID ? { field: record.field, value: record.value } : { field: record.field, value: record.value, persona: record.persona };
    const blob = this.#ctx.seal(FIELDS, idx, profileFieldDataSchema, data);
    const sql = upsert
      ? `INSERT INTO profile_fields (field_idx, version, updated_at, data) VALUES (?, ?, ?, ?)
         ON CONFLICT (field_idx) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at, data = excluded.data`
      : 'INSERT INTO profile_fields (field_idx, version, updated_at, data) VALUES (?, ?, ?, ?)';
    this.#ctx.write(FIELDS, () => this.#ctx.stmt(sql).run(idx, record.version, record.updatedAt, blob));
  }

  #writeChange(change: ProfileChange): void {
    const data = {
      fields: change.fields,
      ...(change.persona === FIRST_PERSONA_ID ? {} : { persona: change.persona }),
      ...(change.moved ? { moved: change.moved } : {}),
    };
    const blob = this.#ctx.seal(CHANGES, String(change.version), profileChangeDataSchema, data);
    this.#ctx.write(CHANGES, () =>
      this.#ctx.stmt('INSERT INTO profile_changes (version, created_at, data) VALUES (?, ?, ?)').run(change.version, change.createdAt, blob),
    );
  }
}
