import { z } from 'zod';
import { BOTH_SIDES, TO_COMPANY, TO_PERSON, defineMessage } from './registry.js';
import { kithType } from './uris.js';

/*
 * Kith terms 1.0 (docs/protocol/terms.md): she proffers one agreement of a roster; the company
 * accepts, counters once with one alternative of the same roster, or rejects; both keep the same
 * record, signed by both. A change of terms is a new proffer by either side.
 *
 * The signed agreement documents are carried as JSON objects and parsed strictly by
 * protocol/terms/agreementRecord.ts, so that a bad record gets its own terms.* code rather than
 * message.body_invalid.
 */

const signedAgreementJson = z.record(z.string(), z.unknown());
const recordIdSchema = z.uuid();

/** A proffer: an agreement record signed by the party proposing it (outcome `accepted`). */
export const termsProfferBodySchema = z.object({ agreement: signedAgreementJson }).passthrough();
export type TermsProfferBody = z.infer<typeof termsProfferBodySchema>;

export const TERMS_DECISIONS = ['accepted', 'countered', 'rejected'] as const;

export const termsResponseBodySchema = z
  .object({
    /** The id of the proffered record this answers. */
    record_id: recordIdSchema,
    decision: z.enum(TERMS_DECISIONS),
    /** accepted: the proffered record, now signed by both. */
    agreement: signedAgreementJson.optional(),
    /**
     * countered: the company's alternative as a record signed by it. MyTerms allows exactly one;
     * the list form exists so that a second one is refused as terms.counter_loop, not read.
     */
    alternatives: z.array(signedAgreementJson).min(1).max(5).optional(),
    /** rejected: why, in words. */
    reason: z.string().max(2000).optional(),
    /** rejected: the agreements the company would accept (ids), if it says. */
    accepts: z.array(z.string().min(1).max(2000)).max(100).optional(),
  })
  .passthrough()
  .refine((b) => (b.decision === 'accepted') === (b.agreement !== undefined), 'an agreement comes with, and only with, accepted')
  .refine((b) => (b.decision === 'countered') === (b.alternatives !== undefined), 'alternatives come with, and only with, countered');
export type TermsResponseBody = z.infer<typeof termsResponseBodySchema>;

const termsAcceptBodySchema = z.object({ record_id: recordIdSchema, agreement: signedAgreementJson }).passthrough();
export type TermsAcceptBody = z.infer<typeof termsAcceptBodySchema>;
const termsDeclineBodySchema = z.object({ record_id: recordIdSchema, reason: z.string().max(2000).optional() }).passthrough();
export type TermsDeclineBody = z.infer<typeof termsDeclineBodySchema>;
const termsAckBodySchema = z.object({ record_id: recordIdSchema, state: z.enum(['agreed', 'declined']) }).passthrough();
export type TermsAckBody = z.infer<typeof termsAckBodySchema>;

/** The problem code her agent sends for a disclosure request outside the agreed terms. */
export const OUTSIDE_TERMS_PROBLEM = 'e.p.terms.outside-terms';

export const Terms = {
  proffer: defineMessage(kithType('terms', '1.0', 'proffer'), termsProfferBodySchema, BOTH_SIDES),
  response: defineMessage(kithType('terms', '1.0', 'response'), termsResponseBodySchema, BOTH_SIDES),
  /** She accepts the company's counter: the counter record, now signed by both. */
  accept: defineMessage(kithType('terms', '1.0', 'accept'), termsAcceptBodySchema, TO_COMPANY),
  /** She declines the company's counter. */
  decline: defineMessage(kithType('terms', '1.0', 'decline'), termsDeclineBodySchema, TO_COMPANY),
  /** The company's answer to accept or decline. */
  ack: defineMessage(kithType('terms', '1.0', 'ack'), termsAckBodySchema, TO_PERSON),
} as const;
