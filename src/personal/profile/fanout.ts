import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { toEpochSeconds } from '../../core/clock.js';
import { KithError, PersonaError, ProfileError, TransportError } from '../../core/errors.js';
import { outgoing } from '../../protocol/buildMessage.js';
import { Consent, ProfileUpdate } from '../../protocol/families/index.js';
import { parseFieldValue, resolveFieldName } from '../../protocol/profile/fields.js';
import { presentSelfIssued } from '../../protocol/sdjwt/index.js';
import { delayAfter, retryLaterMs } from '../../protocol/agent/transport.js';
import { nextAttemptDelay, type RetryPolicy } from '../../core/retry.js';
import type { AgentCore } from '../core.js';
import type { DeliveryRecord } from '../vault/deliveryRepo.js';
import { personaOf } from '../vault/personaRepo.js';
import { NAME_FIELDS, type PersonasFeature } from '../personas.js';

export interface DeliveryView {
  relationshipId: string;
  company: string | null;
  state: DeliveryRecord['state'];
  fields: string[];
  attempts: number;
  nextAttemptAt: number | null;
  lastError: string | null;
}

export interface ChangeView {
  version: number;
  fields: string[];
  /** The fields this change removed from her profile (each holder is asked to erase them). */
  removed: string[];
  /** Whose values changed (label null once the persona is removed). */
  persona: { id: string; label: string | null };
  /** For a company moved to this persona: that relationship, owed the persona's values (nothing else changed). */
  moved: { relationshipId: string; company: string | null } | null;
  createdAt: number;
  deliveries: DeliveryView[];
  summary: { total: number; acked: number; pending: number; failed: number; skipped: number };
  /** True when every delivery is settled (acked, failed or skipped). */
  done: boolean;
}

export interface ProfileFieldView {
  field: string;
  value: unknown;
  version: number;
  updatedAt: number;
  /** Companies holding this field (live relationships only). */
  heldBy: { relationshipId: string; company: string | null; version: number }[];
}

export interface FanoutResult {
  acked: number;
  retrying: number;
  failed: number;
  skipped: number;
}

export interface ProfileFeature {
  /** One persona's profile (the default persona's unless named). @throws PersonaError `persona.unknown` */
  profile(persona?: string): { version: number; persona: { id: string; label: string }; fields: ProfileFieldView[] };
  /**
   * Sets fields (by name or alias) of one persona (the default unless named) and queues one update
   * to every live company that knows her by that persona and holds any of them. Unchanged values
   * are ignored; with nothing changed, no version is made.
   * @throws ProfileError `profile.unknown_field`, `profile.invalid_value`; PersonaError
   * `persona.unknown`, `persona.nameless` (a name for a nameless persona) (nothing is written)
   */
  set(values: Record<string, unknown>, persona?: string): ChangeView | undefined;
  /**
   * Removes fields from one persona's profile (a new version) and queues, to every live company
   * that knows her by it and holds any of them, a consent withdrawal that has it erase them (consent 1.0).
   * @throws ProfileError `profile.unknown_field`, `profile.field_not_set`; PersonaError `persona.unknown` (nothing is written)
   */
  remove(fields: readonly string[], persona?: string): ChangeView;
  /**
   * Moves a relationship to another persona: from now on it is owed that persona's values, so the
   * fields it holds are sent again from the new persona (and withdrawn where it has none), through
   * the same fan-out. Undefined when it already uses that persona.
   * @throws RelationshipError `relationship.unknown`, `relationship.cut_off`; PersonaError `persona.unknown`
   */
  move(relationship: string, persona: string): { relationshipId: string; persona: string; change: ChangeView | null } | undefined;
  change(version: number): ChangeView;
  changes(limit?: number): ChangeView[];
  /** Sends the updates that are due, coalesced per company, and records the acknowledgements. */
  deliver(): Promise<FanoutResult>;
  /** When the next queued update is due (ms), if any is waiting. */
  nextDueAt(): number | undefined;
}

