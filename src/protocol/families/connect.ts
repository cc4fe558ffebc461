import { z } from 'zod';
import { TO_COMPANY, TO_PERSON, defineMessage } from './registry.js';
import { termsProfferBodySchema, termsResponseBodySchema } from './terms.js';
import { kithType } from './uris.js';

/**
 * Kith connect 1.0: she answers an out-of-band invitation from a fresh pairwise DID. The request
 * carries nothing about her, except the terms she proffers (if she set any); the response names
 * the company, the customer number it will know her by, and its answer to her terms.
 */
const connectRequestBodySchema = z.object({ terms: termsProfferBodySchema.optional() }).passthrough();
export type ConnectRequestBody = z.infer<typeof connectRequestBodySchema>;

export const Connect = {
  request: defineMessage(kithType('connect', '1.0', 'request'), connectRequestBodySchema, TO_COMPANY),
  response: defineMessage(
    kithType('connect', '1.0', 'response'),
    z
      .object({
        // The company's name; `vendor` is its key on the wire and stays so.
        vendor: z.object({ name: z.string().min(1).max(200) }),
        customer_ref: z.string().min(1).max(100),
        terms: termsResponseBodySchema.optional(),
      })
      .passthrough(),
    TO_PERSON,
  ),
} as const;
