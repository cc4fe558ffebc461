import { CallerVerification } from '../../protocol/families/index.js';
import { personalHandler } from './types.js';

/**
 * Kith caller-verification 1.0, her side: a company asks her to confirm she is the caller on the
 * phone. The challenge is kept in her vault and shown to her; she answers (or not) herself.
 */
export const callerVerificationHandlers = [
  personalHandler({
    definition: CallerVerification.challenge,
    apply({ vault, relationship, now }, received) {
      const { body } = received.message;
      // The same challenge again under another message id: she has it already.
      if (vault.verifications.findByChallengeId(relationship.id, body.challenge_id)) return;
      const record = vault.verifications.insert({
        relationshipId: relationship.id,
        challengeId: body.challenge_id,
        messageId: received.message.id,
        code: body.code,
        agent: body.agent,
        expiresAt: body.expires_time * 1000,
        createdAt: now,
      });
      // Muted: kept without a notice, like the company's messages.
      if (relationship.state !== 'active') return;
      return { notify: { type: 'verification.requested', verificationId: record.id, relationshipId: relationship.id } };
    },
  }),
];
