import { RelationshipError } from '../core/errors.js';
import type { RelationshipRecord } from './vault/relationshipRepo.js';
import type { Vault } from './vault/vault.js';

/**
 * A relationship by id, the company's name, an id prefix or the start of the company's name ("acme"
 * finds "Acme Outfitters"). Of several relationships with exactly that company name, the one still
 * live (she cut one off and connected again); a prefix that fits several is refused, naming them,
 * so that no command acts on a relationship she did not mean.
 * @throws RelationshipError `relationship.unknown` when none matches, or several do
 */
export function findRelationship(vault: Vault, reference: string): RelationshipRecord {
  // By id: one row. Otherwise the decrypted list, which the repository keeps between calls.
  const exact = vault.relationships.get(reference);
  if (exact) return exact;
  const all = vault.relationships.list();
  const lower = reference.toLowerCase();
  const named = all.filter((r) => r.vendorName?.toLowerCase() === lower);
  if (named.length > 0) {
    const live = named.filter((r) => r.state !== 'cut_off');
    const chosen = named.length === 1 ? named[0] : live.length === 1 ? live[0] : undefined;
    if (chosen) return chosen;
    throw several(reference, live.length > 1 ? live : named);
  }
  const matches = all.filter((r) => r.id.startsWith(reference) || (lower.length > 0 && r.vendorName?.toLowerCase().startsWith(lower)));
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) throw several(reference, matches);
  throw new RelationshipError('relationship.unknown', `No relationship "${reference}"`);
}

function several(reference: string, matches: readonly RelationshipRecord[]): RelationshipError {
  const listed = matches
    .slice(0, 5)
    .map((r) => `${r.vendorName ?? 'unnamed'} (${r.id.slice(0, 8)}, ${r.state.replace('_', ' ')})`)
    .join(', ');
  return new RelationshipError('relationship.unknown', `"${reference}" matches ${matches.length} relationships: ${listed}${matches.length > 5 ? ', …' : ''}; give more of the name, or the id`, {
    details: { matches: matches.map((r) => r.id) },
  });
}

/** @throws RelationshipError `relationship.cut_off` */
export function requireLive(relationship: RelationshipRecord): void {
  if (relationship.state === 'cut_off') throw new RelationshipError('relationship.cut_off', 'This relationship was cut off');
}
