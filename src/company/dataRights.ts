import { newId } from '../core/ids.js';
import { outgoing, type Outgoing } from '../protocol/buildMessage.js';
import { DataRights } from '../protocol/families/index.js';
import type { AccessCopy, DataRightsRequestBody } from '../protocol/families/dataRights.js';
import type { CompanyRelationship, CompanyStore } from './store/types.js';

/*
 * The company's side of data-rights 1.0 (docs/protocol/data-rights.md): her access request is
 * answered at once, inside the inbound transaction, with a copy of everything it holds on the
 * relationship; the request is kept (Data Rights Protocol words) and its systems are told.
 */

/** Access requests one relationship may make per day before they are denied as too_many_requests. */
export const ACCESS_REQUESTS_PER_DAY = 10;
const DAY_MS = 24 * 60 * 60 * 1000;

const iso = (ms: number): string => new Date(ms).toISOString();

/** Everything the company holds on one relationship, as the access answer carries it. */
export async function accessCopy(tx: CompanyStore, relationship: CompanyRelationship): Promise<AccessCopy> {
  const [fields, consents, agreements, messages, intents, registrations, receipts] = await Promise.all([
    tx.listHeldFields(relationship.id),
    tx.listConsentRecords(relationship.id),
    tx.listTermsAgreements(relationship.id),
    tx.listMessages(relationship.id),
    tx.listReceivedIntents({ relationshipId: relationship.id }),
    tx.listThingRegistrations({ relationshipId: relationship.id }),
    tx.listThingReceipts(relationship.id),
  ]);
  let offers = 0;
  for (const intent of intents) offers += (await tx.listOffers(intent.id)).length;
  const serviceCases = await tx.listServiceCases({ relationshipId: relationship.id, limit: 1000 });
  return {
    relationship: { customer_ref: relationship.customerRef, state: relationship.state, created_at: iso(relationship.createdAt) },
    fields: fields.map((f) => ({ field: f.field, value: f.value, version: f.version, consent_record_id: f.consentRecordId, source: f.source, issuer: f.issuer, updated_at: iso(f.updatedAt) })),
    consent_records: consents.map((c) => c.record),
    agreements: agreements.map((a) => ({ record_id: a.id, agreement: a.agreementId, state: a.state, signed: a.signed, updated_at: iso(a.updatedAt) })),
    messages: messages.length,
    intents: intents.length,
    offers,
    // Her things (docs/protocol/thing.md), only when there are some: answers stay as they were otherwise.
    ...(registrations.length === 0
      ? {}
      : { thing_registrations: registrations.map((r) => ({ registration_id: r.id, consent_record_id: r.consentRecordId, claims: r.claims, created_at: iso(r.createdAt) })) }),
    ...(receipts.length === 0 ? {} : { thing_receipts: receipts.length }),
    service_cases: serviceCases.length,
  };
}

/**
 * Answers an access request: fulfilled with the copy, or denied (too_many_requests) past the daily
 * limit. A resend of the same request id is answered again with a fresh copy and recorded once.
 */
export async function answerDataRightsRequest(body: DataRightsRequestBody, relationship: CompanyRelationship, tx: CompanyStore, now: number): Promise<Outgoing> {
  const recent = await tx.countDataRightsRequests(relationship.id, body.exercise, now - DAY_MS);
  const denied = recent >= ACCESS_REQUESTS_PER_DAY;
  const row = {
    id: newId(),
    relationshipId: relationship.id,
    requestId: body.request_id,
    exercise: body.exercise,
    status: denied ? ('denied' as const) : ('fulfilled' as const),
    reason: denied ? 'too_many_requests' : null,
    receivedAt: now,
    updatedAt: now,
  };
  const fresh = await tx.saveDataRightsRequest(row);
  // A resend is answered as the request was first answered (its status and time).
  const outcome = fresh ? row : ((await tx.getDataRightsRequest(relationship.id, body.request_id)) ?? row);
  if (fresh) {
    await tx.enqueueEvent({
      id: newId(),
      relationshipId: relationship.id,
      type: 'data_rights.request',
      payload: { relationshipId: relationship.id, customerRef: relationship.customerRef, requestId: body.request_id, exercise: body.exercise, status: row.status, ...(row.reason ? { reason: row.reason } : {}) },
      createdAt: now,
      nextAttemptAt: now,
      attempts: 0,
      dispatchedAt: null,
    });
  }
  const common = { request_id: body.request_id, exercise: body.exercise, received_at: iso(outcome.receivedAt) };
  if (outcome.status === 'denied') {
    return outgoing(DataRights.response, { ...common, status: 'denied', reason: 'too_many_requests', processing_details: `At most ${ACCESS_REQUESTS_PER_DAY} access requests a day` });
  }
  return outgoing(DataRights.response, { ...common, status: 'fulfilled', data: await accessCopy(tx, relationship) });
}
