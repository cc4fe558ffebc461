import { newId } from '../core/ids.js';
import type { DidResolver } from '../protocol/did/types.js';
import type { SigningKey } from '../protocol/envelope/engine.js';
import { Terms } from '../protocol/families/index.js';
import { outgoing, type Outgoing } from '../protocol/buildMessage.js';
import type { TermsAcceptBody, TermsDeclineBody, TermsProfferBody, TermsResponseBody } from '../protocol/families/terms.js';
import { buildAgreementRecord, countersign, signAgreement, type SignedAgreement } from '../protocol/terms/agreementRecord.js';
import { checkWithinTerms, type IntendedUse } from '../protocol/terms/compare.js';
import { checkCountersigned, checkProffer, decideOnProffer, type CheckedRecord, type ProfferDecision, type TermsPolicy } from '../protocol/terms/negotiate.js';
import { termsError, type Agreement } from '../protocol/terms/roster.js';
import type { RosterSet } from '../protocol/terms/rosterSet.js';
import type { CompanyContext } from './handlers/types.js';
import type { TermsAgreementRow, CompanyRelationship, CompanyStore } from './store/types.js';

/*
 * The company's side of terms (docs/protocol/terms.md). Everything that needs a signature check or
 * a signature of ours happens in the verify* functions, before the transaction; applyProffer and
 * applyAnswer only compare with what the store holds and write, so a refused message changes nothing.
 */

export interface CompanyTermsDeps {
  /** The rosters and the policy with its agreement names resolved to ids (loaded once). */
  setup(): Promise<{ rosters: RosterSet; policy: TermsPolicy }>;
  resolver: DidResolver;
  companyDid: string;
  signer: SigningKey;
  now(): number;
}

/** The terms dependencies out of the company's handler context. */
export function termsDeps(context: CompanyContext): CompanyTermsDeps {
  return { setup: () => context.termsSetup(), resolver: context.resolver, companyDid: context.companyDid, signer: context.signer, now: () => context.clock.now() };
}

/** What the verify* functions established, for the message types that carry terms. */
export type VerifiedTerms =
  | { kind: 'proffer'; checked: CheckedRecord; decision: ProfferDecision; answer: SignedAgreement | undefined; alternative: Agreement | undefined }
  | { kind: 'countersigned'; recordId: string; signed: SignedAgreement }
  /** She declined our counter (declined) or rejected our own proffer (rejected). */
  | { kind: 'declined'; recordId: string; reason: string | null; state: 'declined' | 'rejected' };

async function pendingRow(store: CompanyStore, recordId: string, senderDid: string, expect: 'counter' | 'own-proffer'): Promise<TermsAgreementRow> {
  const row = await store.getTermsAgreement(recordId);
  const relationship = row ? await store.getRelationship(row.relationshipId) : undefined;
  if (!row || !relationship || relationship.theirDid !== senderDid || row.proposedBy !== 'company') {
    throw termsError('terms.record_mismatch', 'No proposal of ours with this record id', { details: { members: ['id'] } });
  }
  if ((expect === 'counter') !== (row.signed.record.outcome === 'countered-accepted')) {
    // Answering a counter with a response (or a proffer with accept) is another counter round.
    throw termsError('terms.counter_loop', expect === 'counter' ? 'That record is our proffer, not a counter' : 'Only the company counters, once');
  }
  if (row.state !== 'proffered') throw termsError('terms.counter_loop', 'That proposal was already answered', { details: { state: row.state } });
  return row;
}

export type VerifiedProffer = Extract<VerifiedTerms, { kind: 'proffer' }>;
export type VerifiedTermsAnswer = Exclude<VerifiedTerms, { kind: 'proffer' }>;

/**
 * Checks her proffer (in connect/request or terms/proffer) and decides on it by policy, signing
 * our answer, before anything is written.
 * @throws TermsError (terms.*), DidError from resolving a signer
 */
export async function verifyProffer(proffer: TermsProfferBody, senderDid: string, deps: CompanyTermsDeps): Promise<VerifiedProffer> {
  const { rosters, policy } = await deps.setup();
  const checked = await checkProffer(proffer.agreement, { rosters, resolver: deps.resolver, parties: { person: senderDid, company: deps.companyDid }, proposer: 'person' });
  const decision = decideOnProffer(policy, checked);
  if (decision.decision === 'accepted') return { kind: 'proffer', checked, decision, answer: countersign(checked.signed, deps.signer), alternative: undefined };
  if (decision.decision === 'rejected') return { kind: 'proffer', checked, decision, answer: undefined, alternative: undefined };
  const counter = buildAgreementRecord({
    roster: checked.roster,
    agreementId: decision.alternative.id,
    proffered: checked.agreement.id,
    person: senderDid,
    company: deps.companyDid,
    agreedAt: deps.now(),
    supersedes: checked.record.supersedes,
  });
  return { kind: 'proffer', checked, decision, answer: signAgreement(counter, deps.signer), alternative: decision.alternative };
}

