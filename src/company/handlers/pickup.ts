import { outgoing } from '../../protocol/buildMessage.js';
import { Pickup } from '../../protocol/families/index.js';
import { companyHandler } from './types.js';

const MAX_PICKUP_BATCH = 100;
/** Well under the 256 KiB default message limit, leaving room for the delivery's own envelope. */
const PICKUP_BATCH_BYTES = 96 * 1024;

/**
 * Message Pickup 3.0, the mediator's part: what waits in the outbox for her goes out as
 * attachments of a delivery, and leaves the outbox only once she confirms it.
 */
export const pickupHandlers = [
  companyHandler({
    definition: Pickup.statusRequest,
    apply: async ({ store, relationship }) => ({ reply: outgoing(Pickup.status, { message_count: await store.countPendingOutbox(relationship.id), live_delivery: false }) }),
  }),

  companyHandler({
    definition: Pickup.deliveryRequest,
    async apply({ store, relationship }, received) {
      const limit = Math.min(received.message.body.limit, MAX_PICKUP_BATCH);
      const pending = await store.pendingOutbox(relationship.id, limit);
      // The delivery itself must fit her size limit: stop before the batch grows past the budget.
      let budget = PICKUP_BATCH_BYTES;
      const items = pending.filter((item, index) => {
        budget -= item.packed.length;
        return index === 0 || budget >= 0;
      });
      if (items.length === 0) return { reply: outgoing(Pickup.status, { message_count: 0, live_delivery: false }) };
      const attachments = items.map((item) => ({ id: item.messageId, media_type: 'application/didcomm-encrypted+json', data: { json: JSON.parse(item.packed) as unknown } }));
      return { reply: outgoing(Pickup.delivery, {}, attachments) };
    },
  }),

  companyHandler({
    definition: Pickup.messagesReceived,
    async apply({ store, relationship }, received) {
      await store.removeOutbox(relationship.id, received.message.body.message_id_list);
      return {};
    },
  }),
];
