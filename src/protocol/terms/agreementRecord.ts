import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { DidError } from '../../core/errors.js';
import { findKey } from '../did/keysFromDocument.js';
import { didOf, type DidResolver, type ResolvedKey } from '../did/types.js';
import type { SigningKey } from '../envelope/engine.js';
import { didSchema, didUrlSchema, jcs, parseDetached, signDetached, verifyDetached } from './detachedJws.js';
import { agreementSchema, findAgreement, issuePaths, rosterSchema, termsError, type Agreement, type Roster } from './roster.js';

/*
 * The record of one agreement, kept by both parties and signed by both: which agreement of which
 * roster (pinned by version and text hash), whether it was her proffer or the company's single
 * counter, between which two DIDs, when. Each party signs the JCS bytes of the same record with a
 * detached JWS (detachedJws.ts). Format: docs/protocol/terms-records.md.
 */

export const AGREEMENT_RECORD_TYPE = 'kith-agreement-record/1.0';

export const PARTY_ROLES = ['person', 'company'] as const;
export type PartyRole = (typeof PARTY_ROLES)[number];

export const agreementRecordSchema = z
  .strictObject({
    type: z.literal(AGREEMENT_RECORD_TYPE),
    /** The record's own id, a UUID chosen by whoever proposed it; answers and later records refer to it. */
    id: z.uuid(),
    rosterId: rosterSchema.shape.id,
    rosterVersion: rosterSchema.shape.version,
    agreementId: agreementSchema.shape.id,
    agreementVersion: agreementSchema.shape.version,
    textSha256: agreementSchema.shape.textSha256,
    /** accepted: the company accepted her proffer; countered-accepted: she accepted the company's one alternative. */
    outcome: z.enum(['accepted', 'countered-accepted']),
    /** The agreement she proffered (= agreementId when accepted, another one when countered). */
    proffered: agreementSchema.shape.id,
    /** Who proffered: she does (and the company may counter once), or the company proposes a change. */
    profferedBy: z.enum(PARTY_ROLES),
    /** The id of the agreed record this one replaces if agreed (a change of terms), or null. */
    supersedes: z.uuid().nullable(),
    parties: z.strictObject({
      /** Her pairwise DID for this company. */
      person: didSchema,
      company: didSchema,
    }),
    /** RFC 3339, UTC. */
    agreedAt: z.iso.datetime(),
  })
  .refine((r) => (r.outcome === 'accepted') === (r.proffered === r.agreementId), {
    message: 'outcome accepted iff the agreement is the proffered one',
    path: ['outcome'],
  })
  .refine((r) => r.parties.person !== r.parties.company, { message: 'the two parties are one DID', path: ['parties'] })
  // Only she is countered: a company's proffer is accepted or rejected as it stands.
  .refine((r) => r.profferedBy === 'person' || r.outcome === 'accepted', { message: 'only her proffer can be countered', path: ['outcome'] })
  .refine((r) => r.supersedes !== r.id, { message: 'a record cannot supersede itself', path: ['supersedes'] });
export type AgreementRecord = z.infer<typeof agreementRecordSchema>;

export const agreementSignatureSchema = z.strictObject({
  by: z.enum(PARTY_ROLES),
  /** A key of the party's DID (its `authentication` relationship). */
  kid: didUrlSchema,
  /** Detached compact JWS over the JCS bytes of `record`. */
  jws: z.string().max(8192),
});
export type AgreementSignature = z.infer<typeof agreementSignatureSchema>;

export const signedAgreementSchema = z.strictObject({
  record: agreementRecordSchema,
  signatures: z
    .array(agreementSignatureSchema)
    .max(PARTY_ROLES.length)
    .refine((s) => new Set(s.map((x) => x.by)).size === s.length, 'two signatures by one party'),
});
export type SignedAgreement = z.infer<typeof signedAgreementSchema>;


/**
 * A signed agreement document, parsed strictly.
 * @throws TermsError terms.record_invalid with the failing member paths
 */
export function parseSignedAgreement(json: unknown): SignedAgreement {
  const parsed = signedAgreementSchema.safeParse(json);
  if (!parsed.success) throw termsError('terms.record_invalid', 'Not a signed agreement', { details: { paths: issuePaths(parsed.error) } });
  return parsed.data;
}