/** Codes that say "try again later"; anything else the company said about the update is final. */
function isRetryable(error: unknown): boolean {
  if (!(error instanceof TransportError)) return false;
  if (error.code === 'transport.unreachable') return true;
  // 429 (too many requests) and 503 say "later", never "no".
  if (retryLaterMs(error) !== undefined) return true;
  const status = error.details?.['status'];
  const code = error.details?.['code'];
  return (typeof status === 'number' && status >= 500) || code === 'store.unavailable';
}

export function createProfileFeature(core: AgentCore, options: { retry: RetryPolicy; concurrency: number; personas: PersonasFeature }): ProfileFeature {
  const { personas } = options;
  const { vault, clock, logger, events } = core;
  /** Relationships with a notice on the wire: a second run must not send them another. */
  const inFlight = new Set<string>();

  function changeView(version: number): ChangeView {
    const change = vault.profile.change(version);
    if (!change) throw new ProfileError('profile.unknown_change', `No profile change ${version}`);
    const deliveries = vault.deliveries.forVersion(version).map((d) => ({
      relationshipId: d.relationshipId,
      company: vault.relationships.get(d.relationshipId)?.vendorName ?? null,
      state: d.state,
      fields: d.fields,
      attempts: d.attempts,
      nextAttemptAt: d.state === 'pending' ? d.nextAttemptAt : null,
      lastError: d.lastError ?? null,
    }));
    const count = (state: DeliveryRecord['state']) => deliveries.filter((d) => d.state === state).length;
    const summary = { total: deliveries.length, acked: count('acked'), pending: count('pending'), failed: count('failed'), skipped: count('skipped') };
    return {
      version,
      fields: Object.keys(change.fields),
      removed: Object.keys(change.fields).filter((f) => change.fields[f] === null),
      persona: { id: change.persona, label: vault.personas.get(change.persona)?.label ?? null },
      moved: change.moved ? { relationshipId: change.moved.relationshipId, company: vault.relationships.get(change.moved.relationshipId)?.vendorName ?? null } : null,
      createdAt: change.createdAt,
      deliveries,
      summary,
      done: summary.pending === 0,
    };
  }

  /** The companies that know her by `persona` and hold any of `fields`, with the fields each holds. */
  function holdersIn(persona: string, fields: string[]): [string, string[]][] {
    return [...vault.disclosed.holdersOf(fields)].filter(([relationshipId]) => {
      const relationship = vault.relationships.get(relationshipId);
      return relationship !== undefined && personaOf(relationship) === persona;
    });
  }

  /**
   * One run's reads of her values, by persona and field: a hundred companies owed the same address
   * need it decrypted once, not a hundred times. Only for the version it was read at: a change
   * during the run (between two sends) makes a new version, and the next company reads afresh.
   */
  type Values = { version: number; byField: Map<string, { value: unknown } | undefined> };
  function valueOf(values: Values, version: number, field: string, persona: string): { value: unknown } | undefined {
    if (values.version !== version) {
      values.version = version;
      values.byField.clear();
    }
    const key = `${persona}\u0000${field}`;
    if (values.byField.has(key)) return values.byField.get(key);
    const current = vault.profile.get(field, persona);
    const value = current === undefined ? undefined : { value: current.value };
    values.byField.set(key, value);
    return value;
  }

  async function deliverTo(relationshipId: string, due: DeliveryRecord[], values: Values): Promise<keyof FanoutResult> {
    const relationship = vault.relationships.get(relationshipId);
    const ids = due.map((d) => d.id);
    const version = vault.profile.currentVersion();
    const attempts = Math.max(...due.map((d) => d.attempts)) + 1;
    const report = (state: 'acked' | 'retrying' | 'failed' | 'skipped', code?: string) =>
      events.emit({ type: 'profile.delivery', version, relationshipId, state, attempts, ...(code ? { code } : {}) });
    if (!relationship || relationship.state === 'cut_off') {
      vault.deliveries.settle(ids, 'skipped', 'relationship.cut_off');
      report('skipped', 'relationship.cut_off');
      return 'skipped';
    }
    // One notice per company with the current value of every field still owed to it (each value
    // decrypted once) from the persona it knows her by now, and one withdrawal of the fields she removed since.
    const claims: Record<string, unknown> = {};
    const removed: string[] = [];
    const persona = personaOf(relationship);
    for (const field of [...new Set(due.flatMap((d) => d.fields))].sort()) {
      const current = valueOf(values, version, field, persona);
      if (current !== undefined) claims[field] = current.value;
      else removed.push(field);
    }
    const fields = Object.keys(claims);
    try {
      if (removed.length > 0) {
        // The ack's handler (personal/handlers/consent.ts) forgets the fields and updates her consent records.
        await core.exchange(relationship, outgoing(Consent.withdraw, { fields: removed, reason: 'removed_from_profile' }), {
          returnRoute: true,
          expects: [Consent.withdrawAck],
          unexpectedReply: { code: 'message.unexpected', message: 'The company did not acknowledge the withdrawal' },
        });
      }
      if (fields.length === 0) {
        vault.deliveries.ackUpTo(relationshipId, version, clock.now());
        report('acked');
        return 'acked';
      }
      const messageId = randomUUID();
      // Every attempt is a new message with a new nonce; the company de-duplicates by version.
      const presentation = await presentSelfIssued(core.identityOf(relationship), claims, { audience: relationship.theirDid, nonce: messageId, issuedAt: toEpochSeconds(clock.now()) });
      // The ack's handler (personal/handlers/profileUpdate.ts) settles the deliveries and her record of what the company holds.
      await core.exchange(relationship, outgoing(ProfileUpdate.notice, { version, fields, presentation: { format: 'dc+sd-jwt', sd_jwt: presentation } }), {
        returnRoute: true,
        id: messageId,
        expects: [ProfileUpdate.ack],
        unexpectedReply: { code: 'message.unexpected', message: 'The company did not acknowledge this version' },
      });
      report('acked');
      return 'acked';
    } catch (error) {
      const code = error instanceof KithError ? (typeof error.details?.['code'] === 'string' ? (error.details['code'] as string) : error.code) : 'internal';
      if (code === 'relationship.cut_off') {
        vault.deliveries.settle(ids, 'skipped', code);
        report('skipped', code);
        return 'skipped';
      }
      if (isRetryable(error) || !(error instanceof KithError)) {
        vault.deliveries.reschedule(ids, clock.now() + delayAfter(error, nextAttemptDelay(attempts, options.retry)), code);
        logger.info('profile_update_retry', { relationship: relationshipId, attempts, code });
        report('retrying', code);
        return 'retrying';
      }
      vault.deliveries.settle(ids, 'failed', code);
      logger.warn('profile_update_refused', { relationship: relationshipId, code });
      report('failed', code);
      return 'failed';
    }
  }

  return {
    profile(reference) {
      const persona = personas.resolve(reference);
      const heldBy = new Map<string, ProfileFieldView['heldBy']>();
      for (const relationship of vault.relationships.list()) {
        if (relationship.state === 'cut_off' || personaOf(relationship) !== persona.id) continue;
        for (const held of vault.disclosed.list(relationship.id)) {
          if (held.source !== 'self') continue;
          const list = heldBy.get(held.field) ?? [];
          list.push({ relationshipId: relationship.id, company: relationship.vendorName, version: held.version });
          heldBy.set(held.field, list);
        }
      }
      return {
        version: vault.profile.currentVersion(),
        persona: { id: persona.id, label: persona.label },
        fields: vault.profile.all(persona.id).map(({ persona: _persona, ...f }) => ({ ...f, heldBy: heldBy.get(f.field) ?? [] })),
      };
    },

    set(values, reference) {
      const persona = personas.resolve(reference);
      const parsed: Record<string, unknown> = {};
      for (const [name, raw] of Object.entries(values)) {
        const field = resolveFieldName(name);
        parsed[field] = parseFieldValue(field, raw);
      }
      const names = Object.keys(parsed).filter((field) => NAME_FIELDS.includes(field));
      if (persona.nameless && names.length > 0) {
        throw new PersonaError('persona.nameless', `This persona is nameless: it holds no ${names.join(', ')}`, { details: { fields: names } });
      }
      const changed = Object.fromEntries(Object.entries(parsed).filter(([field, value]) => !isDeepStrictEqual(vault.profile.get(field, persona.id)?.value, value)));
      const fields = Object.keys(changed);
      if (fields.length === 0) return undefined;
      const version = vault.transaction(() => {
        const next = vault.profile.applyChange(changed, clock.now(), persona.id);
        for (const [relationshipId, held] of holdersIn(persona.id, fields)) {
          vault.deliveries.create({ version: next, relationshipId, fields: held });
        }
        return next;
      });
      const view = changeView(version);
      logger.info('profile_changed', { version, fields: fields.length, deliveries: view.deliveries.length });
      events.emit({ type: 'profile.changed', version, fields, deliveries: view.deliveries.length });
      return view;
    },

    remove(names, reference) {
      const persona = personas.resolve(reference);
      const fields = [...new Set(names.map((name) => resolveFieldName(name)))];
      const missing = fields.filter((field) => vault.profile.get(field, persona.id) === undefined);
      if (fields.length === 0 || missing.length > 0) {
        throw new ProfileError('profile.field_not_set', missing.length > 0 ? `Your profile has no ${missing.join(', ')}` : 'Name at least one field to remove', {
          details: { fields: missing },
        });
      }
      const version = vault.transaction(() => {
        const next = vault.profile.applyChange(Object.fromEntries(fields.map((field) => [field, null])), clock.now(), persona.id);
        for (const [relationshipId, held] of holdersIn(persona.id, fields)) {
          vault.deliveries.create({ version: next, relationshipId, fields: held });
        }
        return next;
      });
      const view = changeView(version);
      logger.info('profile_changed', { version, fields: fields.length, removed: true, deliveries: view.deliveries.length });
      events.emit({ type: 'profile.changed', version, fields, deliveries: view.deliveries.length });
      return view;
    },

    move(reference, personaReference) {
      const relationship = core.find(reference);
      core.requireLive(relationship);
      const persona = personas.resolve(personaReference);
      if (personaOf(relationship) === persona.id) return undefined;
      const held = vault.disclosed
        .list(relationship.id)
        .filter((h) => h.source === 'self')
        .map((h) => h.field)
        .sort();
      const version = vault.transaction(() => {
        vault.relationships.update(relationship.id, { persona: persona.id });
        if (held.length === 0) return undefined;
        // What this company is owed now: the new persona's values, null (withdrawn) where it has none.
        const owed = Object.fromEntries(held.map((field) => [field, vault.profile.get(field, persona.id)?.value ?? null]));
        const next = vault.profile.logMove(relationship.id, persona.id, owed);
        vault.deliveries.create({ version: next, relationshipId: relationship.id, fields: held });
        return next;
      });
      logger.info('relationship_persona_moved', { relationship: relationship.id, persona: persona.id, fields: held.length });
      events.emit({ type: 'persona.changed', persona: persona.id });
      if (version !== undefined) events.emit({ type: 'profile.changed', version, fields: held, deliveries: 1 });
      return { relationshipId: relationship.id, persona: persona.id, change: version === undefined ? null : changeView(version) };
    },

    change: changeView,
    changes: (limit = 20) => vault.profile.changes(limit).map((c) => changeView(c.version)),

    async deliver() {
      const result: FanoutResult = { acked: 0, retrying: 0, failed: 0, skipped: 0 };
      const due = vault.deliveries.dueByRelationship(clock.now(), 1_000).filter((d) => !inFlight.has(d.relationshipId));
      let next = 0;
      const values: Values = { version: -1, byField: new Map() };
      const worker = async () => {
        while (next < due.length) {
          const item = due[next++];
          if (!item) break;
          inFlight.add(item.relationshipId);
          try {
            result[await deliverTo(item.relationshipId, item.deliveries, values)] += 1;
          } finally {
            inFlight.delete(item.relationshipId);
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(options.concurrency, due.length) }, worker));
      return result;
    },

    nextDueAt: () => vault.deliveries.nextDueAt(),
  };
}
