import { newId } from '../core/ids.js';
import { outgoing, type Outgoing } from '../protocol/buildMessage.js';
import { withCategoriesWithdrawn } from '../protocol/consentRecord.js';
import type { ConsentWithdrawBody } from '../protocol/families/consent.js';
import { Consent } from '../protocol/families/index.js';
import { withoutClaims } from '../protocol/sdjwt/index.js';
import type { CompanyRelationship, CompanyStore } from './store/types.js';

/*
 * The company's side of consent 1.0 (docs/protocol/consent.md): she withdrew her consent for some
 * fields. Inside the inbound transaction the company erases every value it holds of them (the
 * held rows, their disclosures in the presentations it keeps as evidence, and their values in the
 * events written for its own systems), records the
 * withdrawal in each consent record that covered them, and tells its own systems.
 */

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Applies a withdrawal: idempotent (a resend finds nothing left to erase and says so).
 * @returns the ack for her agent.
 */
export async function applyWithdrawal(body: ConsentWithdrawBody, relationship: CompanyRelationship, tx: CompanyStore, now: number): Promise<Outgoing> {
  const { fields } = body;
  const erased = await tx.deleteHeldFields(relationship.id, fields);

  const recorded: string[] = [];
  for (const consent of await tx.listConsentRecords(relationship.id)) {
    if (consent.state !== 'active') continue;
    const record = withCategoriesWithdrawn(consent.record, fields, now, 'pii_principal');
    if (!record) continue;
    await tx.updateConsentRecord(consent.id, record.state === 'withdrawn' ? 'withdrawn' : consent.state, record, now);
    recorded.push(consent.id);
  }

  // The presentations are kept as evidence of what she disclosed; what she took back leaves them too.
  for (const presentation of await tx.listPresentations(relationship.id)) {
    const redacted = withoutClaims(presentation.sdJwt, fields);
    if (redacted !== presentation.sdJwt) await tx.replacePresentation(presentation.id, redacted ?? null);
  }

  // Events already written for its systems keep no value she took back either (they get the rest).
  const withdrawn = new Set(fields);
  for (const event of await tx.listEvents({ relationshipId: relationship.id })) {
    const payload = isObject(event.payload) ? event.payload : undefined;
    const values = isObject(payload?.['fields']) ? payload['fields'] : undefined;
    if (!payload || !values || !Object.keys(values).some((field) => withdrawn.has(field))) continue;
    const kept = Object.fromEntries(Object.entries(values).filter(([field]) => !withdrawn.has(field)));
    await tx.replaceEventPayload(event.id, { ...payload, fields: kept });
  }

  if (erased.length > 0 || recorded.length > 0) {
    await tx.enqueueEvent({
      id: newId(),
      relationshipId: relationship.id,
      type: 'consent.withdrawn',
      payload: { relationshipId: relationship.id, customerRef: relationship.customerRef, withdrawnFields: erased, consentRecordIds: recorded, reason: body.reason },
      createdAt: now,
      nextAttemptAt: now,
      attempts: 0,
      dispatchedAt: null,
    });
  }
  return outgoing(Consent.withdrawAck, { fields, erased, consent_records: recorded });
}
