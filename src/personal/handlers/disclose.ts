import { MessageError, TermsError } from '../../core/errors.js';
import { outgoing } from '../../protocol/buildMessage.js';
import type { DiscloseDeclineBody, DisclosePresentBody, DiscloseRequestBody } from '../../protocol/families/disclose.js';
import { Disclose, ReportProblem } from '../../protocol/families/index.js';
import { OUTSIDE_TERMS_PROBLEM } from '../../protocol/families/terms.js';
import { inspectSdJwt } from '../../protocol/sdjwt/index.js';
import { checkWithinTerms } from '../../protocol/terms/compare.js';
import type { DidcommMessage } from '../../protocol/message.js';
import type { RelationshipRecord } from '../vault/relationshipRepo.js';
import type { Vault } from '../vault/vault.js';
import { answered, personalHandler, type PersonalEffect, type PersonalContext } from './types.js';

/**
 * A company may ask only within the terms both signed: the purpose (as a vocabulary term) and the
 * retention. Returns the effect refusing the request, or undefined when it is within them (or
 * when no terms were agreed).
 */
function refusalOutsideTerms(body: DiscloseRequestBody, relationship: RelationshipRecord, vault: Vault): PersonalEffect | undefined {
  const current = vault.agreements.current(relationship.id);
  if (!current) return undefined;
  try {
    checkWithinTerms(current.obligations, { purpose: body.purpose_code ?? '', retention: body.retention });
    return undefined;
  } catch (error) {
    if (!(error instanceof TermsError)) throw error;
    const obligation = String((error.details as { obligation?: unknown } | undefined)?.obligation ?? 'terms');
    return {
      reply: {
        ...outgoing(ReportProblem.problemReport, { code: OUTSIDE_TERMS_PROBLEM, comment: `Refused: outside the agreed terms ({1}). ${error.message}.`, args: [obligation, current.agreementId] }),
        aboutThread: true,
      },
      notify: { type: 'disclosure.refused', relationshipId: relationship.id, obligation },
    };
  }
}

/** What she disclosed, field by field, read from the presentations she sent (her record of what the company holds). */
type Disclosed = Map<string, { value: unknown; source: 'self' | 'credential'; issuer: string | null }>;

async function disclosedBy(present: DidcommMessage & { body: DisclosePresentBody }, context: PersonalContext): Promise<Disclosed> {
  const relationship = context.vault.relationships.findByMyDid(present.from ?? '');
  const request = relationship ? context.vault.disclosureRequests.findByRequestId(relationship.id, present.body.request_id) : undefined;
  const answeredFields = new Set(request?.answeredFields ?? present.body.approved);
  const values: Disclosed = new Map();
  for (const { sd_jwt } of present.body.presentations) {
    const inspected = await inspectSdJwt(sd_jwt);
    const self = inspected.issuer === present.from;
    for (const [claim, value] of Object.entries(inspected.claims)) {
      if (self ? !present.body.approved.includes(claim) : !answeredFields.has(claim) || present.body.approved.includes(claim)) continue;
      values.set(claim, { value, source: self ? 'self' : 'credential', issuer: self ? null : inspected.issuer });
    }
  }
  return values;
}

/** Kith disclose 1.0, her side: the company's requests, and its acks of her answers. */
export const discloseHandlers = [
  personalHandler({
    definition: Disclose.request,
    // The company's request id, for her rules once the request is stored (after).
    verify: async (received): Promise<string> => received.message.body.request_id,
    apply({ vault, relationship, now, context }, received) {
      const { body } = received.message;
      // Her terms with this company are changing (her answer waits for its reply): judged once they
      // are settled. Nothing is written (not even the message id), so the company's retry, or her
      // pickup right after the reply, brings it again.
      if (context.terms.settling(relationship.id)) {
        throw new TermsError('terms.settling', 'Her terms with this company are being settled; send the request again in a moment', { details: { retryable: true } });
      }
      // Outside the agreed terms: not stored, not shown as a request; the company hears why.
      const refusal = refusalOutsideTerms(body, relationship, vault);
      if (refusal) return refusal;
      // The same request again (pushed and picked up, or re-sent by the company) is kept once.
      if (vault.disclosureRequests.findByRequestId(relationship.id, body.request_id)) return undefined;
      const request = vault.disclosureRequests.insert({
        relationshipId: relationship.id,
        requestId: body.request_id,
        messageId: received.message.id,
        nonce: body.nonce,
        fields: body.fields,
        credentials: body.credentials.map((c) => ({ vct: c.vct, claims: c.claims, ...(c.issuers ? { issuers: c.issuers } : {}) })),
        purpose: body.purpose,
        purposeCode: body.purpose_code,
        retention: body.retention,
        legalBasis: body.legal_basis,
        termsRef: body.terms_ref,
        createdAt: now,
      });
      const fields = [...body.fields, ...body.credentials.flatMap((c) => c.claims)];
      return { notify: { type: 'disclosure.requested', requestId: request.id, relationshipId: relationship.id, fields } };
    },
    // Her rules may answer it (rules.ts): not on this push, which the company is waiting on.
    async after(relationship, { rules }, requestId) {
      void rules.judge(relationship.id, requestId);
    },
  }),

  // The ack of her answer (matched on thid): her consent record becomes active and she records what the company now holds.
  personalHandler({
    definition: Disclose.ack,
    async verify(_received, context, inReplyTo): Promise<Disclosed | undefined> {
      const present = answered(inReplyTo, Disclose.present);
      return present ? disclosedBy(present, context) : undefined;
    },
    apply({ vault, relationship, now, inReplyTo }, received, disclosed) {
      const answer = answered<DisclosePresentBody | DiscloseDeclineBody>(inReplyTo, Disclose.present, Disclose.decline);
      if (!answer) return;
      const ack = received.message.body;
      const approved = answer.type === Disclose.present.type;
      if (ack.consent_record_id !== answer.body.consent_record_id || ack.state !== (approved ? 'active' : 'refused')) {
        throw new MessageError('message.unexpected', 'The company did not acknowledge this answer');
      }
      if (!approved || !disclosed) return;
      const present = answer.body as DisclosePresentBody;
      const consent = vault.consents.get(present.consent_record_id);
      const request = vault.disclosureRequests.findByRequestId(relationship.id, present.request_id);
      if (!consent || !request) throw new MessageError('message.unexpected', 'The company acknowledged an answer she has no record of');
      vault.consents.update(consent.id, 'active', { ...consent.record, state: 'active' }, now);
      for (const [field, held] of disclosed) {
        vault.disclosed.upsert({
          relationshipId: relationship.id,
          field,
          value: held.value,
          version: present.profile_version,
          source: held.source,
          issuer: held.issuer,
          consentRecordId: consent.id,
          purpose: request.purpose,
          retention: request.retention,
          disclosedAt: now,
        });
      }
    },
  }),
];
