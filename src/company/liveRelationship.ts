import { RelationshipError } from '../core/errors.js';
import type { CompanyRelationship, CompanyStore } from './store/types.js';

/**
 * The sender's relationship, if it is still live.
 * @throws RelationshipError `relationship.unknown`, or `relationship.cut_off` for an erased or ended one
 */
export async function liveRelationship(store: CompanyStore, theirDid: string): Promise<CompanyRelationship> {
  return liveOf(store, theirDid, await store.findRelationshipByDid(theirDid));
}

/**
 * The same judgement of a relationship already looked up (or not found) by `theirDid`.
 * @throws RelationshipError `relationship.unknown`, or `relationship.cut_off` for an erased or ended one
 */
export async function liveOf(store: CompanyStore, theirDid: string, relationship: CompanyRelationship | undefined): Promise<CompanyRelationship> {
  if (!relationship) {
    if (await store.isTombstoned(theirDid)) throw new RelationshipError('relationship.cut_off', 'This relationship was cut off');
    throw new RelationshipError('relationship.unknown', 'No relationship with this sender');
  }
  if (relationship.state === 'cut_off') throw new RelationshipError('relationship.cut_off', 'This relationship was cut off');
  return relationship;
}
