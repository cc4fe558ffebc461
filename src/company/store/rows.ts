import { z } from 'zod';
import { describeZodIssues } from '../../core/json.js';
import { consentRecordSchema } from '../../protocol/consentRecord.js';
import { demandSchema, signedOfferSchema } from '../../protocol/families/intent.js';
import { signedAgreementSchema } from '../../protocol/terms/agreementRecord.js';
import { obligationsSchema } from '../../protocol/terms/roster.js';
import type { ConnectorAttempt, ConnectorEvent } from './connectorEventStore.js';
import type { DataRightsRequestRow } from './dataRightsStore.js';
import type { ConsentRecordRow, DisclosureRequest, HeldField, Presentation } from './disclosureStore.js';
import { malformedRow } from './errors.js';
import type { AgentIdentity } from './identityStore.js';
import type { OfferRow, ReceivedIntent } from './intentStore.js';
import type { StoredMessage } from './messageStore.js';
import type { OutboxItem } from './outboxStore.js';
import type { CompanyRelationship } from './relationshipStore.js';
import type { TermsAgreementRow } from './termsStore.js';
import type { AuditEntry, CallerVerificationRow } from './verificationStore.js';
import type { ThingReceiptRow, ThingRegistrationRow } from './thingStore.js';
import { signedReceiptSchema } from '../../protocol/families/thing.js';
import type { ServiceCaseEntry, ServiceCaseRow } from './serviceCaseStore.js';
import { caseIdentifierSchema, caseStateSchema, sharedThingSchema } from '../../protocol/families/service.js';

/** What the SQLite and the PostgreSQL store share about rows: their shapes, JSON columns and mapping to domain objects. */

/** agent_identity holds one row, with this id (a check constraint keeps it so). */
export const IDENTITY_ROW_ID = 1;

/** Keeps IN lists well under SQLite's and PostgreSQL's bound-parameter limits. */
export const IN_LIST_CHUNK = 500;

/** JSON columns are always written as JSON text (pg would turn a JS array into a PostgreSQL array literal, not JSON). */
export function encodeJson(value: unknown): string {
  return JSON.stringify(value ?? null);
}

/** Turns a JSON column as the driver hands it back into the value (TEXT is parsed on SQLite; pg parses jsonb itself). */
export type JsonDecoder = (value: unknown) => unknown;

/** SQLite's decoder: the TEXT we stored. */
export const decodeJsonText: JsonDecoder = (value) => {
  if (typeof value !== 'string') throw malformedRow(['(json): not text']);
  return JSON.parse(value) as unknown;
};

// Shapes of what the database hands back, checked before they become domain objects: a drifted
// schema or a driver returning strings for bigints must fail loudly rather than leak wrong types.
// JSON columns that hold protocol documents (consent records, signed agreements, obligations,
// demands, signed offers) are parsed here with the protocol's own schemas, once: code above the
// store trusts their types.
const time = z.number().int();

const relationshipRowSchema = z.object({
  id: z.string(),
  their_did: z.string(),
  customer_ref: z.string(),
  state: z.enum(['active', 'muted', 'cut_off']),
  created_at: time,
  updated_at: time,
});

const messageRowSchema = z.object({
  id: z.string(),
  relationship_id: z.string(),
  message_id: z.string(),
  direction: z.enum(['in', 'out']),
  type: z.string(),
  body: z.unknown(),
  created_at: time,
});

const outboxRowSchema = z.object({
  id: z.string(),
  relationship_id: z.string(),
  message_id: z.string(),
  packed: z.string(),
  created_at: time,
  next_attempt_at: time,
  attempts: z.number().int(),
});

const identityRowSchema = z.object({
  did: z.string(),
  keys: z.unknown(),
  created_at: time,
});

const disclosureRequestRowSchema = z.object({
  id: z.string(),
  relationship_id: z.string(),
  message_id: z.string(),
  nonce: z.string(),
  fields: z.array(z.string()),
  credentials: z.array(z.object({ vct: z.string(), claims: z.array(z.string()), issuers: z.array(z.string()).optional() })),
  purpose: z.string(),
  retention: z.string().nullable(),
  legal_basis: z.string(),
  terms_ref: z.string().nullable(),
  state: z.enum(['pending', 'fulfilled', 'declined', 'withdrawn']),
  created_at: time,
  updated_at: time,
});

const consentRecordRowSchema = z.object({
  id: z.string(),
  relationship_id: z.string(),
  request_id: z.string().nullable(),
  state: z.enum(['active', 'refused', 'withdrawn', 'expired']),
  record: consentRecordSchema,
  created_at: time,
  updated_at: time,
});

