import { ReportProblem } from '../../protocol/families/index.js';
import { OUTSIDE_TERMS_PROBLEM } from '../../protocol/families/terms.js';
import { companyHandler } from './types.js';

/** Report Problem 2.0: her agent refused a disclosure request as outside the agreed terms, so the request is over. */
export const reportProblemHandlers = [
  companyHandler({
    definition: ReportProblem.problemReport,
    async apply({ store, relationship, now }, received) {
      const { pthid } = received.message;
      if (received.message.body.code !== OUTSIDE_TERMS_PROBLEM || pthid === undefined) return {};
      const request = (await store.listDisclosureRequests(relationship.id)).find((r) => r.messageId === pthid && r.state === 'pending');
      if (request) await store.settleDisclosureRequest(request.id, 'declined', now);
      return {};
    },
  }),
];
