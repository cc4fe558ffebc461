import { Consent } from '../../protocol/families/index.js';
import { applyWithdrawal } from '../consentWithdrawal.js';
import { companyHandler } from './types.js';

/** Kith consent 1.0, the company's side: a withdrawal erases what it holds of the fields, then is acknowledged. */
export const consentHandlers = [
  companyHandler({
    definition: Consent.withdraw,
    apply: async ({ store, relationship, now }, received) => ({ reply: await applyWithdrawal(received.message.body, relationship, store, now) }),
  }),
];
