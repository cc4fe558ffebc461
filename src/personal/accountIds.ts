import { AccountError } from '../core/errors.js';
import type { IdentifierKind } from '../protocol/families/account.js';
import type { AgentCore } from './core.js';
import type { AccountIdRecord } from './vault/accountIdRepo.js';

/** One administrative identity as her web app and CLI show it (docs/protocol/account.md). */
export interface AccountIdView {
  id: string;
  relationshipId: string;
  /** The company's name as she knows it (null if it gave none). */
  companyName: string | null;
  /** The relationship's state: an identifier of a cut-off company is still hers to look up. */
  relationshipState: 'pending' | 'active' | 'muted' | 'cut_off';
  kind: IdentifierKind;
  value: string;
  label: string | null;
  /** `company`: from its signed list (kept as proof); `her`: she entered it. */
  source: 'company' | 'her';
  /** When the company says it issued it (ISO 8601); null for hers. */
  issuedAt: string | null;
  /** The company's list it came in; null for hers. */
  sequence: number | null;
  /** The DIDComm id of the company's signed list (its JWS is kept in her vault); null for hers. */
  proofMessageId: string | null;
  createdAt: number;
}

export interface AccountIdsFeature {
  /** Oldest first; all, or one relationship's. @throws RelationshipError `relationship.unknown` */
  list(relationship?: string): AccountIdView[];
  /**
   * Her own entry of what a company knows her by.
   * @throws RelationshipError `relationship.unknown`; AccountError `account.exists`
   */
  add(relationship: string, entry: { kind: IdentifierKind; value: string; label?: string | undefined }): AccountIdView;
  /** Removes one of her own entries. @throws AccountError `account.unknown` | `account.company_issued` */
  remove(reference: string): AccountIdView;
  /** Which company knows her by this value, and as what: exact match after normalising ("88 123" finds "88-123"). */
  find(value: string): AccountIdView[];
}

export function createAccountIdsFeature(core: AgentCore): AccountIdsFeature {
  const { vault, logger } = core;

  function view(record: AccountIdRecord): AccountIdView {
    const relationship = vault.relationships.get(record.relationshipId);
    return {
      id: record.id,
      relationshipId: record.relationshipId,
      companyName: relationship?.vendorName ?? null,
      relationshipState: relationship?.state ?? 'cut_off',
      kind: record.kind,
      value: record.value,
      label: record.label,
      source: record.source,
      issuedAt: record.issuedAt,
      sequence: record.sequence,
      proofMessageId: record.proof?.messageId ?? null,
      createdAt: record.createdAt,
    };
  }

  /** By id or a unique id prefix of at least 4 characters. */
  function byReference(reference: string): AccountIdRecord {
    const exact = vault.accountIds.get(reference);
    if (exact) return exact;
    const matches = reference.length >= 4 ? vault.accountIds.list().filter((r) => r.id.startsWith(reference)) : [];
    if (matches.length !== 1 || !matches[0]) throw new AccountError('account.unknown', matches.length > 1 ? 'Ambiguous identifier reference' : 'No such identifier');
    return matches[0];
  }

  return {
    list(relationship) {
      const relationshipId = relationship === undefined ? undefined : core.find(relationship).id;
      return vault.accountIds.list(relationshipId).map(view);
    },

    add(relationship, entry) {
      const found = core.find(relationship);
      const record = vault.transaction(() => vault.accountIds.addHers(found.id, entry));
      logger.info('account_id_added', { relationship: found.id, kind: entry.kind });
      return view(record);
    },

    remove(reference) {
      const record = vault.transaction(() => vault.accountIds.removeHers(byReference(reference).id));
      logger.info('account_id_removed', { relationship: record.relationshipId });
      return view(record);
    },

    find(value) {
      return vault.accountIds.find(value).map(view);
    },
  };
}
