import { createHash } from 'node:crypto';
import type { z } from 'zod';
import { KithError, RelationshipError, StoreError } from '../../core/errors.js';
import { describeZodIssues } from '../../core/json.js';
import {
  connectorEventRowSchema,
  consentRecordRowSchema,
  disclosureRequestRowSchema,
  heldFieldRowSchema,
  outboxRowSchema,
  presentationRowSchema,
  relationshipRowSchema,
  termsAgreementRowSchema,
  type ConnectorEvent,
  type ConsentRecordRow,
  type DisclosureRequest,
  type HeldField,
  type OutboxItem,
  type Presentation,
  type TermsAgreementRow,
  type CompanyRelationship,
} from './types.js';

/** Row parsing and driver-error translation shared by the SQLite and the kysely (PostgreSQL) stores. */

function driverCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  return typeof err.code === 'string' ? err.code : undefined;
}

const UNAVAILABLE_NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'ETIMEDOUT', 'EAI_AGAIN', 'EPIPE']);
const UNAVAILABLE_MESSAGES = /connection terminated|connection timeout|has already been destroyed|after calling end/i;

/** Both drivers' spellings of "the database is not there or not usable right now". */
function isUnavailable(code: string | undefined, err: unknown): boolean {
  if (code !== undefined) {
    if (UNAVAILABLE_NODE_CODES.has(code)) return true;
    // PostgreSQL classes 08 (connection), 53 (resources), 57P (shutdown / cannot connect now).
    if (/^(08|53)...$/.test(code) || /^57P0[1-3]$/.test(code)) return true;
    if (/^SQLITE_(BUSY|LOCKED|CANTOPEN|FULL|READONLY|IOERR|NOTADB|CORRUPT)/.test(code)) return true;
  }
  return err instanceof Error && UNAVAILABLE_MESSAGES.test(err.message);
}

/** Maps driver errors to Kith codes; anything unrecognised (including the caller's own errors) passes through untouched. */
export function translateError(err: unknown): unknown {
  if (err instanceof KithError) return err;
  const code = driverCode(err);
  if (code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    const constraint = (err as { constraint?: unknown }).constraint;
    return new StoreError('store.conflict', 'A row with the same key already exists', {
      cause: err,
      ...(typeof constraint === 'string' ? { details: { constraint } } : {}),
    });
  }
  if (code === '23503' || code === 'SQLITE_CONSTRAINT_FOREIGNKEY') {
    return new RelationshipError('relationship.unknown', 'The referenced relationship does not exist', { cause: err });
  }
  if (isUnavailable(code, err)) {
    return new StoreError('store.unavailable', 'The vendor store is unavailable', { cause: err });
  }
  return err;
}

export function malformedRow(issues: string[]): KithError {
  return new KithError('internal', 'The vendor store returned a malformed row', { details: { issues } });
}

export function parseRow<S extends z.ZodType>(schema: S, row: unknown): z.infer<S> {
  const parsed = schema.safeParse(row);
  if (!parsed.success) throw malformedRow(describeZodIssues(parsed.error));
  return parsed.data;
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

/** Turns a JSON column as the driver hands it back into the value (TEXT is parsed on SQLite; pg parses jsonb itself). */
export type JsonDecoder = (value: unknown) => unknown;

/** The row with its JSON column decoded; anything that is not an object is left for the schema to reject. */
function withJson(row: unknown, column: string, decode: JsonDecoder): unknown {
  if (typeof row !== 'object' || row === null) return row;
  const record = row as Record<string, unknown>;
  return { ...record, [column]: decode(record[column]) };
}

export function toDisclosureRequest(row: unknown, decode: JsonDecoder): DisclosureRequest {
  const r = parseRow(disclosureRequestRowSchema, withJson(withJson(row, 'fields', decode), 'credentials', decode));
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
  const r = parseRow(consentRecordRowSchema, withJson(row, 'record', decode));
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
  const r = parseRow(termsAgreementRowSchema, withJson(withJson(row, 'signed', decode), 'obligations', decode));
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
  const r = parseRow(heldFieldRowSchema, withJson(row, 'value', decode));
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
  const r = parseRow(connectorEventRowSchema, withJson(row, 'payload', decode));
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

export function byCreatedThenId(a: { createdAt: number; id: string }, b: { createdAt: number; id: string }): number {
  return a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
