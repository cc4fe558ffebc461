import { IntentError, KithError, RelationshipError, StoreError } from '../../core/errors.js';

/** Driver-error translation and the errors both store implementations raise themselves. */

function driverCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  return typeof err.code === 'string' ? err.code : undefined;
}

const UNAVAILABLE_NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'ETIMEDOUT', 'EAI_AGAIN', 'EPIPE']);
// 'not queryable': pg's words for a client whose connection broke (a restart) when the next query comes.
const UNAVAILABLE_MESSAGES = /connection terminated|connection timeout|has already been destroyed|after calling end|not queryable/i;

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

/** The foreign key from an offer to its intent (migrations.ts names it). */
export const OFFERS_INTENT_FK = 'offers_intent_fk';

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
    // Every foreign key points at a relationship but this one: an offer whose intent was erased
    // while it was written (PostgreSQL names the constraint; on SQLite createOffer finds it first).
    if ((err as { constraint?: unknown }).constraint === OFFERS_INTENT_FK) {
      return new IntentError('intent.unknown', 'The referenced intent does not exist', { cause: err });
    }
    return new RelationshipError('relationship.unknown', 'The referenced relationship does not exist', { cause: err });
  }
  // Out of disk (SQLite) or disk_full (PostgreSQL 53100): the write was rolled back; named apart
  // from "unavailable" so an operator knows what to free. Both are 503: senders retry.
  if (code === 'SQLITE_FULL' || code === '53100') {
    return new StoreError('store.full', 'The company store is out of disk space', { cause: err });
  }
  if (isUnavailable(code, err)) {
    return new StoreError('store.unavailable', 'The company store is unavailable', { cause: err });
  }
  return err;
}

export function malformedRow(issues: string[]): KithError {
  return new KithError('internal', 'The company store returned a malformed row', { details: { issues } });
}

/** For the methods that name a relationship by id and find none (setRelationshipState, eraseRelationship). */
export function unknownRelationship(relationshipId: string): RelationshipError {
  return new RelationshipError('relationship.unknown', 'No such relationship', { details: { relationshipId } });
}

/** For createOffer when the intent is not one of the relationship's. */
export function unknownIntent(intentId: string): IntentError {
  return new IntentError('intent.unknown', 'No such intent of the relationship', { details: { intentId } });
}
