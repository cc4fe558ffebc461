import { z } from 'zod';
import { MEDIA_TYPE } from './envelope/format.js';

/** A DIDComm v2 attachment (inline JSON or base64 data). */
export const attachmentSchema = z
  .object({
    id: z.string().max(256).optional(),
    media_type: z.string().max(256).optional(),
    format: z.string().max(512).optional(),
    description: z.string().max(1024).optional(),
    data: z
      .object({
        json: z.unknown().optional(),
        base64: z.string().optional(),
        jws: z.unknown().optional(),
        hash: z.string().optional(),
        links: z.array(z.string()).optional(),
      })
      .passthrough(),
  })
  .passthrough();
export type Attachment = z.infer<typeof attachmentSchema>;

/**
 * A DIDComm v2 plaintext message (the headers of the spec's "Message Headers" section).
 * Unknown headers pass through, as the spec requires; the body is checked per type later.
 */
export const didcommMessageSchema = z
  .object({
    id: z.string().min(1).max(256),
    type: z.string().min(1).max(512),
    typ: z.literal(MEDIA_TYPE.plain).optional(),
    from: z.string().min(1).max(4096).optional(),
    to: z.array(z.string().min(1).max(4096)).max(64).optional(),
    thid: z.string().min(1).max(256).optional(),
    pthid: z.string().min(1).max(256).optional(),
    created_time: z.number().int().nonnegative().optional(),
    expires_time: z.number().int().nonnegative().optional(),
    body: z.record(z.string(), z.unknown()),
    attachments: z.array(attachmentSchema).max(1000).optional(),
    return_route: z.enum(['all', 'none', 'thread']).optional(),
    lang: z.string().max(35).optional(),
  })
  .passthrough();
export type DidcommMessage = z.infer<typeof didcommMessageSchema>;

/** A message whose body has passed its type's schema. */
export type TypedMessage<Body> = DidcommMessage & { body: Body };
