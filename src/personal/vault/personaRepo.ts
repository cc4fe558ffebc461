import { z } from 'zod';
import { PersonaError } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import type { VaultContext } from './context.js';
import { recordIdSchema, timestampSchema } from './json.js';

const TABLE = 'personas';
/** Blind-index scope of `label_idx`: the lower-cased label, unique. */
const LABEL_SCOPE = 'personas.label';

/**
 * The persona every vault starts with, and the one a pre-persona vault's profile, relationships and
 * changes belong to: records written before personas existed carry no persona id and mean this one.
 * A fixed id (not a secret: it names a row of her own vault, never sent) keeps the upgrade a
 * rewrite of nothing (docs/decisions/0022-personas.md).
 */
export const FIRST_PERSONA_ID = '00000000-0000-4000-8000-000000000001';
export const FIRST_PERSONA_LABEL = 'me';

/** Her name for a persona: one line, as she types it ("me", "work", "anonymous"). */
export const personaLabelSchema = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(40, 'must be at most 40 characters')
  .regex(/^[^\p{Cc}\p{Cf}]+$/u, 'must be one line without control characters');

/** The encrypted part. */
export const personaDataSchema = z.strictObject({
  label: personaLabelSchema,
  /** A nameless persona holds no name (name, given_name, family_name, nickname): she is anonymous there. */
  nameless: z.boolean(),
});
export type PersonaData = z.infer<typeof personaDataSchema>;

export const personaRecordSchema = personaDataSchema.extend({
  id: recordIdSchema,
  createdAt: timestampSchema,
  updatedAt: timestampSchema,
});
export type PersonaRecord = z.infer<typeof personaRecordSchema>;

const rowSchema = z.object({ id: recordIdSchema, created_at: timestampSchema, updated_at: timestampSchema, data: z.instanceof(Buffer) });
const SELECT = 'SELECT id, created_at, updated_at, data FROM personas';

/** Her personas. Their labels are sealed; a blind index of the lower-cased label keeps them unique. */
export class PersonaRepo {
  readonly #ctx: VaultContext;

  constructor(ctx: VaultContext) {
    this.#ctx = ctx;
  }

  #toRecord(raw: unknown): PersonaRecord {
    const row = this.#ctx.row(TABLE, rowSchema, raw);
    const data = this.#ctx.open(TABLE, row.id, personaDataSchema, row.data);
    return { id: row.id, ...data, createdAt: row.created_at, updatedAt: row.updated_at };
  }

  #labelIndex(label: string): string {
    return this.#ctx.index(LABEL_SCOPE, label.trim().toLowerCase());
  }

  /** Every persona, oldest first. */
  list(): PersonaRecord[] {
    return this.#ctx
      .stmt(`${SELECT} ORDER BY created_at, id`)
      .all()
      .flatMap((raw) => this.#ctx.readable(() => this.#toRecord(raw)));
  }

  get(id: string): PersonaRecord | undefined {
    const raw = this.#ctx.stmt(`${SELECT} WHERE id = ?`).get(id);
    return raw === undefined ? undefined : this.#toRecord(raw);
  }

  /** The persona with this label, compared without case. */
  findByLabel(label: string): PersonaRecord | undefined {
    const raw = this.#ctx.stmt(`${SELECT} WHERE label_idx = ?`).get(this.#labelIndex(label));
    const record = raw === undefined ? undefined : this.#toRecord(raw);
    return record !== undefined && record.label.toLowerCase() === label.trim().toLowerCase() ? record : undefined;
  }

  /**
   * @throws PersonaError `persona.label_taken`; VaultError `vault.corrupt` for an invalid label
   * (nothing is written).
   */
  insert(input: PersonaData & Partial<Pick<PersonaRecord, 'id' | 'createdAt' | 'updatedAt'>>): PersonaRecord {
    const now = this.#ctx.clock.now();
    const record = this.#ctx.check(TABLE, personaRecordSchema, {
      id: input.id ?? newId(),
      label: input.label,
      nameless: input.nameless,
      createdAt: input.createdAt ?? now,
      updatedAt: input.updatedAt ?? now,
    });
    this.#requireFreeLabel(record.label);
    const blob = this.#ctx.seal(TABLE, record.id, personaDataSchema, { label: record.label, nameless: record.nameless });
    this.#ctx.write(TABLE, () =>
      this.#ctx
        .stmt('INSERT INTO personas (id, label_idx, created_at, updated_at, data) VALUES (?, ?, ?, ?, ?)')
        .run(record.id, this.#labelIndex(record.label), record.createdAt, record.updatedAt, blob),
    );
    return record;
  }

  /** @throws PersonaError `persona.unknown`, `persona.label_taken` (nothing is written). */
  update(id: string, patch: Partial<PersonaData>): PersonaRecord {
    const current = this.get(id);
    if (!current) throw new PersonaError('persona.unknown', 'No such persona', { details: { persona: id } });
    const next = this.#ctx.check(TABLE, personaRecordSchema, { ...current, ...patch, updatedAt: this.#ctx.clock.now() });
    if (next.label.toLowerCase() !== current.label.toLowerCase()) this.#requireFreeLabel(next.label);
    const blob = this.#ctx.seal(TABLE, id, personaDataSchema, { label: next.label, nameless: next.nameless });
    this.#ctx.write(TABLE, () =>
      this.#ctx.stmt('UPDATE personas SET label_idx = ?, updated_at = ?, data = ? WHERE id = ?').run(this.#labelIndex(next.label), next.updatedAt, blob, id),
    );
    return next;
  }

  /** @returns false if there was no such persona. Callers check it is not in use first. */
  delete(id: string): boolean {
    return this.#ctx.write(TABLE, () => this.#ctx.stmt('DELETE FROM personas WHERE id = ?').run(id).changes > 0);
  }

  /**
   * Gives a vault without personas (a new one, or one from before they existed) its first, under
   * {@link FIRST_PERSONA_ID}: the persona its profile and relationships already belong to.
   */
  ensureFirst(): void {
    const any = this.#ctx.stmt('SELECT 1 FROM personas LIMIT 1').get();
    if (any === undefined) this.insert({ id: FIRST_PERSONA_ID, label: FIRST_PERSONA_LABEL, nameless: false });
  }

  #requireFreeLabel(label: string): void {
    if (this.#ctx.stmt('SELECT 1 FROM personas WHERE label_idx = ?').get(this.#labelIndex(label)) !== undefined) {
      // The label stays out of the error: errors reach logs, and a label may say something about her.
      throw new PersonaError('persona.label_taken', 'You already have a persona with that name');
    }
  }
}

/** The persona a relationship uses: the one recorded on it, or the first (recorded before personas). */
export function personaOf(relationship: { persona?: string | undefined }): string {
  return relationship.persona ?? FIRST_PERSONA_ID;
}
