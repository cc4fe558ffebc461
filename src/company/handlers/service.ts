import { Service } from '../../protocol/families/index.js';
import { receiveCaseAck, receiveCaseMessage, receiveCaseOpen } from '../serviceCases.js';
import { companyHandler } from './types.js';

/**
 * Kith service 1.0, the company's side (docs/protocol/service.md): she opens a case about one of
 * her things, writes in it or resolves it, each acknowledged on the same response with the case's
 * state; her agent acknowledges what the company writes. A message naming a case this relationship
 * does not have is `service.unknown_case`, one to a resolved case `service.case_resolved`: refused
 * whole, nothing stored.
 */
export const serviceHandlers = [
  companyHandler({
    definition: Service.caseOpen,
    apply: async ({ store, relationship, now, context }, received) => ({ reply: await receiveCaseOpen(store, relationship, received, now, context.logger) }),
  }),
  companyHandler({
    definition: Service.caseReply,
    apply: async ({ store, relationship, now, context }, received) => ({ reply: await receiveCaseMessage(store, relationship, received, 'reply', now, context.logger) }),
  }),
  companyHandler({
    definition: Service.caseResolve,
    apply: async ({ store, relationship, now, context }, received) => ({ reply: await receiveCaseMessage(store, relationship, received, 'resolve', now, context.logger) }),
  }),
  companyHandler({
    definition: Service.ack,
    async apply({ store, relationship, context }, received) {
      await receiveCaseAck(store, relationship, received.message.body.case_id, received.message.body.state, context.logger);
      return {};
    },
  }),
];
