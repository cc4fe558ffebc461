import { z } from 'zod';
import { BOTH_SIDES, TO_PERSON, defineMessage } from './registry.js';
import { standardType } from './uris.js';

/** Trust Ping 2.0: liveness of a relationship, end to end through the envelope. */
export const TrustPing = {
  ping: defineMessage(standardType('trust-ping', '2.0', 'ping'), z.object({ response_requested: z.boolean().optional() }).passthrough(), BOTH_SIDES),
  pingResponse: defineMessage(standardType('trust-ping', '2.0', 'ping-response'), z.object({}).passthrough(), TO_PERSON),
} as const;
