import type { DidResolver } from '../did/types.js';
import type { TermsResponseBody } from '../families/terms.js';
import {
  PARTY_ROLES,
  sameRecord,
  parseSignedAgreement,
  validateCounter,
  verifyRecordSignature,
  verifySignedAgreement,
  type AgreementRecord,
  type PartyRole,
  type SignedAgreement,
} from './agreementRecord.js';
import { findAgreement, termsError, type Agreement, type Roster } from './roster.js';
import type { RosterSet } from './rosterSet.js';

/*
 * The steps of a terms exchange that both agents share (docs/protocol/terms.md): checking a
 * proffer, the company's automatic decision, checking its answer, and checking her acceptance of a
 * counter. Each check fails closed with one terms.* code and reads nothing it has not verified.
 */

export interface Parties {
  /** Her pairwise DID for this company. */
  person: string;
  company: string;
}

export interface CheckedRecord {
  signed: SignedAgreement;
  record: AgreementRecord;
  roster: Roster;
  agreement: Agreement;
}

/**
 * The roster, agreement version and text hash the record names must be exactly those of a roster
 * this agent holds.
 * @throws TermsError terms.unknown_roster, terms.unknown_agreement, terms.text_mismatch
 */
function pinned(record: AgreementRecord, rosters: RosterSet): { roster: Roster; agreement: Agreement } {
  const roster = rosters.get(record.rosterId, record.rosterVersion);
  const agreement = findAgreement(roster, record.agreementId);
  findAgreement(roster, record.proffered);
  if (agreement.version !== record.agreementVersion) {
    throw termsError('terms.unknown_agreement', 'The record names another version of the agreement than the roster has', { details: { agreementId: agreement.id, version: record.agreementVersion } });
  }
  if (agreement.textSha256 !== record.textSha256) {
    throw termsError('terms.text_mismatch', 'The record pins another text than the roster does', { details: { agreementId: agreement.id } });
  }
  return { roster, agreement };
}

/**
 * Exactly one party signed, and its signature verifies.
 * @throws TermsError terms.countersignature_missing, terms.record_invalid (the other party signed
 *   already), terms.signature_invalid; DidError from resolving the signer
 */
async function signedOnlyBy(signed: SignedAgreement, by: PartyRole, resolver: DidResolver): Promise<void> {
  const signature = signed.signatures.find((s) => s.by === by);
  if (signature === undefined) throw termsError('terms.countersignature_missing', `Not signed by the ${by}`, { details: { missing: [by] } });
  if (signed.signatures.length !== 1) throw termsError('terms.record_invalid', 'A proposal carries the proposer\'s signature only');
  await verifyRecordSignature(signed.record, signature, resolver);
}

function sameParties(record: AgreementRecord, parties: Parties): void {
  if (record.parties.person !== parties.person || record.parties.company !== parties.company) {
    throw termsError('terms.record_mismatch', 'The record names other parties than the two of this relationship', { details: { members: ['parties'] } });
  }
}

export interface ProfferContext {
  rosters: RosterSet;
  resolver: DidResolver;
  parties: Parties;
  /** Who must have proffered: the sender of the message carrying it. */
  proposer: PartyRole;
}

/**
 * Checks a proffer received from the other party, in this order: shape (terms.record_invalid) ->
 * proffered by the sender, as a plain proffer (terms.record_invalid) -> the parties are the two of
 * this relationship (terms.record_mismatch) -> roster, agreement version and text hash
 * (terms.unknown_roster, terms.unknown_agreement, terms.text_mismatch) -> the proposer's signature
 * and no other (terms.countersignature_missing, terms.record_invalid, terms.signature_invalid).
 */
export async function checkProffer(json: unknown, context: ProfferContext): Promise<CheckedRecord> {
  const signed = parseSignedAgreement(json);
  const { record } = signed;
  if (record.profferedBy !== context.proposer || record.outcome !== 'accepted' || record.proffered !== record.agreementId) {
    throw termsError('terms.record_invalid', `A proffer from the ${context.proposer} must be proffered by the ${context.proposer}, as it stands`);
  }
  sameParties(record, context.parties);
  const { roster, agreement } = pinned(record, context.rosters);
  await signedOnlyBy(signed, context.proposer, context.resolver);
  return { signed, record, roster, agreement };
}

/** What the company's policy says about proffers (company/config.ts `terms`). */
export interface TermsPolicy {
  /** Agreement ids it accepts as proffered. */
  accept: readonly string[];
  /** The one alternative it counters with when it does not accept; null: it rejects instead. */
  preferred: string | null;
}

export type ProfferDecision = { decision: 'accepted' } | { decision: 'countered'; alternative: Agreement } | { decision: 'rejected'; accepts: string[] };

