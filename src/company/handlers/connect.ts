import { newId } from '../../core/ids.js';
import { RelationshipError } from '../../core/errors.js';
import { outgoing } from '../../protocol/buildMessage.js';
import { Connect } from '../../protocol/families/index.js';
import { applyProffer, termsDeps, verifyProffer } from '../terms.js';
import type { OpeningHandler } from './types.js';
import type { ConnectRequestBody } from '../../protocol/families/connect.js';
import type { VerifiedProffer } from '../terms.js';

/**
 * Kith connect 1.0, the company's side: a fresh pairwise DID asks to connect, with or without
 * her proffered terms; the company answers with its name, her customer number and its decision.
 */
export const connectHandler: OpeningHandler<ConnectRequestBody, VerifiedProffer | undefined> = {
  definition: Connect.request,
  opensRelationship: true,
  verify: async (received, context) => (received.message.body.terms === undefined ? undefined : verifyProffer(received.message.body.terms, received.senderDid, termsDeps(context))),

  async apply({ store, context, now }, received, verified) {
    if (!context.policy.acceptConnections) throw new RelationshipError('relationship.not_active', 'This company does not accept new connections');
    if (await store.isTombstoned(received.senderDid)) throw new RelationshipError('relationship.cut_off', 'This relationship was cut off');
    // A retried request (her agent lost our answer) gets the same relationship, not a second one.
    let relationship = await store.findRelationshipByDid(received.senderDid);
    if (!relationship) {
      relationship = { id: newId(), theirDid: received.senderDid, customerRef: context.newCustomerRef(), state: 'active', createdAt: now, updatedAt: now };
      await store.createRelationship(relationship);
    }
    const terms = verified ? await applyProffer(verified, relationship, store, now) : undefined;
    return { relationship, reply: outgoing(Connect.response, { vendor: { name: context.companyName }, customer_ref: relationship.customerRef, ...(terms ? { terms } : {}) }) };
  },

  async after(relationship, context) {
    await context.followUps.welcome(relationship);
    await context.followUps.requestOnConnect(relationship);
  },
};

export const connectHandlers = [connectHandler];
