import { z } from 'zod';
import { intentCategorySchema } from '../intent/categories.js';
import { claimNameSchema, presentationSchema, retentionSchema } from './disclose.js';
import { TO_COMPANY, TO_PERSON, defineMessage } from './registry.js';
import { termsProfferBodySchema, termsResponseBodySchema } from './terms.js';
import { kithType } from './uris.js';

/*
 * Kith intent 1.0 (docs/protocol/intent.md): she casts what she wants (shaped after schema.org
 * Demand) to companies she chose, each over its own pairwise relationship, and they answer with
 * offers (shaped after schema.org Offer) that each company signs inside the message, so she keeps
 * them as evidence. Every recipient gets its own intent id: pooled casts share no identifier but
 * their wording.
 */

/** A decimal amount as text (schema.org allows Text for price; text keeps cents exact). */
export const amountSchema = z.string().regex(/^(0|[1-9]\d{0,11})(\.\d{1,4})?$/, 'a decimal amount such as 199.90');
/** ISO 4217 alphabetic currency code. */
export const currencySchema = z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 currency code such as EUR');
/** A calendar date, ISO 8601 `YYYY-MM-DD`. */
export const calendarDateSchema = z.iso.date();
/** A moment, ISO 8601 date-time in UTC with seconds (`2026-12-31T18:00:00Z`), as schema.org DateTime. */
export const dateTimeSchema = z.iso.datetime({ offset: false, precision: 0 });
const intentIdSchema = z.uuid();

/** Where the thing must be delivered or the service given: a country, optionally narrowed. */
export const regionSchema = z.strictObject({
  /** ISO 3166-1 alpha-2. */
  addressCountry: z.string().regex(/^[A-Z]{2}$/, 'an ISO 3166-1 alpha-2 country code'),
  addressRegion: z.string().min(1).max(100).optional(),
  postalCode: z.string().min(1).max(20).optional(),
});
export type Region = z.infer<typeof regionSchema>;

/** What she wants: the schema.org Demand members Kith uses, closed so that nothing else rides along. */
export const demandSchema = z
  .strictObject({
    '@type': z.literal('Demand'),
    /** What she wants, in her words. */
    description: z.string().min(1).max(2000),
    category: intentCategorySchema,
    priceSpecification: z
      .strictObject({ minPrice: amountSchema.optional(), maxPrice: amountSchema.optional(), priceCurrency: currencySchema })
      .refine((p) => p.minPrice === undefined || p.maxPrice === undefined || Number(p.minPrice) <= Number(p.maxPrice), 'minPrice is above maxPrice')
      .optional(),
    eligibleQuantity: z.strictObject({ value: z.number().int().min(1).max(1_000_000), unitText: z.string().min(1).max(50).optional() }).optional(),
    /** Where it must be delivered or given. */
    eligibleRegion: regionSchema.optional(),
    /** Wanted by (schema.org availabilityEnds, as a date). */
    availabilityEnds: calendarDateSchema.optional(),
    /** When the intent ends (schema.org validThrough); required in a cast, and offers after it are refused. */
    validThrough: dateTimeSchema.optional(),
  });
export type Demand = z.infer<typeof demandSchema>;

/**
 * Fields she chose to disclose with the cast (none by default): a self-issued SD-JWT presentation
 * disclosing exactly `fields`, key-bound to the cast (KB-JWT `nonce` = the cast's message id, `aud`
 * = the company's DID), kept by both sides under the consent record `consent_record_id` for
 * `purpose` and at most `retention`, like an answer to a disclose request.
 */
export const intentDisclosureSchema = z
  .object({
    consent_record_id: z.uuid(),
    purpose: z.string().min(1).max(500),
    retention: retentionSchema,
    /** Her profile version the values are from. */
    profile_version: z.number().int().min(0),
    fields: z.array(claimNameSchema).min(1).max(50),
    presentation: presentationSchema,
  })
  .passthrough();
export type IntentDisclosure = z.infer<typeof intentDisclosureSchema>;

export const intentCastBodySchema = z
  .object({
    /** This recipient's id for the intent: fresh per recipient. */
    intent_id: intentIdSchema,
    /** What she wants; a cast's demand says when the intent ends (validThrough, on the hour, so that it does not single her out). */
    demand: demandSchema.extend({ validThrough: dateTimeSchema }),
    /** The outcome she is after, beyond the item ("warm feet on a winter hike"). */
    outcome: z.string().min(1).max(1000).optional(),
    /** True when offers must be in the currency of priceSpecification. */
    currency_required: z.boolean(),
    /**
     * The terms under which she may be answered: her proffer, signed by this pairwise DID. Required
     * when the cast opens a relationship (an anonymous recipient: it becomes that relationship's
     * proffer, as in connect); absent over an existing relationship, answered under its terms in force.
     */
    terms: termsProfferBodySchema.optional(),
    /** Fields she chose to disclose up front (none by default), key-bound to this message's id. */
    disclosure: intentDisclosureSchema.optional(),
  })
  .passthrough();
export type IntentCastBody = z.infer<typeof intentCastBodySchema>;

