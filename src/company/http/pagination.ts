import { z } from 'zod';
import { ApiError } from '../../core/errors.js';
import type { CreatedKey, DeadLetterKey } from '../store/types.js';

/*
 * Pages of the admin lists that grow: `?limit=` (1 to 1000, default 100) and `?cursor=` (the
 * `next` of the page before), answered with `next` (null on the last page). A cursor is opaque to
 * clients: base64url of the JSON of the last row's sort key (store/keyset.ts). Without limit or
 * cursor a list answers as before, its first 100 rows, plus `next`.
 */

export const DEFAULT_PAGE_LIMIT = 100;
export const MAX_PAGE_LIMIT = 1000;

const LIMIT_TEXT = `a whole number from 1 to ${MAX_PAGE_LIMIT}`;
const MAX_CURSOR_LENGTH = 2048;

/** How a list's sort key goes into a cursor and comes back out of one. */
export interface CursorCodec<K> {
  encode(key: K): string;
  /** @throws ApiError `api.bad_request` naming `cursor` */
  decode(cursor: string): K;
}

function codec<K>(toTuple: (key: K) => unknown[], fromTuple: (json: unknown) => K | undefined): CursorCodec<K> {
  const bad = () => new ApiError('api.bad_request', 'cursor: not a cursor of this list (pass the `next` of the page before, unchanged)', { details: { fields: { cursor: 'not a cursor of this list' } } });
  return {
    encode: (key) => Buffer.from(JSON.stringify(toTuple(key)), 'utf8').toString('base64url'),
    decode(cursor) {
      if (cursor.length === 0 || cursor.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw bad();
      let json: unknown;
      try {
        json = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
      } catch {
        throw bad();
      }
      const key = fromTuple(json);
      if (key === undefined) throw bad();
      return key;
    },
  };
}

// What a store can take as a parameter on both dialects: a bigint-sized time, an id without controls (PostgreSQL text refuses NUL).
const time = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const id = z.string().min(1).max(512).regex(/^[^\u0000-\u001f]+$/);

/** Lists ordered by createdAt then id: relationships, messages, events, intents. */
const createdTuple = z.tuple([time, id]);
export const createdCursor: CursorCodec<CreatedKey> = codec(
  (key) => [key.createdAt, key.id],
  (json) => {
    const parsed = createdTuple.safeParse(json);
    return parsed.success ? { createdAt: parsed.data[0], id: parsed.data[1] } : undefined;
  },
);

/** Dead letters, most recent first. */
const deadLetterTuple = z.tuple([time, id, id]);
export const deadLetterCursor: CursorCodec<DeadLetterKey> = codec(
  (key) => [key.updatedAt, key.eventId, key.connectorId],
  (json) => {
    const parsed = deadLetterTuple.safeParse(json);
    return parsed.success ? { updatedAt: parsed.data[0], eventId: parsed.data[1], connectorId: parsed.data[2] } : undefined;
  },
);

/**
 * The page a request asks for.
 * @throws ApiError `api.bad_request` naming `limit` or `cursor`
 */
export function requestedPage<K>(query: { limit: string | undefined; cursor: string | undefined }, cursors: CursorCodec<K>): { limit: number; after?: K } {
  let limit = DEFAULT_PAGE_LIMIT;
  if (query.limit !== undefined) {
    limit = /^[0-9]{1,4}$/.test(query.limit) ? Number(query.limit) : Number.NaN;
    if (!(limit >= 1 && limit <= MAX_PAGE_LIMIT)) throw new ApiError('api.bad_request', `limit: ${LIMIT_TEXT}`, { details: { fields: { limit: LIMIT_TEXT } } });
  }
  return query.cursor === undefined ? { limit } : { limit, after: cursors.decode(query.cursor) };
}

/**
 * One more row than the page is asked of the store, so the answer knows whether another page
 * follows: `next` is the cursor of the page's last row then, else null.
 */
export async function onePage<R, K>(page: { limit: number; after?: K }, cursors: CursorCodec<K>, keyOf: (row: R) => K, fetch: (page: { limit: number; after?: K }) => Promise<R[]>): Promise<{ items: R[]; next: string | null }> {
  const rows = await fetch({ ...page, limit: page.limit + 1 });
  const items = rows.slice(0, page.limit);
  const last = items.at(-1);
  return { items, next: rows.length > page.limit && last !== undefined ? cursors.encode(keyOf(last)) : null };
}

export const createdKeyOf = (row: { createdAt: number; id: string }): CreatedKey => ({ createdAt: row.createdAt, id: row.id });
