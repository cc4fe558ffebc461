import { IntentError } from '../../core/errors.js';
import type { IntentAcceptBody, IntentCastBody, IntentClosedBody, IntentDeclineBody, IntentDisclosure, SignedOffer } from '../../protocol/families/intent.js';
import { inspectSdJwt } from '../../protocol/sdjwt/index.js';
import type { DidcommMessage } from '../../protocol/message.js';
import { parseSignedAgreement, type SignedAgreement } from '../../protocol/terms/agreementRecord.js';
import type { CheckedResponse } from '../../protocol/terms/negotiate.js';
import { Intent } from '../../protocol/families/index.js';
import { verifySignedOffer } from '../../protocol/intent/signedOffer.js';
import { judgeOffer } from '../../protocol/intent/verdict.js';
import type { RelationshipRecord } from '../vault/relationshipRepo.js';
import type { Vault } from '../vault/vault.js';
import { answered, personalHandler, type PersonalContext } from './types.js';

/**
 * Her recipient record for an intent id this company names. The company was not sent an id it
 * names for another relationship (`intent.not_recipient`); an id she never cast is `intent.unknown`.
 */
function recipientOf(vault: Vault, relationship: RelationshipRecord, intentId: string) {
  const recipient = vault.intentRecipients.findByRecipientIntentId(relationship.id, intentId);
  if (recipient) return recipient;
  if (vault.intentRecipients.all().some((r) => r.recipientIntentId === intentId)) throw new IntentError('intent.not_recipient', 'That intent was not sent to this company');
  throw new IntentError('intent.unknown', 'No intent of hers has this id');
}

/** Her proffer (from the cast that opened the relationship) and the company's answer to it, checked. */
interface CheckedOpeningTerms {
  mine: SignedAgreement;
  answer: CheckedResponse;
}

/**
 * The company's answer to the terms her cast proffered, when the cast opened the relationship (an
 * anonymous recipient): checked like connect's, before anything is stored. Over an existing
 * relationship her cast proffers nothing and there is nothing to check.
 */
async function openingTerms(inReplyTo: DidcommMessage | undefined, answer: unknown, terms: PersonalContext['terms']): Promise<CheckedOpeningTerms | undefined> {
  const proffer = answered<IntentCastBody>(inReplyTo, Intent.cast)?.body.terms;
  if (proffer === undefined) return undefined;
  const mine = parseSignedAgreement(proffer.agreement);
  return { mine, answer: await terms.checkConnectAnswer(mine, answer) };
}

/** What she disclosed with the cast this answers (read back from the presentation she sent), if anything. */
interface CastDisclosure {
  disclosure: IntentDisclosure;
  values: Record<string, unknown>;
}

async function castDisclosure(inReplyTo: DidcommMessage | undefined): Promise<CastDisclosure | undefined> {
  const disclosure = answered<IntentCastBody>(inReplyTo, Intent.cast)?.body.disclosure;
  if (disclosure === undefined) return undefined;
  const { claims } = await inspectSdJwt(disclosure.presentation.sd_jwt);
  return { disclosure, values: Object.fromEntries(disclosure.fields.map((f) => [f, claims[f]])) };
}

/**
 * Inside the transaction: her consent for what she disclosed with the cast becomes active and she
 * records what the company now holds, or, when the company refused the terms she cast under (it
 * keeps nothing then), the pending consent is dropped.
 */
function recordDisclosure(vault: Vault, relationship: RelationshipRecord, now: number, cast: CastDisclosure | undefined, termsDecision: string | null): void {
  if (cast === undefined) return;
  const { disclosure, values } = cast;
  const consent = vault.consents.get(disclosure.consent_record_id);
  if (!consent || consent.state !== 'pending') return;
  if (termsDecision === 'rejected') {
    vault.consents.remove(consent.id);
    return;
  }
  vault.consents.update(consent.id, 'active', { ...consent.record, state: 'active' }, now);
  for (const field of disclosure.fields) {
    const held = vault.disclosed.get(relationship.id, field);
    if (held && held.version >= disclosure.profile_version) continue;
    vault.disclosed.upsert({
      relationshipId: relationship.id,
      field,
      value: values[field],
      version: disclosure.profile_version,
      source: 'self',
      issuer: null,
      consentRecordId: consent.id,
      purpose: disclosure.purpose,
      retention: disclosure.retention,
      disclosedAt: now,
    });
  }
}

/** Inside the transaction: the opened relationship is live, and her terms record what the company answered. */
function recordOpening(context: PersonalContext, relationship: RelationshipRecord, now: number, checked: CheckedOpeningTerms | undefined): void {
  if (checked === undefined) return;
  if (relationship.state === 'pending') context.vault.relationships.setState(relationship.id, 'active', now);
  context.terms.recordAnswer(relationship.id, checked.mine, checked.answer);
}

