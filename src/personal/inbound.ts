import { MessageError, RelationshipError, TermsError } from '../core/errors.js';
import { seenUntil } from '../protocol/buildMessage.js';
import type { ReceivedMessage } from '../protocol/envelope/receive.js';
import type { DiscloseRequestBody } from '../protocol/families/disclose.js';
import { BasicMessage, Connect, Disclose, Pickup, ProfileUpdate, Relationship, ReportProblem, Terms, TrustPing } from '../protocol/families/index.js';
import { checkWithinTerms } from '../protocol/terms/compare.js';
import type { CheckedRecord } from '../protocol/terms/negotiate.js';
import { obligationsSchema } from '../protocol/terms/roster.js';
import { recordCompanyProffer } from './terms.js';
import type { AgentEvent } from './events.js';
import { consentRecordSchema, withEvent } from '../protocol/consentRecord.js';
import type { RelationshipRecord } from './vault/relationshipRepo.js';
import type { Vault } from './vault/vault.js';

export interface PersonalInboundOutcome {
  relationship: RelationshipRecord;
  /** A reply the sender asked for (trust ping), or a problem report (`aboutThread`: sent with pthid). */
  reply?: { type: string; body: Record<string, unknown>; aboutThread?: boolean };
  /** Something the UI should hear about once the transaction committed. */
  notify?: AgentEvent;
}

interface HandlerContext {
  now: number;
  /** A company proffer, checked before the transaction (terms.verifyInbound). */
  termsProffer?: CheckedRecord | undefined;
}

type Handler = (received: ReceivedMessage, relationship: RelationshipRecord, vault: Vault, context: HandlerContext) => Omit<PersonalInboundOutcome, 'relationship'> | void;

/** The problem code for a disclosure request outside the agreed terms (docs/protocol/terms.md). */
export const OUTSIDE_TERMS_PROBLEM = 'e.p.terms.outside-terms';

/**
 * A company may ask only within the terms both signed: the purpose (as a vocabulary term) and the
 * retention. Returns the problem report refusing the request, or undefined when it is within them
 * (or when no terms were agreed).
 */
function refusalOutsideTerms(body: DiscloseRequestBody, relationship: RelationshipRecord, vault: Vault): PersonalInboundOutcome['reply'] & { obligation: string } | undefined {
  const current = vault.agreements.current(relationship.id);
  if (!current) return undefined;
  try {
    checkWithinTerms(obligationsSchema.parse(current.obligations), { purpose: body.purpose_code ?? '', retention: body.retention });
    return undefined;
  } catch (error) {
    if (!(error instanceof TermsError)) throw error;
    const obligation = String((error.details as { obligation?: unknown } | undefined)?.obligation ?? 'terms');
    return {
      type: ReportProblem.problemReport.type,
      body: { code: OUTSIDE_TERMS_PROBLEM, comment: `Refused: outside the agreed terms ({1}). ${error.message}.`, args: [obligation, current.agreementId] },
      aboutThread: true,
      obligation,
    };
  }
}

function storeShown(received: ReceivedMessage, relationship: RelationshipRecord, vault: Vault, now: number): void {
  vault.messages.insert({
    relationshipId: relationship.id,
    direction: 'in',
    // Muted: kept, but held out of her thread without any notice until she unmutes.
    status: relationship.state === 'muted' ? 'held' : 'shown',
    messageId: received.message.id,
    type: received.message.type,
    body: received.message.body,
    ...(received.message.thid ? { thid: received.message.thid } : {}),
    createdAt: now,
  });
}