const termsAgreementRowSchema = z.object({
  id: z.string(),
  relationship_id: z.string(),
  proposed_by: z.enum(['person', 'company']),
  agreement_id: z.string(),
  state: z.enum(['proffered', 'countered', 'agreed', 'superseded', 'rejected', 'declined']),
  thread_id: z.string(),
  signed: signedAgreementSchema,
  obligations: obligationsSchema,
  reason: z.string().nullable(),
  created_at: time,
  updated_at: time,
});

const heldFieldRowSchema = z.object({
  relationship_id: z.string(),
  field: z.string(),
  value: z.unknown(),
  version: z.number().int(),
  consent_record_id: z.string(),
  source: z.enum(['self', 'credential']),
  issuer: z.string().nullable(),
  updated_at: time,
});

const profileVersionRowSchema = z.object({ version: z.number().int() });

const presentationRowSchema = z.object({
  id: z.string(),
  relationship_id: z.string(),
  message_id: z.string(),
  kind: z.enum(['disclosure', 'update']),
  sd_jwt: z.string(),
  received_at: time,
});

const connectorEventRowSchema = z.object({
  id: z.string(),
  relationship_id: z.string().nullable(),
  type: z.string(),
  payload: z.unknown(),
  created_at: time,
  next_attempt_at: time,
  attempts: z.number().int(),
  dispatched_at: time.nullable(),
});

const connectorAttemptRowSchema = z.object({
  event_id: z.string(),
  connector_id: z.string(),
  state: z.enum(['delivered', 'failed', 'dead']),
  attempts: z.number().int(),
  next_attempt_at: time.nullable(),
  last_error: z.string().nullable(),
  updated_at: time,
});

const dataRightsRowSchema = z.object({
  id: z.string(),
  relationship_id: z.string(),
  request_id: z.string(),
  exercise: z.enum(['access', 'deletion']),
  status: z.enum(['open', 'in_progress', 'fulfilled', 'denied', 'expired']),
  reason: z.string().nullable(),
  received_at: time,
  updated_at: time,
});

const intentRowSchema = z.object({
  id: z.string(),
  relationship_id: z.string(),
  message_id: z.string(),
  demand: demandSchema,
  outcome: z.string().nullable(),
  currency_required: z.union([z.literal(0), z.literal(1)]),
  expires_at: time,
  state: z.enum(['open', 'accepted', 'declined', 'closed', 'expired']),
  created_at: time,
  updated_at: time,
});

const offerRowSchema = z.object({
  id: z.string(),
  intent_id: z.string(),
  relationship_id: z.string(),
  signed: signedOfferSchema,
  state: z.enum(['offered', 'accepted', 'declined', 'withdrawn', 'closed']),
  created_at: time,
  updated_at: time,
});

const callerVerificationRowSchema = z.object({
  id: z.string(),
  relationship_id: z.string(),
  message_id: z.string(),
  code: z.string(),
  operator: z.string(),
  state: z.enum(['pending', 'approved', 'refused']),
  expires_at: time,
  created_at: time,
  answered_at: time.nullable(),
  answer_message_id: z.string().nullable(),
  signer_kid: z.string().nullable(),
  answer_jws: z.string().nullable(),
});

const auditRowSchema = z.object({
  id: z.string(),
  operator: z.string(),
  relationship_id: z.string().nullable(),
  action: z.string(),
  at: time,
});

const serviceCaseRowSchema = z.object({
  id: z.string(),
  relationship_id: z.string(),
  case_id: z.string(),
  state: caseStateSchema,
  warranty_claim: z.union([z.literal(0), z.literal(1)]),
  details: z.strictObject({ thing: sharedThingSchema, identifier: caseIdentifierSchema.nullable() }),
  created_at: time,
  updated_at: time,
});

const serviceCaseEntryRowSchema = z.object({
  id: z.string(),
  case_row_id: z.string(),
  relationship_id: z.string(),
  message_id: z.string(),
  author: z.enum(['person', 'company']),
  kind: z.enum(['open', 'reply', 'resolve']),
  text: z.string().nullable(),
  created_at: time,
});

const countRowSchema = z.object({ count: z.number().int() });

function parseRow<S extends z.ZodType>(schema: S, row: unknown): z.infer<S> {
  const parsed = schema.safeParse(row);
  if (!parsed.success) throw malformedRow(describeZodIssues(parsed.error));
  return parsed.data;
}

/** The row with its JSON columns decoded; anything that is not an object is left for the schema to reject. */
function withJson(row: unknown, columns: readonly string[], decode: JsonDecoder): unknown {
  if (typeof row !== 'object' || row === null) return row;
  const copy: Record<string, unknown> = { ...(row as Record<string, unknown>) };
  for (const column of columns) copy[column] = decode(copy[column]);
  return copy;
}

