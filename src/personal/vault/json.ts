import { z } from 'zod';

/**
 * True for values that survive JSON.stringify/parse unchanged: plain objects, arrays, strings,
 * finite numbers, booleans and null. Anything else would be silently altered by the round trip.
 */
export function isJsonValue(value: unknown, depth = 0): boolean {
  if (depth > 64) return false;
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every((v) => isJsonValue(v, depth + 1));
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) return false;
    return Object.values(value).every((v) => isJsonValue(v, depth + 1));
  }
  return false;
}

/** A JSON value typed as `unknown` (callers keep their own types); rejects `undefined`, Dates, etc. */
export const jsonValueSchema = z.unknown().refine((v) => isJsonValue(v), { message: 'must be a JSON value' });

/** Record ids are random UUIDs: the only identifiers that may sit in plaintext columns. */
export const recordIdSchema = z.uuid();

/** Milliseconds since the Unix epoch, as every timestamp column stores them. */
export const timestampSchema = z.number().int().nonnegative();

/** The row of a `SELECT count(*) AS n` query. */
export const countRowSchema = z.object({ n: z.number().int().nonnegative() });

/**
 * A profile field or claim name (`email`, `given_name`). The protocol layer decides which names
 * exist; the vault only insists on a non-empty string that survives being an object key.
 */
export const fieldNameSchema = z
  .string()
  .min(1)
  .max(256)
  .refine((name) => name !== '__proto__', { message: 'reserved name' });

/** Profile versions count from 1 (0 means "no profile yet" and is never stored as a change). */
export const profileVersionSchema = z.number().int().positive();

