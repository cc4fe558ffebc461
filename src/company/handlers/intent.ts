import { newId } from '../../core/ids.js';
import { IntentError, RelationshipError } from '../../core/errors.js';
import { outgoing } from '../../protocol/buildMessage.js';
import type { IntentCastBody } from '../../protocol/families/intent.js';
import { Intent } from '../../protocol/families/index.js';
import type { TermsResponseBody } from '../../protocol/families/terms.js';
import type { ConnectorEventPayload, ConnectorEventType } from '../connectors/types.js';
import { liveRelationship } from '../liveRelationship.js';
import type { CompanyRelationship, CompanyStore, ReceivedIntent } from '../store/types.js';
import { applyIntentDisclosure, disclosureDeps, verifyIntentDisclosure, type VerifiedIntentDisclosure } from '../disclosure.js';
import { applyProffer, termsDeps, verifyProffer, type VerifiedProffer } from '../terms.js';
import { companyHandler, type CompanyContext, type OpeningHandler } from './types.js';

async function emit(store: CompanyStore, type: ConnectorEventType, payload: ConnectorEventPayload, at: number): Promise<void> {
  await store.enqueueEvent({ id: newId(), relationshipId: payload.relationshipId, type, payload, createdAt: at, nextAttemptAt: at, attempts: 0, dispatchedAt: null });
}

/** The relationship a cast comes on: the sender's live one, or a new one its terms open (an anonymous recipient). */
async function castRelationship(store: CompanyStore, context: CompanyContext, senderDid: string, proffer: VerifiedProffer | undefined, now: number): Promise<{ relationship: CompanyRelationship; terms: TermsResponseBody | undefined }> {
  const existing = await store.findRelationshipByDid(senderDid);
  if (existing) return { relationship: await liveRelationship(store, senderDid), terms: undefined };
  if (await store.isTombstoned(senderDid)) throw new RelationshipError('relationship.cut_off', 'This relationship was cut off');
  // A stranger is known only by the terms its first message proffers, as in connect.
  if (!proffer) throw new RelationshipError('relationship.unknown', 'A cast from a new pairwise DID must proffer terms');
  if (!context.policy.acceptConnections) throw new RelationshipError('relationship.not_active', 'This company does not accept new connections');
  const relationship: CompanyRelationship = { id: newId(), theirDid: senderDid, customerRef: context.newCustomerRef(), state: 'active', createdAt: now, updatedAt: now };
  await store.createRelationship(relationship);
  return { relationship, terms: await applyProffer(proffer, relationship, store, now) };
}

/** The intent this relationship received under `intentId`. @throws IntentError `intent.unknown` */
async function intentOf(store: CompanyStore, relationship: CompanyRelationship, intentId: string): Promise<ReceivedIntent> {
  const intent = await store.getReceivedIntent(intentId);
  // Another relationship's intent is as unknown to this sender as one that never existed.
  if (!intent || intent.relationshipId !== relationship.id) throw new IntentError('intent.unknown', 'No such intent on this relationship');
  return intent;
}

/** @throws IntentError `intent.closed` | `intent.expired` */
function requireOpen(intent: ReceivedIntent, now: number): void {
  if (intent.state !== 'open') throw new IntentError('intent.closed', `This intent was already ${intent.state}`);
  if (intent.expiresAt <= now) throw new IntentError('intent.expired', 'This intent has expired');
}

/**
 * Kith intent 1.0, the company's side: a cast (from a customer, or opening a relationship with an
 * anonymous pairwise DID) is stored and answered with its best automatic offer or an ack; her
 * accept, decline and close settle the intent and its offers.
 */
interface CheckedCast {
  proffer: VerifiedProffer | undefined;
  disclosure: VerifiedIntentDisclosure | undefined;
}

