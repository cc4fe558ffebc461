import { createHash } from 'node:crypto';

/**
 * The erasure rule both implementations follow (RelationshipStore.eraseRelationship): what is
 * cleared, in which order, and what an erased relationship keeps.
 */

/**
 * What eraseRelationship clears, in the order it clears them and the summary reports them. Every
 * category but 'relationship' is the table of that name, emptied of the relationship's rows;
 * 'relationship' is the relationship row itself, kept as a tombstone (see tombstoneOf). A table
 * added for relationships goes at the end, so receipts already given keep their order.
 */
export const ERASURE_CATEGORIES = [
  'messages',
  'outbox',
  'relationship',
  'disclosure_requests',
  'consent_records',
  'terms_agreements',
  'held_fields',
  'profile_versions',
  'presentations',
  'connector_events',
  // Offers before the intents they answer, which they reference.
  'offers',
  'intents',
  // The challenges sent to her and her signed answers (the console's caller verification).
  'caller_verifications',
  // Her things (docs/protocol/thing.md): the receipts sent her and her registrations.
  'thing_receipts',
  'thing_registrations',
  // Her service cases: each thread's messages before the cases they belong to.
  'service_case_entries',
  'service_cases',
] as const;

export type ErasureCategory = (typeof ERASURE_CATEGORIES)[number];

/** The categories that are tables keyed by relationship_id, emptied of the relationship's rows. */
export type ErasedTable = Exclude<ErasureCategory, 'relationship'>;

/** Erased relationships keep their row, so their DID column needs a unique, non-personal stand-in. */
export const TOMBSTONE_DID_PREFIX = 'tombstone:';

export function tombstoneDidFor(relationshipId: string): string {
  return `${TOMBSTONE_DID_PREFIX}${relationshipId}`;
}

export function isTombstoneDid(theirDid: string): boolean {
  return theirDid.startsWith(TOMBSTONE_DID_PREFIX);
}

/** The tombstones key of a DID: enough to recognise her DID again, without keeping it. */
export function tombstoneKey(theirDid: string): string {
  return createHash('sha256').update(theirDid, 'utf8').digest('hex');
}

/** The writes that leave a relationship row as a tombstone, in column names. */
export interface Tombstone {
  /** Upserted into `tombstones` on did_sha256: the same DID may have been erased before under an earlier relationship, and one tombstone is kept. */
  tombstone: { did_sha256: string; relationship_id: string; erased_at: number };
  /** Set on the `relationships` row, which keeps its id and createdAt. */
  relationship: { their_did: string; customer_ref: string; state: 'cut_off'; updated_at: number };
}

/** The tombstone for a relationship, or undefined when it is one already (so erasing again counts 0). */
export function tombstoneOf(rel: { id: string; theirDid: string }, at: number): Tombstone | undefined {
  if (isTombstoneDid(rel.theirDid)) return undefined;
  return {
    tombstone: { did_sha256: tombstoneKey(rel.theirDid), relationship_id: rel.id, erased_at: at },
    relationship: { their_did: tombstoneDidFor(rel.id), customer_ref: '', state: 'cut_off', updated_at: at },
  };
}
