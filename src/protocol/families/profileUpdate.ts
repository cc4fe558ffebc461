import { z } from 'zod';
import { claimNameSchema, presentationSchema } from './disclose.js';
import { TO_COMPANY, TO_PERSON, defineMessage } from './registry.js';
import { kithType } from './uris.js';

export const profileUpdateNoticeBodySchema = z
  .object({
    /** Her profile version this notice brings the company to; it only ever grows. */
    version: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
    /** The changed fields; the presentation discloses exactly these (nonce = this message's id). */
    fields: z.array(claimNameSchema).min(1).max(50),
    presentation: presentationSchema,
  })
  .passthrough()
  .refine((b) => new Set(b.fields).size === b.fields.length, 'lists a field twice');
export type ProfileUpdateNoticeBody = z.infer<typeof profileUpdateNoticeBodySchema>;

export const profileUpdateAckBodySchema = z
  .object({
    version: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
    /** False when the company already had this version (a resent notice): nothing was applied twice. */
    applied: z.boolean(),
    fields: z.array(claimNameSchema).max(50),
  })
  .passthrough();

/**
 * Kith profile-update 1.0: she changed fields a company holds; her agent sends the new values as a
 * fresh key-bound SD-JWT with her profile version, the company applies each version once, never
 * goes back to an older one, and acknowledges.
 */
export const ProfileUpdate = {
  notice: defineMessage(kithType('profile-update', '1.0', 'notice'), profileUpdateNoticeBodySchema, TO_COMPANY),
  ack: defineMessage(kithType('profile-update', '1.0', 'ack'), profileUpdateAckBodySchema, TO_PERSON),
} as const;
