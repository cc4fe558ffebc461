import { z } from 'zod';
import { TO_COMPANY, TO_PERSON, defineMessage } from './registry.js';
import { standardType } from './uris.js';

/**
 * Message Pickup 3.0. The company agent plays the mediator's part for messages addressed to her:
 * they wait in its outbox until she asks for them (`delivery-request`) and confirms
 * (`messages-received`); only then are they removed, so nothing is lost.
 */
export const Pickup = {
  statusRequest: defineMessage(standardType('messagepickup', '3.0', 'status-request'), z.object({ recipient_did: z.string().optional() }).passthrough(), TO_COMPANY),
  status: defineMessage(
    standardType('messagepickup', '3.0', 'status'),
    z.object({ recipient_did: z.string().optional(), message_count: z.number().int().nonnegative(), live_delivery: z.boolean().optional() }).passthrough(),
    TO_PERSON,
  ),
  deliveryRequest: defineMessage(
    standardType('messagepickup', '3.0', 'delivery-request'),
    z.object({ limit: z.number().int().min(1).max(100), recipient_did: z.string().optional() }).passthrough(),
    TO_COMPANY,
  ),
  delivery: defineMessage(standardType('messagepickup', '3.0', 'delivery'), z.object({ recipient_did: z.string().optional() }).passthrough(), TO_PERSON),
  messagesReceived: defineMessage(
    standardType('messagepickup', '3.0', 'messages-received'),
    z.object({ message_id_list: z.array(z.string().min(1).max(256)).max(100) }).passthrough(),
    TO_COMPANY,
  ),
} as const;
