import type { Clock } from '../core/clock.js';
import { newId } from '../core/ids.js';
import type { Logger } from '../core/log.js';
import { outgoing } from '../protocol/buildMessage.js';
import { withEvent, type ConsentRecord } from '../protocol/consentRecord.js';
import { Consent } from '../protocol/families/index.js';
import { retentionEndsAt } from '../protocol/terms/compare.js';
import { eraseCopies } from './consentWithdrawal.js';
import type { CompanyMessaging } from './messaging.js';
import type { CompanyRelationship, CompanyStore } from './store/types.js';

/*
 * Retention, enforced: when the retention of a consent record ends (the duration it states,
 * counted from when she gave it), the company deletes what it holds under it (the held fields and
 * their copies in presentations and events), marks the record `expired` on its side, tells its
 * systems (consent.expired) and sends her a notice (consent 1.0 `expired`), so her record of
 * what it holds follows. A worker runs the sweep once a minute.
 */

/** When a consent record's retention ends, or undefined when it states none (or was never given). */
export function retentionEnd(record: ConsentRecord): number | undefined {
  const retention = record.processing[0]?.retention;
  const given = record.events.find((e) => e.type === 'given')?.at;
  if (!retention || !given) return undefined;
  return retentionEndsAt(Date.parse(given), retention);
}

export interface RetentionSweep {
  /** Expires every active consent record whose retention has ended; returns how many. */
  expireDue(): Promise<number>;
}

export function createRetentionSweep(options: { store: CompanyStore; messaging: CompanyMessaging; clock: Clock; logger: Logger }): RetentionSweep {
  const { store, messaging, clock, logger } = options;

  async function expire(relationship: CompanyRelationship, consentId: string, now: number): Promise<boolean> {
    /** The expiry's writes, false (writing nothing) if the record is no longer active. */
    const expireIn = async (tx: CompanyStore): Promise<boolean> => {
      const consent = await tx.getConsentRecord(consentId);
      // Checked again inside the transaction: another worker may have expired it, or she withdrew it.
      if (!consent || consent.state !== 'active') return false;
      const held = (await tx.listHeldFields(relationship.id)).filter((f) => f.consentRecordId === consentId).map((f) => f.field);
      const fields = await tx.deleteHeldFields(relationship.id, held);
      await eraseCopies(tx, relationship.id, fields);
      await tx.updateConsentRecord(consentId, 'expired', withEvent(consent.record, 'expired', now, 'pii_controller'), now);
      await tx.enqueueEvent({
        id: newId(),
        relationshipId: relationship.id,
        type: 'consent.expired',
        payload: { relationshipId: relationship.id, customerRef: relationship.customerRef, withdrawnFields: fields, consentRecordIds: [consentId] },
        createdAt: now,
        nextAttemptAt: now,
        attempts: 0,
        dispatchedAt: null,
      });
      return true;
    };
    // The notice is packed before the transaction (signing and encryption wait on nothing in it);
    // its field list is only known inside, so it names the record and the fields held under it now.
    const heldNow = (await store.listHeldFields(relationship.id)).filter((f) => f.consentRecordId === consentId).map((f) => f.field);
    const packed = await messaging.pack(relationship.theirDid, outgoing(Consent.expired, { consent_records: [consentId], fields: heldNow }));
    const expired = await store.transaction(async (tx) => {
      if (!(await expireIn(tx))) return false;
      await messaging.enqueue(relationship, packed, tx);
      return true;
    });
    if (expired && relationship.state === 'active') await messaging.deliverQueued(relationship).catch(() => 0);
    return expired;
  }

  return {
    async expireDue() {
      const now = clock.now();
      let expired = 0;
      for (const relationship of await store.listRelationships()) {
        if (relationship.state === 'cut_off') continue;
        for (const consent of await store.listConsentRecords(relationship.id)) {
          if (consent.state !== 'active') continue;
          const end = retentionEnd(consent.record);
          if (end === undefined || end > now) continue;
          if (await expire(relationship, consent.id, now)) expired += 1;
        }
      }
      if (expired > 0) logger.info('consents_expired', { count: expired });
      return expired;
    },
  };
}
