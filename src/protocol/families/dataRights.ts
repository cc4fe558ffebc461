import { z } from 'zod';
import { consentRecordSchema } from '../consentRecord.js';
import { claimNameSchema } from './disclose.js';
import { TO_COMPANY, TO_PERSON, defineMessage } from './registry.js';
import { kithType } from './uris.js';

/*
 * Her data rights, answered by the company's agent without a person in the loop. The words are the
 * Data Rights Protocol's (v0.9.4 / 1.0): an `exercise` of a right, and an answer with a `status`
 * (and for a denial a `reason`) from its list, so privacy tooling that speaks DRP reads them as is.
 */

/** Exercises this family carries (DRP `exercise`); deletion is relationship/terminate, correction is profile-update. */
export const dataRightsExerciseSchema = z.enum(['access']);
/** DRP request statuses a final answer may have. */
export const dataRightsStatusSchema = z.enum(['fulfilled', 'denied']);
/** DRP denial reasons. */
export const dataRightsDenialReasonSchema = z.enum(['suspected_fraud', 'insuf_verification', 'no_match', 'claim_not_covered', 'outside_jurisdiction', 'too_many_requests', 'other']);

export const dataRightsRequestBodySchema = z
  .object({
    /** Her id for the request (a UUID, as DRP asks the agent to make it). */
    request_id: z.uuid(),
    exercise: dataRightsExerciseSchema,
    /** The legal basis she invokes, if any (DRP `regime`: "gdpr", "ccpa", ...); voluntary when absent. */
    regime: z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/).optional(),
  })
  .passthrough();
export type DataRightsRequestBody = z.infer<typeof dataRightsRequestBodySchema>;

const heldFieldSchema = z
  .object({
    field: claimNameSchema,
    value: z.unknown(),
    /** Her profile version the value came from. */
    version: z.number().int().nonnegative(),
    consent_record_id: z.string().min(1).max(100),
    source: z.enum(['self', 'credential']),
    issuer: z.string().max(4096).nullable(),
    updated_at: z.iso.datetime(),
  })
  .passthrough();

const agreementSchema = z
  .object({
    record_id: z.string().min(1).max(100),
    agreement: z.string().min(1).max(2000),
    state: z.string().min(1).max(40),
    /** The agreement record both parties signed (detached JWS over its JCS form), as the company holds it. */
    signed: z.unknown(),
    updated_at: z.iso.datetime(),
  })
  .passthrough();

/** Everything the company holds on this relationship, as it holds it. */
export const accessCopySchema = z
  .object({
    relationship: z
      .object({
        /** The company's own customer number for her. */
        customer_ref: z.string().max(200),
        state: z.string().min(1).max(40),
        created_at: z.iso.datetime(),
      })
      .passthrough(),
    fields: z.array(heldFieldSchema).max(600),
    consent_records: z.array(consentRecordSchema).max(1000),
    agreements: z.array(agreementSchema).max(200),
    /** How many messages the thread holds (she has the thread herself). */
    messages: z.number().int().nonnegative(),
    /** Intents of hers it received and offers it made. */
    intents: z.number().int().nonnegative(),
    offers: z.number().int().nonnegative(),
    /**
     * Her registrations of things it makes (docs/protocol/thing.md): the claims she shared, under
     * which consent record. Absent when there are none (and in answers before the thing family).
     */
    thing_registrations: z
      .array(
        z
          .object({
            registration_id: z.string().min(1).max(100),
            consent_record_id: z.string().min(1).max(100),
            claims: z.record(z.string(), z.unknown()),
            created_at: z.iso.datetime(),
          })
          .passthrough(),
      )
      .max(1000)
      .optional(),
    /** How many signed receipts it sent her (she holds them herself); absent when none. */
    thing_receipts: z.number().int().nonnegative().optional(),
    /** Service cases she opened about her things (docs/protocol/service.md); she has each thread herself. Absent from agents before service 1.0. */
    service_cases: z.number().int().nonnegative().optional(),
  })
  .passthrough();
export type AccessCopy = z.infer<typeof accessCopySchema>;

export const dataRightsResponseBodySchema = z
  .object({
    request_id: z.uuid(),
    exercise: dataRightsExerciseSchema,
    status: dataRightsStatusSchema,
    /** Present when denied. */
    reason: dataRightsDenialReasonSchema.optional(),
    processing_details: z.string().max(2000).optional(),
    received_at: z.iso.datetime(),
    /** For a fulfilled access request: the copy. The message's signature is the company's signature on it. */
    data: accessCopySchema.optional(),
  })
  .passthrough()
  .refine((b) => (b.status === 'fulfilled' ? b.data !== undefined || b.exercise !== 'access' : b.reason !== undefined), 'a fulfilled access answer carries data; a denial a reason');
export type DataRightsResponseBody = z.infer<typeof dataRightsResponseBodySchema>;

/**
 * Kith data-rights 1.0: she exercises a right on one relationship (today: access) and the company's
 * agent answers at once, on the same HTTP response, with a signed, machine-readable answer.
 */
export const DataRights = {
  request: defineMessage(kithType('data-rights', '1.0', 'request'), dataRightsRequestBodySchema, TO_COMPANY),
  response: defineMessage(kithType('data-rights', '1.0', 'response'), dataRightsResponseBodySchema, TO_PERSON),
} as const;
