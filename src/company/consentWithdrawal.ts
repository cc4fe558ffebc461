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
 * Takes the values of `fields` out of the copies the company keeps besides its held fields: the
 * presentations kept as evidence of what she disclosed (their disclosures of those claims), and
 * the events written for its own systems (they get the rest).
 */
export async function eraseCopies(tx: CompanyStore, relationshipId: string, fields: readonly string[]): Promise<void> {
  if (fields.length === 0) return;
  for (const presentation of await tx.listPresentations(relationshipId)) {
    const redacted = withoutClaims(presentation.sdJwt, fields);
    if (redacted !== presentation.sdJwt) await tx.replacePresentation(presentation.id, redacted ?? null);
  }
  const gone = new Set(fields);
  for (const event of await tx.listEvents({ relationshipId })) {
    const payload = isObject(event.payload) ? event.payload : undefined;
    const values = isObject(payload?.['fields']) ? payload['fields'] : undefined;
    if (!payload || !values || !Object.keys(values).some((field) => gone.has(field))) continue;
    const kept = Object.fromEntries(Object.entries(values).filter(([field]) => !gone.has(field)));
    await tx.replaceEventPayload(event.id, { ...payload, fields: kept });
  }
}

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

  await eraseCopies(tx, relationship.id, fields);

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
