import { createHash } from 'node:crypto';
import type { z } from 'zod';
import { KithError, RelationshipError, StoreError } from '../../core/errors.js';
import { describeZodIssues } from '../../core/json.js';
import { outboxRowSchema, relationshipRowSchema, type OutboxItem, type VendorRelationship } from './types.js';

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

export function toRelationship(row: unknown): VendorRelationship {
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

export function byCreatedThenId(a: OutboxItem, b: OutboxItem): number {
  return a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