function parseRecord(record: unknown): AgreementRecord {
  const parsed = agreementRecordSchema.safeParse(record);
  if (!parsed.success) throw termsError('terms.record_invalid', 'Not an agreement record', { details: { paths: issuePaths(parsed.error) } });
  return parsed.data;
}

export interface NewAgreementRecord {
  /** The record id; default a fresh UUID. */
  id?: string;
  roster: Roster;
  /** The agreement both accepted. */
  agreementId: string;
  /** The agreement she proffered. */
  proffered: string;
  person: string;
  company: string;
  /** Epoch milliseconds. */
  agreedAt: number;
  /** Default 'person'. */
  profferedBy?: PartyRole;
  /** The agreed record this one replaces; default null. */
  supersedes?: string | null;
}

/**
 * The record of `agreementId` from `roster`; the outcome follows from whether it is the proffered one.
 * @throws TermsError terms.unknown_agreement (either id not in the roster), terms.record_invalid
 */
export function buildAgreementRecord(input: NewAgreementRecord): AgreementRecord {
  const agreement = findAgreement(input.roster, input.agreementId);
  findAgreement(input.roster, input.proffered);
  const agreedAt = new Date(input.agreedAt);
  if (Number.isNaN(agreedAt.getTime())) throw termsError('terms.record_invalid', 'agreedAt is not a time', { details: { paths: ['agreedAt'] } });
  return parseRecord({
    type: AGREEMENT_RECORD_TYPE,
    id: input.id ?? randomUUID(),
    rosterId: input.roster.id,
    rosterVersion: input.roster.version,
    agreementId: agreement.id,
    agreementVersion: agreement.version,
    textSha256: agreement.textSha256,
    outcome: agreement.id === input.proffered ? 'accepted' : 'countered-accepted',
    proffered: input.proffered,
    profferedBy: input.profferedBy ?? 'person',
    supersedes: input.supersedes ?? null,
    parties: { person: input.person, company: input.company },
    agreedAt: agreedAt.toISOString(),
  });
}

/**
 * A detached JWS (header {alg: EdDSA, kid}) over the JCS bytes of `record`.
 * @throws TermsError terms.record_invalid
 */
export function signRecord(record: AgreementRecord, signer: SigningKey): string {
  return signDetached(parseRecord(record), signer);
}

/** Which party `kid` signs for: the role whose DID is the kid's DID. */
function roleOf(record: AgreementRecord, kid: string): PartyRole | undefined {
  const did = didOf(kid);
  return PARTY_ROLES.find((role) => record.parties[role] === did);
}

/**
 * Adds the signer's signature: the signer's party is the one whose DID is the DID of `signer.kid`.
 * Signatures are kept in the order person, company, so both parties hold the same JSON.
 * Call {@link verifyRecordSignature} on the other party's signature before adding yours.
 * @throws TermsError terms.record_invalid; terms.signature_invalid if the signer is not a party or
 *   its party already signed
 */
export function countersign(signed: SignedAgreement, signer: SigningKey): SignedAgreement {
  const { record, signatures } = parseSignedAgreement(signed);
  const by = roleOf(record, signer.kid);
  if (by === undefined) throw termsError('terms.signature_invalid', 'The signer is neither party of the record');
  if (signatures.some((s) => s.by === by)) throw termsError('terms.signature_invalid', `The ${by} already signed`, { details: { by } });
  const added = [...signatures, { by, kid: signer.kid, jws: signDetached(record, signer) }];
  added.sort((a, b) => PARTY_ROLES.indexOf(a.by) - PARTY_ROLES.indexOf(b.by));
  return { record, signatures: added };
}

/** The first signature: {@link countersign} on an agreement nobody signed yet. */
export function signAgreement(record: AgreementRecord, signer: SigningKey): SignedAgreement {
  return countersign({ record: parseRecord(record), signatures: [] }, signer);
}

/**
 * Verifies one party's signature over `record`: the kid's DID is that party's DID, the JWS is a
 * detached EdDSA JWS whose header names the same kid, the kid is an authentication key of the DID,
 * and the signature verifies over the JCS bytes of `record`.
 * @throws TermsError terms.signature_invalid (details `{ by }`), or DidError from resolving the party
 */
