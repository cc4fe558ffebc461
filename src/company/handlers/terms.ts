import { outgoing } from '../../protocol/buildMessage.js';
import { Terms } from '../../protocol/families/index.js';
import { applyAnswer, applyProffer, termsDeps, verifyAcceptance, verifyProffer, verifyRefusal, verifyResponse } from '../terms.js';
import { companyHandler, type CompanyContext } from './types.js';
import type { CompanyRelationship } from '../store/types.js';

/**
 * Her answer settled the terms: the policy's first request goes now (it waited for them). It is
 * pushed at once, while her agent still waits for our ack: her agent answers "terms settling"
 * (503) until it recorded the ack, then picks it up, so it is judged by the terms just agreed.
 */
const askOnceSettled = (relationship: CompanyRelationship, context: CompanyContext) => context.followUps.requestOnConnect(relationship);

/** Kith terms 1.0, the company's side: her proffers decided by policy, her answers to ours recorded. */
export const termsHandlers = [
  companyHandler({
    definition: Terms.proffer,
    verify: (received, context) => verifyProffer(received.message.body, received.senderDid, termsDeps(context)),
    apply: async ({ store, relationship, now }, _received, verified) => ({ reply: outgoing(Terms.response, await applyProffer(verified, relationship, store, now)) }),
  }),

  companyHandler({
    definition: Terms.accept,
    verify: (received, context) => verifyAcceptance(received.message.body, received.senderDid, context.store, termsDeps(context)),
    apply: async ({ store, relationship, now }, _received, verified) => ({ reply: await applyAnswer(verified, relationship, store, now) }),
    after: askOnceSettled,
  }),

  companyHandler({
    definition: Terms.decline,
    verify: (received, context) => verifyRefusal(received.message.body, received.senderDid, context.store),
    apply: async ({ store, relationship, now }, _received, verified) => ({ reply: await applyAnswer(verified, relationship, store, now) }),
    after: askOnceSettled,
  }),

  // Her answer to a change of terms the company proposed.
  companyHandler({
    definition: Terms.response,
    verify: (received, context) => verifyResponse(received.message.body, received.senderDid, context.store, termsDeps(context)),
    apply: async ({ store, relationship, now }, _received, verified) => ({ reply: await applyAnswer(verified, relationship, store, now) }),
  }),
];