/** ItemAvailability values of schema.org, by name. */
export const AVAILABILITY = ['InStock', 'LimitedAvailability', 'PreOrder', 'BackOrder', 'MadeToOrder', 'OutOfStock'] as const;

/** What a company offers for one intent: the schema.org Offer members Kith uses, closed, and signed as a whole. */
export const offerSchema = z.strictObject({
  '@type': z.literal('Offer'),
  /** The offer's own id. */
  identifier: z.uuid(),
  /** The recipient's intent id it answers. */
  intent_id: intentIdSchema,
  /** The company's DID (it signs) and her pairwise DID (to whom it is made). */
  seller: z.string().min(1).max(4096),
  customer: z.string().min(1).max(4096),
  itemOffered: z.strictObject({
    name: z.string().min(1).max(200),
    description: z.string().max(2000).optional(),
    sku: z.string().min(1).max(100).optional(),
    gtin: z.string().regex(/^\d{8}$|^\d{12,14}$/, 'a GTIN-8, -12, -13 or -14').optional(),
    category: intentCategorySchema,
  }),
  price: amountSchema,
  priceCurrency: currencySchema,
  eligibleQuantity: z.strictObject({ value: z.number().int().min(1).max(1_000_000) }),
  availability: z.enum(AVAILABILITY),
  /** When it would arrive or be given. */
  deliveryDate: calendarDateSchema.optional(),
  areaServed: regionSchema.optional(),
  /** Until when the offer stands (schema.org validThrough). */
  validThrough: dateTimeSchema,
  /** Conditions in words (returns, warranty, what is included). */
  conditions: z.string().max(2000).optional(),
  /** The agreement (its id in the roster, a URI) the company answers under; null when the relationship has none agreed. */
  terms: z.string().min(1).max(2000).nullable(),
});
export type Offer = z.infer<typeof offerSchema>;

/** An offer and the company's detached JWS over its JCS form (protocol/intent/signedOffer.ts). */
export const signedOfferSchema = z.strictObject({ offer: offerSchema, signature: z.string().min(1).max(8192) });
export type SignedOffer = z.infer<typeof signedOfferSchema>;

export const intentOfferBodySchema = z
  .object({
    signed_offer: signedOfferSchema,
    /** The company's answer to the terms she proffered in the cast (with the first answer only). */
    terms: termsResponseBodySchema.optional(),
  })
  .passthrough();
export type IntentOfferBody = z.infer<typeof intentOfferBodySchema>;

/** The company received the cast and has no offer now; its answer to her terms, when the cast carried them. */
export const intentAckBodySchema = z.object({ intent_id: intentIdSchema, terms: termsResponseBodySchema.optional() }).passthrough();
export type IntentAckBody = z.infer<typeof intentAckBodySchema>;

export type IntentAcceptBody = z.infer<typeof intentAcceptBodySchema>;
export type IntentDeclineBody = z.infer<typeof intentDeclineBodySchema>;
export type IntentClosedBody = z.infer<typeof intentClosedBodySchema>;

export const intentOfferWithdrawnBodySchema = z.object({ intent_id: intentIdSchema, offer_id: z.uuid(), reason: z.string().max(2000).optional() }).passthrough();
export const intentAcceptBodySchema = z.object({ intent_id: intentIdSchema, offer_id: z.uuid() }).passthrough();
export const intentDeclineBodySchema = z.object({ intent_id: intentIdSchema, offer_id: z.uuid(), reason: z.string().max(2000).optional() }).passthrough();
export const INTENT_CLOSE_REASONS = ['accepted', 'accepted-elsewhere', 'closed', 'expired'] as const;
export const intentClosedBodySchema = z.object({ intent_id: intentIdSchema, reason: z.enum(INTENT_CLOSE_REASONS) }).passthrough();
/** The company's ack of her accept, decline or close. */
export const intentAnswerAckBodySchema = z.object({ intent_id: intentIdSchema, offer_id: z.uuid().optional(), state: z.enum(['accepted', 'declined', 'closed']) }).passthrough();

/**
 * Kith intent 1.0. She sends cast, accept, decline and closed; the company sends offer, ack,
 * offer-withdrawn and answer-ack.
 */
export const Intent = {
  cast: defineMessage(kithType('intent', '1.0', 'cast'), intentCastBodySchema, TO_COMPANY),
  ack: defineMessage(kithType('intent', '1.0', 'ack'), intentAckBodySchema, TO_PERSON),
  offer: defineMessage(kithType('intent', '1.0', 'offer'), intentOfferBodySchema, TO_PERSON),
  offerWithdrawn: defineMessage(kithType('intent', '1.0', 'offer-withdrawn'), intentOfferWithdrawnBodySchema, TO_PERSON),
  accept: defineMessage(kithType('intent', '1.0', 'accept'), intentAcceptBodySchema, TO_COMPANY),
  decline: defineMessage(kithType('intent', '1.0', 'decline'), intentDeclineBodySchema, TO_COMPANY),
  closed: defineMessage(kithType('intent', '1.0', 'closed'), intentClosedBodySchema, TO_COMPANY),
  answerAck: defineMessage(kithType('intent', '1.0', 'answer-ack'), intentAnswerAckBodySchema, TO_PERSON),
} as const;