export async function verifyRecordSignature(record: AgreementRecord, signature: AgreementSignature, resolver: DidResolver): Promise<void> {
  const { by, kid } = signature;
  const did = record.parties[by];
  if (didOf(kid) !== did) throw termsError('terms.signature_invalid', `Signed with a key of another DID than the ${by}'s`, { details: { by } });
  const jws = parseDetached(signature.jws);
  if (jws === undefined) throw termsError('terms.signature_invalid', 'Not a detached EdDSA JWS', { details: { by } });
  if (jws.header.kid !== kid) throw termsError('terms.signature_invalid', 'JWS header names another key', { details: { by } });
  const document = await resolver.resolve(did); // DidError passes through unchanged
  let key: ResolvedKey;
  try {
    key = findKey(document, kid, 'authentication');
  } catch (error) {
    if (!(error instanceof DidError)) throw error;
    throw termsError('terms.signature_invalid', `kid names no authentication key of the ${by}`, { details: { by }, cause: error });
  }
  if (!verifyDetached(jws, record, key.jwk)) throw termsError('terms.signature_invalid', `The ${by}'s signature does not verify`, { details: { by } });
}

/**
 * Verifies an agreement both parties signed, fail-closed, in this order: shape (terms.record_invalid)
 * -> a signature by each party (terms.countersignature_missing, details `{ missing: [roles] }`) ->
 * the person's, then the company's signature ({@link verifyRecordSignature}: terms.signature_invalid).
 * Returns the record.
 * @throws TermsError, or DidError from resolving a party's DID
 */
export async function verifySignedAgreement(signed: unknown, options: { resolver: DidResolver }): Promise<AgreementRecord> {
  const { record, signatures } = parseSignedAgreement(signed);
  const missing = PARTY_ROLES.filter((role) => !signatures.some((s) => s.by === role));
  if (missing.length > 0) throw termsError('terms.countersignature_missing', `Not signed by: ${missing.join(', ')}`, { details: { missing } });
  for (const role of PARTY_ROLES) {
    await verifyRecordSignature(record, signatures.find((s) => s.by === role)!, options.resolver);
  }
  return record;
}

/**
 * Both parties' copies must be the same record: equal JCS bytes.
 * @throws TermsError terms.record_mismatch, details `{ members }`: the top-level members that differ
 */
export function sameRecord(a: AgreementRecord, b: AgreementRecord): void {
  if (jcs(a) === jcs(b)) return;
  const members = [...new Set([...Object.keys(a), ...Object.keys(b)])]
    .filter((m) => jcs((a as Record<string, unknown>)[m] ?? null) !== jcs((b as Record<string, unknown>)[m] ?? null))
    .sort();
  throw termsError('terms.record_mismatch', 'The two records differ', { details: { members } });
}

// ---------------------------------------------------------------------------------------------
// Proffer and counter

/** What she proffered: one agreement of a roster she holds (verified with loadRoster). */
export interface Proffer {
  roster: Roster;
  agreementId: string;
}

/** The company's answer: no alternative (it accepts the proffer) or exactly one, from the same roster. */
export interface CounterResponse {
  alternatives: readonly string[];
}

export interface CounterCheck {
  outcome: 'accepted' | 'countered';
  /** The agreement on the table now: the proffered one, or the company's alternative. */
  agreement: Agreement;
  proffered: Agreement;
}

/**
 * Checks the company's answer to a proffer. MyTerms allows one counter, no haggling: at most one
 * alternative, which must differ from the proffer and be in the same roster.
 * @throws TermsError terms.unknown_agreement (the proffered id is not in the roster),
 *   terms.counter_loop (more than one alternative, or the proffered one again),
 *   terms.not_in_roster (the alternative is not in the roster)
 */
export function validateCounter(proffer: Proffer, response: CounterResponse): CounterCheck {
  const proffered = findAgreement(proffer.roster, proffer.agreementId);
  const { alternatives } = response;
  if (alternatives.length === 0) return { outcome: 'accepted', agreement: proffered, proffered };
  if (alternatives.length > 1) throw termsError('terms.counter_loop', 'A counter names one alternative', { details: { alternatives: alternatives.length } });
  const [alternative] = alternatives as readonly [string];
  if (alternative === proffered.id) throw termsError('terms.counter_loop', 'The counter names the proffered agreement itself', { details: { reason: 'same_as_proffered' } });
  const agreement = proffer.roster.agreements.find((a) => a.id === alternative);
  if (agreement === undefined) throw termsError('terms.not_in_roster', 'The alternative is not in the roster', { details: { rosterId: proffer.roster.id, version: proffer.roster.version } });
  return { outcome: 'countered', agreement, proffered };
}
