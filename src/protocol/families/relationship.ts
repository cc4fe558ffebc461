import { z } from 'zod';
import { TO_COMPANY, TO_PERSON, defineMessage } from './registry.js';
import { kithType } from './uris.js';

export const erasureReceiptBodySchema = z.object({
  relationship: z.string().min(1).max(4096),
  terminated_at: z.number().int().nonnegative(),
  erased_at: z.number().int().nonnegative(),
  erased: z.array(z.object({ category: z.string().min(1).max(100), count: z.number().int().nonnegative(), where: z.string().max(200) }).passthrough()).max(100),
}).passthrough();
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