export const intentCastHandler: OpeningHandler<IntentCastBody, CheckedCast> = {
  definition: Intent.cast,
  opensRelationship: true,

  async verify(received, context) {
    const { body } = received.message;
    if (Date.parse(body.demand.validThrough) <= context.clock.now()) throw new IntentError('intent.expired', 'The intent expired before it arrived');
    // Fields disclosed up front are verified like any presentation, before anything is stored.
    const disclosure = body.disclosure === undefined ? undefined : await verifyIntentDisclosure(received, body.disclosure, disclosureDeps(context));
    const proffer = body.terms === undefined ? undefined : await verifyProffer(body.terms, received.senderDid, termsDeps(context));
    return { proffer, disclosure };
  },

  async apply({ store, context, now }, received, { proffer, disclosure }) {
    const { body } = received.message;
    const { relationship, terms } = await castRelationship(store, context, received.senderDid, proffer, now);
    if (await store.getReceivedIntent(body.intent_id)) throw new IntentError('intent.replayed', 'This intent id was already cast');
    await store.createReceivedIntent({
      id: body.intent_id,
      relationshipId: relationship.id,
      messageId: received.message.id,
      demand: body.demand,
      outcome: body.outcome ?? null,
      currencyRequired: body.currency_required,
      expiresAt: Date.parse(body.demand.validThrough),
      state: 'open',
      createdAt: now,
      updatedAt: now,
    });
    await emit(store, 'intent.received', { relationshipId: relationship.id, customerRef: relationship.customerRef, intentId: body.intent_id, category: body.demand.category }, now);
    // No offer under terms it refused; otherwise its best catalog match, if any.
    const agreed = terms === undefined ? (await store.currentTermsAgreement(relationship.id))?.agreementId ?? null : terms.decision === 'rejected' ? undefined : proffer?.decision.decision === 'countered' ? proffer.alternative?.id : proffer?.checked.agreement.id;
    // What she disclosed is kept under her consent, unless the company refused the terms she cast under.
    if (disclosure && agreed !== undefined) await applyIntentDisclosure(disclosure, received, { id: body.intent_id, agreementId: agreed ?? null }, relationship, store, disclosureDeps(context));
    const draft = agreed === undefined ? undefined : context.offers.automatic(body.demand, { now, currencyRequired: body.currency_required });
    if (!draft || agreed === undefined) return { relationship, reply: outgoing(Intent.ack, { intent_id: body.intent_id, ...(terms ? { terms } : {}) }) };
    const signed = context.offers.sign(draft, { intentId: body.intent_id, seller: context.companyDid, customer: received.senderDid, terms: agreed, now });
    await store.createOffer({ id: signed.offer.identifier, intentId: body.intent_id, relationshipId: relationship.id, signed, state: 'offered', createdAt: now, updatedAt: now });
    return { relationship, reply: outgoing(Intent.offer, { signed_offer: signed, ...(terms ? { terms } : {}) }) };
  },
};

export const intentHandlers = [
  intentCastHandler,

  companyHandler({
    definition: Intent.accept,
    async apply({ store, relationship, now }, received) {
      const { intent_id: intentId, offer_id: offerId } = received.message.body;
      const intent = await intentOf(store, relationship, intentId);
      const offer = await store.getOffer(offerId);
      if (!offer || offer.intentId !== intentId) throw new IntentError('intent.offer_unknown', 'No such offer for this intent');
      if (offer.state === 'accepted') throw new IntentError('intent.replayed', 'This offer was already accepted');
      requireOpen(intent, now);
      if (Date.parse(offer.signed.offer.validThrough) <= now) throw new IntentError('intent.offer_expired', 'This offer is no longer valid');
      if (!(await store.settleOffer(offerId, 'accepted', now))) throw new IntentError('intent.offer_unknown', `This offer was already ${offer.state}`);
      await store.settleReceivedIntent(intentId, 'accepted', now);
      await emit(store, 'offer.accepted', { relationshipId: relationship.id, customerRef: relationship.customerRef, intentId, offerId }, now);
      return { reply: outgoing(Intent.answerAck, { intent_id: intentId, offer_id: offerId, state: 'accepted' }) };
    },
  }),

  companyHandler({
    definition: Intent.decline,
    async apply({ store, relationship, now }, received) {
      const { intent_id: intentId, offer_id: offerId } = received.message.body;
      await intentOf(store, relationship, intentId);
      const offer = await store.getOffer(offerId);
      if (!offer || offer.intentId !== intentId) throw new IntentError('intent.offer_unknown', 'No such offer for this intent');
      if (!(await store.settleOffer(offerId, 'declined', now))) throw new IntentError('intent.replayed', `This offer was already ${offer.state}`);
      await emit(store, 'offer.declined', { relationshipId: relationship.id, customerRef: relationship.customerRef, intentId, offerId }, now);
      return { reply: outgoing(Intent.answerAck, { intent_id: intentId, offer_id: offerId, state: 'declined' }) };
    },
  }),

  // She closed the intent (or accepted another company's offer): it and its open offers are over.
  companyHandler({
    definition: Intent.closed,
    async apply({ store, relationship, now }, received) {
      const { intent_id: intentId } = received.message.body;
      await intentOf(store, relationship, intentId);
      await store.settleReceivedIntent(intentId, received.message.body.reason === 'expired' ? 'expired' : 'closed', now);
      for (const offer of await store.listOffers(intentId)) if (offer.state === 'offered') await store.settleOffer(offer.id, 'closed', now);
      return { reply: outgoing(Intent.answerAck, { intent_id: intentId, state: 'closed' }) };
    },
  }),
];
