import { DataRights } from '../../protocol/families/index.js';
import { answerDataRightsRequest } from '../dataRights.js';
import { companyHandler } from './types.js';

/** Kith data-rights 1.0, the company's side: her request is answered on the same response. */
export const dataRightsHandlers = [
  companyHandler({
    definition: DataRights.request,
    apply: async ({ store, relationship, now }, received) => ({ reply: await answerDataRightsRequest(received.message.body, relationship, store, now) }),
  }),
];
