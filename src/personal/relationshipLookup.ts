import { RelationshipError } from '../core/errors.js';
import type { RelationshipRecord } from './vault/relationshipRepo.js';
import type { Vault } from './vault/vault.js';

/**
 * A relationship by id, the company's name, an id prefix or the start of the company's name ("acme"
 * finds "Acme Outfitters"); of several matches, the one still live.
 * @throws RelationshipError `relationship.unknown` when none or several match
 */
export function findRelationship(vault: Vault, reference: string): RelationshipRecord {
  // By id: one row. Otherwise the decrypted list, which the repository keeps between calls.
  const exact = vault.relationships.get(reference);
  if (exact) return exact;
  const all = vault.relationships.list();
  const lower = reference.toLowerCase();
  const named = all.filter((r) => r.vendorName?.toLowerCase() === lower);
  const matches = named.length > 0 ? named : all.filter((r) => r.id.startsWith(reference) || (lower.length > 0 && r.vendorName?.toLowerCase().startsWith(lower)));
  const live = matches.filter((r) => r.state !== 'cut_off');
  const chosen = matches.length === 1 ? matches[0] : live.length === 1 ? live[0] : undefined;
  if (!chosen) throw new RelationshipError('relationship.unknown', matches.length > 1 ? `"${reference}" matches several relationships` : `No relationship "${reference}"`);
  return chosen;
}

/** @throws RelationshipError `relationship.cut_off` */
export function requireLive(relationship: RelationshipRecord): void {
  if (relationship.state === 'cut_off') throw new RelationshipError('relationship.cut_off', 'This relationship was cut off');
}
