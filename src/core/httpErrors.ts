import type { Context } from 'hono';
import { presentError } from './errorTable.js';
import { asKithError, type KithError } from './errors.js';
import type { Logger } from './log.js';

/** The JSON error body every Kith HTTP endpoint returns: `{ error: { code, message, details? } }`. */
export function errorBody(error: KithError): { error: ReturnType<KithError['toJSON']> } {
  return { error: error.toJSON() };
}

/** One error handler for every Hono app: domain code throws KithErrors, this picks the status. */
export function respondWithError(c: Context, thrown: unknown, logger: Logger): Response {
  const error = asKithError(thrown);
  const { status } = presentError(error.code);
  // A client that hung up mid-body is not our error: one info line, and the answer goes nowhere.
  if (error.code === 'api.client_aborted') logger.info('client_aborted', { path: c.req.path });
  if (error.code === 'internal') {
    logger.error('internal_error', { name: thrown instanceof Error ? thrown.name : typeof thrown, path: c.req.path });
  }
  // An error that says when to try again (a throttled unlock, say) says it in the standard header too.
  const retryAfter = error.details?.['retryAfterSeconds'];
  return c.json(errorBody(error), status, typeof retryAfter === 'number' ? { 'retry-after': String(retryAfter) } : {});
}
