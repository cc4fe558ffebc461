import { ProfileUpdate } from '../../protocol/families/index.js';
import { applyNotice, disclosureDeps, verifyNotice } from '../disclosure.js';
import { companyHandler } from './types.js';

/** Kith profile-update 1.0, the company's side: a newer version of fields it holds, verified, then applied once. */
export const profileUpdateHandlers = [
  companyHandler({
    definition: ProfileUpdate.notice,
    verify: (received, context) => verifyNotice(received, disclosureDeps(context)),
    apply: async ({ store, relationship, context }, received, verified) => ({ reply: await applyNotice(verified, received, relationship, store, disclosureDeps(context)) }),
  }),
];