const handlers: Record<string, Handler> = {
  [BasicMessage.message.type]: (received, relationship, vault, { now }) => storeShown(received, relationship, vault, now),
  [ReportProblem.problemReport.type]: (received, relationship, vault, { now }) => storeShown(received, relationship, vault, now),
  [TrustPing.ping.type]: (received) =>
    received.message.body['response_requested'] === false ? undefined : { reply: { type: TrustPing.pingResponse.type, body: {} } },
  [TrustPing.pingResponse.type]: () => undefined,
  [Connect.response.type]: (received, relationship, vault, { now }) => {
    const body = received.message.body as { vendor: { name: string }; customer_ref: string };
    vault.relationships.update(relationship.id, { vendorName: body.vendor.name, customerRef: body.customer_ref });
    if (relationship.state === 'pending') vault.relationships.setState(relationship.id, 'active', now);
  },
  // Pickup replies carry no effect of their own; the pickup client reads their attachments.
  [Pickup.status.type]: () => undefined,
  [Pickup.delivery.type]: () => undefined,
  [Disclose.request.type]: (received, relationship, vault, { now }) => {
    const body = received.message.body as DiscloseRequestBody;
    // Outside the agreed terms: not stored, not shown as a request; the company hears why.
    const refusal = refusalOutsideTerms(body, relationship, vault);
    if (refusal) {
      const { obligation, ...reply } = refusal;
      return { reply, notify: { type: 'disclosure.refused', relationshipId: relationship.id, obligation } };
    }
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
      retention: body.retention,
      legalBasis: body.legal_basis,
      termsRef: body.terms_ref,
      createdAt: now,
    });
    const fields = [...body.fields, ...body.credentials.flatMap((c) => c.claims)];
    return { notify: { type: 'disclosure.requested', requestId: request.id, relationshipId: relationship.id, fields } };
  },
  // Acknowledgements come back on the response to her own message; their effects are applied by
  // the sender of that message, in the same transaction (see ExchangeOptions.within).
  [Disclose.ack.type]: () => undefined,
  [Terms.ack.type]: () => undefined,
  [Terms.response.type]: () => undefined,
  [Terms.proffer.type]: (_received, relationship, vault, { termsProffer }) => {
    if (!termsProffer) throw new MessageError('message.unexpected', 'Terms were not verified before they were applied');
    const entry = recordCompanyProffer(vault, relationship, termsProffer);
    return { notify: { type: 'terms.updated', relationshipId: relationship.id, recordId: entry.id, state: entry.state, decide: true } };
  },
  [ProfileUpdate.ack.type]: () => undefined,
  [Relationship.erasureReceipt.type]: (received, relationship, vault, { now }) => {
    vault.receipts.insert({ relationshipId: relationship.id, kind: 'erasure', jws: received.signedJws, body: received.message.body, createdAt: now });
    vault.keys.destroyForRelationship(relationship.id);
    vault.relationships.setState(relationship.id, 'cut_off', now);
    // The company erased what it held: her record of it goes, her consent records are withdrawn.
    vault.disclosed.removeForRelationship(relationship.id);
    for (const consent of vault.consents.list(relationship.id)) {
      if (consent.state === 'active' || consent.state === 'pending') {
        vault.consents.update(consent.id, 'withdrawn', withEvent(consentRecordSchema.parse(consent.record), 'withdrawn', now, 'pii_principal'), now);
      }
    }
    for (const delivery of vault.deliveries.pendingFor(relationship.id)) vault.deliveries.settle([delivery.id], 'skipped', 'relationship.cut_off');
  },
};

/**
 * Applies one verified message to the vault, in one transaction with recording its id as seen.
 * The message must come from the relationship's company, to the pairwise DID she gave it.
 * @throws RelationshipError `relationship.unknown` | `relationship.cut_off`,
 *   MessageError `message.unexpected` | `message.replayed` | `message.not_addressed_to_us`
 */
export function applyPersonalInbound(
  received: ReceivedMessage,
  vault: Vault,
  options: { now: number; clockSkewMs: number; expectedRelationshipId?: string; within?: (relationship: RelationshipRecord) => void; termsProffer?: CheckedRecord },
): PersonalInboundOutcome {
  const handler = handlers[received.message.type];
  if (!handler) {
    throw new MessageError('message.unexpected', `The personal agent does not accept ${received.message.type}`, { details: { type: received.message.type } });
  }
  return vault.transaction(() => {
    const relationship = vault.relationships.findByMyDid(received.recipientDid);
    if (!relationship || relationship.theirDid !== received.senderDid) {
      throw new RelationshipError('relationship.unknown', 'No relationship between this sender and this pairwise DID');
    }
    if (options.expectedRelationshipId !== undefined && relationship.id !== options.expectedRelationshipId) {
      throw new MessageError('message.not_addressed_to_us', 'Message arrived on another relationship’s endpoint');
    }
    if (relationship.state === 'cut_off') throw new RelationshipError('relationship.cut_off', 'This relationship was cut off');
    if (!vault.seen.record(received.message.id, seenUntil(received.message, options.now, options.clockSkewMs))) {
      throw new MessageError('message.replayed', 'Message id was already received', { details: { id: received.message.id } });
    }
    const outcome = { relationship, ...(handler(received, relationship, vault, { now: options.now, termsProffer: options.termsProffer }) ?? {}) };
    options.within?.(relationship);
    return outcome;
  });
}
