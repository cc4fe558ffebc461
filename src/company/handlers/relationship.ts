import { newId } from '../../core/ids.js';
import { outgoing } from '../../protocol/buildMessage.js';
import { Relationship } from '../../protocol/families/index.js';
import { companyHandler } from './types.js';

/** Kith relationship 1.0: she mutes, unmutes, or ends the relationship with erasure. */
export const relationshipHandlers = [
  companyHandler({
    definition: Relationship.mute,
    async apply({ store, relationship, now }) {
      await store.setRelationshipState(relationship.id, 'muted', now);
      return {};
    },
  }),

  companyHandler({
    definition: Relationship.unmute,
    async apply({ store, relationship, now }) {
      await store.setRelationshipState(relationship.id, 'active', now);
      return {};
    },
    // What waited while she was muted can go now.
    after: async (relationship, context) => void (await context.followUps.deliverQueued({ ...relationship, state: 'active' })),
  }),

  companyHandler({
    definition: Relationship.terminate,
    async apply({ store, relationship, now }, received) {
      if (!received.message.body.erasure_requested) {
        // She ended the relationship but did not ask for erasure: it is cut off (her DID is refused
        // from now on) and everything it holds stays, under the company's own retention rules.
        await store.setRelationshipState(relationship.id, 'cut_off', now);
        const notErased = outgoing(Relationship.erasureReceipt, {
          relationship: received.senderDid,
          terminated_at: Math.floor(now / 1000),
          erased: [],
          erasure_requested: false,
        });
        return { reply: notErased, replyDelivery: 'direct' };
      }
      const summary = await store.eraseRelationship(relationship.id, now);
      // The record that her deletion request was fulfilled (Data Rights Protocol words, no personal value).
      await store.saveDataRightsRequest({ id: newId(), relationshipId: relationship.id, requestId: received.message.id, exercise: 'deletion', status: 'fulfilled', reason: null, receivedAt: now, updatedAt: now });
      // The company's own systems must erase too; the event carries no personal value.
      await store.enqueueEvent({
        id: newId(),
        relationshipId: relationship.id,
        type: 'relationship.erased',
        payload: { relationshipId: relationship.id, customerRef: relationship.customerRef },
        createdAt: now,
        nextAttemptAt: now,
        attempts: 0,
        dispatchedAt: null,
      });
      const receipt = outgoing(Relationship.erasureReceipt, {
        relationship: received.senderDid,
        terminated_at: Math.floor(now / 1000),
        erased_at: Math.floor(summary.erasedAt / 1000),
        erased: summary.erased.map((entry) => ({ ...entry, where: `vendor-store:${store.dialect}` })),
      });
      // The outbox was just erased: the receipt cannot wait there.
      return { reply: receipt, replyDelivery: 'direct' };
    },
  }),
];
