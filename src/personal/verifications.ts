import { TransportError, VerificationError, type KithErrorCode } from '../core/errors.js';
import { outgoing } from '../protocol/buildMessage.js';
import { CallerVerification, formatBindingCode, type VerificationDecision } from '../protocol/families/callerVerification.js';
import type { AgentCore } from './core.js';
import type { VerificationRecord } from './vault/verificationRepo.js';

/** A caller verification as her web app and CLI show it. */
export interface VerificationView {
  id: string;
  relationshipId: string;
  /** The company's name as she knows it (null if it gave none). */
  companyName: string | null;
  /** Who asks: the company's label for its operator. */
  agent: string;
  /** As both screens show it: `K7Q-4MX`. */
  code: string;
  /** `expired` once the challenge's end is past and she has not answered: it can no longer be approved. */
  state: 'pending' | 'approved' | 'refused' | 'expired';
  expiresAt: number;
  createdAt: number;
  updatedAt: number;
}

export interface VerificationsFeature {
  /** Newest first; all, one relationship's, or only those still waiting for her (`pending`). */
  list(options?: { relationship?: string; pendingOnly?: boolean }): VerificationView[];
  /**
   * Sends her answer, signed by her pairwise DID; recorded once the company took it.
   * @throws VerificationError `verification.unknown` | `verification.expired` | `verification.answered`
   *   (hers or the company's: nothing changed); RelationshipError `relationship.cut_off`; TransportError
   */
  answer(reference: string, decision: VerificationDecision): Promise<VerificationView>;
}

const VERIFICATION_CODES = new Set<KithErrorCode>(['verification.unknown', 'verification.expired', 'verification.answered']);

export function createVerificationsFeature(core: AgentCore): VerificationsFeature {
  const { vault, clock, logger } = core;

  function view(record: VerificationRecord, now: number): VerificationView {
    const relationship = vault.relationships.get(record.relationshipId);
    return {
      id: record.id,
      relationshipId: record.relationshipId,
      companyName: relationship?.vendorName ?? null,
      agent: record.agent,
      code: formatBindingCode(record.code),
      state: record.state === 'pending' && now > record.expiresAt ? 'expired' : record.state,
      expiresAt: record.expiresAt,
      createdAt: record.createdAt,
      updatedAt: record.updatedAt,
    };
  }

  /** By id or a unique id prefix of at least 4 characters. */
  function find(reference: string): VerificationRecord {
    const exact = vault.verifications.get(reference);
    if (exact) return exact;
    const matches = reference.length >= 4 ? vault.verifications.list().filter((r) => r.id.startsWith(reference)) : [];
    if (matches.length !== 1 || !matches[0]) throw new VerificationError('verification.unknown', matches.length > 1 ? 'Ambiguous verification reference' : 'No such caller verification');
    return matches[0];
  }

  return {
    list(options = {}) {
      const relationshipId = options.relationship === undefined ? undefined : core.find(options.relationship).id;
      const now = clock.now();
      const views = vault.verifications
        .list(relationshipId)
        .reverse()
        .map((record) => view(record, now));
      return options.pendingOnly ? views.filter((v) => v.state === 'pending') : views;
    },

    async answer(reference, decision) {
      const record = find(reference);
      if (record.state !== 'pending') throw new VerificationError('verification.answered', `This caller verification was already ${record.state}`);
      if (clock.now() > record.expiresAt) throw new VerificationError('verification.expired', 'This caller verification has expired: ask the company for a new one');
      const relationship = vault.relationships.get(record.relationshipId);
      if (!relationship) throw new VerificationError('verification.unknown', 'No such caller verification');
      core.requireLive(relationship);
      try {
        await core.exchange(relationship, outgoing(CallerVerification.answer, { challenge_id: record.challengeId, decision }), { thid: record.messageId });
      } catch (error) {
        // The company's refusal, by its own code: her record stays as it was.
        const code = error instanceof TransportError ? error.details?.['code'] : undefined;
        if (typeof code === 'string' && VERIFICATION_CODES.has(code as KithErrorCode)) {
          throw new VerificationError(code as 'verification.unknown', `The company refused the answer (${code})`, { cause: error });
        }
        throw error;
      }
      const at = clock.now();
      vault.verifications.settle(record.id, decision, at);
      core.events.emit({ type: 'verification.answered', verificationId: record.id, relationshipId: record.relationshipId, state: decision });
      logger.info('caller_verification_answered', { relationship: record.relationshipId, decision });
      const settled = vault.verifications.get(record.id);
      return view(settled ?? record, at);
    },
  };
}
