import { z } from 'zod';
import { claimNameSchema, legalBasisSchema, retentionSchema } from './families/disclose.js';

/**
 * A consent record in the shape of ISO/IEC TS 27560:2023 (consent record information structure),
 * with the element names of its four sections in snake_case: the record header (schema version,
 * record id, PII principal, timestamps), PII processing (purposes, legal basis, PII categories,
 * retention), party identification (the PII controller) and events (the consent life cycle). The
 * state values follow the Data Privacy Vocabulary's consent statuses. Both sides keep the same
 * record id: her agent makes it, the company files its copy under it.
 * See docs/protocol/disclose.md and docs/decisions/0007-consent-records.md.
 */
export const CONSENT_RECORD_SCHEMA_VERSION = 'kith-27560/1.0';

export const consentStateSchema = z.enum(['pending', 'active', 'refused', 'withdrawn', 'expired']);
export type ConsentState = z.infer<typeof consentStateSchema>;

export const consentEventSchema = z.object({
  /** given | refused | withdrawn | expired | requested (DPV ConsentGiven, ConsentRefused, ...). */
  type: z.enum(['requested', 'given', 'refused', 'withdrawn', 'expired']),
  /** RFC 3339 UTC timestamp. */
  at: z.iso.datetime(),
  /** Who caused the event: the PII principal (her) or the controller (the company). */
  by: z.enum(['pii_principal', 'pii_controller']),
  /**
   * The categories an event covers when it covers only some of the record's (she withdrew consent
   * for one field of several); absent, the event covers the whole record.
   */
  pii_categories: z.array(claimNameSchema).min(1).max(600).optional(),
});

export const consentRecordSchema = z.object({
  schema_version: z.literal(CONSENT_RECORD_SCHEMA_VERSION),
  record_id: z.uuid(),
  /** Her pairwise DID for this company: the only identifier of her in the record. */
  pii_principal_id: z.string().min(1).max(4096),
  record_created_at: z.iso.datetime(),
  pii_controllers: z.array(z.object({ name: z.string().max(200).nullable(), id: z.string().min(1).max(4096) })).min(1).max(5),
  notice: z.object({
    /** The company's request this record answers (disclose/request `request_id`). */
    request_id: z.string().min(1).max(100).nullable(),
    terms_ref: z.string().max(2000).nullable(),
  }),
  processing: z
    .array(
      z.object({
        purposes: z.array(z.string().min(1).max(500)).min(1).max(10),
        legal_basis: legalBasisSchema,
        pii_categories: z.array(claimNameSchema).max(600),
        /** ISO 8601 duration, or null when the company named none. */
        retention: retentionSchema.nullable(),
      }),
    )
    .min(1)
    .max(10),
  /** Credential issuers whose claims the record covers (empty for self-asserted fields only). */
  pii_sources: z.array(z.object({ category: claimNameSchema, source: z.enum(['pii_principal', 'issuer']), issuer: z.string().max(4096).nullable() })).max(600),
  events: z.array(consentEventSchema).min(1).max(100),
  state: consentStateSchema,
});
export type ConsentRecord = z.infer<typeof consentRecordSchema>;

export interface NewConsentRecord {
  recordId: string;
  principalDid: string;
  controller: { name: string | null; did: string };
  requestId: string | null;
  termsRef: string | null;
  purpose: string;
  legalBasis: ConsentRecord['processing'][number]['legal_basis'];
  retention: string | null;
  categories: readonly ConsentRecord['pii_sources'][number][];
  state: ConsentState;
  /** When the request was made and when it was answered, epoch ms. */
  requestedAt: number;
  answeredAt: number;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** Builds (and validates) the record both agents keep for one answered disclosure request. */
export function buildConsentRecord(input: NewConsentRecord): ConsentRecord {
  const answer = input.state === 'refused' ? 'refused' : 'given';
  return consentRecordSchema.parse({
    schema_version: CONSENT_RECORD_SCHEMA_VERSION,
    record_id: input.recordId,
    pii_principal_id: input.principalDid,
    record_created_at: iso(input.answeredAt),
    pii_controllers: [{ name: input.controller.name, id: input.controller.did }],
    notice: { request_id: input.requestId, terms_ref: input.termsRef },
    processing: [
      {
        purposes: [input.purpose],
        legal_basis: input.legalBasis,
        pii_categories: input.categories.map((c) => c.category),
        retention: input.retention,
      },
    ],
    pii_sources: [...input.categories],
    events: [
      { type: 'requested', at: iso(input.requestedAt), by: 'pii_controller' },
      { type: answer, at: iso(input.answeredAt), by: 'pii_principal' },
    ],
    state: input.state,
  });
}

/** The record after a life-cycle event (withdrawal at cut-off, expiry at the end of retention). */
export function withEvent(record: ConsentRecord, event: 'withdrawn' | 'expired', at: number, by: 'pii_principal' | 'pii_controller'): ConsentRecord {
  return consentRecordSchema.parse({ ...record, state: event, events: [...record.events, { type: event, at: iso(at), by }] });
}

/** The categories of a record whose consent she has withdrawn, by whole-record or scoped events. */
export function withdrawnCategories(record: ConsentRecord): Set<string> {
  const all = record.processing.flatMap((p) => p.pii_categories);
  const withdrawn = new Set<string>();
  for (const event of record.events) {
    if (event.type !== 'withdrawn') continue;
    for (const category of event.pii_categories ?? all) withdrawn.add(category);
  }
  return withdrawn;
}

/**
 * The record after she withdrew consent for some of its categories (a field removed from her
 * profile, or taken back from this company): one `withdrawn` event scoped to those categories;
 * the record's state becomes `withdrawn` once every category it covers is withdrawn, and stays as
 * it was until then. Returns undefined when the record covers none of `categories` or has them all
 * withdrawn already (nothing to record).
 */
export function withCategoriesWithdrawn(record: ConsentRecord, categories: readonly string[], at: number, by: 'pii_principal' | 'pii_controller'): ConsentRecord | undefined {
  const covered = new Set(record.processing.flatMap((p) => p.pii_categories));
  const already = withdrawnCategories(record);
  const scope = [...new Set(categories)].filter((c) => covered.has(c) && !already.has(c)).sort();
  if (scope.length === 0) return undefined;
  const everything = [...covered].every((c) => already.has(c) || scope.includes(c));
  const event = everything && already.size === 0 ? { type: 'withdrawn' as const, at: iso(at), by } : { type: 'withdrawn' as const, at: iso(at), by, pii_categories: scope };
  return consentRecordSchema.parse({ ...record, state: everything ? 'withdrawn' : record.state, events: [...record.events, event] });
}
