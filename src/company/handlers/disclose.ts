import { Disclose } from '../../protocol/families/index.js';
import { applyAnswer, disclosureDeps, verifyDecline, verifyPresent } from '../disclosure.js';
import { companyHandler } from './types.js';

/** Kith disclose 1.0, the company's side: her presentation or her refusal, verified, then stored. */
export const discloseHandlers = [
  companyHandler({
    definition: Disclose.present,
    verify: (received, context) => verifyPresent(received, disclosureDeps(context)),
    apply: async ({ store, relationship, context }, received, verified) => ({ reply: await applyAnswer(verified, received, relationship, store, disclosureDeps(context)) }),
  }),

  companyHandler({
    definition: Disclose.decline,
    verify: (received, context) => verifyDecline(received, disclosureDeps(context)),
    apply: async ({ store, relationship, context }, received, verified) => ({ reply: await applyAnswer(verified, received, relationship, store, disclosureDeps(context)) }),
  }),
];
