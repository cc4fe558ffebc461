import { outgoing } from '../../protocol/buildMessage.js';
import { Terms } from '../../protocol/families/index.js';
import { AFTER_TERMS_PUSH_DELAY_MS } from '../relationshipCommands.js';
import { applyAnswer, applyProffer, termsDeps, verifyAcceptance, verifyProffer, verifyRefusal, verifyResponse } from '../terms.js';
import { companyHandler, type CompanyContext } from './types.js';
import type { CompanyRelationship } from '../store/types.js';

/** Her answer settled the terms: the policy's first request may go now (it waited for them). */
const askOnceSettled = (relationship: CompanyRelationship, context: CompanyContext) => context.followUps.requestOnConnect(relationship, AFTER_TERMS_PUSH_DELAY_MS);

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
