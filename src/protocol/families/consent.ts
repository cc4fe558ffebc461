import { z } from 'zod';
import { claimNameSchema } from './disclose.js';
import { TO_COMPANY, TO_PERSON, defineMessage } from './registry.js';
import { kithType } from './uris.js';

const MAX_FIELDS = 50;

const uniqueFields = (fields: readonly string[]): boolean => new Set(fields).size === fields.length;

export const consentWithdrawBodySchema = z
  .object({
    /** The fields whose consent she withdraws: the company erases every value it holds of each. */
    fields: z.array(claimNameSchema).min(1).max(MAX_FIELDS).refine(uniqueFields, 'lists a field twice'),
    /** Why: she removed them from her profile, or she keeps them but no longer lets this company hold them. */
    reason: z.enum(['removed_from_profile', 'withdrawn']),
  })
  .passthrough();
export type ConsentWithdrawBody = z.infer<typeof consentWithdrawBodySchema>;

export const consentWithdrawAckBodySchema = z
  .object({
    /** The withdrawal's fields, as sent. */
    fields: z.array(claimNameSchema).min(1).max(MAX_FIELDS),
    /** The fields it held and has now erased; empty for a resent withdrawal (nothing left to erase). */
    erased: z.array(claimNameSchema).max(MAX_FIELDS),
    /** The consent records (ids both sides share) in which the withdrawal is now recorded. */
    consent_records: z.array(z.uuid()).max(100),
  })
  .passthrough();
export type ConsentWithdrawAckBody = z.infer<typeof consentWithdrawAckBodySchema>;

export const consentExpiredBodySchema = z
  .object({
    /** The consent records whose retention ended (ids both sides share); each is now `expired`. */
    consent_records: z.array(z.uuid()).min(1).max(100),
    /** The fields it held under them and has deleted. */
    fields: z.array(claimNameSchema).max(MAX_FIELDS),
  })
  .passthrough();
export type ConsentExpiredBody = z.infer<typeof consentExpiredBodySchema>;

/**
 * Kith consent 1.0: she withdraws her consent for fields a company holds (because she removed them
 * from her profile, or because she no longer wants that company to have them); the company erases
 * what it holds of them, records the withdrawal in the consent records they were given under, and
 * acknowledges. Withdrawing again is harmless: the ack says nothing was left to erase. And when the
 * retention she agreed to ends, the company deletes what it held under that consent and tells her.
 */
export const Consent = {
  withdraw: defineMessage(kithType('consent', '1.0', 'withdraw'), consentWithdrawBodySchema, TO_COMPANY),
  withdrawAck: defineMessage(kithType('consent', '1.0', 'withdraw-ack'), consentWithdrawAckBodySchema, TO_PERSON),
  expired: defineMessage(kithType('consent', '1.0', 'expired'), consentExpiredBodySchema, TO_PERSON),
} as const;
