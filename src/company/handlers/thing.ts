import { newId } from '../../core/ids.js';
import { ThingError } from '../../core/errors.js';
import { Thing } from '../../protocol/families/index.js';
import { applyRegistration, verifyRegistration } from '../things.js';
import { companyHandler } from './types.js';

/**
 * Kith thing 1.0, the company's side (docs/protocol/thing.md): her answer to a receipt it sent, and
 * her registration of a thing it makes (verified, stored with a consent record, acknowledged).
 */
export const thingHandlers = [
  companyHandler({
    definition: Thing.receiptAnswer,
    async apply({ store, relationship, now, context }, received) {
      const { body } = received.message;
      const receipt = await store.getThingReceipt(body.receipt_id);
      // Another relationship's receipt is as unknown to this sender as one never sent.
      if (!receipt || receipt.relationshipId !== relationship.id) throw new ThingError('thing.receipt_unknown', 'No such receipt for this relationship');
      // The same answer again (her agent resent it) changes nothing; another answer to a settled receipt is refused.
      if (receipt.state !== 'sent') {
        if (receipt.state === body.state) return {};
        throw new ThingError('thing.receipt_answered', 'This receipt was already answered');
      }
      if (!(await store.answerThingReceipt(receipt.id, body.state, now))) throw new ThingError('thing.receipt_answered', 'This receipt was already answered');
      await store.addMessage({ id: newId(), relationshipId: relationship.id, messageId: received.message.id, direction: 'in', type: received.message.type, body, createdAt: now });
      context.logger.info('thing_receipt_answered', { relationship: relationship.id, state: body.state });
      return {};
    },
  }),

  companyHandler({
    definition: Thing.register,
    verify: (received, context) => verifyRegistration(received, { store: context.store, resolver: context.resolver, companyDid: context.companyDid, now: context.clock.now() }),
    async apply({ store, relationship, now, context }, received, verified) {
      const reply = await applyRegistration(verified, received, relationship, store, { companyDid: context.companyDid, companyName: context.companyName, now });
      context.logger.info('thing_registered', { relationship: relationship.id });
      return { reply };
    },
  }),
];
