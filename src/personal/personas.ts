import { PersonaError } from '../core/errors.js';
import type { AgentCore } from './core.js';
import { FIRST_PERSONA_ID, personaLabelSchema, personaOf, type PersonaRecord } from './vault/personaRepo.js';

/** The setting naming the persona new relationships use. */
export const DEFAULT_PERSONA_SETTING = 'personas.default';

/** The fields a nameless persona never holds: with them she would not be anonymous there. */
export const NAME_FIELDS: readonly string[] = ['name', 'given_name', 'family_name', 'nickname'];

/** One persona as her web app and CLI show it. */
export interface PersonaView {
  id: string;
  label: string;
  nameless: boolean;
  /** New relationships use it (connect, anonymous intents) unless she picks another. */
  isDefault: boolean;
  /** Companies that know her by it (relationships not cut off). */
  relationships: number;
  /** Profile fields it holds a value for. */
  fields: number;
  createdAt: number;
}

export interface PersonasFeature {
  list(): PersonaView[];
  /** By id or label (without case); the default persona when no reference is given. @throws PersonaError `persona.unknown` */
  resolve(reference?: string): PersonaRecord;
  view(reference?: string): PersonaView;
  /** @throws PersonaError `persona.label_taken`; VaultError `vault.corrupt` for an invalid label (nothing is written) */
  create(input: { label: string; nameless?: boolean | undefined }): PersonaView;
  /**
   * Renames it, or makes it nameless (or not).
   * @throws PersonaError `persona.unknown`, `persona.label_taken`, `persona.nameless` (it holds a name: remove it first)
   */
  update(reference: string, patch: { label?: string | undefined; nameless?: boolean | undefined }): PersonaView;
  /** @throws PersonaError `persona.unknown` */
  setDefault(reference: string): PersonaView;
  /**
   * Removes a persona and its profile values. Its logged changes stay (they are history).
   * @throws PersonaError `persona.unknown`, `persona.is_default`, `persona.in_use` (nothing is changed)
   */
  remove(reference: string): PersonaView;
}

export function createPersonasFeature(core: AgentCore): PersonasFeature {
  const { vault, logger, events } = core;

  function defaultId(): string {
    const stored = vault.settings.get(DEFAULT_PERSONA_SETTING);
    return typeof stored === 'string' && vault.personas.get(stored) ? stored : (vault.personas.list()[0]?.id ?? FIRST_PERSONA_ID);
  }

  /** Relationships per persona, live ones only: a cut-off company knows her by nothing any more. */
  function usage(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const relationship of vault.relationships.list()) {
      if (relationship.state === 'cut_off') continue;
      const id = personaOf(relationship);
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    return counts;
  }

  /** Fields held per persona, from one read of every persona's values. */
  function fieldCounts(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const field of vault.profile.everyPersona()) counts.set(field.persona, (counts.get(field.persona) ?? 0) + 1);
    return counts;
  }

  function toView(record: PersonaRecord, counts = usage(), fallback = defaultId(), fields = fieldCounts()): PersonaView {
    return {
      id: record.id,
      label: record.label,
      nameless: record.nameless,
      isDefault: record.id === fallback,
      relationships: counts.get(record.id) ?? 0,
      fields: fields.get(record.id) ?? 0,
      createdAt: record.createdAt,
    };
  }

  /** Her label as she typed it, trimmed. @throws PersonaError `persona.invalid_label` */
  function label(text: string): string {
    const parsed = personaLabelSchema.safeParse(text);
    if (!parsed.success) throw new PersonaError('persona.invalid_label', `A persona name ${parsed.error.issues[0]?.message ?? 'is one line of at most 40 characters'}`);
    return parsed.data;
  }

  function resolve(reference?: string): PersonaRecord {
    if (reference === undefined || reference.trim() === '') {
      const record = vault.personas.get(defaultId());
      if (record) return record;
    } else {
      const record = vault.personas.get(reference) ?? vault.personas.findByLabel(reference);
      if (record) return record;
    }
    throw new PersonaError('persona.unknown', 'No such persona (see `kith personas`)');
  }

  return {
    list() {
      const counts = usage();
      const fallback = defaultId();
      const fields = fieldCounts();
      return vault.personas.list().map((p) => toView(p, counts, fallback, fields));
    },

    resolve,
    view: (reference) => toView(resolve(reference)),

    create(input) {
      const record = vault.personas.insert({ label: label(input.label), nameless: input.nameless ?? false });
      logger.info('persona_created', { persona: record.id });
      events.emit({ type: 'persona.changed', persona: record.id });
      return toView(record);
    },

    update(reference, patch) {
      const current = resolve(reference);
      if (patch.nameless === true) {
        const names = vault.profile.all(current.id).filter((f) => NAME_FIELDS.includes(f.field)).map((f) => f.field);
        if (names.length > 0) {
          throw new PersonaError('persona.nameless', 'This persona holds a name; remove it from the persona first', { details: { fields: names } });
        }
      }
      const record = vault.personas.update(current.id, {
        ...(patch.label === undefined ? {} : { label: label(patch.label) }),
        ...(patch.nameless === undefined ? {} : { nameless: patch.nameless }),
      });
      events.emit({ type: 'persona.changed', persona: record.id });
      return toView(record);
    },

    setDefault(reference) {
      const record = resolve(reference);
      vault.settings.set(DEFAULT_PERSONA_SETTING, record.id);
      logger.info('persona_default', { persona: record.id });
      events.emit({ type: 'persona.changed', persona: record.id });
      return toView(record);
    },

    remove(reference) {
      const record = resolve(reference);
      const view = toView(record);
      if (view.isDefault) throw new PersonaError('persona.is_default', 'New relationships use this persona; make another the default first');
      if (view.relationships > 0) {
        throw new PersonaError('persona.in_use', `${view.relationships} ${view.relationships === 1 ? 'company knows' : 'companies know'} you by this persona; move them to another first`, {
          details: { relationships: view.relationships },
        });
      }
      vault.transaction(() => {
        vault.profile.forgetPersona(record.id);
        vault.personas.delete(record.id);
      });
      logger.info('persona_removed', { persona: record.id });
      events.emit({ type: 'persona.changed', persona: record.id });
      return view;
    },
  };
}
