import { z } from 'zod';
import { calendarDateSchema } from './intent.js';
import { claimNameSchema, presentationSchema } from './disclose.js';
import { TO_COMPANY, TO_PERSON, defineMessage } from './registry.js';
import { kithType } from './uris.js';
import { boundedText, durationSchema, gtinSchema, priceSchema, productFieldsSchema } from '../things/fields.js';

/*
 * Kith thing 1.0 (docs/protocol/thing.md, decision 0023): a seller's signed receipt, her
 * registration of a thing with its maker, and the maker's recalls, over the relationship.
 */

const text = boundedText;
const did = z.string().min(1).max(4096);

/** The product as the seller's till knows it: schema.org IndividualProduct's names (decision 0019). */
export const receiptProductSchema = productFieldsSchema;
export type ReceiptProduct = z.infer<typeof receiptProductSchema>;

/** The seller's warranty terms (schema.org WarrantyPromise): from `start`, for `duration`. */
export const receiptWarrantySchema = z.strictObject({
  start: calendarDateSchema,
  duration: durationSchema,
  scope: text(500).optional(),
  provider: text(200).optional(),
});
export type ReceiptWarranty = z.infer<typeof receiptWarrantySchema>;

/**
 * The thing record a seller signs: what was sold, to whom, when, for how much, and under which
 * warranty. Signed as a document of its own (JCS + detached JWS, like signed offers), so it stays
 * proof of purchase after the message that carried it is gone.
 */
export const receiptDocumentSchema = z.strictObject({
  /** The seller's id for this receipt (a UUID): her answer names it. */
  receipt_id: z.uuid(),
  /** The seller's DID: the one whose key signs the receipt. */
  seller: did,
  /** The seller's name as printed on the receipt. */
  seller_name: text(200),
  /** Her pairwise DID on the relationship it is sent on: whom the receipt names. */
  buyer: did,
  /** When it was issued (ISO 8601). */
  issued_at: z.iso.datetime(),
  purchase_date: calendarDateSchema,
  price: priceSchema.optional(),
  product: receiptProductSchema,
  warranty: receiptWarrantySchema.optional(),
});
export type ReceiptDocument = z.infer<typeof receiptDocumentSchema>;

/** A receipt and the seller's detached JWS over its JCS form. */
export const signedReceiptSchema = z.strictObject({
  receipt: receiptDocumentSchema,
  /** Detached EdDSA JWS (`header..signature`) by one of the seller DID's authentication keys. */
  signature: z.string().min(1).max(4096),
});
export type SignedReceipt = z.infer<typeof signedReceiptSchema>;

export const receiptBodySchema = z.object({ signed: signedReceiptSchema }).passthrough();
export type ReceiptBody = z.infer<typeof receiptBodySchema>;

export const receiptAnswerBodySchema = z
  .object({
    receipt_id: z.uuid(),
    /** `accepted`: it is now a thing in her vault; `declined`: she did not take it. */
    state: z.enum(['accepted', 'declined']),
  })
  .passthrough();
export type ReceiptAnswerBody = z.infer<typeof receiptAnswerBodySchema>;

/**
 * The claims a registration may disclose (SD-JWT claim names) and the thing fields they come from.
 * She picks some; `gtin` or `model` must be among them, since that is what a recall names.
 */
export const REGISTRATION_CLAIMS = {
  name: 'name',
  brand: 'brand',
  model: 'model',
  gtin: 'gtin',
  mpn: 'mpn',
  serial_number: 'serialNumber',
  purchase_date: 'purchaseDate',
  seller: 'seller',
} as const;
export type RegistrationClaim = keyof typeof REGISTRATION_CLAIMS;
export const registrationClaimSchema = z.enum(Object.keys(REGISTRATION_CLAIMS) as [RegistrationClaim, ...RegistrationClaim[]]);

/** The values the registration claims must have: the thing fields' own checks. */
export const registrationClaimsSchema = z.strictObject({
  name: text(200).optional(),
  brand: text(200).optional(),
  model: text(200).optional(),
  gtin: gtinSchema.optional(),
  mpn: text(100).optional(),
  serial_number: text(200).optional(),
  purchase_date: calendarDateSchema.optional(),
  seller: text(200).optional(),
});
export type RegistrationClaims = z.infer<typeof registrationClaimsSchema>;

/** The SD-JWT VC type of a registration (self-issued from her pairwise DID, like profile disclosures). */
export const THING_REGISTRATION_VCT = 'https://kith.invalid/credentials/thing-registration/1.0';

export const registerBodySchema = z
  .object({
    /** Her id for this registration (a UUID): the ack names it. */
    registration_id: z.uuid(),
    /** The consent record both sides file the registration under. */
    consent_record_id: z.uuid(),
    /** The claims she chose to share; the presentation discloses exactly these (nonce = this message's id). */
    fields: z
      .array(claimNameSchema.pipe(registrationClaimSchema))
      .min(1)
      .max(8)
      .refine((f) => new Set(f).size === f.length, 'lists a field twice')
      .refine((f) => f.includes('gtin') || f.includes('model'), 'shares the gtin or the model (what a recall names)'),
    purpose: text(500),
    presentation: presentationSchema,
  })
  .passthrough();
export type RegisterBody = z.infer<typeof registerBodySchema>;

export const registerAckBodySchema = z
  .object({
    registration_id: z.uuid(),
    consent_record_id: z.uuid(),
    state: z.literal('registered'),
  })
  .passthrough();
export type RegisterAckBody = z.infer<typeof registerAckBodySchema>;

export const recallBodySchema = z
  .object({
    /** The company's id for this recall (a UUID): the same recall reaches each relationship once. */
    recall_id: z.uuid(),
    /** The product recalled, by GTIN or model (or both): her agent matches it to things she registered here. */
    gtin: gtinSchema.optional(),
    model: text(200).optional(),
    /** The notice itself: what is wrong and what to do. */
    text: z.string().trim().min(1).max(4000),
    issued_at: z.iso.datetime(),
    /** Where to read more (https only). */
    url: z.url({ protocol: /^https$/ }).max(2000).optional(),
  })
  .passthrough()
  .refine((b) => b.gtin !== undefined || b.model !== undefined, 'names a gtin or a model');
export type RecallBody = z.infer<typeof recallBodySchema>;

/**
 * Kith thing 1.0: a seller sends her a signed receipt (she accepts or declines it); she registers a
 * thing with its maker, sharing the fields she picks as a self-issued SD-JWT (the maker acks); the
 * maker sends a recall to the relationships that registered the product.
 */
export const Thing = {
  receipt: defineMessage(kithType('thing', '1.0', 'receipt'), receiptBodySchema, TO_PERSON),
  receiptAnswer: defineMessage(kithType('thing', '1.0', 'receipt-answer'), receiptAnswerBodySchema, TO_COMPANY),
  register: defineMessage(kithType('thing', '1.0', 'register'), registerBodySchema, TO_COMPANY),
  registerAck: defineMessage(kithType('thing', '1.0', 'register-ack'), registerAckBodySchema, TO_PERSON),
  recall: defineMessage(kithType('thing', '1.0', 'recall'), recallBodySchema, TO_PERSON),
} as const;
