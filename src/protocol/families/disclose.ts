import { z } from 'zod';
import { TO_COMPANY, TO_PERSON, defineMessage } from './registry.js';
import { kithType } from './uris.js';

/** A field or claim name: the SD-JWT claim name it travels as (OpenID Connect style, snake_case). */
export const claimNameSchema = z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, 'a lower-case snake_case claim name');
/** ISO 8601 duration (`P30D`, `P1Y6M`, `PT12H`): how long the company may keep what it is given. */
export const retentionSchema = z.string().regex(/^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$/, 'an ISO 8601 duration such as P1Y');
/** Legal bases of GDPR art. 6(1), named as the Data Privacy Vocabulary (DPV) names them. */
export const legalBasisSchema = z.enum(['consent', 'contract', 'legal-obligation', 'vital-interest', 'public-interest', 'legitimate-interest']);
/** Single-use challenge the key-binding JWT must carry: at least 128 bits, base64url. */
export const nonceSchema = z.string().regex(/^[A-Za-z0-9_-]{22,128}$/, 'a base64url nonce of at least 128 bits');

const MAX_FIELDS = 50;
const MAX_SD_JWT_CHARS = 64 * 1024;

export const credentialRequestSchema = z.object({
  /** The SD-JWT VC type asked for. */
  vct: z.string().min(1).max(500),
  /** The claims of that credential to disclose, e.g. `age_over_18`. */
  claims: z.array(claimNameSchema).min(1).max(MAX_FIELDS),
  /** Issuer DIDs the company accepts; omitted means its own policy decides. */
  issuers: z.array(z.string().min(1).max(4096)).max(50).optional(),
});
export type CredentialRequest = z.infer<typeof credentialRequestSchema>;

export const discloseRequestBodySchema = z
  .object({
    request_id: z.string().min(1).max(100),
    nonce: nonceSchema,
    /** Fields of her own profile, disclosed as a self-issued SD-JWT. */
    fields: z.array(claimNameSchema).max(MAX_FIELDS),
    credentials: z.array(credentialRequestSchema).max(10).default([]),
    purpose: z.string().min(1).max(500),
    /** The purpose as a term of the terms roster's vocabulary; what her agent checks against agreed terms. */
    purpose_code: z.string().min(1).max(100).nullable().default(null),
    retention: retentionSchema.nullable().default(null),
    legal_basis: legalBasisSchema.default('consent'),
    terms_ref: z.string().min(1).max(2000).nullable().default(null),
  })
  .passthrough()
  .refine((b) => b.fields.length + b.credentials.length > 0, 'asks for at least one field or credential')
  .refine((b) => new Set(b.fields).size === b.fields.length, 'lists a field twice');
export type DiscloseRequestBody = z.infer<typeof discloseRequestBodySchema>;

export const presentationSchema = z.object({
  /** RFC 9901 compact serialisation with a key-binding JWT (SD-JWT VC, `typ` dc+sd-jwt). */
  format: z.literal('dc+sd-jwt'),
  sd_jwt: z.string().min(1).max(MAX_SD_JWT_CHARS),
});

export const disclosePresentBodySchema = z
  .object({
    request_id: z.string().min(1).max(100),
    /** The consent record id both sides file this disclosure under. */
    consent_record_id: z.uuid(),
    /** The profile fields she approved; the self-issued presentation discloses exactly these. */
    approved: z.array(claimNameSchema).max(MAX_FIELDS),
    /** Her profile version the approved values are at (a later profile-update only replaces older values). */
    profile_version: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).default(0),
    presentations: z.array(presentationSchema).min(1).max(11),
  })
  .passthrough();
export type DisclosePresentBody = z.infer<typeof disclosePresentBodySchema>;

export const discloseDeclineBodySchema = z
  .object({
    request_id: z.string().min(1).max(100),
    consent_record_id: z.uuid(),
    reason: z.string().max(2000).optional(),
  })
  .passthrough();

export type DiscloseDeclineBody = z.infer<typeof discloseDeclineBodySchema>;

export const discloseAckBodySchema = z
  .object({
    request_id: z.string().min(1).max(100),
    consent_record_id: z.uuid(),
    /** `active` after a presentation was verified and stored; `refused` after a decline. */
    state: z.enum(['active', 'refused']),
    /** What the company now holds under this record (claim names). */
    fields: z.array(claimNameSchema).max(MAX_FIELDS * 11),
  })
  .passthrough();

export type DiscloseAckBody = z.infer<typeof discloseAckBodySchema>;

/**
 * Kith disclose 1.0: the company asks for named fields with a purpose, retention and legal basis;
 * she answers with SD-JWT presentations holding only what she approved (key-bound to her pairwise
 * key, audience = the company's DID, nonce = the request's) or declines; the company acknowledges
 * with the state of the consent record both sides keep.
 */
export const Disclose = {
  request: defineMessage(kithType('disclose', '1.0', 'request'), discloseRequestBodySchema, TO_PERSON),
  present: defineMessage(kithType('disclose', '1.0', 'present'), disclosePresentBodySchema, TO_COMPANY),
  decline: defineMessage(kithType('disclose', '1.0', 'decline'), discloseDeclineBodySchema, TO_COMPANY),
  ack: defineMessage(kithType('disclose', '1.0', 'ack'), discloseAckBodySchema, TO_PERSON),
} as const;
