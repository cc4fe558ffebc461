import { CallerVerification } from '../../protocol/families/index.js';
import { applyAnswer } from '../callerVerification.js';
import { companyHandler } from './types.js';

/** Kith caller-verification 1.0, the company's side: her signed answer to a challenge, kept as received (the proof). */
export const callerVerificationHandlers = [
  companyHandler({
    definition: CallerVerification.answer,
    async apply({ store, relationship, now, context }, received) {
      await applyAnswer(store, relationship, received, now);
      context.logger.info('caller_verification_answered', { relationship: relationship.id, decision: received.message.body.decision });
      return {};
    },
  }),
];