/** Kith intent 1.0, her side: acks and offers answering her casts, withdrawals, and acks of her answers. */
export const intentHandlers = [
  personalHandler({
    definition: Intent.ack,
    async verify(received, { terms }, inReplyTo) {
      return { opening: await openingTerms(inReplyTo, received.message.body.terms, terms), cast: await castDisclosure(inReplyTo) };
    },
    apply({ vault, relationship, now, context }, received, { opening, cast }) {
      const recipient = recipientOf(vault, relationship, received.message.body.intent_id);
      recordOpening(context, relationship, now, opening);
      const termsDecision = opening?.answer.decision ?? recipient.termsDecision;
      vault.intentRecipients.update(recipient.id, { state: 'acknowledged', termsDecision, from: ['sent', 'queued'] }, now);
      recordDisclosure(vault, relationship, now, cast, termsDecision);
    },
    async after(relationship, { terms }, { opening }) {
      if (opening?.answer.decision === 'countered') await terms.settle(relationship);
    },
  }),

  // An offer: kept exactly as signed, judged against her demand; her rule may decline it by itself (after the commit).
  personalHandler({
    definition: Intent.offer,
    async verify(received, { resolver, terms }, inReplyTo): Promise<{ signed: SignedOffer; opening: CheckedOpeningTerms | undefined; cast: CastDisclosure | undefined }> {
      const signed = await verifySignedOffer(received.message.body.signed_offer, resolver);
      return { signed, opening: await openingTerms(inReplyTo, received.message.body.terms, terms), cast: await castDisclosure(inReplyTo) };
    },
    apply({ vault, relationship, now, context }, _received, { signed, opening, cast }) {
      const { offer } = signed;
      if (offer.seller !== relationship.theirDid || offer.customer !== relationship.myDid) throw new IntentError('intent.not_recipient', 'The offer names other parties than this relationship’s');
      const recipient = recipientOf(vault, relationship, offer.intent_id);
      const intent = vault.intents.get(recipient.intentId);
      if (!intent) throw new IntentError('intent.unknown', 'No intent of hers has this id');
      if (intent.state === 'accepted' || intent.state === 'closed') throw new IntentError('intent.closed', `Her intent is ${intent.state}`);
      if (intent.state === 'expired' || intent.expiresAt <= now) throw new IntentError('intent.expired', 'Her intent has expired');
      if (Date.parse(offer.validThrough) <= now) throw new IntentError('intent.offer_expired', 'The offer was no longer valid when it arrived');
      const wanted = intent.demand.priceSpecification?.priceCurrency;
      if (intent.currencyRequired && wanted !== undefined && offer.priceCurrency !== wanted) {
        throw new IntentError('intent.currency_mismatch', `She asked for prices in ${wanted}`, { details: { wanted, offered: offer.priceCurrency } });
      }
      // The same offer again (pushed and picked up) is kept once.
      if (vault.offers.get(offer.identifier)) return undefined;
      recordOpening(context, relationship, now, opening);
      const termsDecision = opening?.answer.decision ?? recipient.termsDecision;
      vault.intentRecipients.update(recipient.id, { state: 'acknowledged', termsDecision, from: ['sent', 'queued', 'acknowledged'] }, now);
      recordDisclosure(vault, relationship, now, cast, termsDecision);
      const verdict = judgeOffer(intent.demand, offer);
      const decidedBy = termsDecision === 'rejected' ? 'terms-refused' : verdict.meets ? null : 'outside-constraints';
      vault.offers.insert({ intentId: intent.id, recipientId: recipient.id, relationshipId: relationship.id, signed, verdict, decidedBy, createdAt: now, updatedAt: now });
      return { notify: { type: 'intent.offer', intentId: intent.id, offerId: offer.identifier, relationshipId: relationship.id, decidedBy } };
    },
    // Her rule: an offer outside her constraints, or from a company that refused her terms, is declined for her.
    async after(relationship, { vault, intents, terms }, { signed, opening }) {
      if (opening?.answer.decision === 'countered') await terms.settle(relationship);
      const stored = vault.offers.get(signed.offer.identifier);
      if (stored?.state === 'received' && stored.decidedBy !== null) await intents.declineByRule(stored.id);
    },
  }),

  personalHandler({
    definition: Intent.offerWithdrawn,
    apply({ vault, relationship, now }, received) {
      const offer = vault.offers.get(received.message.body.offer_id);
      if (!offer || offer.relationshipId !== relationship.id) throw new IntentError('intent.offer_unknown', 'No such offer from this company');
      vault.offers.update(offer.id, { state: 'withdrawn', from: ['received'] }, now);
    },
  }),

  // The company's ack of her accept, decline or close (matched on thid): her records follow it.
  personalHandler({
    definition: Intent.answerAck,
    apply({ vault, relationship, now, inReplyTo }, received) {
      const answer = answered<IntentAcceptBody | IntentDeclineBody | IntentClosedBody>(inReplyTo, Intent.accept, Intent.decline, Intent.closed);
      if (!answer || answer.body.intent_id !== received.message.body.intent_id) return;
      const recipient = recipientOf(vault, relationship, answer.body.intent_id);
      if (answer.type === Intent.closed.type) {
        vault.intentRecipients.update(recipient.id, { state: 'closed' }, now);
        vault.offers.listForRecipient(recipient.id).filter((o) => o.state === 'received').forEach((o) => vault.offers.update(o.id, { state: 'closed' }, now));
        return;
      }
      const offerId = (answer.body as IntentAcceptBody).offer_id;
      if (answer.type === Intent.accept.type) {
        vault.offers.update(offerId, { state: 'accepted', from: ['received'] }, now);
        vault.intents.update(recipient.intentId, { state: 'accepted', acceptedOfferId: offerId, from: ['open'] }, now);
      } else {
        vault.offers.update(offerId, { state: 'declined', from: ['received'] }, now);
      }
    },
  }),
];
