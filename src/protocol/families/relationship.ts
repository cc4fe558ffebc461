import { z } from 'zod';
import { TO_COMPANY, TO_PERSON, defineMessage } from './registry.js';
import { kithType } from './uris.js';

export const erasureReceiptBodySchema = z.object({
  relationship: z.string().min(1).max(4096),
  terminated_at: z.number().int().nonnegative(),
  // Absent on a terminate that did not ask for erasure: nothing was erased, so there is no time to give.
  erased_at: z.number().int().nonnegative().optional(),
  erased: z.array(z.object({ category: z.string().min(1).max(100), count: z.number().int().nonnegative(), where: z.string().max(200) }).passthrough()).max(100),
  // Echoes the terminate's erasure_requested; absent (as in receipts before issue 17) means true.
  erasure_requested: z.boolean().optional(),
}).passthrough().superRefine((body, ctx) => {
  // A receipt either says when it erased, or says erasure was not asked for and lists nothing.
  if (body.erasure_requested === false) {
    if (body.erased.length > 0 || body.erased_at !== undefined) ctx.addIssue({ code: 'custom', path: ['erased'], message: 'nothing is erased when erasure was not requested' });
  } else if (body.erased_at === undefined) {
    ctx.addIssue({ code: 'custom', path: ['erased_at'], message: 'required when erasure was requested' });
  }
});
export type ErasureReceiptBody = z.infer<typeof erasureReceiptBodySchema>;

/** Kith relationship 1.0: mute, unmute, and terminate with erasure, answered by a signed receipt. */
export const Relationship = {
  mute: defineMessage(kithType('relationship', '1.0', 'mute'), z.object({}).passthrough(), TO_COMPANY),
  unmute: defineMessage(kithType('relationship', '1.0', 'unmute'), z.object({}).passthrough(), TO_COMPANY),
  terminate: defineMessage(
    kithType('relationship', '1.0', 'terminate'),
    z.object({ erasure_requested: z.boolean(), reason: z.string().max(2000).optional() }).passthrough(),
    TO_COMPANY,
  ),
  erasureReceipt: defineMessage(kithType('relationship', '1.0', 'erasure-receipt'), erasureReceiptBodySchema, TO_PERSON),
} as const;
