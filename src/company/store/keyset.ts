/*
 * Keyset pages for the lists that grow (relationships, messages, connector events, intents, dead
 * letters): a page starts after the sort key of the last row of the page before, so it stays
 * right while rows are added or removed (an offset would skip or repeat rows).
 * Ids compare in byte order on both dialects, whatever the database's collation.
 */

/** The sort key of the lists ordered by createdAt then id. */
export interface CreatedKey {
  createdAt: number;
  id: string;
}

/** The sort key of dead letters: most recently given up first (updatedAt, eventId, connectorId, all descending). */
export interface DeadLetterKey {
  updatedAt: number;
  eventId: string;
  connectorId: string;
}

/** At most `limit` rows (all without it) that come after `after` in the list's order (from the start without it). */
export interface KeysetPage<K> {
  after?: K;
  limit?: number;
}