export function toIdentity(row: unknown, decode: JsonDecoder): AgentIdentity {
  const r = parseRow(identityRowSchema, withJson(row, ['keys'], decode));
  return { did: r.did, keys: r.keys, createdAt: r.created_at };
}

export function toRelationship(row: unknown): CompanyRelationship {
  const r = parseRow(relationshipRowSchema, row);
  return {
    id: r.id,
    theirDid: r.their_did,
    customerRef: r.customer_ref,
    state: r.state,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export function toStoredMessage(row: unknown, decode: JsonDecoder): StoredMessage {
  const r = parseRow(messageRowSchema, withJson(row, ['body'], decode));
  return {
    id: r.id,
    relationshipId: r.relationship_id,
    messageId: r.message_id,
    direction: r.direction,
    type: r.type,
    body: r.body,
    createdAt: r.created_at,
  };
}

export function toOutboxItem(row: unknown): OutboxItem {
  const r = parseRow(outboxRowSchema, row);
  return {
    id: r.id,
    relationshipId: r.relationship_id,
    messageId: r.message_id,
    packed: r.packed,
    createdAt: r.created_at,
    nextAttemptAt: r.next_attempt_at,
    attempts: r.attempts,
  };
}

export function toDisclosureRequest(row: unknown, decode: JsonDecoder): DisclosureRequest {
  const r = parseRow(disclosureRequestRowSchema, withJson(row, ['fields', 'credentials'], decode));
  return {
    id: r.id,
    relationshipId: r.relationship_id,
    messageId: r.message_id,
    nonce: r.nonce,
    fields: r.fields,
    credentials: r.credentials.map((c) => ({ vct: c.vct, claims: c.claims, ...(c.issuers ? { issuers: c.issuers } : {}) })),
    purpose: r.purpose,
    retention: r.retention,
    legalBasis: r.legal_basis,
    termsRef: r.terms_ref,
    state: r.state,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export function toConsentRecord(row: unknown, decode: JsonDecoder): ConsentRecordRow {
  const r = parseRow(consentRecordRowSchema, withJson(row, ['record'], decode));
  return {
    id: r.id,
    relationshipId: r.relationship_id,
    requestId: r.request_id,
    state: r.state,
    record: r.record,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export function toTermsAgreement(row: unknown, decode: JsonDecoder): TermsAgreementRow {
  const r = parseRow(termsAgreementRowSchema, withJson(row, ['signed', 'obligations'], decode));
  return {
    id: r.id,
    relationshipId: r.relationship_id,
    proposedBy: r.proposed_by,
    agreementId: r.agreement_id,
    state: r.state,
    threadId: r.thread_id,
    signed: r.signed,
    obligations: r.obligations,
    reason: r.reason,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export function toHeldField(row: unknown, decode: JsonDecoder): HeldField {
  const r = parseRow(heldFieldRowSchema, withJson(row, ['value'], decode));
  return {
    relationshipId: r.relationship_id,
    field: r.field,
    value: r.value,
    version: r.version,
    consentRecordId: r.consent_record_id,
    source: r.source,
    issuer: r.issuer,
    updatedAt: r.updated_at,
  };
}

/** A profile_versions row, or 0 when there is none. */
export function toProfileVersion(row: unknown): number {
  return row === undefined ? 0 : parseRow(profileVersionRowSchema, row).version;
}

export function toPresentation(row: unknown): Presentation {
  const r = parseRow(presentationRowSchema, row);
  return {
    id: r.id,
    relationshipId: r.relationship_id,
    messageId: r.message_id,
    kind: r.kind,
    sdJwt: r.sd_jwt,
    receivedAt: r.received_at,
  };
}

export function toConnectorEvent(row: unknown, decode: JsonDecoder): ConnectorEvent {
  const r = parseRow(connectorEventRowSchema, withJson(row, ['payload'], decode));
  return {
    id: r.id,
    relationshipId: r.relationship_id,
    type: r.type,
    payload: r.payload,
    createdAt: r.created_at,
    nextAttemptAt: r.next_attempt_at,
    attempts: r.attempts,
    dispatchedAt: r.dispatched_at,
  };
}

export function toConnectorAttempt(row: unknown): ConnectorAttempt {
  const r = parseRow(connectorAttemptRowSchema, row);
  return {
    eventId: r.event_id,
    connectorId: r.connector_id,
    state: r.state,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    lastError: r.last_error,
    updatedAt: r.updated_at,
  };
}

export function toDataRightsRequest(row: unknown): DataRightsRequestRow {
  const r = parseRow(dataRightsRowSchema, row);
  return { id: r.id, relationshipId: r.relationship_id, requestId: r.request_id, exercise: r.exercise, status: r.status, reason: r.reason, receivedAt: r.received_at, updatedAt: r.updated_at };
}

export function toReceivedIntent(row: unknown, decode: JsonDecoder): ReceivedIntent {
  const r = parseRow(intentRowSchema, withJson(row, ['demand'], decode));
  return {
    id: r.id,
    relationshipId: r.relationship_id,
    messageId: r.message_id,
    demand: r.demand,
    outcome: r.outcome,
    currencyRequired: r.currency_required === 1,
    expiresAt: r.expires_at,
    state: r.state,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export function toOffer(row: unknown, decode: JsonDecoder): OfferRow {
  const r = parseRow(offerRowSchema, withJson(row, ['signed'], decode));
  return {
    id: r.id,
    intentId: r.intent_id,
    relationshipId: r.relationship_id,
    signed: r.signed,
    state: r.state,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export function toCallerVerification(row: unknown): CallerVerificationRow {
  const r = parseRow(callerVerificationRowSchema, row);
  return {
    id: r.id,
    relationshipId: r.relationship_id,
    messageId: r.message_id,
    code: r.code,
    operator: r.operator,
    state: r.state,
    expiresAt: r.expires_at,
    createdAt: r.created_at,
    answeredAt: r.answered_at,
    answerMessageId: r.answer_message_id,
    signerKid: r.signer_kid,
    answerJws: r.answer_jws,
  };
}

export function toAuditEntry(row: unknown): AuditEntry {
  const r = parseRow(auditRowSchema, row);
  return { id: r.id, operator: r.operator, relationshipId: r.relationship_id, action: r.action, at: r.at };
}

/** The audit log's default and largest page. */
export const AUDIT_DEFAULT_LIMIT = 100;
export const AUDIT_MAX_LIMIT = 1000;

/** A `count(*) as count` row. */
export function toCount(row: unknown): number {
  return parseRow(countRowSchema, row).count;
}

/** The order of claimed rows (RETURNING order is unspecified on both databases). */
export function byCreatedThenId(a: { createdAt: number; id: string }, b: { createdAt: number; id: string }): number {
  return a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

const thingReceiptRowSchema = z.object({
  id: z.string(),
  relationship_id: z.string(),
  message_id: z.string(),
  signed: signedReceiptSchema,
  state: z.enum(['sent', 'accepted', 'declined']),
  created_at: time,
  answered_at: time.nullable(),
});

export function toThingReceipt(row: unknown, decode: JsonDecoder): ThingReceiptRow {
  const r = parseRow(thingReceiptRowSchema, withJson(row, ['signed'], decode));
  return { id: r.id, relationshipId: r.relationship_id, messageId: r.message_id, signed: r.signed, state: r.state, createdAt: r.created_at, answeredAt: r.answered_at };
}

const thingRegistrationRowSchema = z.object({
  id: z.string(),
  relationship_id: z.string(),
  consent_record_id: z.string(),
  message_id: z.string(),
  gtin: z.string().nullable(),
  model: z.string().nullable(),
  claims: z.record(z.string(), z.unknown()),
  sd_jwt: z.string(),
  created_at: time,
});

export function toThingRegistration(row: unknown, decode: JsonDecoder): ThingRegistrationRow {
  const r = parseRow(thingRegistrationRowSchema, withJson(row, ['claims'], decode));
  return {
    id: r.id,
    relationshipId: r.relationship_id,
    consentRecordId: r.consent_record_id,
    messageId: r.message_id,
    gtin: r.gtin,
    model: r.model,
    claims: r.claims,
    sdJwt: r.sd_jwt,
    createdAt: r.created_at,
  };
}
export function toServiceCase(row: unknown, decode: JsonDecoder): ServiceCaseRow {
  const r = parseRow(serviceCaseRowSchema, withJson(row, ['details'], decode));
  return {
    id: r.id,
    relationshipId: r.relationship_id,
    caseId: r.case_id,
    state: r.state,
    warrantyClaim: r.warranty_claim === 1,
    details: { thing: r.details.thing, identifier: r.details.identifier },
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export function toServiceCaseEntry(row: unknown): ServiceCaseEntry {
  const r = parseRow(serviceCaseEntryRowSchema, row);
  return { id: r.id, caseRowId: r.case_row_id, relationshipId: r.relationship_id, messageId: r.message_id, author: r.author, kind: r.kind, text: r.text, createdAt: r.created_at };
}
