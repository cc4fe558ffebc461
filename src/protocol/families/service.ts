import { z } from 'zod';
import { gtinSchema, priceSchema } from '../things/fields.js';
import { identifierKindSchema, identifierLabelSchema, identifierValueSchema } from './account.js';
import { calendarDateSchema } from './intent.js';
import { BOTH_SIDES, TO_COMPANY, defineMessage } from './registry.js';
import { kithType } from './uris.js';

/** Where a service case stands: waiting for the company, answered by it, or over (docs/protocol/service.md). */
export const CASE_STATES = ['open', 'answered', 'resolved'] as const;
export const caseStateSchema = z.enum(CASE_STATES);
export type CaseState = z.infer<typeof caseStateSchema>;

/** One message of a case's thread: what she or the company writes. */
export const MAX_CASE_TEXT = 8_000;

/** No control characters but line breaks and tabs: a case's text is shown on a console and in a terminal. */
const caseText = z
  .string()
  .min(1)
  .max(MAX_CASE_TEXT)
  .regex(/^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]+$/u, 'has control characters')
  .refine((v) => v.trim().length > 0, 'is blank');
export const caseTextSchema = caseText;

/** A case id: a random UUID her agent chooses when she opens the case, named by every later message. */
export const caseIdSchema = z.uuid();

const detail = (max: number) => z.string().trim().min(1).max(max);

/**
 * The details of her thing she chose to share with the case, and only those: each member is one she
 * picked (`kith things service --share serial,model,...`). Strict: a member this version does not
 * know is refused, so a case never carries more of the thing than the page says it can.
 */
export const sharedThingSchema = z.strictObject({
  name: detail(200).optional(),
  brand: detail(200).optional(),
  model: detail(200).optional(),
  gtin: gtinSchema.optional(),
  mpn: detail(100).optional(),
  serialNumber: detail(200).optional(),
  purchaseDate: calendarDateSchema.optional(),
  price: priceSchema.optional(),
  seller: detail(200).optional(),
});
export type SharedThing = z.infer<typeof sharedThingSchema>;
/** The thing fields a case may carry, in the order the page lists them. */
export const SHAREABLE_THING_FIELDS = Object.keys(sharedThingSchema.shape) as (keyof SharedThing)[];

/** An administrative identifier she picked from those the company knows her by (docs/protocol/account.md). */
export const caseIdentifierSchema = z.strictObject({ kind: identifierKindSchema, value: identifierValueSchema, label: identifierLabelSchema.optional() });
export type CaseIdentifier = z.infer<typeof caseIdentifierSchema>;

export const caseOpenBodySchema = z
  .object({
    case_id: caseIdSchema,
    thing: sharedThingSchema,
    text: caseText,
    /** True while a warranty of the thing is in force on the day she opens the case (her agent sets it, she does not). */
    warranty_claim: z.boolean(),
    identifier: caseIdentifierSchema.optional(),
  })
  .passthrough();
export type CaseOpenBody = z.infer<typeof caseOpenBodySchema>;

export const caseReplyBodySchema = z.object({ case_id: caseIdSchema, text: caseText }).passthrough();
export type CaseReplyBody = z.infer<typeof caseReplyBodySchema>;

export const caseResolveBodySchema = z.object({ case_id: caseIdSchema, text: caseText.optional() }).passthrough();
export type CaseResolveBody = z.infer<typeof caseResolveBodySchema>;

export const caseAckBodySchema = z.object({ case_id: caseIdSchema, state: caseStateSchema }).passthrough();
export type CaseAckBody = z.infer<typeof caseAckBodySchema>;

/**
 * Kith service 1.0: a service case about one of her things, opened by her on the relationship that
 * supports it (its servicer, maker or seller), carrying the details she picked; a thread both sides
 * write in until one of them resolves it. Every message is acknowledged with the case's state
 * (docs/protocol/service.md).
 */
export const Service = {
  caseOpen: defineMessage(kithType('service', '1.0', 'case-open'), caseOpenBodySchema, TO_COMPANY),
  caseReply: defineMessage(kithType('service', '1.0', 'case-reply'), caseReplyBodySchema, BOTH_SIDES),
  caseResolve: defineMessage(kithType('service', '1.0', 'case-resolve'), caseResolveBodySchema, BOTH_SIDES),
  ack: defineMessage(kithType('service', '1.0', 'ack'), caseAckBodySchema, BOTH_SIDES),
} as const;