/** Her acceptance of our counter: the counter record, countersigned by her. @throws TermsError */
export async function verifyAcceptance(body: TermsAcceptBody, senderDid: string, store: CompanyStore, deps: CompanyTermsDeps): Promise<VerifiedTermsAnswer> {
  const row = await pendingRow(store, body.record_id, senderDid, 'counter');
  return { kind: 'countersigned', recordId: body.record_id, signed: await checkCountersigned(body.agreement, row.signed, deps.resolver) };
}

/** Her refusal of our counter. @throws TermsError */
export async function verifyRefusal(body: TermsDeclineBody, senderDid: string, store: CompanyStore): Promise<VerifiedTermsAnswer> {
  await pendingRow(store, body.record_id, senderDid, 'counter');
  return { kind: 'declined', recordId: body.record_id, reason: body.reason ?? null, state: 'declined' };
}

/** Her answer to the company's own proffer. @throws TermsError */
export async function verifyResponse(response: TermsResponseBody, senderDid: string, store: CompanyStore, deps: CompanyTermsDeps): Promise<VerifiedTermsAnswer> {
  const row = await pendingRow(store, response.record_id, senderDid, 'own-proffer');
  if (response.decision === 'countered') throw termsError('terms.counter_loop', 'Only the company counters, once');
  if (response.decision === 'rejected') return { kind: 'declined', recordId: row.id, reason: response.reason ?? null, state: 'rejected' };
  return { kind: 'countersigned', recordId: row.id, signed: await checkCountersigned(response.agreement, row.signed, deps.resolver) };
}

function agreedEvent(relationship: CompanyRelationship, row: Pick<TermsAgreementRow, 'id' | 'agreementId'>, at: number) {
  return {
    id: newId(),
    relationshipId: relationship.id,
    type: 'terms.agreed' as const,
    payload: { relationshipId: relationship.id, customerRef: relationship.customerRef, agreementId: row.agreementId, recordId: row.id },
    createdAt: at,
    nextAttemptAt: at,
    attempts: 0,
    dispatchedAt: null,
  };
}

/** Makes `id` the agreed record of the relationship: the previous one becomes superseded. */
async function agree(tx: CompanyStore, relationship: CompanyRelationship, row: TermsAgreementRow, signed: SignedAgreement, at: number): Promise<void> {
  const current = await tx.currentTermsAgreement(relationship.id);
  if (current && current.id !== row.id) await tx.updateTermsAgreement(current.id, { state: 'superseded' }, at);
  await tx.updateTermsAgreement(row.id, { state: 'agreed', signed }, at);
  await tx.enqueueEvent(agreedEvent(relationship, row, at));
}

const REJECTION_REASON = 'The company does not accept this agreement';

/** The response body the company sends for a proffer it decided on. */
function responseBody(verified: VerifiedProffer): TermsResponseBody {
  const recordId = verified.checked.record.id;
  const { decision } = verified;
  if (decision.decision === 'accepted') return { record_id: recordId, decision: 'accepted', agreement: verified.answer as unknown as Record<string, unknown> };
  if (decision.decision === 'countered') return { record_id: recordId, decision: 'countered', alternatives: [verified.answer as unknown as Record<string, unknown>] };
  return { record_id: recordId, decision: 'rejected', reason: REJECTION_REASON, accepts: decision.accepts };
}

/**
 * A proffer seen before (her agent lost our answer and retried): the answer it got then, from what
 * the store holds, whatever the policy says now. A counter goes out as first sent, with our
 * signature only.
 */
async function answerAgain(tx: CompanyStore, relationshipId: string, verified: VerifiedProffer): Promise<TermsResponseBody> {
  const recordId = verified.checked.record.id;
  const thread = await tx.findTermsAgreementsByThread(relationshipId, recordId);
  const proffer = thread.find((r) => r.id === recordId)!;
  const counter = thread.find((r) => r.proposedBy === 'company');
  if (counter) {
    const sent = counter.signed;
    const alternative = { record: sent.record, signatures: sent.signatures.filter((s) => s.by === 'company') };
    return { record_id: recordId, decision: 'countered', alternatives: [alternative as unknown as Record<string, unknown>] };
  }
  if (proffer.state === 'rejected') {
    const accepts = verified.decision.decision === 'rejected' ? verified.decision.accepts : [];
    return { record_id: recordId, decision: 'rejected', reason: REJECTION_REASON, accepts };
  }
  return { record_id: recordId, decision: 'accepted', agreement: proffer.signed as Record<string, unknown> };
}