/**
 * The company's automatic answer: accept a listed agreement; otherwise counter with its preferred
 * one if that is in the proffer's roster (and is not the proffer itself); otherwise reject, naming
 * what it accepts from that roster.
 */
export function decideOnProffer(policy: TermsPolicy, proffer: Pick<CheckedRecord, 'roster' | 'agreement'>): ProfferDecision {
  if (policy.accept.includes(proffer.agreement.id)) return { decision: 'accepted' };
  const alternative = policy.preferred === null ? undefined : proffer.roster.agreements.find((a) => a.id === policy.preferred);
  if (alternative !== undefined && alternative.id !== proffer.agreement.id) return { decision: 'countered', alternative };
  return { decision: 'rejected', accepts: proffer.roster.agreements.filter((a) => policy.accept.includes(a.id)).map((a) => a.id) };
}

export type CheckedResponse =
  | { decision: 'accepted'; signed: SignedAgreement; agreement: Agreement }
  | { decision: 'countered'; signed: SignedAgreement; agreement: Agreement; proffered: Agreement }
  | { decision: 'rejected'; reason: string | null; accepts: string[] };

/**
 * Her agent checks the company's answer to her proffer `mine` (signed by her): it answers that
 * record (terms.record_mismatch); an acceptance is her very record signed by both
 * (terms.record_mismatch, terms.countersignature_missing, terms.signature_invalid); a counter is
 * exactly one alternative (terms.counter_loop) from her proffer's roster (terms.not_in_roster), a
 * record of the same two parties answering hers, pinned to the roster's version and text
 * (terms.record_invalid, terms.record_mismatch, terms.text_mismatch), signed by the company only.
 */
export async function checkResponse(body: TermsResponseBody, mine: SignedAgreement, context: { rosters: RosterSet; resolver: DidResolver }): Promise<CheckedResponse> {
  const proffer = mine.record;
  if (body.record_id !== proffer.id) throw termsError('terms.record_mismatch', 'The answer is to another proffer', { details: { members: ['id'] } });
  if (body.decision === 'rejected') return { decision: 'rejected', reason: body.reason ?? null, accepts: body.accepts ?? [] };
  const roster = context.rosters.get(proffer.rosterId, proffer.rosterVersion);
  if (body.decision === 'accepted') {
    const signed = parseSignedAgreement(body.agreement);
    sameRecord(proffer, signed.record);
    await verifySignedAgreement(signed, { resolver: context.resolver });
    return { decision: 'accepted', signed, agreement: findAgreement(roster, proffer.agreementId) };
  }
  const alternatives = body.alternatives ?? [];
  if (alternatives.length !== 1) throw termsError('terms.counter_loop', 'A counter names one alternative', { details: { alternatives: alternatives.length } });
  const signed = parseSignedAgreement(alternatives[0]);
  const { record } = signed;
  const counter = validateCounter({ roster, agreementId: proffer.agreementId }, { alternatives: [record.agreementId] });
  if (record.rosterId !== proffer.rosterId || record.rosterVersion !== proffer.rosterVersion) {
    throw termsError('terms.not_in_roster', 'The alternative is from another roster than the proffer', { details: { rosterId: record.rosterId, version: record.rosterVersion } });
  }
  if (record.outcome !== 'countered-accepted' || record.profferedBy !== 'person' || record.proffered !== proffer.agreementId) {
    throw termsError('terms.record_invalid', 'A counter is a countered-accepted record answering her proffer');
  }
  if (record.id === proffer.id) throw termsError('terms.record_invalid', 'A counter is a record of its own, with its own id');
  if (record.supersedes !== proffer.supersedes) throw termsError('terms.record_mismatch', 'The counter replaces another agreement than her proffer', { details: { members: ['supersedes'] } });
  sameParties(record, proffer.parties);
  pinned(record, context.rosters);
  await signedOnlyBy(signed, 'company', context.resolver);
  return { decision: 'countered', signed, agreement: counter.agreement, proffered: counter.proffered };
}

/**
 * The other party's final answer to a record we proposed and signed (`ours`): the same record,
 * now signed by both.
 * @throws TermsError terms.record_invalid, terms.record_mismatch, terms.countersignature_missing,
 *   terms.signature_invalid
 */
export async function checkCountersigned(json: unknown, ours: SignedAgreement, resolver: DidResolver): Promise<SignedAgreement> {
  const signed = parseSignedAgreement(json);
  sameRecord(ours.record, signed.record);
  await verifySignedAgreement(signed, { resolver });
  // Keep the canonical order (person, company) whatever order they came in.
  return { record: signed.record, signatures: PARTY_ROLES.map((role) => signed.signatures.find((s) => s.by === role)!) };
}
