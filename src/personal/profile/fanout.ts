import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { toEpochSeconds } from '../../core/clock.js';
import { KithError, ProfileError, TransportError } from '../../core/errors.js';
import { outgoing } from '../../protocol/buildMessage.js';
import { Consent, ProfileUpdate } from '../../protocol/families/index.js';
import { parseFieldValue, resolveFieldName } from '../../protocol/profile/fields.js';
import { presentSelfIssued } from '../../protocol/sdjwt/index.js';
import { delayAfter, retryLaterMs } from '../../protocol/agent/transport.js';
import { nextAttemptDelay, type RetryPolicy } from '../../core/retry.js';
import type { AgentCore } from '../core.js';
import type { DeliveryRecord } from '../vault/deliveryRepo.js';

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
  profile(): { version: number; fields: ProfileFieldView[] };
  /**
   * Sets fields (by name or alias) and queues one update to every live company holding any of them.
   * Unchanged values are ignored; with nothing changed, no version is made.
   * @throws ProfileError `profile.unknown_field`, `profile.invalid_value` (nothing is written)
   */
  set(values: Record<string, unknown>): ChangeView | undefined;
  /**
   * Removes fields from her profile (a new version) and queues, to every live company holding any
   * of them, a consent withdrawal that has it erase them (consent 1.0).
   * @throws ProfileError `profile.unknown_field`, `profile.field_not_set` (nothing is written)
   */
  remove(fields: readonly string[]): ChangeView;
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

export function createProfileFeature(core: AgentCore, options: { retry: RetryPolicy; concurrency: number }): ProfileFeature {
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
    return { version, fields: Object.keys(change.fields), removed: Object.keys(change.fields).filter((f) => change.fields[f] === null), createdAt: change.createdAt, deliveries, summary, done: summary.pending === 0 };
  }

  async function deliverTo(relationshipId: string, due: DeliveryRecord[]): Promise<keyof FanoutResult> {
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
    // decrypted once), and one withdrawal of the fields she removed since.
    const claims: Record<string, unknown> = {};
    const removed: string[] = [];
    for (const field of [...new Set(due.flatMap((d) => d.fields))].sort()) {
      const current = vault.profile.get(field);
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
    profile() {
      const heldBy = new Map<string, ProfileFieldView['heldBy']>();
      for (const relationship of vault.relationships.list()) {
        if (relationship.state === 'cut_off') continue;
        for (const held of vault.disclosed.list(relationship.id)) {
          if (held.source !== 'self') continue;
          const list = heldBy.get(held.field) ?? [];
          list.push({ relationshipId: relationship.id, company: relationship.vendorName, version: held.version });
          heldBy.set(held.field, list);
        }
      }
      return {
        version: vault.profile.currentVersion(),
        fields: vault.profile.all().map((f) => ({ ...f, heldBy: heldBy.get(f.field) ?? [] })),
      };
    },

    set(values) {
      const parsed: Record<string, unknown> = {};
      for (const [name, raw] of Object.entries(values)) {
        const field = resolveFieldName(name);
        parsed[field] = parseFieldValue(field, raw);
      }
      const changed = Object.fromEntries(Object.entries(parsed).filter(([field, value]) => !isDeepStrictEqual(vault.profile.get(field)?.value, value)));
      const names = Object.keys(changed);
      if (names.length === 0) return undefined;
      const version = vault.transaction(() => {
        const next = vault.profile.applyChange(changed);
        for (const [relationshipId, held] of vault.disclosed.holdersOf(names)) {
          vault.deliveries.create({ version: next, relationshipId, fields: held });
        }
        return next;
      });
      const view = changeView(version);
      logger.info('profile_changed', { version, fields: names.length, deliveries: view.deliveries.length });
      events.emit({ type: 'profile.changed', version, fields: names, deliveries: view.deliveries.length });
      return view;
    },

    remove(names) {
      const fields = [...new Set(names.map((name) => resolveFieldName(name)))];
      const missing = fields.filter((field) => vault.profile.get(field) === undefined);
      if (fields.length === 0 || missing.length > 0) {
        throw new ProfileError('profile.field_not_set', missing.length > 0 ? `Your profile has no ${missing.join(', ')}` : 'Name at least one field to remove', {
          details: { fields: missing },
        });
      }
      const version = vault.transaction(() => {
        const next = vault.profile.applyChange(Object.fromEntries(fields.map((field) => [field, null])));
        for (const [relationshipId, held] of vault.disclosed.holdersOf(fields)) {
          vault.deliveries.create({ version: next, relationshipId, fields: held });
        }
        return next;
      });
      const view = changeView(version);
      logger.info('profile_changed', { version, fields: fields.length, removed: true, deliveries: view.deliveries.length });
      events.emit({ type: 'profile.changed', version, fields, deliveries: view.deliveries.length });
      return view;
    },

    change: changeView,
    changes: (limit = 20) => vault.profile.changes(limit).map((c) => changeView(c.version)),

    async deliver() {
      const result: FanoutResult = { acked: 0, retrying: 0, failed: 0, skipped: 0 };
      const due = vault.deliveries.dueByRelationship(clock.now(), 1_000).filter((d) => !inFlight.has(d.relationshipId));
      let next = 0;
      const worker = async () => {
        while (next < due.length) {
          const item = due[next++];
          if (!item) break;
          inFlight.add(item.relationshipId);
          try {
            result[await deliverTo(item.relationshipId, item.deliveries)] += 1;
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