/**
 * Writes what a verified proffer leads to and returns the response body: accepted -> her record,
 * signed by both, is the agreed one; countered -> her proffer (state countered) and our counter
 * (state proffered, signed by us) wait for her; rejected -> her proffer is kept as rejected.
 * A proffer must replace the agreement the relationship has now (terms.record_mismatch otherwise).
 */
export async function applyProffer(verified: VerifiedProffer, relationship: CompanyRelationship, tx: CompanyStore, at: number): Promise<TermsResponseBody> {
  const { record, agreement } = verified.checked;
  const existing = await tx.getTermsAgreement(record.id);
  if (existing) {
    if (existing.relationshipId !== relationship.id) throw termsError('terms.record_mismatch', 'A record id of another relationship', { details: { members: ['id'] } });
    return answerAgain(tx, relationship.id, verified);
  }
  const current = await tx.currentTermsAgreement(relationship.id);
  if (record.supersedes !== (current?.id ?? null)) {
    throw termsError('terms.record_mismatch', 'The proffer does not replace the agreement in force', { details: { members: ['supersedes'] } });
  }
  const { decision } = verified;
  const row: TermsAgreementRow = {
    id: record.id,
    relationshipId: relationship.id,
    proposedBy: 'person',
    agreementId: agreement.id,
    state: decision.decision === 'countered' ? 'countered' : decision.decision === 'rejected' ? 'rejected' : 'proffered',
    threadId: record.id,
    signed: verified.checked.signed,
    obligations: agreement.obligations,
    reason: decision.decision === 'rejected' ? REJECTION_REASON : null,
    createdAt: at,
    updatedAt: at,
  };
  await tx.createTermsAgreement(row);
  if (decision.decision === 'accepted') await agree(tx, relationship, row, verified.answer!, at);
  if (decision.decision === 'countered') {
    const counter = verified.answer!;
    await tx.createTermsAgreement({
      ...row,
      id: counter.record.id,
      proposedBy: 'company',
      agreementId: verified.alternative!.id,
      state: 'proffered',
      signed: counter,
      obligations: verified.alternative!.obligations,
      reason: null,
      // One millisecond after her proffer, so that every listing shows the counter second.
      createdAt: at + 1,
      updatedAt: at + 1,
    });
  }
  return responseBody(verified);
}

/** Her accept/decline of our counter, or her answer to our own proffer. */
export async function applyAnswer(verified: VerifiedTermsAnswer, relationship: CompanyRelationship, tx: CompanyStore, at: number): Promise<Outgoing> {
  const row = await tx.getTermsAgreement(verified.recordId);
  if (!row || row.relationshipId !== relationship.id) throw termsError('terms.record_mismatch', 'No proposal of ours with this record id', { details: { members: ['id'] } });
  // Re-checked inside the transaction: a concurrent answer to the same proposal loses here.
  if (row.state !== 'proffered') throw termsError('terms.counter_loop', 'That proposal was already answered', { details: { state: row.state } });
  if (verified.kind === 'countersigned') await agree(tx, relationship, row, verified.signed, at);
  else await tx.updateTermsAgreement(row.id, { state: verified.state, reason: verified.reason }, at);
  return outgoing(Terms.ack, { record_id: row.id, state: verified.kind === 'countersigned' ? 'agreed' : 'declined' });
}

/** Builds the company's own proffer (a change of terms it proposes), signed by it. */
export function companyProffer(input: { checked: { roster: CheckedRecord['roster']; agreement: Agreement }; relationship: CompanyRelationship; current: TermsAgreementRow | undefined; deps: CompanyTermsDeps }): SignedAgreement {
  const record = buildAgreementRecord({
    roster: input.checked.roster,
    agreementId: input.checked.agreement.id,
    proffered: input.checked.agreement.id,
    profferedBy: 'company',
    person: input.relationship.theirDid,
    company: input.deps.companyDid,
    agreedAt: input.deps.now(),
    supersedes: input.current?.id ?? null,
  });
  return signAgreement(record, input.deps.signer);
}

/**
 * The company may only ask within the agreed terms: purpose (as a vocabulary term) and retention.
 * Without agreed terms there is nothing to check against.
 * @throws TermsError terms.outside_terms naming the obligation
 */
export function checkAskWithinTerms(current: TermsAgreementRow | undefined, use: IntendedUse): void {
  if (current === undefined) return;
  checkWithinTerms(current.obligations, use);
}
